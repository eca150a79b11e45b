// vector_ops.cpp — distance operators and functions, element-wise
// arithmetic, comparison (btree support) and aggregates for vector and
// halfvec. Distances run the core's CPUID-dispatched kernels.
#include "../core/distance.h"
#include "guard.h"
#include "vector_type.h"

#include "utils/fmgrprotos.h"

namespace nmvec::pg {
namespace {

// ---- distances -------------------------------------------------------------

enum class Metric { L2, L2Squared, NegativeInnerProduct, InnerProduct, Cosine, L1 };

template <typename T>
double distance(const typename T::Vec* a, const typename T::Vec* b, Metric m) {
    check_same_dims(a->dim, b->dim, T::kName);
    const DistanceKernels& k = active_kernels();
    size_t n = static_cast<size_t>(a->dim);
    if constexpr (std::is_same_v<T, FloatTraits>) {
        switch (m) {
            case Metric::L2:
                return std::sqrt(static_cast<double>(k.f32_l2sq(a->x, b->x, n)));
            case Metric::L2Squared:
                return k.f32_l2sq(a->x, b->x, n);
            case Metric::InnerProduct:
                return k.f32_dot(a->x, b->x, n);
            case Metric::NegativeInnerProduct:
                return -static_cast<double>(k.f32_dot(a->x, b->x, n));
            case Metric::Cosine:
                return cosine_distance_f32(k, a->x, b->x, n);
            case Metric::L1:
                return k.f32_l1(a->x, b->x, n);
        }
    } else {
        switch (m) {
            case Metric::L2:
                return std::sqrt(static_cast<double>(k.f16_l2sq(a->x, b->x, n)));
            case Metric::L2Squared:
                return k.f16_l2sq(a->x, b->x, n);
            case Metric::InnerProduct:
                return k.f16_dot(a->x, b->x, n);
            case Metric::NegativeInnerProduct:
                return -static_cast<double>(k.f16_dot(a->x, b->x, n));
            case Metric::Cosine:
                return cosine_distance_f16(k, a->x, b->x, n);
            case Metric::L1:
                return k.f16_l1(a->x, b->x, n);
        }
    }
    return 0.0;
}

/// The query vector of an exact scan often reaches every call still
/// compressed or TOASTed: `ORDER BY v <-> (SELECT v FROM events WHERE id =
/// 42)` passes the stored value on, and a compressed column gives compressed
/// values. Detoasting it for every row doubled the decompression an exact
/// scan does. Per call site (fn_extra, in the query's fn_mcxt) each argument
/// position remembers the last compressed or on-disk TOASTed value it saw,
/// byte for byte (the compressed bytes, or the TOAST pointer, which names
/// the value uniquely); when the same one comes again its detoasted copy is
/// kept and reused. A row argument, different at every call, costs a compare
/// that fails early and a copy of its compressed bytes.
struct ArgCache {
    struct Slot {
        char* raw;
        size_t raw_len, raw_cap;
        struct varlena* value;  // detoasted, once raw repeated
    } slot[2];
};

template <typename T>
const typename T::Vec* distance_arg(FunctionCallInfo fcinfo, int n) {
    auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(PG_GETARG_DATUM(n)));
    if ((!VARATT_IS_COMPRESSED(raw) && !VARATT_IS_EXTERNAL_ONDISK(raw)) || fcinfo->flinfo == nullptr)
        return vec_arg<T>(fcinfo, n);
    MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
    auto* cache = static_cast<ArgCache*>(fcinfo->flinfo->fn_extra);
    if (cache == nullptr) {
        cache = static_cast<ArgCache*>(MemoryContextAllocZero(cxt, sizeof(ArgCache)));
        fcinfo->flinfo->fn_extra = cache;
    }
    ArgCache::Slot& s = cache->slot[n];
    const size_t len = VARSIZE_ANY(raw);
    if (s.raw_len == len && memcmp(s.raw, raw, len) == 0) {
        if (s.value == nullptr) {
            MemoryContext old = MemoryContextSwitchTo(cxt);
            s.value = PG_DETOAST_DATUM_COPY(PointerGetDatum(raw));
            MemoryContextSwitchTo(old);
        }
        return check_vec_header<T>(s.value);
    }
    if (s.value != nullptr) {
        pfree(s.value);
        s.value = nullptr;
    }
    if (s.raw_cap < len) {
        if (s.raw != nullptr) pfree(s.raw);
        s.raw = static_cast<char*>(MemoryContextAlloc(cxt, len));
        s.raw_cap = len;
    }
    memcpy(s.raw, raw, len);
    s.raw_len = len;
    return vec_arg<T>(fcinfo, n);
}

template <typename T>
Datum distance_fn(FunctionCallInfo fcinfo, Metric m) {
    PG_RETURN_FLOAT8(distance<T>(distance_arg<T>(fcinfo, 0), distance_arg<T>(fcinfo, 1), m));
}

// ---- single-vector functions -------------------------------------------------

template <typename T>
Datum vec_dims(FunctionCallInfo fcinfo) {
    PG_RETURN_INT32(vec_arg<T>(fcinfo, 0)->dim);
}

template <typename T>
double norm_of(const typename T::Vec* v) {
    double s = 0.0;
    for (int i = 0; i < v->dim; ++i) {
        double x = T::get(v->x[i]);
        s += x * x;
    }
    return std::sqrt(s);
}

template <typename T>
Datum vec_norm(FunctionCallInfo fcinfo) {
    PG_RETURN_FLOAT8(norm_of<T>(vec_arg<T>(fcinfo, 0)));
}

/// Store one computed element by the types' rule (README, "types"): a finite
/// result rounded to infinity is an error; one too small for the element type
/// rounds to a subnormal or 0, like any other rounding.
template <typename T>
void set_elem(typename T::Vec* out, int i, float f) {
    if (std::isinf(f))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: overflow")));
    if constexpr (std::is_same_v<T, FloatTraits>) {
        out->x[i] = f;
    } else {
        out->x[i] = to_half_checked(f);
    }
}

template <typename T>
Datum vec_l2_normalize(FunctionCallInfo fcinfo) {
    auto* v = vec_arg<T>(fcinfo, 0);
    auto* out = vec_alloc<T>(v->dim);
    double norm = norm_of<T>(v);
    if (norm > 0.0) {  // a zero vector stays zero
        for (int i = 0; i < v->dim; ++i) set_elem<T>(out, i, static_cast<float>(T::get(v->x[i]) / norm));
    }
    PG_RETURN_POINTER(out);
}

template <typename T>
Datum vec_subvector(FunctionCallInfo fcinfo) {
    auto* v = vec_arg<T>(fcinfo, 0);
    int64 start = PG_GETARG_INT32(1);  // 1-based
    int64 count = PG_GETARG_INT32(2);
    if (count < 1)
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s must have at least 1 dimension", T::kName)));
    int64 end = start + count;  // exclusive, in int64: no overflow
    if (start < 1) start = 1;
    if (end > v->dim + 1) end = v->dim + 1;
    if (end <= start)
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("%s must have at least 1 dimension", T::kName)));
    int dim = static_cast<int>(end - start);
    auto* out = vec_alloc<T>(dim);
    memcpy(out->x, v->x + (start - 1), sizeof(typename T::Elem) * dim);
    PG_RETURN_POINTER(out);
}

