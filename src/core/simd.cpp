// simd.cpp — CPU feature detection for the kernel dispatch (see simd.h).
//
// A feature bit in CPUID says the CPU has the instructions; it does not say
// the OS saves the wider registers on a context switch. So besides CPUID we
// read XCR0 with XGETBV (when OSXSAVE says we may): YMM state for AVX2, and
// opmask + ZMM state for AVX-512. This file is compiled without ISA flags.
#include "simd.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace nmvec {

namespace {

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512dq = false;
    bool avx512vl = false;
    bool avx512fp16 = false;
    bool avx512vpopcntdq = false;
    bool avx512vnni = false;
    bool os_ymm = false;  ///< XCR0 has SSE and AVX state
    bool os_zmm = false;  ///< XCR0 also has opmask, ZMM_Hi256, Hi16_ZMM state
};

// XGETBV by hand: the intrinsic would need -mxsave on this file.
uint64_t read_xcr0() noexcept {
    uint32_t eax = 0;
    uint32_t edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() noexcept {
    CpuFeatures f;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(0, nullptr) < 7) return f;

    __cpuid(1, eax, ebx, ecx, edx);
    const bool osxsave = ecx & (1u << 27);
    const bool avx = ecx & (1u << 28);
    f.fma = ecx & (1u << 12);
    f.f16c = ecx & (1u << 29);
    if (osxsave && avx) {
        const uint64_t xcr0 = read_xcr0();
        f.os_ymm = (xcr0 & 0x6) == 0x6;
        f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
    }

    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = ebx & (1u << 5);
    f.avx512f = ebx & (1u << 16);
    f.avx512dq = ebx & (1u << 17);
    f.avx512bw = ebx & (1u << 30);
    f.avx512vl = ebx & (1u << 31);
    f.avx512fp16 = edx & (1u << 23);
    f.avx512vpopcntdq = ecx & (1u << 14);
    f.avx512vnni = ecx & (1u << 11);
    return f;
}

const CpuFeatures& features() noexcept {
    static const CpuFeatures f = detect();
    return f;
}

// Highest level the CPU and OS support, ignoring NMVEC_SIMD.
SimdLevel detected_level() noexcept {
    const CpuFeatures& f = features();
    if (!(f.os_ymm && f.avx2 && f.fma && f.f16c)) return SimdLevel::Scalar;
    if (!(f.os_zmm && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl)) return SimdLevel::AVX2;
    if (!f.avx512fp16) return SimdLevel::AVX512;
    return SimdLevel::AVX512FP16;
}

}  // namespace

bool cpu_supports(SimdLevel level) noexcept {
    return static_cast<int>(level) >= 0 && static_cast<int>(level) <= static_cast<int>(detected_level());
}

bool cpu_has_vpopcntdq() noexcept { return cpu_supports(SimdLevel::AVX512) && features().avx512vpopcntdq; }

bool cpu_has_vnni() noexcept { return cpu_supports(SimdLevel::AVX512) && features().avx512vnni; }

SimdLevel best_simd_level() noexcept {
    const SimdLevel best = detected_level();
    // Read on every call (cheap) so tests can change it; an unknown value is
    // ignored, and the variable never raises the level above the CPU's.
    const char* env = std::getenv("NMVEC_SIMD");
    if (env == nullptr) return best;
    for (int i = 0; i < kSimdLevelCount; ++i) {
        const auto wanted = static_cast<SimdLevel>(i);
        if (std::strcmp(env, simd_level_name(wanted)) == 0) return wanted < best ? wanted : best;
    }
    return best;
}

const char* simd_level_name(SimdLevel level) noexcept {
    switch (level) {
        case SimdLevel::Scalar:
            return "scalar";
        case SimdLevel::AVX2:
            return "avx2";
        case SimdLevel::AVX512:
            return "avx512";
        case SimdLevel::AVX512FP16:
            return "avx512fp16";
    }
    return "unknown";
}

}  // namespace nmvec
