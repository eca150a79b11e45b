// distance.h — distance kernels for float32 and float16 vectors.
//
// Each kernel exists in several variants (scalar reference, AVX2+FMA(+F16C),
// AVX-512F, AVX-512 FP16 arithmetic). The variant is chosen once, at load
// time, from CPUID (see simd.h); callers use the `active` table.
// Implemented in distance.cpp (scalar + dispatch) and distance_<isa>.cpp.
//
// All kernels accumulate in float32 (like FAISS) except where noted, and
// accept any n >= 0 (n == 0 returns 0). Pointers need no alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "simd.h"

namespace nmvec {

/// One table of kernels; every member is non-null in every variant.
struct DistanceKernels {
    /// Sum of (a[i] - b[i])^2.
    float (*f32_l2sq)(const float* a, const float* b, size_t n);
    /// Sum of a[i] * b[i].
    float (*f32_dot)(const float* a, const float* b, size_t n);
    /// Sum of |a[i] - b[i]|.
    float (*f32_l1)(const float* a, const float* b, size_t n);
    /// One pass computing dot(a,b), dot(a,a), dot(b,b) for cosine.
    void (*f32_cosine_parts)(const float* a, const float* b, size_t n, float* ab, float* aa, float* bb);

    /// The same on binary16 bit patterns (values widened or computed in fp16
    /// with float32 accumulation, depending on variant).
    float (*f16_l2sq)(const uint16_t* a, const uint16_t* b, size_t n);
    float (*f16_dot)(const uint16_t* a, const uint16_t* b, size_t n);
    float (*f16_l1)(const uint16_t* a, const uint16_t* b, size_t n);
    void (*f16_cosine_parts)(const uint16_t* a, const uint16_t* b, size_t n, float* ab, float* aa, float* bb);
};

/// The kernel table of one SIMD level. Throws nmvec::Error if that level was
/// not compiled in. Calling its kernels on a CPU without the level is UB:
/// check cpu_supports() first (tests do).
const DistanceKernels& distance_kernels(SimdLevel level);

/// The table for the best level this CPU supports, chosen on first use.
const DistanceKernels& active_kernels();

/// Cosine distance 1 - ab/sqrt(aa*bb), clamped to [0, 2]; NaN when a norm is 0
/// (pgvector-compatible) or a part is not finite.
double cosine_from_parts(double ab, double aa, double bb) noexcept;

/// Cosine distance of two vectors with the kernels of `k`, by
/// cosine_from_parts. The kernels' float32 parts are used when both squared
/// norms lie safely inside float's range (finite, at least 2^-100);
/// otherwise (elements beyond about 1e19, whose squares overflow, or norms
/// below about 1e-15, made of squares that underflow to 0 or to subnormals
/// with few bits) the parts are recomputed in double, where squares of float
/// elements can neither overflow nor underflow. So two finite non-zero
/// vectors always give a finite distance in [0, 2], at the kernels'
/// accuracy; a zero vector gives NaN. The check costs a few comparisons.
double cosine_distance_f32(const DistanceKernels& k, const float* a, const float* b, size_t n) noexcept;
double cosine_distance_f16(const DistanceKernels& k, const uint16_t* a, const uint16_t* b, size_t n) noexcept;

}  // namespace nmvec