// ---- element-wise arithmetic -------------------------------------------------

enum class Op { Add, Sub, Mul };

template <typename T>
Datum vec_arith(FunctionCallInfo fcinfo, Op op) {
    auto* a = vec_arg<T>(fcinfo, 0);
    auto* b = vec_arg<T>(fcinfo, 1);
    check_same_dims(a->dim, b->dim, T::kName);
    auto* out = vec_alloc<T>(a->dim);
    for (int i = 0; i < a->dim; ++i) {
        float x = T::get(a->x[i]), y = T::get(b->x[i]);
        float r = op == Op::Add ? x + y : op == Op::Sub ? x - y : x * y;
        set_elem<T>(out, i, r);  // overflow is an error, underflow rounds (README, "types")
    }
    PG_RETURN_POINTER(out);
}

template <typename T>
Datum vec_concat(FunctionCallInfo fcinfo) {
    auto* a = vec_arg<T>(fcinfo, 0);
    auto* b = vec_arg<T>(fcinfo, 1);
    int dim = a->dim + b->dim;
    check_dims_range(dim, T::kName);
    auto* out = vec_alloc<T>(dim);
    memcpy(out->x, a->x, sizeof(typename T::Elem) * a->dim);
    memcpy(out->x + a->dim, b->x, sizeof(typename T::Elem) * b->dim);
    PG_RETURN_POINTER(out);
}

// ---- comparison: element by element, then by dims ----------------------------

template <typename T>
int vec_cmp_internal(const typename T::Vec* a, const typename T::Vec* b) {
    int n = std::min(a->dim, b->dim);
    for (int i = 0; i < n; ++i) {
        float x = T::get(a->x[i]), y = T::get(b->x[i]);
        if (x < y) return -1;
        if (x > y) return 1;
    }
    return a->dim < b->dim ? -1 : a->dim > b->dim ? 1 : 0;
}

