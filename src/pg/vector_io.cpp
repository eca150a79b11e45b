// vector_io.cpp — input/output, typmods, binary send/recv and casts for
// vector and halfvec. One template per function, instantiated for both types.
#include "guard.h"
#include "vector_type.h"

namespace nmvec::pg {

void check_dims_range(int dim, const char* type_name) {
    if (dim < 1)
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s must have at least 1 dimension", type_name)));
    if (dim > kMaxDims)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("%s cannot have more than %d dimensions", type_name, kMaxDims)));
}

void check_typmod(int dim, int32 typmod) {
    if (typmod != -1 && typmod != dim)
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", typmod, dim)));
}

void check_same_dims(int a, int b, const char* type_name) {
    if (a != b)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("different %s dimensions %d and %d", type_name, a, b)));
}

void check_finite_element(float f, const char* type_name) {
    if (std::isnan(f))
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("NaN not allowed in %s", type_name)));
    if (std::isinf(f))
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("infinite value not allowed in %s", type_name)));
}

void reject_vec_header(const void* p, const char* type_name) {
    const auto* v = static_cast<const Vector*>(p);  // the header is the same for both types
    const uint32 size = VARSIZE(v);
    if (size < offsetof(Vector, x))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid %s value", type_name),
                        errdetail("The value has %u bytes, fewer than the 8 of its header.", size)));
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid %s value", type_name),
                    errdetail("The value has %u bytes for %d dimensions, reserved field %d.", size,
                              static_cast<int>(v->dim), static_cast<int>(v->unused))));
    pg_unreachable();
}

uint16_t to_half_checked(float f) {
    uint16_t h = float_to_half(f);
    if ((h & 0x7fff) == 0x7c00 && !std::isinf(f))  // finite float rounded to +-Inf
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                        errmsg("\"%g\" is out of range for type halfvec", static_cast<double>(f)),
                        errdetail("Elements of halfvec must lie within +-65504.")));
    return h;
}

namespace {

// Scratch space for parsing and printing one value; a backend runs one
// function at a time, and nothing here is re-entered.
float g_scratch[kMaxDims];

template <typename T>
typename T::Vec* vec_from_floats(const float* v, int dim) {
    auto* out = vec_alloc<T>(dim);
    if constexpr (std::is_same_v<T, FloatTraits>) {
        memcpy(out->x, v, sizeof(float) * static_cast<size_t>(dim));
    } else {
        for (int i = 0; i < dim; ++i) out->x[i] = to_half_checked(v[i]);
    }
    return out;
}

template <typename T>
Datum vec_in(FunctionCallInfo fcinfo) {
    const char* text = PG_GETARG_CSTRING(0);
    int32 typmod = PG_GETARG_INT32(2);
    size_t n = parse_vector_text(text, g_scratch, kMaxDims, T::kName);  // throws
    check_typmod(static_cast<int>(n), typmod);
    PG_RETURN_POINTER(vec_from_floats<T>(g_scratch, static_cast<int>(n)));
}

template <typename T>
Datum vec_out(FunctionCallInfo fcinfo) {
    auto* v = vec_arg<T>(fcinfo, 0);
    char* buf = static_cast<char*>(palloc(vector_text_max_len(v->dim)));
    if constexpr (std::is_same_v<T, FloatTraits>) {
        format_vector_text(v->x, v->dim, buf);
    } else {
        halfs_to_floats(v->x, g_scratch, v->dim);
        format_vector_text(g_scratch, v->dim, buf);
    }
    PG_RETURN_CSTRING(buf);
}

template <typename T>
Datum vec_typmod_in(FunctionCallInfo fcinfo) {
    ArrayType* ta = PG_GETARG_ARRAYTYPE_P(0);
    int n;
    int32* tl = ArrayGetIntegerTypmods(ta, &n);
    if (n != 1) ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid type modifier")));
    if (tl[0] < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type %s must be at least 1", T::kName)));
    if (tl[0] > kMaxDims)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("dimensions for type %s cannot exceed %d", T::kName, kMaxDims)));
    PG_RETURN_INT32(tl[0]);
}

Datum typmod_out(FunctionCallInfo fcinfo) {
    int32 typmod = PG_GETARG_INT32(0);
    PG_RETURN_CSTRING(typmod < 0 ? pstrdup("") : psprintf("(%d)", typmod));
}

