// distance.cpp — scalar reference kernels and the run-time dispatch.
//
// The scalar kernels are deliberately plain: one float32 accumulator, one
// pass, in index order. They are the fallback on CPUs without AVX2 and the
// readable definition of what every SIMD variant (distance_<isa>.cpp) must
// compute up to float rounding.
#include <cmath>
#include <limits>
#include <string>

#include "distance.h"
#include "distance_impl.h"
#include "error.h"
#include "half.h"

namespace nmvec {

namespace {

float f32_l2sq(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

float f32_dot(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

float f32_l1(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += std::fabs(a[i] - b[i]);
    return sum;
}

void f32_cosine_parts(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb) {
    float sab = 0.0f, saa = 0.0f, sbb = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        sab += a[i] * b[i];
        saa += a[i] * a[i];
        sbb += b[i] * b[i];
    }
    *ab = sab;
    *aa = saa;
    *bb = sbb;
}

// The f16 versions widen each element exactly and then do what the f32
// versions do.
float f16_l2sq(const uint16_t* a, const uint16_t* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float d = half_to_float(a[i]) - half_to_float(b[i]);
        sum += d * d;
    }
    return sum;
}

float f16_dot(const uint16_t* a, const uint16_t* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += half_to_float(a[i]) * half_to_float(b[i]);
    return sum;
}

float f16_l1(const uint16_t* a, const uint16_t* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += std::fabs(half_to_float(a[i]) - half_to_float(b[i]));
    return sum;
}

void f16_cosine_parts(const uint16_t* a, const uint16_t* b, size_t n, float* ab, float* aa, float* bb) {
    float sab = 0.0f, saa = 0.0f, sbb = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float x = half_to_float(a[i]);
        const float y = half_to_float(b[i]);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    *ab = sab;
    *aa = saa;
    *bb = sbb;
}

}  // namespace

const DistanceKernels& distance_kernels_scalar() {
    static const DistanceKernels k = {f32_l2sq, f32_dot, f32_l1, f32_cosine_parts,
                                      f16_l2sq, f16_dot, f16_l1, f16_cosine_parts};
    return k;
}

const DistanceKernels& distance_kernels(SimdLevel level) {
    switch (level) {
        case SimdLevel::Scalar:
            return distance_kernels_scalar();
        case SimdLevel::AVX2:
            return distance_kernels_avx2();
        case SimdLevel::AVX512:
            return distance_kernels_avx512();
        case SimdLevel::AVX512FP16:
            return distance_kernels_avx512fp16();
    }
    throw Error(ErrorKind::Internal,
                "no distance kernels for SIMD level " + std::to_string(static_cast<int>(level)));
}

const DistanceKernels& active_kernels() {
    // Thread-safe one-time choice; NMVEC_SIMD is read here, once.
    static const DistanceKernels& k = distance_kernels(best_simd_level());
    return k;
}

namespace {

/// 1 - similarity, clamped to [0, 2]: rounding can push |similarity| a hair
/// past 1. NaN stays NaN (both comparisons are false).
double distance_of(double similarity) noexcept {
    if (similarity > 1.0) similarity = 1.0;
    if (similarity < -1.0) similarity = -1.0;
    return 1.0 - similarity;
}

}  // namespace

double cosine_from_parts(double ab, double aa, double bb) noexcept {
    if (aa == 0.0 || bb == 0.0 || !std::isfinite(aa) || !std::isfinite(bb) || !std::isfinite(ab))
        return std::numeric_limits<double>::quiet_NaN();
    return distance_of(ab / std::sqrt(aa * bb));
}

namespace {

/// Whether float32 parts can be used as they are. Both squared norms must be
/// finite (no overflow anywhere in the sums: an overflowed partial sum stays
/// Inf or becomes NaN) and at least 2^-100. Below float's normal range each
/// product or sum that lands among the subnormals is off by up to 2^-150,
/// so a part is off by at most n * 2^-150 beyond the kernel's usual
/// rounding: less than n * 2^-50 relative to norms of at least 2^-100.
/// NaN parts fail the test too and are recomputed (giving NaN again).
bool parts_usable(float ab, float aa, float bb) noexcept {
    constexpr float kMinNorm2 = 0x1p-100f;
    constexpr float kMax = std::numeric_limits<float>::max();
    return aa >= kMinNorm2 && bb >= kMinNorm2 && aa <= kMax && bb <= kMax && std::fabs(ab) <= kMax;
}

/// The parts in double: squares of float elements lie within [2^-298, 2^256],
/// so for any practical n they neither underflow nor overflow.
template <class T, class Widen>
double cosine_double(const T* a, const T* b, size_t n, Widen widen) noexcept {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double x = widen(a[i]), y = widen(b[i]);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    return cosine_from_parts(ab, aa, bb);
}

}  // namespace

double cosine_distance_f32(const DistanceKernels& k, const float* a, const float* b, size_t n) noexcept {
    float ab, aa, bb;
    k.f32_cosine_parts(a, b, n, &ab, &aa, &bb);
    if (parts_usable(ab, aa, bb)) return distance_of(ab / std::sqrt(static_cast<double>(aa) * bb));
    return cosine_double(a, b, n, [](float x) { return static_cast<double>(x); });
}

double cosine_distance_f16(const DistanceKernels& k, const uint16_t* a, const uint16_t* b,
                           size_t n) noexcept {
    // Widening kernels square halves exactly in float32 (within [2^-48,
    // 2^32]), so only the fp16-arithmetic kernel can fall short here; it
    // already hands small norms to the widening kernel (see
    // distance_avx512fp16.cpp). The check costs nothing and covers any variant.
    float ab, aa, bb;
    k.f16_cosine_parts(a, b, n, &ab, &aa, &bb);
    if (parts_usable(ab, aa, bb)) return distance_of(ab / std::sqrt(static_cast<double>(aa) * bb));
    return cosine_double(a, b, n, [](uint16_t h) { return static_cast<double>(half_to_float(h)); });
}

}  // namespace nmvec
