// test_half.cpp — binary16 <-> binary32 conversion: exhaustive over all
// 65536 half bit patterns, every rounding boundary between adjacent halves,
// the overflow boundary, and F16C bulk == scalar.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "distance_impl.h"
#include "half.h"
#include "simd.h"

namespace nmvec {
namespace {

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

bool half_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x03ff) != 0; }

/// Value of a finite half computed independently of half_to_float, in double.
double half_value(uint16_t h) {
    const int exp = (h >> 10) & 0x1f;
    const int frac = h & 0x3ff;
    const double mag = exp == 0 ? std::ldexp(frac, -24) : std::ldexp(1024 + frac, exp - 25);
    return (h & 0x8000) ? -mag : mag;
}

TEST(Half, WideningIsExactForAllPatterns) {
    for (uint32_t i = 0; i < 65536; ++i) {
        const auto h = static_cast<uint16_t>(i);
        const float f = half_to_float(h);
        if (half_is_nan(h)) {
            EXPECT_TRUE(std::isnan(f)) << std::hex << i;
        } else if ((h & 0x7fff) == 0x7c00) {
            EXPECT_TRUE(std::isinf(f)) << std::hex << i;
            EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << i;
        } else {
            EXPECT_EQ(static_cast<double>(f), half_value(h)) << std::hex << i;
            EXPECT_EQ(std::signbit(f), (h & 0x8000) != 0) << std::hex << i;  // -0 stays -0
        }
    }
}

TEST(Half, RoundTripsAllPatterns) {
    for (uint32_t i = 0; i < 65536; ++i) {
        const auto h = static_cast<uint16_t>(i);
        const uint16_t back = float_to_half(half_to_float(h));
        if (half_is_nan(h)) {
            // NaN stays NaN, same sign and payload, made quiet.
            EXPECT_EQ(back, h | 0x0200) << std::hex << i;
        } else {
            EXPECT_EQ(back, h) << std::hex << i;
        }
    }
}

TEST(Half, EdgeCases) {
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(float_to_half(0.0f), 0x0000);
    EXPECT_EQ(float_to_half(-0.0f), 0x8000);
    EXPECT_EQ(float_to_half(1.0f), 0x3c00);
    EXPECT_EQ(float_to_half(-2.0f), 0xc000);
    EXPECT_EQ(float_to_half(kHalfMax), 0x7bff);
    EXPECT_EQ(float_to_half(std::nextafter(65520.0f, 0.0f)), 0x7bff);
    EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // tie, rounds to even = Inf
    EXPECT_EQ(float_to_half(-65520.0f), 0xfc00);
    EXPECT_EQ(float_to_half(1e10f), 0x7c00);
    EXPECT_EQ(float_to_half(std::numeric_limits<float>::max()), 0x7c00);
    EXPECT_EQ(float_to_half(inf), 0x7c00);
    EXPECT_EQ(float_to_half(-inf), 0xfc00);
    EXPECT_TRUE(half_is_nan(float_to_half(std::numeric_limits<float>::quiet_NaN())));
    EXPECT_TRUE(half_is_nan(float_to_half(std::numeric_limits<float>::signaling_NaN())));
    EXPECT_TRUE(half_is_nan(float_to_half(from_bits(0x7f800001))));  // payload only in low bits
    EXPECT_TRUE(half_is_nan(float_to_half(from_bits(0xff800001))));

    // Subnormals: 2^-24 is the smallest, 2^-25 a tie that goes to even 0.
    EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);
    EXPECT_EQ(float_to_half(-std::ldexp(1.0f, -25)), 0x8000);
    EXPECT_EQ(float_to_half(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
    EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp: tie to even 2
    EXPECT_EQ(float_to_half(std::ldexp(5.0f, -25)), 0x0002);  // 2.5 ulp: tie to even 2
    EXPECT_EQ(float_to_half(std::numeric_limits<float>::denorm_min()), 0x0000);
    EXPECT_EQ(float_to_half(std::ldexp(1023.0f, -24)), 0x03ff);  // largest subnormal
    // Half-way between the largest subnormal and 2^-14: tie to even 0x0400.
    EXPECT_EQ(float_to_half(std::ldexp(2047.0f, -25)), 0x0400);
    EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);

    // Ties in the normal range: 1 + 2^-11 lies between 0x3c00 and 0x3c01.
    EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    EXPECT_EQ(float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3c02);
    EXPECT_EQ(float_to_half(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3c01);
    // A carry out of the fraction bumps the exponent: 2 - 2^-12 -> 2.0.
    EXPECT_EQ(float_to_half(2.0f - std::ldexp(1.0f, -12)), 0x4000);
}

/// For every pair of adjacent non-negative finite halves h, h+1 (and their
/// negatives): the midpoint goes to the even one, a float ulp either side of
/// it goes to the nearer one.
TEST(Half, RoundingAtEveryBoundary) {
    for (uint16_t h = 0; h < 0x7bff; ++h) {
        for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
            const uint16_t lo = h | sign, hi = static_cast<uint16_t>(h + 1) | sign;
            const double mid_d = (half_value(lo) + half_value(hi)) / 2;
            const auto mid = static_cast<float>(mid_d);
            ASSERT_EQ(static_cast<double>(mid), mid_d) << "midpoint not representable";
            const uint16_t even = (h & 1) ? hi : lo;
            ASSERT_EQ(float_to_half(mid), even) << std::hex << lo;
            const float away =
                sign ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
            ASSERT_EQ(float_to_half(std::nextafter(mid, away)), hi) << std::hex << lo;
            ASSERT_EQ(float_to_half(std::nextafter(mid, 0.0f)), lo) << std::hex << lo;
        }
    }
}