template <typename T>
Datum vec_recv(FunctionCallInfo fcinfo) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    int32 typmod = PG_GETARG_INT32(2);
    if (buf->len - buf->cursor < 4)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("binary %s data is too short for its header", T::kName)));
    int dim = static_cast<int16>(pq_getmsgint(buf, 2));
    int unused = static_cast<int16>(pq_getmsgint(buf, 2));
    if (dim < 1 || dim > kMaxDims)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("binary %s data has an invalid dimension count %d", T::kName, dim),
                        errdetail("Dimensions must be between 1 and %d.", kMaxDims)));
    if (unused != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("binary %s data has a non-zero reserved field (%d)", T::kName, unused)));
    int expected = dim * static_cast<int>(sizeof(typename T::Elem));
    if (buf->len - buf->cursor != expected)
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("binary %s data has %d bytes of elements for %d dimensions, expected %d",
                               T::kName, buf->len - buf->cursor, dim, expected)));
    check_typmod(dim, typmod);
    auto* v = vec_alloc<T>(dim);
    const char* p = buf->data + buf->cursor;  // any alignment: copy each element out
    // One pass that byte-swaps and notes whether any element is NaN or
    // infinite (all exponent bits set); the check per element, with its
    // error path, cost binary COPY of wide vectors a tenth of its speed.
    bool nonfinite = false;
    for (int i = 0; i < dim; ++i) {
        if constexpr (std::is_same_v<T, FloatTraits>) {
            uint32 bits;
            memcpy(&bits, p + 4 * i, 4);
            bits = pg_ntoh32(bits);
            nonfinite |= (bits & 0x7f800000u) == 0x7f800000u;
            memcpy(&v->x[i], &bits, 4);
        } else {
            uint16 bits;
            memcpy(&bits, p + 2 * i, 2);
            bits = pg_ntoh16(bits);
            nonfinite |= (bits & 0x7c00u) == 0x7c00u;
            v->x[i] = bits;
        }
    }
    if (nonfinite)  // report the first one
        for (int i = 0; i < dim; ++i) check_finite_element(T::get(v->x[i]), T::kName);
    buf->cursor += expected;
    PG_RETURN_POINTER(v);
}

template <typename T>
Datum vec_send(FunctionCallInfo fcinfo) {
    auto* v = vec_arg<T>(fcinfo, 0);
    StringInfoData buf;
    pq_begintypsend(&buf);
    pq_sendint16(&buf, static_cast<uint16>(v->dim));
    pq_sendint16(&buf, static_cast<uint16>(v->unused));
    int bytes = v->dim * static_cast<int>(sizeof(typename T::Elem));
    enlargeStringInfo(&buf, bytes);
    unsigned char* p = reinterpret_cast<unsigned char*>(buf.data + buf.len);
    for (int i = 0; i < v->dim; ++i) {
        if constexpr (std::is_same_v<T, FloatTraits>) {
            uint32 bits;
            memcpy(&bits, &v->x[i], 4);
            bits = pg_hton32(bits);
            memcpy(p + 4 * i, &bits, 4);
        } else {
            uint16 bits = pg_hton16(v->x[i]);
            memcpy(p + 2 * i, &bits, 2);
        }
    }
    buf.len += bytes;
    buf.data[buf.len] = '\0';
    PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/// vector(vector, typmod, explicit): the length-coercion cast.
template <typename T>
Datum vec_typmod_cast(FunctionCallInfo fcinfo) {
    auto* v = vec_arg<T>(fcinfo, 0);
    check_typmod(v->dim, PG_GETARG_INT32(1));
    PG_RETURN_POINTER(v);
}

/// integer[], real[], double precision[], numeric[] -> vector / halfvec.
template <typename T>
Datum array_to_vec(FunctionCallInfo fcinfo) {
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
    int32 typmod = PG_GETARG_INT32(1);
    if (ARR_NDIM(array) > 1) ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION), errmsg("array must be 1-D")));
    if (array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("array must not contain nulls")));
    // Count before deconstruct_array, which would allocate a Datum per element.
    check_dims_range(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)), T::kName);
    Oid elemtype = ARR_ELEMTYPE(array);
    int16 typlen;
    bool typbyval;
    char typalign;
    get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
    Datum* elems;
    int n;
    deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, nullptr, &n);
    check_dims_range(n, T::kName);
    check_typmod(n, typmod);
    for (int i = 0; i < n; ++i) {
        float f;
        switch (elemtype) {
            case INT4OID:
                f = static_cast<float>(DatumGetInt32(elems[i]));
                break;
            case FLOAT4OID:
                f = DatumGetFloat4(elems[i]);
                break;
            case FLOAT8OID: {
                double d = DatumGetFloat8(elems[i]);
                f = static_cast<float>(d);
                if (std::isinf(f) && !std::isinf(d))
                    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                                    errmsg("\"%g\" is out of range for type %s", d, T::kName),
                                    errdetail("Elements must lie within the range of a 4-byte float.")));
                break;
            }
            case NUMERICOID: {
                // The exact decimal, rounded once to float by the rules of
                // text input (Postgres's numeric_float4 would make a value
                // too small for float an error, against the types' rule).
                char* text = DatumGetCString(DirectFunctionCall1(numeric_out, elems[i]));
                f = parse_vector_element(text, T::kName);  // throws
                pfree(text);
                break;
            }
            default:
                ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                                errmsg("unsupported array element type %s", format_type_be(elemtype))));
        }
        check_finite_element(f, T::kName);
        g_scratch[i] = f;
    }
    PG_RETURN_POINTER(vec_from_floats<T>(g_scratch, n));
}

