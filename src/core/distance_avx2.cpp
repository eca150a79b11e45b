// distance_avx2.cpp — AVX2 + FMA + F16C kernels, and the F16C bulk
// conversions used by half.cpp. Compiled with -mavx2 -mfma -mf16c (file-name
// suffix); run only when cpu_supports(SimdLevel::AVX2).
//
// Layout of every kernel: a main loop of 32 elements into 4 independent
// 8-lane accumulators (so FMA latency does not serialise the loop), then
// 8-element steps into the first accumulator, then the last 1..7 elements
// copied into a zero-padded 8-element buffer and processed like a full step
// (zeros add nothing to any of our sums). Halves are widened exactly with
// vcvtph2ps, so f16 kernels do float32 arithmetic on the exact values.
#include <immintrin.h>

#include <cstring>

#include "distance_impl.h"

namespace nmvec {

namespace {

constexpr size_t kLanes = 8;

/// Loads 8 elements as 8 floats.
struct LoadF32 {
    using T = float;
    static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
};

struct LoadF16 {
    using T = uint16_t;
    static __m256 load(const uint16_t* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
};

/// Loads r < 8 elements, the rest zero, without reading past p + r.
template <class L>
__m256 load_partial(const typename L::T* p, size_t r) {
    typename L::T buf[kLanes] = {};
    std::memcpy(buf, p, r * sizeof(typename L::T));
    return L::load(buf);
}

float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// acc + (x - y)^2
struct OpL2 {
    static __m256 step(__m256 acc, __m256 x, __m256 y) {
        const __m256 d = _mm256_sub_ps(x, y);
        return _mm256_fmadd_ps(d, d, acc);
    }
};

/// acc + x * y
struct OpDot {
    static __m256 step(__m256 acc, __m256 x, __m256 y) { return _mm256_fmadd_ps(x, y, acc); }
};

/// acc + |x - y|
struct OpL1 {
    static __m256 step(__m256 acc, __m256 x, __m256 y) {
        const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
        return _mm256_add_ps(acc, _mm256_and_ps(_mm256_sub_ps(x, y), abs_mask));
    }
};

template <class L, class Op>
float reduce(const typename L::T* a, const typename L::T* b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps();
    __m256 acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps();
    __m256 acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
        acc0 = Op::step(acc0, L::load(a + i), L::load(b + i));
        acc1 = Op::step(acc1, L::load(a + i + 8), L::load(b + i + 8));
        acc2 = Op::step(acc2, L::load(a + i + 16), L::load(b + i + 16));
        acc3 = Op::step(acc3, L::load(a + i + 24), L::load(b + i + 24));
    }
    for (; i + kLanes <= n; i += kLanes) acc0 = Op::step(acc0, L::load(a + i), L::load(b + i));
    if (i < n) acc0 = Op::step(acc0, load_partial<L>(a + i, n - i), load_partial<L>(b + i, n - i));
    return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

template <class L>
void cosine_parts(const typename L::T* a, const typename L::T* b, size_t n, float* ab, float* aa, float* bb) {
    // Two accumulators per sum (six registers) over 16 elements per step.
    __m256 ab0 = _mm256_setzero_ps(), ab1 = _mm256_setzero_ps();
    __m256 aa0 = _mm256_setzero_ps(), aa1 = _mm256_setzero_ps();
    __m256 bb0 = _mm256_setzero_ps(), bb1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        const __m256 x0 = L::load(a + i), y0 = L::load(b + i);
        const __m256 x1 = L::load(a + i + 8), y1 = L::load(b + i + 8);
        ab0 = _mm256_fmadd_ps(x0, y0, ab0);
        aa0 = _mm256_fmadd_ps(x0, x0, aa0);
        bb0 = _mm256_fmadd_ps(y0, y0, bb0);
        ab1 = _mm256_fmadd_ps(x1, y1, ab1);
        aa1 = _mm256_fmadd_ps(x1, x1, aa1);
        bb1 = _mm256_fmadd_ps(y1, y1, bb1);
    }
    if (i < n) {
        __m256 x, y;
        if (i + kLanes <= n) {
            x = L::load(a + i);
            y = L::load(b + i);
            i += kLanes;
            ab0 = _mm256_fmadd_ps(x, y, ab0);
            aa0 = _mm256_fmadd_ps(x, x, aa0);
            bb0 = _mm256_fmadd_ps(y, y, bb0);
        }
        if (i < n) {
            x = load_partial<L>(a + i, n - i);
            y = load_partial<L>(b + i, n - i);
            ab1 = _mm256_fmadd_ps(x, y, ab1);
            aa1 = _mm256_fmadd_ps(x, x, aa1);
            bb1 = _mm256_fmadd_ps(y, y, bb1);
        }
    }
    *ab = hsum(_mm256_add_ps(ab0, ab1));
    *aa = hsum(_mm256_add_ps(aa0, aa1));
    *bb = hsum(_mm256_add_ps(bb0, bb1));
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

const DistanceKernels& distance_kernels_avx2() {
    static const DistanceKernels k = {f32_l2sq, f32_dot, f32_l1, f32_cosine,
                                      f16_l2sq, f16_dot, f16_l1, f16_cosine};
    return k;
}

void halfs_to_floats_f16c(const uint16_t* in, float* out, size_t n) noexcept {
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) _mm256_storeu_ps(out + i, LoadF16::load(in + i));
    if (i < n) {
        float buf[kLanes];
        _mm256_storeu_ps(buf, load_partial<LoadF16>(in + i, n - i));
        std::memcpy(out + i, buf, (n - i) * sizeof(float));
    }
}

void floats_to_halfs_f16c(const float* in, uint16_t* out, size_t n) noexcept {
    // Immediate 0: round to nearest even, whatever MXCSR says.
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
    }
    if (i < n) {
        uint16_t buf[kLanes];
        const __m128i h = _mm256_cvtps_ph(load_partial<LoadF32>(in + i, n - i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(buf), h);
        std::memcpy(out + i, buf, (n - i) * sizeof(uint16_t));
    }
}

}  // namespace nmvec