template <typename T>
int cmp_args(FunctionCallInfo fcinfo) {
    return vec_cmp_internal<T>(vec_arg<T>(fcinfo, 0), vec_arg<T>(fcinfo, 1));
}

// ---- aggregates: state is float8[] {n, sum_1, ..., sum_d} --------------------
//
// The state is an ordinary float8[], and every function below is callable by
// any role with an array it made up, so each one checks its state before
// reading it (check_state). A valid state is 1-D without NULLs; n is finite,
// integral and >= 0; d <= kMaxDims; n == 0 exactly when d == 0 (the initial
// condition '{0}', which is also what combining two empty states gives); the
// sums are finite. States the aggregates build always pass.

[[noreturn]] void invalid_state(const char* type_name, const char* detail) {
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid aggregate state for %s", type_name), errdetail("%s", detail)));
    pg_unreachable();
}

/// A checked state: s[0] = n, s[1..dim] = the sums.
struct State {
    double* s;
    int dim;
};

/// Whether none of x[0..n) is NaN or infinite.
bool all_finite(const double* x, int n) {
    bool finite = true;
    for (int i = 0; i < n; ++i) finite &= std::fabs(x[i]) <= std::numeric_limits<double>::max();
    return finite;
}

/// check_sums = false leaves the sums to the caller (vec_accum checks them
/// while it adds to them, instead of in a second pass per row).
State check_state(ArrayType* a, const char* type_name, bool check_sums = true) {
    if (ARR_NDIM(a) != 1 || ARR_ELEMTYPE(a) != FLOAT8OID)
        invalid_state(type_name, "The state must be a one-dimensional double precision array.");
    if (array_contains_nulls(a)) invalid_state(type_name, "The state must not contain nulls.");
    int len = ARR_DIMS(a)[0];
    if (len < 1 || len - 1 > kMaxDims)
        invalid_state(type_name, psprintf("The state must hold a count and at most %d sums.", kMaxDims));
    double* s = reinterpret_cast<double*>(ARR_DATA_PTR(a));
    double n = s[0];
    if (!(n >= 0.0) || !std::isfinite(n) || n != std::floor(n))
        invalid_state(type_name, "The count must be a non-negative integer.");
    if (n == 0.0) {
        // No rows yet: '{0}' (the initial condition), or zero sums of some
        // length, as pgvector accepts; both are the empty state.
        for (int i = 1; i < len; ++i)
            if (s[i] != 0.0) invalid_state(type_name, "A state whose count is zero must have zero sums.");
        return {s, 0};
    }
    if (len == 1) invalid_state(type_name, "A state whose count is not zero must hold sums.");
    if (check_sums && !all_finite(s + 1, len - 1)) invalid_state(type_name, "The sums must be finite.");
    return {s, len - 1};
}

ArrayType* new_state(int dim, double n, const double* sums) {
    Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * (dim + 1)));
    d[0] = Float8GetDatum(n);
    for (int i = 0; i < dim; ++i) d[i + 1] = Float8GetDatum(sums ? sums[i] : 0.0);
    return construct_array(d, dim + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

double* state_values(ArrayType* a) { return reinterpret_cast<double*>(ARR_DATA_PTR(a)); }

template <typename T>
Datum vec_accum(FunctionCallInfo fcinfo) {
    ArrayType* state = PG_GETARG_ARRAYTYPE_P(0);
    auto* v = vec_arg<T>(fcinfo, 1);
    State st = check_state(state, T::kName, false);
    if (st.dim == 0) {  // first row: the initial condition '{0}'
        MemoryContext aggcxt;
        if (AggCheckCallContext(fcinfo, &aggcxt)) {
            MemoryContext old = MemoryContextSwitchTo(aggcxt);
            state = new_state(v->dim, 0.0, nullptr);
            MemoryContextSwitchTo(old);
        } else {
            state = new_state(v->dim, 0.0, nullptr);
        }
    } else {
        check_same_dims(st.dim, v->dim, T::kName);
        // Called outside an aggregate: never modify the argument in place.
        if (!AggCheckCallContext(fcinfo, nullptr)) state = new_state(st.dim, st.s[0], st.s + 1);
    }
    double* s = state_values(state);
    s[0] += 1.0;
    // The sums' check, fused with the additions: a finite float added to a
    // finite sum cannot overflow double, and a NaN or infinite sum stays so.
    bool finite = true;
    for (int i = 0; i < v->dim; ++i) {
        s[i + 1] += T::get(v->x[i]);
        finite &= std::fabs(s[i + 1]) <= std::numeric_limits<double>::max();
    }
    if (!finite) invalid_state(T::kName, "The sums must be finite.");
    PG_RETURN_ARRAYTYPE_P(state);
}

template <typename T>
Datum vec_combine(FunctionCallInfo fcinfo) {
    State a = check_state(PG_GETARG_ARRAYTYPE_P(0), T::kName);
    State b = check_state(PG_GETARG_ARRAYTYPE_P(1), T::kName);
    if (a.dim == 0) return PointerGetDatum(new_state(b.dim, b.s[0], b.s + 1));
    if (b.dim == 0) return PointerGetDatum(new_state(a.dim, a.s[0], a.s + 1));
    check_same_dims(a.dim, b.dim, T::kName);
    ArrayType* out = new_state(a.dim, a.s[0] + b.s[0], a.s + 1);
    double* so = state_values(out);
    // Sums of real rows stay far below double's range; only made-up states
    // can overflow here.
    if (!std::isfinite(so[0]))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: overflow")));
    for (int i = 1; i <= a.dim; ++i) {
        so[i] += b.s[i];
        if (!std::isfinite(so[i]))
            ereport(ERROR,
                    (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("value out of range: overflow")));
    }
    PG_RETURN_ARRAYTYPE_P(out);
}

template <typename T>
Datum vec_state_final(FunctionCallInfo fcinfo, bool average) {
    State st = check_state(PG_GETARG_ARRAYTYPE_P(0), T::kName);
    if (st.dim == 0) PG_RETURN_NULL();  // no rows
    const double* s = st.s;
    auto* out = vec_alloc<T>(st.dim);
    for (int i = 0; i < st.dim; ++i)
        set_elem<T>(out, i, static_cast<float>(average ? s[i + 1] / s[0] : s[i + 1]));
    PG_RETURN_POINTER(out);
}

}  // namespace
}  // namespace nmvec::pg

