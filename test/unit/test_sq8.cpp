// test_sq8.cpp — the sq8 codec (sq8.h): code bounds, the estimator's error
// bound on random data, ranking quality, and every SIMD kernel against the
// scalar one (exact integers: equal, not close). Fixed seeds throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "error.h"
#include "simd.h"
#include "memory.h"
#include "sq8.h"

namespace nmvec::sq8 {
namespace {

std::vector<float> gaussian(size_t n, std::mt19937& rng, float mean = 0.0f, float sigma = 1.0f) {
    std::normal_distribution<float> g(mean, sigma);
    std::vector<float> v(n);
    for (float& x : v) x = g(rng);
    return v;
}

std::vector<uint8_t> encoded(const std::vector<float>& x) {
    std::vector<uint8_t> c(code_bytes(x.size()));
    encode(x.data(), x.size(), c.data());
    return c;
}

double exact_dot(const float* a, const float* b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

double exact_l2sq(const float* a, const float* b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        s += d * d;
    }
    return s;
}

TEST(Sq8, DecodeWithinHalfAStep) {
    std::mt19937 rng(1);
    for (size_t dims : {1, 3, 16, 100, 784, 1536}) {
        for (int rep = 0; rep < 20; ++rep) {
            auto x = gaussian(dims, rng, rep * 0.5f - 5.0f, 1.0f + rep);
            auto c = encoded(x);
            const Header h = read_header(c.data());
            const float lo = *std::min_element(x.begin(), x.end());
            const float hi = *std::max_element(x.begin(), x.end());
            EXPECT_EQ(h.lo, lo);
            EXPECT_NEAR(h.step, (static_cast<double>(hi) - lo) / 255.0, 1e-6 * (hi - lo + 1));
            std::vector<float> d(dims);
            decode(c.data(), dims, d.data());
            double norm2 = 0.0;
            for (size_t i = 0; i < dims; ++i) {
                EXPECT_LE(std::fabs(static_cast<double>(d[i]) - x[i]), h.step * 0.5 * (1 + 1e-5) + 1e-6)
                    << "dims " << dims << " i " << i;
                norm2 += static_cast<double>(d[i]) * d[i];
            }
            EXPECT_NEAR(h.norm2, norm2, 1e-5 * norm2 + 1e-9);
            // The extremes are coded exactly.
            const auto [mn, mx] = std::minmax_element(c.begin() + kHeaderBytes, c.end());
            EXPECT_EQ(*mn, 0);
            if (hi > lo) {
                EXPECT_EQ(*mx, 255);
            }
        }
    }
}

TEST(Sq8, ConstantAndEdgeVectors) {
    std::vector<float> x(10, 3.5f);
    auto c = encoded(x);
    EXPECT_EQ(read_header(c.data()).step, 0.0f);
    std::vector<float> d(10);
    decode(c.data(), 10, d.data());
    for (float v : d) EXPECT_EQ(v, 3.5f);
    // Values at float's extremes: no overflow, the decoded vector is finite.
    std::vector<float> big = {-FLT_MAX, FLT_MAX, 0.0f, 1.0f};
    auto cb = encoded(big);
    const Header hb = read_header(cb.data());
    EXPECT_TRUE(std::isfinite(hb.step));
    decode(cb.data(), 4, d.data());
    for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(std::isfinite(d[i]));
    EXPECT_EQ(d[0], -FLT_MAX);
    // Zero dims.
    std::vector<uint8_t> c0(code_bytes(0));
    encode(nullptr, 0, c0.data());
    Query q;
    q.prepare(nullptr, 0);
    EXPECT_EQ(q.dot(c0.data(), kernels_scalar()), 0.0);
    // Too many dims for the kernels' int32 lanes.
    std::vector<float> huge(kMaxDims + 1, 1.0f);
    EXPECT_THROW(q.prepare(huge.data(), huge.size()), Error);
}

TEST(Sq8, EstimateWithinBound) {
    std::mt19937 rng(2);
    const Kernels& k = kernels_scalar();
    for (size_t dims : {8, 97, 384, 784}) {
        for (int rep = 0; rep < 50; ++rep) {
            auto x = gaussian(dims, rng, 0.1f * rep, 1.0f);
            auto qv = gaussian(dims, rng, -0.05f * rep, 2.0f);
            auto c = encoded(x);
            Query q;
            q.prepare(qv.data(), dims);
            const Header h = read_header(c.data());
            double csum = 0.0;
            for (size_t i = 0; i < dims; ++i) csum += c[kHeaderBytes + i];
            const double bound = h.step / 2.0 * q.abs_sum + h.step * q.qs / 2.0 * csum;
            const double tol = 1e-9 * (std::fabs(exact_dot(qv.data(), x.data(), dims)) + q.norm2 + h.norm2);
            const double dot = exact_dot(qv.data(), x.data(), dims);
            EXPECT_LE(std::fabs(q.dot(c.data(), k) - dot), bound + tol) << dims << " " << rep;
            // L2: the dot part twice, plus the code's error in ||x||^2.
            const double l2 = exact_l2sq(qv.data(), x.data(), dims);
            const double xn2 = exact_dot(x.data(), x.data(), dims);
            EXPECT_LE(std::fabs(q.l2sq(c.data(), k) - l2), 2 * bound + std::fabs(h.norm2 - xn2) + 2 * tol);
            // And the bound is not vacuous: the error is small against the distance.
            EXPECT_LT(bound, 0.05 * l2);
        }
    }
}

TEST(Sq8, RankingKeepsTrueNeighboursInTheCandidates) {
    // 2,000 clustered vectors, 20 queries: the 10 true nearest are among the
    // 40 best estimates (the scan re-ranks ef_search = 40 by default).
    std::mt19937 rng(3);
    const size_t n = 2000, dims = 128;
    std::vector<std::vector<float>> centres;
    for (int i = 0; i < 20; ++i) centres.push_back(gaussian(dims, rng, 0.0f, 3.0f));
    std::vector<std::vector<float>> xs;
    std::vector<std::vector<uint8_t>> cs;
    for (size_t i = 0; i < n; ++i) {
        auto x = gaussian(dims, rng);
        for (size_t j = 0; j < dims; ++j) x[j] += centres[i % 20][j];
        cs.push_back(encoded(x));
        xs.push_back(std::move(x));
    }
    size_t hit = 0, total = 0;
    for (int t = 0; t < 20; ++t) {
        auto qv = gaussian(dims, rng);
        for (size_t j = 0; j < dims; ++j) qv[j] += centres[t][j];
        Query q;
        q.prepare(qv.data(), dims);
        std::vector<std::pair<double, size_t>> ex, est;
        for (size_t i = 0; i < n; ++i) {
            ex.push_back({exact_l2sq(qv.data(), xs[i].data(), dims), i});
            est.push_back({q.l2sq(cs[i].data(), active_kernels()), i});
        }
        std::sort(ex.begin(), ex.end());
        std::partial_sort(est.begin(), est.begin() + 40, est.end());
        for (int a = 0; a < 10; ++a) {
            ++total;
            for (int b = 0; b < 40; ++b) hit += est[b].second == ex[a].second;
        }
    }
    EXPECT_EQ(hit, total);
}

TEST(Sq8, SimdKernelsEqualScalar) {
    std::mt19937 rng(4);
    std::uniform_int_distribution<int> byte(0, 255), weight(-kQueryLevels, kQueryLevels);
    for (SimdLevel level : {SimdLevel::AVX2, SimdLevel::AVX512, SimdLevel::AVX512FP16}) {
        if (!cpu_supports(level)) continue;
        const Kernels& k = kernels(level);
        std::vector<size_t> sizes;
        for (size_t n = 0; n <= 130; ++n) sizes.push_back(n);
        for (size_t n : {783, 784, 785, 1536, 4095, 16000, 16384}) sizes.push_back(n);
        for (size_t n : sizes) {
            // Buffers of exactly n: the tails (n % 32) are read with masks or
            // one by one, never past the end.
            std::vector<uint8_t> c(n);
            std::vector<int16_t> w(n);
            for (auto& v : c) v = static_cast<uint8_t>(byte(rng));
            for (auto& v : w) v = static_cast<int16_t>(weight(rng));
            EXPECT_EQ(k.dot_u8_i16(c.data(), w.data(), n), kernels_scalar().dot_u8_i16(c.data(), w.data(), n))
                << simd_level_name(level) << " n " << n;
        }
        // The extreme: every product at its largest, 16,384 dims (the lanes' bound).
        std::vector<uint8_t> c(kMaxDims, 255);
        std::vector<int16_t> w(kMaxDims, kQueryLevels), wn(kMaxDims, -kQueryLevels);
        EXPECT_EQ(k.dot_u8_i16(c.data(), w.data(), kMaxDims), int64_t{255} * kQueryLevels * kMaxDims);
        EXPECT_EQ(k.dot_u8_i16(c.data(), wn.data(), kMaxDims), -int64_t{255} * kQueryLevels * kMaxDims);
    }
}

// The row kernel of the ivf centroid pass: every level, both AVX-512 forms
// (vpmaddubsw, and vpdpbusd where the CPU has VNNI), the scalar integers,
// for 0..5 rows (the two-row loop and its odd tail) and widths up to the
// padded limit, extremes included (no int16 saturation at |w| = 63).
TEST(Sq8, RowKernelsEqualScalar) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> byte(0, 255), weight(-kQueryLevels8, kQueryLevels8);
    const size_t widest = (kMaxDims + kRowAlign - 1) / kRowAlign * kRowAlign;
    for (int variant = 0; variant < 3; ++variant) {
        const SimdLevel level = variant == 0 ? SimdLevel::AVX2 : SimdLevel::AVX512;
        if (!cpu_supports(level)) continue;
        const Kernels& k = variant == 2 ? kernels_avx512_no_vnni() : kernels(level);
        for (size_t n :
             {size_t{64}, size_t{128}, size_t{384}, size_t{832}, size_t{16000 + 64 - 16000 % 64}, widest}) {
            for (size_t rows = 0; rows <= 5; ++rows) {
                std::vector<uint8_t, nmvec::CacheLineAllocator<uint8_t>> c(rows * n);
                std::vector<int8_t, nmvec::CacheLineAllocator<int8_t>> w(n);
                for (auto& v : c) v = static_cast<uint8_t>(byte(rng));
                for (auto& v : w) v = static_cast<int8_t>(weight(rng));
                std::vector<int32_t> got(rows + 1, 7), want(rows + 1, 7);
                k.dot_u8_i8_rows(c.data(), rows, w.data(), n, got.data());
                kernels_scalar().dot_u8_i8_rows(c.data(), rows, w.data(), n, want.data());
                EXPECT_EQ(got, want) << simd_level_name(level) << " variant " << variant << " n " << n
                                     << " rows " << rows;
                EXPECT_EQ(got[rows], 7) << "wrote past the rows";
            }
        }
        std::vector<uint8_t, nmvec::CacheLineAllocator<uint8_t>> c(3 * widest, 255);
        std::vector<int8_t, nmvec::CacheLineAllocator<int8_t>> w(widest, kQueryLevels8),
            wn(widest, -kQueryLevels8);
        std::vector<int32_t> out(3);
        k.dot_u8_i8_rows(c.data(), 3, w.data(), widest, out.data());
        for (int32_t v : out) EXPECT_EQ(v, 255 * kQueryLevels8 * static_cast<int32_t>(widest));
        k.dot_u8_i8_rows(c.data(), 3, wn.data(), widest, out.data());
        for (int32_t v : out) EXPECT_EQ(v, -255 * kQueryLevels8 * static_cast<int32_t>(widest));
    }
}

TEST(Sq8, QueryQuantisation) {
    std::vector<float> qv = {0.0f, 1.0f, -2.0f, 0.5f};
    Query q;
    q.prepare(qv.data(), 4);
    EXPECT_EQ(q.w[2], -kQueryLevels);
    for (size_t i = 0; i < 4; ++i) EXPECT_LE(std::fabs(qv[i] - q.qs * q.w[i]), q.qs / 2 + 1e-12);
    EXPECT_DOUBLE_EQ(q.sum, -0.5);
    EXPECT_DOUBLE_EQ(q.norm2, 5.25);
    std::vector<float> zero(4, 0.0f);
    q.prepare(zero.data(), 4);
    EXPECT_EQ(q.qs, 0.0);
}

}  // namespace
}  // namespace nmvec::sq8
