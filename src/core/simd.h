// simd.h — SIMD levels and CPUID-based detection.
#pragma once

namespace nmvec {

/// Instruction-set levels we have kernels for, weakest first.
enum class SimdLevel {
    Scalar = 0,      ///< portable C++
    AVX2 = 1,        ///< AVX2 + FMA + F16C
    AVX512 = 2,      ///< AVX-512F (+ F16C conversion for half)
    AVX512FP16 = 3,  ///< AVX-512 FP16 arithmetic (Sapphire Rapids and later)
};

constexpr int kSimdLevelCount = 4;

/// Does this CPU (and OS, via XGETBV) support the level?
bool cpu_supports(SimdLevel level) noexcept;

/// Does the CPU support the AVX-512 level and AVX512_VPOPCNTDQ (a 64-bit
/// lane population count: Ice Lake, Zen 4 and later)? An extra for a few
/// kernels within the AVX-512 level, not a level of its own.
bool cpu_has_vpopcntdq() noexcept;
/// Does the CPU support the AVX-512 level and AVX512_VNNI (vpdpbusd: Ice
/// Lake, Cascade Lake, Zen 4 and later)? Also an extra within the level.
bool cpu_has_vnni() noexcept;

/// Best supported level; the environment variable NMVEC_SIMD (scalar, avx2,
/// avx512, avx512fp16) can lower it, for testing and benchmarks.
SimdLevel best_simd_level() noexcept;

/// "scalar", "avx2", "avx512", "avx512fp16".
const char* simd_level_name(SimdLevel level) noexcept;

}  // namespace nmvec
