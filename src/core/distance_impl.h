// distance_impl.h — private: the per-ISA kernel tables behind distance.h.
//
// Each distance_<isa>.cpp is compiled with that ISA's flags (the file-name
// suffix decides them, see CMakeLists.txt) and is the only place where its
// intrinsics appear. It exposes its table through one function declared here;
// distance.cpp picks among them. Calling a table's kernels on a CPU without
// the ISA is undefined behaviour: check cpu_supports() first.
//
// Not part of the public interface: only distance.cpp, half.cpp and the unit
// tests include this header.
#pragma once

#include <cstddef>
#include <cstdint>

#include "distance.h"

namespace nmvec {

/// Portable reference kernels (distance.cpp).
const DistanceKernels& distance_kernels_scalar();

/// AVX2 + FMA + F16C (distance_avx2.cpp).
const DistanceKernels& distance_kernels_avx2();

/// AVX-512 F/BW/DQ/VL, halves widened with vcvtph2ps (distance_avx512.cpp).
const DistanceKernels& distance_kernels_avx512();

/// AVX-512 FP16 arithmetic for the f16 kernels (distance_avx512fp16.cpp).
const DistanceKernels& distance_kernels_avx512fp16();

/// F16C bulk conversions (distance_avx2.cpp); half.cpp dispatches to them.
/// Bit-identical to the scalar half_to_float / float_to_half.
void halfs_to_floats_f16c(const uint16_t* in, float* out, size_t n) noexcept;
void floats_to_halfs_f16c(const float* in, uint16_t* out, size_t n) noexcept;

}  // namespace nmvec