/// vector / halfvec -> real[].
template <typename T>
Datum vec_to_float4_array(FunctionCallInfo fcinfo) {
    auto* v = vec_arg<T>(fcinfo, 0);
    Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * v->dim));
    for (int i = 0; i < v->dim; ++i) d[i] = Float4GetDatum(T::get(v->x[i]));
    PG_RETURN_POINTER(construct_array(d, v->dim, FLOAT4OID, sizeof(float4), true, TYPALIGN_INT));
}

}  // namespace
}  // namespace nmvec::pg

using namespace nmvec;
using namespace nmvec::pg;

#define NMVEC_BOTH(fn)                                                    \
    NMVEC_FUNCTION(vector_##fn) { return vec_##fn<FloatTraits>(fcinfo); } \
    NMVEC_FUNCTION(halfvec_##fn) { return vec_##fn<HalfTraits>(fcinfo); }

NMVEC_BOTH(in)
NMVEC_BOTH(out)
NMVEC_BOTH(typmod_in)
NMVEC_BOTH(recv)
NMVEC_BOTH(send)

NMVEC_FUNCTION(vector_typmod_out) { return typmod_out(fcinfo); }
NMVEC_FUNCTION(halfvec_typmod_out) { return typmod_out(fcinfo); }
NMVEC_FUNCTION(vector) { return vec_typmod_cast<FloatTraits>(fcinfo); }
NMVEC_FUNCTION(halfvec) { return vec_typmod_cast<HalfTraits>(fcinfo); }
NMVEC_FUNCTION(array_to_vector) { return array_to_vec<FloatTraits>(fcinfo); }
NMVEC_FUNCTION(array_to_halfvec) { return array_to_vec<HalfTraits>(fcinfo); }
NMVEC_FUNCTION(vector_to_float4) { return vec_to_float4_array<FloatTraits>(fcinfo); }
NMVEC_FUNCTION(halfvec_to_float4) { return vec_to_float4_array<HalfTraits>(fcinfo); }

NMVEC_FUNCTION(vector_to_halfvec) {
    Vector* v = vec_arg<FloatTraits>(fcinfo, 0);
    check_typmod(v->dim, PG_GETARG_INT32(1));
    HalfVector* out = vec_alloc<HalfTraits>(v->dim);
    for (int i = 0; i < v->dim; ++i) out->x[i] = to_half_checked(v->x[i]);
    PG_RETURN_POINTER(out);
}

NMVEC_FUNCTION(halfvec_to_vector) {
    HalfVector* v = vec_arg<HalfTraits>(fcinfo, 0);
    check_typmod(v->dim, PG_GETARG_INT32(1));
    Vector* out = vec_alloc<FloatTraits>(v->dim);
    halfs_to_floats(v->x, out->x, v->dim);
    PG_RETURN_POINTER(out);
}