using namespace nmvec::pg;

#define NMVEC_BOTH(sqlname, expr)               \
    NMVEC_FUNCTION(vector_##sqlname) {          \
        using T [[maybe_unused]] = FloatTraits; \
        return expr;                            \
    }                                           \
    NMVEC_FUNCTION(halfvec_##sqlname) {         \
        using T [[maybe_unused]] = HalfTraits;  \
        return expr;                            \
    }

NMVEC_BOTH(l2_distance, distance_fn<T>(fcinfo, Metric::L2))
NMVEC_BOTH(l2_squared_distance, distance_fn<T>(fcinfo, Metric::L2Squared))
NMVEC_BOTH(inner_product, distance_fn<T>(fcinfo, Metric::InnerProduct))
NMVEC_BOTH(negative_inner_product, distance_fn<T>(fcinfo, Metric::NegativeInnerProduct))
NMVEC_BOTH(cosine_distance, distance_fn<T>(fcinfo, Metric::Cosine))
NMVEC_BOTH(l1_distance, distance_fn<T>(fcinfo, Metric::L1))
NMVEC_BOTH(dims, vec_dims<T>(fcinfo))
NMVEC_BOTH(norm, vec_norm<T>(fcinfo))
NMVEC_BOTH(l2_normalize, vec_l2_normalize<T>(fcinfo))
NMVEC_BOTH(subvector, vec_subvector<T>(fcinfo))
NMVEC_BOTH(add, vec_arith<T>(fcinfo, Op::Add))
NMVEC_BOTH(sub, vec_arith<T>(fcinfo, Op::Sub))
NMVEC_BOTH(mul, vec_arith<T>(fcinfo, Op::Mul))
NMVEC_BOTH(concat, vec_concat<T>(fcinfo))
NMVEC_BOTH(cmp, Int32GetDatum(cmp_args<T>(fcinfo)))
NMVEC_BOTH(lt, BoolGetDatum(cmp_args<T>(fcinfo) < 0))
NMVEC_BOTH(le, BoolGetDatum(cmp_args<T>(fcinfo) <= 0))
NMVEC_BOTH(eq, BoolGetDatum(cmp_args<T>(fcinfo) == 0))
NMVEC_BOTH(ne, BoolGetDatum(cmp_args<T>(fcinfo) != 0))
NMVEC_BOTH(ge, BoolGetDatum(cmp_args<T>(fcinfo) >= 0))
NMVEC_BOTH(gt, BoolGetDatum(cmp_args<T>(fcinfo) > 0))
NMVEC_BOTH(accum, vec_accum<T>(fcinfo))
NMVEC_BOTH(combine, vec_combine<T>(fcinfo))
NMVEC_BOTH(avg, vec_state_final<T>(fcinfo, true))
NMVEC_BOTH(sum, vec_state_final<T>(fcinfo, false))
