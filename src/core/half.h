// half.h — IEEE 754 binary16 <-> binary32 conversion (scalar, exact).
//
// halfvec stores uint16_t bit patterns. These conversions are the reference
// the SIMD kernels (F16C, AVX-512) are tested against: float_to_half rounds
// to nearest even, keeps NaN/Inf, and produces subnormals.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nmvec {

/// Largest finite binary16 value.
constexpr float kHalfMax = 65504.0f;

/// Exact widening of a binary16 bit pattern to float.
float half_to_float(uint16_t h) noexcept;

/// Round-to-nearest-even narrowing; values beyond kHalfMax become +-Inf.
uint16_t float_to_half(float f) noexcept;

/// Bulk conversions, SIMD-dispatched (F16C where available).
void halfs_to_floats(const uint16_t* in, float* out, size_t n) noexcept;
void floats_to_halfs(const float* in, uint16_t* out, size_t n) noexcept;

}  // namespace nmvec