bool require_f16c() { return cpu_supports(SimdLevel::AVX2); }

TEST(Half, F16cWideningEqualsScalar) {
    if (!require_f16c()) GTEST_SKIP() << "CPU lacks AVX2/F16C";
    std::vector<uint16_t> in(65536);
    for (uint32_t i = 0; i < 65536; ++i) in[i] = static_cast<uint16_t>(i);
    std::vector<float> out(in.size());
    halfs_to_floats_f16c(in.data(), out.data(), in.size());
    for (uint32_t i = 0; i < 65536; ++i) ASSERT_EQ(bits(out[i]), bits(half_to_float(in[i]))) << std::hex << i;
}

TEST(Half, F16cNarrowingEqualsScalar) {
    if (!require_f16c()) GTEST_SKIP() << "CPU lacks AVX2/F16C";
    // Every half value, every midpoint between neighbours and a float ulp
    // either side of it, plus a million random float bit patterns.
    std::vector<float> in;
    for (uint32_t i = 0; i < 65536; ++i) {
        const auto h = static_cast<uint16_t>(i);
        in.push_back(half_to_float(h));
        if ((h & 0x7fff) < 0x7bff) {
            const float next = half_to_float(static_cast<uint16_t>(h + 1));
            const auto mid = static_cast<float>((static_cast<double>(in.back()) + next) / 2);
            in.push_back(mid);
            in.push_back(std::nextafter(mid, 0.0f));
            in.push_back(std::nextafter(mid, next));
        }
    }
    std::mt19937 rng(42);
    for (int i = 0; i < 1000000; ++i) in.push_back(from_bits(static_cast<uint32_t>(rng())));
    std::vector<uint16_t> out(in.size());
    floats_to_halfs_f16c(in.data(), out.data(), in.size());
    for (size_t i = 0; i < in.size(); ++i)
        ASSERT_EQ(out[i], float_to_half(in[i])) << "input bits " << std::hex << bits(in[i]);
}

TEST(Half, BulkConversionsHandleEveryTailLength) {
    // The dispatched entry points (F16C or scalar) on every length 0..40 and
    // unaligned starts; elements past n must be left alone.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
    for (size_t n = 0; n <= 40; ++n) {
        for (size_t off = 0; off < 3; ++off) {
            std::vector<float> f(n + off + 1);
            for (auto& x : f) x = dist(rng);
            std::vector<uint16_t> h(n + off + 1, 0xabcd);
            floats_to_halfs(f.data() + off, h.data() + off, n);
            for (size_t i = 0; i < n; ++i) ASSERT_EQ(h[off + i], float_to_half(f[off + i])) << n;
            ASSERT_EQ(h[off + n], 0xabcd) << "wrote past the end, n=" << n;

            std::vector<float> back(n + off + 1, -1.0f);
            halfs_to_floats(h.data() + off, back.data() + off, n);
            for (size_t i = 0; i < n; ++i)
                ASSERT_EQ(bits(back[off + i]), bits(half_to_float(h[off + i]))) << n;
            ASSERT_EQ(back[off + n], -1.0f) << "wrote past the end, n=" << n;
        }
    }
}

}  // namespace
}  // namespace nmvec
