// vector_type.h — on-disk/in-memory layout of vector and halfvec, and the
// element traits that let one template serve both types.
//
// Layout (pgvector-compatible, so dumps and binary clients interoperate):
//   int32 varlena header | int16 dim | int16 unused (0) | elements
// vector elements are float32, halfvec elements IEEE binary16 bit patterns.
#pragma once

#include "pg.h"

#include "../core/half.h"
#include "../core/vector_text.h"

namespace nmvec::pg {

template <typename E>
struct VecT {
    int32 vl_len_;  // varlena header (do not touch directly)
    int16 dim;
    int16 unused;  // always 0
    E x[FLEXIBLE_ARRAY_MEMBER];
};

using Vector = VecT<float>;
using HalfVector = VecT<uint16_t>;

static_assert(offsetof(Vector, x) == 8, "vector elements start at byte 8");
static_assert(offsetof(HalfVector, x) == 8, "halfvec elements start at byte 8");

/// float32 elements.
struct FloatTraits {
    using Elem = float;
    using Vec = Vector;
    static constexpr const char* kName = "vector";
    static float get(Elem e) { return e; }
};

/// binary16 elements; arithmetic happens in float32.
struct HalfTraits {
    using Elem = uint16_t;
    using Vec = HalfVector;
    static constexpr const char* kName = "halfvec";
    static float get(Elem e) { return half_to_float(e); }
};

template <typename T>
inline size_t vec_size(int dim) {
    return offsetof(typename T::Vec, x) + sizeof(typename T::Elem) * static_cast<size_t>(dim);
}

/// palloc0 a vector of `dim` elements with its header set.
template <typename T>
typename T::Vec* vec_alloc(int dim) {
    size_t size = vec_size<T>(dim);
    auto* v = static_cast<typename T::Vec*>(palloc0(size));
    SET_VARSIZE(v, size);
    v->dim = static_cast<int16>(dim);
    return v;
}

/// ereport (XX001) for a value whose header check_vec_header rejected.
[[noreturn]] void reject_vec_header(const void* v, const char* type_name);

/// Check the header of a detoasted value before anything trusts its dim:
/// the varlena holds the 8-byte header and exactly dim elements, 1 <= dim <=
/// kMaxDims, and the reserved field is 0. Every value our functions make
/// passes; one that does not came from elsewhere (a corrupted page, a
/// binary-coercible cast from bytea) and is rejected where it is read. The
/// elements themselves are not checked (that would cost a pass over them).
template <typename T>
inline const typename T::Vec* check_vec_header(const void* p) {
    const auto* v = static_cast<const typename T::Vec*>(p);
    const size_t size = VARSIZE(v);
    if (unlikely(size < offsetof(typename T::Vec, x) || v->dim < 1 || v->dim > kMaxDims || v->unused != 0 ||
                 size != vec_size<T>(v->dim)))
        reject_vec_header(v, T::kName);
    return v;
}

/// Argument n, detoasted and its header checked (check_vec_header).
template <typename T>
inline typename T::Vec* vec_arg(FunctionCallInfo fcinfo, int n) {
    auto* v = reinterpret_cast<typename T::Vec*>(PG_DETOAST_DATUM(PG_GETARG_DATUM(n)));
    check_vec_header<T>(v);
    return v;
}

/// ereport unless 1 <= dim <= kMaxDims.
void check_dims_range(int dim, const char* type_name);
/// ereport when typmod is set and differs from dim.
void check_typmod(int dim, int32 typmod);
/// ereport "different <type> dimensions a and b" when a != b.
void check_same_dims(int a, int b, const char* type_name);
/// ereport on NaN or Infinity.
void check_finite_element(float f, const char* type_name);
/// Convert one float to binary16, with an error when it overflows halfvec.
uint16_t to_half_checked(float f);

}  // namespace nmvec::pg
