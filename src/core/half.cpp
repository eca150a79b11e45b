// half.cpp — exact scalar binary16 <-> binary32 conversion, and the bulk
// conversions that dispatch to F16C (distance_avx2.cpp) when the CPU has it.
//
// Bit layouts: binary16 = 1 sign, 5 exponent (bias 15), 10 fraction bits;
// binary32 = 1 sign, 8 exponent (bias 127), 23 fraction bits. NaNs come out
// quiet with the payload's top bits kept, which is what F16C does, so the
// scalar and SIMD paths agree bit for bit.
#include "half.h"

#include <cstring>

#include "distance_impl.h"
#include "simd.h"

namespace nmvec {

namespace {

uint32_t float_bits(float f) noexcept {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float bits_float(uint32_t u) noexcept {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

}  // namespace

float half_to_float(uint16_t h) noexcept {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    // Exponent and fraction moved to their float positions, then rebiased.
    uint32_t mag = static_cast<uint32_t>(h & 0x7fffu) << 13;
    const uint32_t exp = mag & 0x0f800000u;
    mag += (127u - 15u) << 23;
    if (exp == 0x0f800000u) {
        // Inf or NaN: exponent all ones; a NaN is made quiet.
        mag += (128u - 16u) << 23;
        if (mag & 0x007fe000u) mag |= 0x00400000u;
    } else if (exp == 0) {
        // Zero or subnormal (fraction * 2^-24): build 2^-14 + fraction * 2^-24
        // as a normal float and subtract 2^-14; the subtraction is exact.
        mag += 1u << 23;
        mag = float_bits(bits_float(mag) - bits_float(113u << 23));
    }
    return bits_float(sign | mag);
}

uint16_t float_to_half(float f) noexcept {
    uint32_t u = float_bits(f);
    const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    u &= 0x7fffffffu;

    if (u >= 0x7f800000u) {
        if (u == 0x7f800000u) return sign | 0x7c00u;  // +-Inf
        // NaN: keep the top 10 payload bits, force quiet.
        return static_cast<uint16_t>(sign | 0x7e00u | ((u >> 13) & 0x3ffu));
    }
    // 65520 = 0x477ff000 is half-way between 65504 (largest half, odd
    // fraction) and 65536; ties go to even, i.e. up, so it and all above
    // become Inf.
    if (u >= 0x477ff000u) return sign | 0x7c00u;

    if (u < 0x38800000u) {
        // Below 2^-14: the result is subnormal (or zero), in units of 2^-24.
        // Anything below 2^-25 (half the smallest subnormal) is 0; 2^-25
        // itself is a tie and goes to the even 0.
        if (u < 0x33000000u) return sign;
        const uint32_t e = u >> 23;                      // 102 .. 112
        const uint32_t m = (u & 0x7fffffu) | 0x800000u;  // 24-bit significand
        const uint32_t shift = 126 - e;                  // 14 .. 24
        uint32_t r = m >> shift;
        const uint32_t rest = m & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (r & 1u))) ++r;  // may carry to 0x400 = 2^-14, fine
        return static_cast<uint16_t>(sign | r);
    }

    // Normal: rebias the exponent and drop 13 fraction bits, rounding to
    // nearest even. A carry out of the fraction correctly bumps the exponent.
    uint32_t r = (u - ((127u - 15u) << 23)) >> 13;
    const uint32_t rest = u & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (r & 1u))) ++r;
    return static_cast<uint16_t>(sign | r);
}

namespace {

void halfs_to_floats_scalar(const uint16_t* in, float* out, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

void floats_to_halfs_scalar(const float* in, uint16_t* out, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) out[i] = float_to_half(in[i]);
}

bool use_f16c() noexcept {
    static const bool yes = best_simd_level() >= SimdLevel::AVX2;
    return yes;
}

}  // namespace

void halfs_to_floats(const uint16_t* in, float* out, size_t n) noexcept {
    if (use_f16c())
        halfs_to_floats_f16c(in, out, n);
    else
        halfs_to_floats_scalar(in, out, n);
}

void floats_to_halfs(const float* in, uint16_t* out, size_t n) noexcept {
    if (use_f16c())
        floats_to_halfs_f16c(in, out, n);
    else
        floats_to_halfs_scalar(in, out, n);
}

}  // namespace nmvec
