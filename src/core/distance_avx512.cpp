// distance_avx512.cpp — AVX-512 F/BW/DQ/VL kernels. Compiled with the
// _avx512 flags (file-name suffix); run only when
// cpu_supports(SimdLevel::AVX512).
//
// Same shape as the AVX2 file, twice as wide: a main loop of 64 elements into
// 4 independent 16-lane accumulators, 16-element steps, and a final masked
// load for the last 1..15 elements (masked-off lanes read as zero and are
// never touched in memory, so no fault past the end). Halves are widened
// exactly with vcvtph2ps; all arithmetic is float32.
// GCC 12's _mm512_undefined_* (used inside _mm512_cvtph_ps and
// _mm512_reduce_add_ps) self-initialise a variable and trip -Wuninitialized
// under -Werror (GCC bug 105593, fixed in 12.3/13). Silence just those two.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "distance_impl.h"

namespace nmvec {

namespace {

constexpr size_t kLanes = 16;

struct LoadF32 {
    using T = float;
    static __m512 load(const float* p) { return _mm512_loadu_ps(p); }
    static __m512 load_masked(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};

struct LoadF16 {
    using T = uint16_t;
    static __m512 load(const uint16_t* p) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
    static __m512 load_masked(const uint16_t* p, __mmask16 m) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    }
};

/// Mask of the low r lanes, r < 16.
__mmask16 tail_mask(size_t r) { return static_cast<__mmask16>((1u << r) - 1u); }

struct OpL2 {
    static __m512 step(__m512 acc, __m512 x, __m512 y) {
        const __m512 d = _mm512_sub_ps(x, y);
        return _mm512_fmadd_ps(d, d, acc);
    }
};

struct OpDot {
    static __m512 step(__m512 acc, __m512 x, __m512 y) { return _mm512_fmadd_ps(x, y, acc); }
};

struct OpL1 {
    static __m512 step(__m512 acc, __m512 x, __m512 y) {
        return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(x, y)));
    }
};

template <class L, class Op>
float reduce(const typename L::T* a, const typename L::T* b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps();
    __m512 acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
        acc0 = Op::step(acc0, L::load(a + i), L::load(b + i));
        acc1 = Op::step(acc1, L::load(a + i + 16), L::load(b + i + 16));
        acc2 = Op::step(acc2, L::load(a + i + 32), L::load(b + i + 32));
        acc3 = Op::step(acc3, L::load(a + i + 48), L::load(b + i + 48));
    }
    for (; i + kLanes <= n; i += kLanes) acc1 = Op::step(acc1, L::load(a + i), L::load(b + i));
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        acc2 = Op::step(acc2, L::load_masked(a + i, m), L::load_masked(b + i, m));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

template <class L>
void cosine_parts(const typename L::T* a, const typename L::T* b, size_t n, float* ab, float* aa, float* bb) {
    __m512 ab0 = _mm512_setzero_ps(), ab1 = _mm512_setzero_ps();
    __m512 aa0 = _mm512_setzero_ps(), aa1 = _mm512_setzero_ps();
    __m512 bb0 = _mm512_setzero_ps(), bb1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        const __m512 x0 = L::load(a + i), y0 = L::load(b + i);
        const __m512 x1 = L::load(a + i + 16), y1 = L::load(b + i + 16);
        ab0 = _mm512_fmadd_ps(x0, y0, ab0);
        aa0 = _mm512_fmadd_ps(x0, x0, aa0);
        bb0 = _mm512_fmadd_ps(y0, y0, bb0);
        ab1 = _mm512_fmadd_ps(x1, y1, ab1);
        aa1 = _mm512_fmadd_ps(x1, x1, aa1);
        bb1 = _mm512_fmadd_ps(y1, y1, bb1);
    }
    if (i + kLanes <= n) {
        const __m512 x = L::load(a + i), y = L::load(b + i);
        ab0 = _mm512_fmadd_ps(x, y, ab0);
        aa0 = _mm512_fmadd_ps(x, x, aa0);
        bb0 = _mm512_fmadd_ps(y, y, bb0);
        i += kLanes;
    }
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        const __m512 x = L::load_masked(a + i, m), y = L::load_masked(b + i, m);
        ab1 = _mm512_fmadd_ps(x, y, ab1);
        aa1 = _mm512_fmadd_ps(x, x, aa1);
        bb1 = _mm512_fmadd_ps(y, y, bb1);
    }
    *ab = _mm512_reduce_add_ps(_mm512_add_ps(ab0, ab1));
    *aa = _mm512_reduce_add_ps(_mm512_add_ps(aa0, aa1));
    *bb = _mm512_reduce_add_ps(_mm512_add_ps(bb0, bb1));
}

float f32_l2sq(const float* a, const float* b, size_t n) { return reduce<LoadF32, OpL2>(a, b, n); }
float f32_dot(const float* a, const float* b, size_t n) { return reduce<LoadF32, OpDot>(a, b, n); }
float f32_l1(const float* a, const float* b, size_t n) { return reduce<LoadF32, OpL1>(a, b, n); }
void f32_cosine(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb) {
    cosine_parts<LoadF32>(a, b, n, ab, aa, bb);
}

float f16_l2sq(const uint16_t* a, const uint16_t* b, size_t n) { return reduce<LoadF16, OpL2>(a, b, n); }
float f16_dot(const uint16_t* a, const uint16_t* b, size_t n) { return reduce<LoadF16, OpDot>(a, b, n); }
float f16_l1(const uint16_t* a, const uint16_t* b, size_t n) { return reduce<LoadF16, OpL1>(a, b, n); }
void f16_cosine(const uint16_t* a, const uint16_t* b, size_t n, float* ab, float* aa, float* bb) {
    cosine_parts<LoadF16>(a, b, n, ab, aa, bb);
}

}  // namespace

const DistanceKernels& distance_kernels_avx512() {
    static const DistanceKernels k = {f32_l2sq, f32_dot, f32_l1, f32_cosine,
                                      f16_l2sq, f16_dot, f16_l1, f16_cosine};
    return k;
}

}  // namespace nmvec
