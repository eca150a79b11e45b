// test_rabitq.cpp — the RaBitQ codec (rabitq.h): determinism, the rotation's
// orthogonality, the estimator's bias, error, bound coverage and ranking
// quality on random and clustered data, edge cases and hostile values, and
// every SIMD kernel against the scalar one. All data comes from fixed seeds,
// so every figure asserted here is the same on every run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "rabitq.h"
#include "rabitq_impl.h"
#include "simd.h"

namespace nmvec {
namespace {

constexpr uint32_t kBits[] = {1, 4, 8};

std::vector<float> gaussian(size_t n, std::mt19937& rng, float sigma = 1.0f) {
    std::normal_distribution<float> g(0.0f, sigma);
    std::vector<float> v(n);
    for (float& x : v) x = g(rng);
    return v;
}

double l2sq(const float* a, const float* b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        s += d * d;
    }
    return s;
}

double dot(const float* a, const float* b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

/// FNV-1a, to pin byte strings.
uint64_t fnv1a(const uint8_t* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/// A clustered data set: `clusters` Gaussian blobs (spread 0.3) around
/// Gaussian centres, and each point's centre, used as its IVF centroid.
struct Clustered {
    size_t dim = 0;
    std::vector<float> points;     // n x dim
    std::vector<float> centres;    // clusters x dim
    std::vector<uint32_t> assign;  // n
};

Clustered make_clustered(size_t n, size_t dim, size_t clusters, uint32_t seed) {
    std::mt19937 rng(seed);
    Clustered c;
    c.dim = dim;
    c.centres = gaussian(clusters * dim, rng);
    std::normal_distribution<float> spread(0.0f, 0.3f);
    std::uniform_int_distribution<uint32_t> pick(0, static_cast<uint32_t>(clusters - 1));
    c.points.resize(n * dim);
    c.assign.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const uint32_t k = pick(rng);
        c.assign[i] = k;
        for (size_t j = 0; j < dim; ++j) c.points[i * dim + j] = c.centres[k * dim + j] + spread(rng);
    }
    return c;
}

// ---- construction, determinism --------------------------------------------

TEST(Rabitq, RejectsBadParameters) {
    for (auto [dim, bits] : {std::pair<uint32_t, uint32_t>{0, 1}, {16001, 1}, {10, 3}, {10, 0}, {10, 16}}) {
        try {
            RabitqCodec c(dim, bits, 1);
            FAIL() << "dim " << dim << " bits " << bits << " accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
        }
    }
    RabitqCodec c(384, 1, 1);
    RabitqQuery st;
    std::vector<float> q(384, 1.0f);
    EXPECT_THROW(c.prepare(q.data(), nullptr, st, 0.0f), Error);
    EXPECT_THROW(c.prepare(q.data(), nullptr, st, NAN), Error);
}

TEST(Rabitq, CodeSizes) {
    EXPECT_EQ(RabitqCodec(384, 1, 0).code_bytes(), 48u + 20u);
    EXPECT_EQ(RabitqCodec(384, 2, 0).code_bytes(), 48u + 20u + 48u + 12u);
    EXPECT_EQ(RabitqCodec(384, 4, 0).code_bytes(), 192u + 20u);
    EXPECT_EQ(RabitqCodec(384, 8, 0).code_bytes(), 384u + 20u);
    EXPECT_EQ(RabitqCodec(784, 1, 0).padded_dim(), 832u);
    EXPECT_EQ(RabitqCodec(784, 1, 0).code_bytes(), 104u + 20u);
    EXPECT_EQ(RabitqCodec(1, 1, 0).code_bytes(), 8u + 20u);
    EXPECT_EQ(RabitqCodec(16000, 8, 0).code_bytes(), 16000u + 20u);
}

TEST(Rabitq, SameSeedSameCodes) {
    std::mt19937 rng(7);
    for (uint32_t bits : kBits) {
        for (uint32_t dim : {1u, 65u, 384u}) {
            const RabitqCodec a(dim, bits, 12345), b(dim, bits, 12345), other(dim, bits, 12346);
            const std::vector<float> x = gaussian(dim, rng), c = gaussian(dim, rng);
            std::vector<uint8_t> ca(a.code_bytes()), cb(b.code_bytes()), co(other.code_bytes());
            a.encode(x.data(), c.data(), ca.data());
            b.encode(x.data(), c.data(), cb.data());
            other.encode(x.data(), c.data(), co.data());
            EXPECT_EQ(ca, cb) << "dim " << dim << " bits " << bits;
            if (dim > 1) {
                EXPECT_NE(ca, co) << "dim " << dim << " bits " << bits;
            }
        }
    }
}

TEST(Rabitq, DifferentSeedDifferentRotation) {
    const RabitqCodec a(384, 1, 1), b(384, 1, 2);
    std::vector<float> e(384, 0.0f), ra(384), rb(384);
    e[0] = 1.0f;
    a.rotate(e.data(), ra.data());
    b.rotate(e.data(), rb.data());
    size_t differ = 0;
    for (size_t i = 0; i < 384; ++i) differ += ra[i] != rb[i];
    EXPECT_GT(differ, 300u);
}

// The index stores only (dim, bits, seed): the codec must never change for
// a given triple, or stored codes would silently become garbage. These
// hashes pin the rotation (splitmix64 signs, the Hadamard blocks) and the
// code layout; change them only with an index format version bump.
TEST(Rabitq, CodecIsPinned) {
    std::vector<float> x(384);
    // Inputs from integer arithmetic only (no libm, whose last bits may vary).
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = static_cast<float>(static_cast<int>(i * 37 % 101) - 50) / 25.0f;
    uint64_t hashes[3];
    for (size_t k = 0; k < 3; ++k) {
        const RabitqCodec c(384, kBits[k], 42);
        std::vector<uint8_t> code(c.code_bytes());
        c.encode(x.data(), nullptr, code.data());
        hashes[k] = fnv1a(code.data(), code.size());
    }
    EXPECT_EQ(hashes[0], 8386615084756741155ULL);
    EXPECT_EQ(hashes[1], 239589763700182777ULL);
    EXPECT_EQ(hashes[2], 1170282327194235102ULL);
}

// ---- rotation ----------------------------------------------------------------

TEST(Rabitq, RotationIsOrthogonal) {
    std::mt19937 rng(11);
    for (uint32_t dim : {1u, 2u, 3u, 63u, 64u, 65u, 384u, 784u, 1536u, 16000u}) {
        const RabitqCodec c(dim, 1, 99);
        const size_t d = c.padded_dim();
        const std::vector<float> x = gaussian(dim, rng), y = gaussian(dim, rng);
        std::vector<float> px(d), py(d), back(dim);
        c.rotate(x.data(), px.data());
        c.rotate(y.data(), py.data());
        const double nx = dot(x.data(), x.data(), dim), npx = dot(px.data(), px.data(), d);
        EXPECT_NEAR(npx / nx, 1.0, 1e-5) << "dim " << dim;
        // Inner products too (orthogonality, not just norm preservation).
        const double ny = dot(y.data(), y.data(), dim);
        EXPECT_NEAR(dot(px.data(), py.data(), d), dot(x.data(), y.data(), dim), 1e-5 * std::sqrt(nx * ny))
            << "dim " << dim;
        c.unrotate(px.data(), back.data());
        EXPECT_LT(l2sq(back.data(), x.data(), dim), 1e-10 * nx) << "dim " << dim;
        // The rotation spreads a basis vector over all coordinates.
        if (dim >= 64) {
            std::vector<float> e(dim, 0.0f), pe(d);
            e[dim - 1] = 1.0f;
            c.rotate(e.data(), pe.data());
            size_t nonzero = 0;
            for (float v : pe) nonzero += std::fabs(v) > 1e-3f / std::sqrt(static_cast<float>(d));
            EXPECT_GT(nonzero, d * 9 / 10) << "dim " << dim;
        }
    }
}

// ---- accuracy ------------------------------------------------------------------

/// Errors of the L2 and inner-product estimates over all (query, point)
/// pairs of a data set.
struct Accuracy {
    double mean_rel_err = 0;   ///< mean |est - true| / true, L2
    double mean_signed_z = 0;  ///< mean (est - true) / (2 ||q-c|| ||x-c||), L2
    double z_stddev = 0;       ///< its standard deviation
    double coverage_l2 = 0;    ///< fraction of true values inside [lower, upper]
    double coverage_ip = 0;
    double mean_width_l2 = 0;  ///< mean (upper - lower) / true, L2
    size_t pairs = 0;
};

Accuracy measure(const RabitqCodec& codec, const std::vector<float>& points,
                 const std::vector<float>& centroids, const std::vector<uint32_t>& assign,
                 const std::vector<float>& queries, float epsilon0 = kRabitqDefaultEpsilon,
                 bool refined = false) {
    const size_t dim = codec.dim();
    const size_t n = points.size() / dim, nq = queries.size() / dim;
    const size_t cb = codec.code_bytes();
    std::vector<uint8_t> codes(n * cb);
    for (size_t i = 0; i < n; ++i)
        codec.encode(&points[i * dim], centroids.empty() ? nullptr : &centroids[assign[i] * dim],
                     &codes[i * cb]);
    Accuracy acc;
    double sum_z = 0, sum_z2 = 0;
    size_t in_l2 = 0, in_ip = 0;
    RabitqQuery st;
    const std::vector<float> zero(dim, 0.0f);
    const size_t groups = centroids.empty() ? 1 : centroids.size() / dim;
    for (size_t qi = 0; qi < nq; ++qi) {
        const float* q = &queries[qi * dim];
        for (size_t g = 0; g < groups; ++g) {
            const float* c = centroids.empty() ? nullptr : &centroids[g * dim];
            codec.prepare(q, c, st, epsilon0);
            const double qr = std::sqrt(l2sq(q, c ? c : zero.data(), dim));
            for (size_t i = 0; i < n; ++i) {
                if (assign[i] != g) continue;
                const uint8_t* code = &codes[i * cb];
                const RabitqEstimate l2 = refined ? codec.refine(st, code, RabitqMetric::L2Squared)
                                                  : codec.estimate(st, code, RabitqMetric::L2Squared);
                const RabitqEstimate ip = refined ? codec.refine(st, code, RabitqMetric::InnerProduct)
                                                  : codec.estimate(st, code, RabitqMetric::InnerProduct);
                const float* x = &points[i * dim];
                const double t_l2 = l2sq(q, x, dim), t_ip = dot(q, x, dim);
                const double xr = std::sqrt(l2sq(x, c ? c : zero.data(), dim));
                acc.mean_rel_err += std::fabs(l2.value - t_l2) / t_l2;
                acc.mean_width_l2 += (static_cast<double>(l2.upper) - l2.lower) / t_l2;
                const double z = (l2.value - t_l2) / (2.0 * qr * xr);
                sum_z += z;
                sum_z2 += z * z;
                in_l2 += l2.lower <= t_l2 && t_l2 <= l2.upper;
                in_ip += ip.lower <= t_ip && t_ip <= ip.upper;
                EXPECT_LE(l2.lower, l2.value);
                EXPECT_GE(l2.upper, l2.value);
                ++acc.pairs;
            }
        }
    }
    const double m = static_cast<double>(acc.pairs);
    acc.mean_rel_err /= m;
    acc.mean_width_l2 /= m;
    acc.mean_signed_z = sum_z / m;
    acc.z_stddev = std::sqrt(std::max(0.0, sum_z2 / m - acc.mean_signed_z * acc.mean_signed_z));
    acc.coverage_l2 = in_l2 / m;
    acc.coverage_ip = in_ip / m;
    return acc;
}

struct AccuracyCase {
    uint32_t dim;
    bool clustered;
};

class RabitqAccuracy : public ::testing::TestWithParam<AccuracyCase> {};

/// For each bit width: nearly unbiased, the bound covers >= 99 % of the
/// true values at the default confidence, and the error shrinks with bits.
TEST_P(RabitqAccuracy, UnbiasedBoundedAndShrinkingWithBits) {
    const AccuracyCase p = GetParam();
    const size_t dim = p.dim;
    const size_t n = 400, nq = 25;
    std::vector<float> points, centroids, queries;
    std::vector<uint32_t> assign(n, 0);
    if (p.clustered) {
        Clustered data = make_clustered(n + nq, dim, 8, 2024 + p.dim);
        points.assign(data.points.begin(), data.points.begin() + n * dim);
        queries.assign(data.points.begin() + n * dim, data.points.end());
        centroids = data.centres;
        std::copy(data.assign.begin(), data.assign.begin() + n, assign.begin());
    } else {
        std::mt19937 rng(5 + p.dim);
        points = gaussian(n * dim, rng);
        queries = gaussian(nq * dim, rng);
    }
    double prev_err = 1e30;
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(p.dim, bits, 777);
        const Accuracy a = measure(codec, points, centroids, assign, queries);
        const std::string what = "dim " + std::to_string(dim) + (p.clustered ? " clustered" : " gaussian") +
                                 " bits " + std::to_string(bits);
        std::printf("  %-28s mean rel err %.5f  bias z %+.2e (sd %.2e)  coverage l2 %.4f ip %.4f\n",
                    what.c_str(), a.mean_rel_err, a.mean_signed_z, a.z_stddev, a.coverage_l2, a.coverage_ip);
        // Bias: the mean error is small against its spread. The errors of
        // one fixed rotation are not independent, so allow a generous 0.15
        // standard deviations (the estimator's error sd is ~0.75/sqrt(D)
        // for 1 bit: a systematic bias of a few percent would fail).
        EXPECT_LT(std::fabs(a.mean_signed_z), 0.15 * a.z_stddev + 1e-6) << what;
        EXPECT_GE(a.coverage_l2, 0.99) << what;
        EXPECT_GE(a.coverage_ip, 0.99) << what;
        EXPECT_LT(a.mean_rel_err, 0.6 * prev_err) << what;
        prev_err = a.mean_rel_err;
    }
}

INSTANTIATE_TEST_SUITE_P(Dims, RabitqAccuracy,
                         ::testing::Values(AccuracyCase{64, false}, AccuracyCase{384, false},
                                           AccuracyCase{784, false}, AccuracyCase{1536, false},
                                           AccuracyCase{128, true}, AccuracyCase{384, true},
                                           AccuracyCase{784, true}),
                         [](const ::testing::TestParamInfo<AccuracyCase>& info) {
                             return std::to_string(info.param.dim) +
                                    (info.param.clustered ? "_clustered" : "_gaussian");
                         });

/// The paper's epsilon0 = 1.9 should cover about P(|N(0,1)| <= 1.9) = 94 %.
TEST(Rabitq, PaperConfidenceCoverage) {
    const size_t dim = 384, n = 400, nq = 25;
    std::mt19937 rng(31);
    const std::vector<float> points = gaussian(n * dim, rng), queries = gaussian(nq * dim, rng);
    const RabitqCodec codec(dim, 1, 3);
    const Accuracy a = measure(codec, points, {}, std::vector<uint32_t>(n, 0), queries, 1.9f);
    std::printf("  epsilon0 1.9: coverage l2 %.4f ip %.4f\n", a.coverage_l2, a.coverage_ip);
    EXPECT_GE(a.coverage_l2, 0.92);
    EXPECT_LE(a.coverage_l2, 0.995);  // the bound is not vacuous
}

/// The ivf scan's confidence (kRabitqScanEpsilon): its lower bound on the
/// L2 distance fails for ~0.1 % of codes, at low and high dimensions alike.
TEST(Rabitq, ScanConfidenceCoverage) {
    for (const size_t dim : {size_t{64}, size_t{384}}) {
        const size_t n = 400, nq = 25;
        std::mt19937 rng(static_cast<unsigned>(dim));
        const std::vector<float> points = gaussian(n * dim, rng), queries = gaussian(nq * dim, rng);
        const RabitqCodec codec(static_cast<uint32_t>(dim), 1, 5);
        const Accuracy a =
            measure(codec, points, {}, std::vector<uint32_t>(n, 0), queries, kRabitqScanEpsilon);
        std::printf("  dim %zu epsilon0 %.1f: coverage l2 %.4f ip %.4f\n", dim, kRabitqScanEpsilon,
                    a.coverage_l2, a.coverage_ip);
        EXPECT_GE(a.coverage_l2, 0.995) << dim;
        EXPECT_GE(a.coverage_ip, 0.995) << dim;
        EXPECT_LE(a.coverage_l2, 0.9995) << dim;  // narrower than the default (3: ~0.9998)
    }
}

// ---- two-stage codes ----------------------------------------------------------

/// A two-stage code begins with the 1-bit code of the same vector, byte for
/// byte (so CodecIsPinned pins it too), and its scan estimate is the 1-bit one.
TEST(Rabitq, TwoStageCodeBeginsWithTheOneBitCode) {
    std::mt19937 rng(77);
    for (uint32_t dim : {1u, 64u, 100u, 384u, 784u, 2000u}) {
        const RabitqCodec one(dim, 1, 99), two(dim, 2, 99);
        ASSERT_EQ(two.code_bytes(), 2 * one.code_bytes() - 8);
        for (int rep = 0; rep < 20; ++rep) {
            const std::vector<float> x = gaussian(dim, rng), c = gaussian(dim, rng), q = gaussian(dim, rng);
            std::vector<uint8_t> a(one.code_bytes()), b(two.code_bytes());
            one.encode(x.data(), rep % 2 ? c.data() : nullptr, a.data());
            two.encode(x.data(), rep % 2 ? c.data() : nullptr, b.data());
            ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << "dim " << dim << " rep " << rep;
            RabitqQuery s1, s2;
            one.prepare(q.data(), c.data(), s1);
            two.prepare(q.data(), c.data(), s2);
            for (const RabitqMetric m : {RabitqMetric::L2Squared, RabitqMetric::InnerProduct}) {
                const RabitqEstimate e1 = one.estimate(s1, a.data(), m), e2 = two.estimate(s2, b.data(), m);
                EXPECT_EQ(e1.value, e2.value);
                EXPECT_EQ(e1.lower, e2.lower);
                EXPECT_EQ(e1.upper, e2.upper);
            }
        }
    }
}

/// The refined estimate: unbiased, its bound covers at the scan's
/// confidence as the 1-bit one does, and is much narrower; decoding from
/// both planes is closer than from one.
TEST(Rabitq, TwoStageRefinementIsBoundedAndNarrower) {
    for (const bool clustered : {false, true}) {
        for (const uint32_t dim : {64u, 384u, 784u}) {
            const size_t n = 400, nq = 25;
            std::vector<float> points, centroids, queries;
            std::vector<uint32_t> assign(n, 0);
            if (clustered) {
                Clustered data = make_clustered(n + nq, dim, 8, 99 + dim);
                points.assign(data.points.begin(), data.points.begin() + n * dim);
                queries.assign(data.points.begin() + n * dim, data.points.end());
                centroids = data.centres;
                std::copy(data.assign.begin(), data.assign.begin() + n, assign.begin());
            } else {
                std::mt19937 rng(dim);
                points = gaussian(n * dim, rng);
                queries = gaussian(nq * dim, rng);
            }
            const RabitqCodec codec(dim, 2, 31);
            const Accuracy first = measure(codec, points, centroids, assign, queries, kRabitqScanEpsilon);
            const Accuracy refined =
                measure(codec, points, centroids, assign, queries, kRabitqScanEpsilon, true);
            const std::string what = "dim " + std::to_string(dim) + (clustered ? " clustered" : " gaussian");
            std::printf(
                "  %-22s 1-bit: err %.5f width %.4f cov %.4f | refined: err %.5f width %.4f cov %.4f/%.4f"
                " (width x%.2f)\n",
                what.c_str(), first.mean_rel_err, first.mean_width_l2, first.coverage_l2,
                refined.mean_rel_err, refined.mean_width_l2, refined.coverage_l2, refined.coverage_ip,
                refined.mean_width_l2 / first.mean_width_l2);
            EXPECT_LT(std::fabs(refined.mean_signed_z), 0.15 * refined.z_stddev + 1e-6) << what;
            EXPECT_GE(refined.coverage_l2, 0.995) << what;
            EXPECT_GE(refined.coverage_ip, 0.995) << what;
            EXPECT_LT(refined.mean_rel_err, 0.6 * first.mean_rel_err) << what;
            EXPECT_LT(refined.mean_width_l2, 0.7 * first.mean_width_l2) << what;

            const RabitqCodec one(dim, 1, 31);
            std::vector<uint8_t> c1(one.code_bytes()), c2(codec.code_bytes());
            std::vector<float> d1(dim), d2(dim);
            double e1 = 0, e2 = 0;
            for (size_t i = 0; i < 50; ++i) {
                const float* x = &points[i * dim];
                const float* c = centroids.empty() ? nullptr : &centroids[assign[i] * dim];
                one.encode(x, c, c1.data());
                codec.encode(x, c, c2.data());
                one.decode(c1.data(), c, d1.data());
                codec.decode(c2.data(), c, d2.data());
                e1 += l2sq(x, d1.data(), dim);
                e2 += l2sq(x, d2.data(), dim);
            }
            EXPECT_LT(e2, 0.5 * e1) << what;
        }
    }
}

/// Every SIMD level's kernel gives the same refined estimate; a zero
/// residual refines exactly; refine refuses other codecs and states.
TEST(Rabitq, TwoStageRefineEdges) {
    std::mt19937 rng(5);
    const uint32_t dim = 200;
    const RabitqCodec codec(dim, 2, 8), one(dim, 1, 8);
    const std::vector<float> x = gaussian(dim, rng), c = gaussian(dim, rng), q = gaussian(dim, rng);
    std::vector<uint8_t> code(codec.code_bytes());
    codec.encode(x.data(), c.data(), code.data());
    RabitqQuery st;
    codec.prepare(q.data(), c.data(), st, kRabitqScanEpsilon);
    const RabitqEstimate ref =
        codec.refine(st, code.data(), RabitqMetric::L2Squared, rabitq_kernels_scalar());
    for (const SimdLevel level : {SimdLevel::AVX2, SimdLevel::AVX512}) {
        if (!cpu_supports(level)) continue;
        const RabitqEstimate e =
            codec.refine(st, code.data(), RabitqMetric::L2Squared, rabitq_kernels(level));
        EXPECT_EQ(e.value, ref.value);
        EXPECT_EQ(e.lower, ref.lower);
    }
    if (cpu_supports(SimdLevel::AVX512) && cpu_has_vpopcntdq()) {
        const RabitqEstimate e =
            codec.refine(st, code.data(), RabitqMetric::L2Squared, rabitq_kernels_avx512_vpopcnt());
        EXPECT_EQ(e.value, ref.value);
    }
    const RabitqEstimate act = codec.refine(st, code.data(), RabitqMetric::L2Squared);
    EXPECT_EQ(act.value, ref.value);
    // x == c: exact.
    codec.encode(c.data(), c.data(), code.data());
    const double t = l2sq(q.data(), c.data(), dim);
    const RabitqEstimate z = codec.refine(st, code.data(), RabitqMetric::L2Squared);
    EXPECT_NEAR(z.value, t, 1e-4 * t);
    EXPECT_EQ(z.lower, z.upper);
    // Another codec's state, a 1-bit codec.
    RabitqQuery st1;
    one.prepare(q.data(), c.data(), st1);
    EXPECT_THROW(codec.refine(st1, code.data(), RabitqMetric::L2Squared), Error);
    EXPECT_THROW(one.refine(st1, code.data(), RabitqMetric::L2Squared), Error);
}

/// recall@10 after re-ranking the 50 best estimates exactly, IVF style:
/// each point coded against its own cluster centre, the query prepared once
/// per centre.
TEST(Rabitq, RerankRecallOnClusteredData) {
    const size_t dim = 384, n = 4000, nq = 30, clusters = 16, k = 10, candidates = 50;
    Clustered data = make_clustered(n + nq, dim, clusters, 99);
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(dim, bits, 4242);
        const size_t cb = codec.code_bytes();
        // Codes grouped by cluster, back to back, as in an IVF list.
        std::vector<std::vector<uint32_t>> members(clusters);
        for (uint32_t i = 0; i < n; ++i) members[data.assign[i]].push_back(i);
        std::vector<std::vector<uint8_t>> lists(clusters);
        for (size_t c = 0; c < clusters; ++c) {
            lists[c].resize(members[c].size() * cb);
            for (size_t j = 0; j < members[c].size(); ++j)
                codec.encode(&data.points[members[c][j] * dim], &data.centres[c * dim], &lists[c][j * cb]);
        }
        double recall = 0;
        RabitqQuery st;
        std::vector<RabitqEstimate> est;
        for (size_t qi = 0; qi < nq; ++qi) {
            const float* q = &data.points[(n + qi) * dim];
            std::vector<std::pair<float, uint32_t>> by_est, exact;
            for (size_t c = 0; c < clusters; ++c) {
                codec.prepare(q, &data.centres[c * dim], st);
                est.resize(members[c].size());
                codec.estimate_batch(st, lists[c].data(), members[c].size(), 0, RabitqMetric::L2Squared,
                                     est.data());
                for (size_t j = 0; j < members[c].size(); ++j)
                    by_est.emplace_back(est[j].value, members[c][j]);
            }
            for (uint32_t i = 0; i < n; ++i)
                exact.emplace_back(static_cast<float>(l2sq(q, &data.points[i * dim], dim)), i);
            std::partial_sort(exact.begin(), exact.begin() + k, exact.end());
            std::partial_sort(by_est.begin(), by_est.begin() + candidates, by_est.end());
            std::vector<std::pair<float, uint32_t>> reranked;
            for (size_t j = 0; j < candidates; ++j)
                reranked.emplace_back(static_cast<float>(l2sq(q, &data.points[by_est[j].second * dim], dim)),
                                      by_est[j].second);
            std::partial_sort(reranked.begin(), reranked.begin() + k, reranked.end());
            size_t hits = 0;
            for (size_t a = 0; a < k; ++a)
                for (size_t b = 0; b < k; ++b) hits += reranked[a].second == exact[b].second;
            recall += static_cast<double>(hits) / k;
        }
        recall /= nq;
        std::printf("  bits %u: recall@10 re-ranking top %zu = %.4f\n", bits, candidates, recall);
        // Gaussian blobs in 384 dimensions are a hard case (neighbours are
        // nearly equidistant); measured 0.927 for 1 bit, 1.0 for 4 and 8.
        EXPECT_GE(recall, bits == 1 ? 0.88 : 0.98) << "bits " << bits;
    }
}

TEST(Rabitq, DecodeApproximatesTheVector) {
    const size_t dim = 384;
    std::mt19937 rng(8);
    const std::vector<float> c = gaussian(dim, rng);
    double prev = 1e30;
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(dim, bits, 5);
        std::vector<uint8_t> code(codec.code_bytes());
        double rel = 0;
        for (int t = 0; t < 20; ++t) {
            const std::vector<float> x = gaussian(dim, rng);
            std::vector<float> back(dim);
            codec.encode(x.data(), c.data(), code.data());
            codec.decode(code.data(), c.data(), back.data());
            rel += l2sq(back.data(), x.data(), dim) / l2sq(x.data(), c.data(), dim);
        }
        rel /= 20;
        // 1 - a^2: ~0.36 for 1 bit, ~0.01 for 4, ~1e-4 for 8.
        EXPECT_LT(rel, bits == 1 ? 0.4 : bits == 4 ? 0.02 : 2e-4) << "bits " << bits;
        EXPECT_LT(rel, prev);
        prev = rel;
    }
}

// ---- edge cases ------------------------------------------------------------------

TEST(Rabitq, VectorEqualToCentroidIsExact) {
    std::mt19937 rng(3);
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(100, bits, 1);
        const std::vector<float> c = gaussian(100, rng), q = gaussian(100, rng);
        std::vector<uint8_t> code(codec.code_bytes());
        codec.encode(c.data(), c.data(), code.data());
        RabitqQuery st;
        codec.prepare(q.data(), c.data(), st);
        const RabitqEstimate l2 = codec.estimate(st, code.data(), RabitqMetric::L2Squared);
        const RabitqEstimate ip = codec.estimate(st, code.data(), RabitqMetric::InnerProduct);
        const double t_l2 = l2sq(q.data(), c.data(), 100), t_ip = dot(q.data(), c.data(), 100);
        EXPECT_NEAR(l2.value, t_l2, 1e-5 * t_l2);
        EXPECT_EQ(l2.lower, l2.value);
        EXPECT_EQ(l2.upper, l2.value);
        EXPECT_NEAR(ip.value, t_ip, 1e-5 * std::fabs(t_ip) + 1e-5);
        std::vector<float> back(100);
        codec.decode(code.data(), c.data(), back.data());
        EXPECT_EQ(back, c);
    }
}

TEST(Rabitq, ZeroQuery) {
    std::mt19937 rng(4);
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(384, bits, 1);
        const std::vector<float> x = gaussian(384, rng), c = gaussian(384, rng), zero(384, 0.0f);
        std::vector<uint8_t> code(codec.code_bytes()), code0(codec.code_bytes());
        codec.encode(x.data(), nullptr, code0.data());
        codec.encode(x.data(), c.data(), code.data());
        RabitqQuery st;
        // Query == centroid == 0: exact.
        codec.prepare(zero.data(), nullptr, st);
        const double t = dot(x.data(), x.data(), 384);
        EXPECT_NEAR(codec.estimate(st, code0.data(), RabitqMetric::L2Squared).value, t, 1e-5 * t);
        EXPECT_NEAR(codec.estimate(st, code0.data(), RabitqMetric::InnerProduct).value, 0.0, 1e-6);
        // Zero query against a non-zero centroid: an ordinary estimate.
        codec.prepare(zero.data(), c.data(), st);
        const RabitqEstimate e = codec.estimate(st, code.data(), RabitqMetric::L2Squared);
        EXPECT_LE(e.lower, t);
        EXPECT_GE(e.upper, t);
        const RabitqEstimate ip = codec.estimate(st, code.data(), RabitqMetric::InnerProduct);
        EXPECT_LE(ip.lower, 1e-3);
        EXPECT_GE(ip.upper, -1e-3);
    }
}

TEST(Rabitq, DimensionOne) {
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(1, bits, 1);
        std::vector<uint8_t> code(codec.code_bytes());
        RabitqQuery st;
        for (float x : {-3.0f, -0.5f, 0.0f, 2.0f}) {
            for (float c : {0.0f, 1.0f}) {
                codec.encode(&x, &c, code.data());
                for (float q : {-2.0f, 0.0f, 0.25f, 5.0f}) {
                    codec.prepare(&q, &c, st);
                    const RabitqEstimate l2 = codec.estimate(st, code.data(), RabitqMetric::L2Squared);
                    const RabitqEstimate ip = codec.estimate(st, code.data(), RabitqMetric::InnerProduct);
                    const double t_l2 = (q - x) * (q - x), t_ip = q * x;
                    // In one dimension the query is parallel to the vector:
                    // the estimate is exact up to query quantisation.
                    EXPECT_NEAR(l2.value, t_l2, 0.05 * 2 * std::fabs((q - c) * (x - c)) + 1e-5)
                        << "bits " << bits << " x " << x << " c " << c << " q " << q;
                    EXPECT_LE(l2.lower, t_l2 + 1e-4);
                    EXPECT_GE(l2.upper, t_l2 - 1e-4);
                    EXPECT_LE(ip.lower, t_ip + 1e-4);
                    EXPECT_GE(ip.upper, t_ip - 1e-4);
                }
            }
        }
    }
}

TEST(Rabitq, BatchMatchesSingleAndHonoursStride) {
    std::mt19937 rng(6);
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(200, bits, 9);
        const size_t cb = codec.code_bytes(), stride = cb + 13, n = 150;
        std::vector<uint8_t> packed(n * cb), strided(n * stride + 1);
        for (size_t i = 0; i < n; ++i) {
            const std::vector<float> x = gaussian(200, rng);
            codec.encode(x.data(), nullptr, &packed[i * cb]);
            std::memcpy(&strided[1 + i * stride], &packed[i * cb], cb);  // odd address
        }
        const std::vector<float> q = gaussian(200, rng);
        RabitqQuery st;
        codec.prepare(q.data(), nullptr, st);
        for (RabitqMetric m : {RabitqMetric::L2Squared, RabitqMetric::InnerProduct}) {
            std::vector<RabitqEstimate> a(n), b(n);
            codec.estimate_batch(st, packed.data(), n, 0, m, a.data());
            codec.estimate_batch(st, strided.data() + 1, n, stride, m, b.data());
            for (size_t i = 0; i < n; ++i) {
                const RabitqEstimate s = codec.estimate(st, &packed[i * cb], m);
                EXPECT_EQ(a[i].value, s.value);
                EXPECT_EQ(a[i].lower, s.lower);
                EXPECT_EQ(a[i].upper, s.upper);
                EXPECT_EQ(b[i].value, s.value);
            }
        }
    }
}

TEST(Rabitq, StateFromAnotherCodecIsRejected) {
    const RabitqCodec a(384, 1, 1), b(384, 4, 1);
    std::vector<float> q(384, 1.0f);
    std::vector<uint8_t> code(b.code_bytes());
    b.encode(q.data(), nullptr, code.data());
    RabitqQuery st;
    a.prepare(q.data(), nullptr, st);
    EXPECT_THROW(b.estimate(st, code.data(), RabitqMetric::L2Squared), Error);
}

// ---- hostile values ------------------------------------------------------------

TEST(Rabitq, NonFiniteInputIsRejected) {
    const RabitqCodec codec(8, 1, 1);
    std::vector<uint8_t> code(codec.code_bytes());
    RabitqQuery st;
    for (float bad : {NAN, INFINITY, -INFINITY}) {
        std::vector<float> x(8, 1.0f);
        x[3] = bad;
        const std::vector<float> ok(8, 1.0f);
        try {
            codec.encode(x.data(), nullptr, code.data());
            FAIL();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::DataException);
        }
        EXPECT_THROW(codec.encode(ok.data(), x.data(), code.data()), Error);
        EXPECT_THROW(codec.prepare(x.data(), nullptr, st), Error);
        EXPECT_THROW(codec.prepare(ok.data(), x.data(), st), Error);
    }
}

TEST(Rabitq, HugeAndTinyValuesGiveFiniteEstimates) {
    std::mt19937 rng(12);
    for (uint32_t bits : kBits) {
        const RabitqCodec codec(384, bits, 1);
        std::vector<uint8_t> code(codec.code_bytes());
        RabitqQuery st;
        for (float scale : {1e-40f, 1e-30f, 1e15f, 1e30f, 1e35f}) {
            std::vector<float> x = gaussian(384, rng), q = gaussian(384, rng);
            for (float& v : x) v *= scale;
            for (float& v : q) v *= scale;
            codec.encode(x.data(), nullptr, code.data());
            codec.prepare(q.data(), nullptr, st);
            for (RabitqMetric m : {RabitqMetric::L2Squared, RabitqMetric::InnerProduct}) {
                const RabitqEstimate e = codec.estimate(st, code.data(), m);
                EXPECT_TRUE(std::isfinite(e.value) && std::isfinite(e.lower) && std::isfinite(e.upper))
                    << "scale " << scale;
                EXPECT_LE(e.lower, e.value);
                EXPECT_LE(e.value, e.upper);
            }
            // Where the distance fits in float, it is estimated as well as
            // at scale 1 (the factors carry the scale).
            const double t = l2sq(q.data(), x.data(), 384);
            if (t < 1e37 && t > 1e-36) {
                const RabitqEstimate e = codec.estimate(st, code.data(), RabitqMetric::L2Squared);
                EXPECT_NEAR(e.value / t, 1.0, 0.3) << "scale " << scale;
            }
        }
        // Elements near FLT_MAX: the residual's norm exceeds float.
        std::vector<float> big(384, 3e38f), neg(384, -3e38f);
        try {
            codec.encode(big.data(), neg.data(), code.data());
            FAIL();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::OutOfRange);
        }
        // ...but a query of them still estimates, saturated.
        std::vector<float> x = gaussian(384, rng);
        codec.encode(x.data(), nullptr, code.data());
        codec.prepare(big.data(), neg.data(), st);
        const RabitqEstimate e = codec.estimate(st, code.data(), RabitqMetric::L2Squared);
        EXPECT_EQ(e.value, FLT_MAX);
        EXPECT_TRUE(std::isfinite(e.lower));
    }
}

// ---- every level codes exactly as the original scalar codec ---------------------

// The codec as first written (scalar double loops, one rotation step at a
// time), kept here as the definition of the codes: the optimised codec must
// produce the same bytes and the same prepared state at every SIMD level.
// This file is compiled without ISA flags, so without FMA, like the codec.
namespace ref {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct Codec {
    uint32_t dim, bits;
    size_t d, l;
    std::vector<float> signs;
    Codec(uint32_t dim_, uint32_t bits_, uint64_t seed) : dim(dim_), bits(bits_) {
        d = (dim + 63) / 64 * 64;
        l = 1;
        while (l * 2 <= d) l *= 2;
        uint64_t state = seed ^ 0x52614269745121ULL;
        signs.resize(8 * d);
        uint64_t word = 0;
        for (size_t i = 0; i < signs.size(); ++i) {
            if (i % 64 == 0) word = splitmix64(state);
            signs[i] = (word >> (i % 64)) & 1u ? -1.0f : 1.0f;
        }
    }
    static void fwht(float* v, size_t n) {
        for (size_t h = 1; h < n; h <<= 1)
            for (size_t i = 0; i < n; i += 2 * h)
                for (size_t j = i; j < i + h; ++j) {
                    const float a = v[j], b = v[j + h];
                    v[j] = a + b;
                    v[j + h] = a - b;
                }
        const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
        for (size_t i = 0; i < n; ++i) v[i] *= scale;
    }
    void rotate(float* v) const {
        for (int r = 0; r < 4; ++r) {
            for (size_t i = 0; i < d; ++i) v[i] *= signs[(2 * r) * d + i];
            fwht(v, l);
            for (size_t i = 0; i < d; ++i) v[i] *= signs[(2 * r + 1) * d + i];
            fwht(v + (d - l), l);
        }
    }
    /// r = x - c in double; returns max |r_i|.
    double residual(const float* x, const float* c, std::vector<double>& r) const {
        r.resize(dim);
        double s = 0.0;
        for (uint32_t i = 0; i < dim; ++i) {
            r[i] = static_cast<double>(x[i]) - (c ? static_cast<double>(c[i]) : 0.0);
            s = std::max(s, std::fabs(r[i]));
        }
        return s;
    }
    void search(const std::vector<double>& o, std::vector<uint8_t>& u, double* yo, double* yy) const {
        const int levels = 1 << (bits - 1);
        const double top = levels - 1;
        std::vector<double> a(d);
        double amax = 0.0;
        for (size_t i = 0; i < d; ++i) {
            a[i] = std::fabs(o[i]);
            amax = std::max(amax, a[i]);
        }
        auto score = [&](double t, double* num_out, double* den_out) {
            double num = 0.0, den = 0.0;
            for (size_t i = 0; i < d; ++i) {
                const double y = static_cast<double>(static_cast<int>(std::min(t * a[i], top))) + 0.5;
                num += y * a[i];
                den += y * y;
            }
            *num_out = num;
            *den_out = den;
            return num / std::sqrt(den);
        };
        const double base = levels / amax;
        const double lo = 0.1 * base, hi = 2.0 * base;
        const double step = (hi - lo) / 63;
        double best_t = lo, best = -1.0, num, den;
        for (int j = 0; j < 64; ++j) {
            const double t = lo + step * j;
            const double s = score(t, &num, &den);
            if (s > best) best = s, best_t = t;
        }
        const double flo = std::max(lo, best_t - step);
        const double fstep = (std::min(hi, best_t + step) - flo) / 31;
        for (int j = 0; j < 32; ++j) {
            const double t = flo + fstep * j;
            const double s = score(t, &num, &den);
            if (s > best) best = s, best_t = t;
        }
        score(best_t, yo, yy);
        for (size_t i = 0; i < d; ++i) {
            const int k = static_cast<int>(std::min(best_t * a[i], top));
            u[i] = static_cast<uint8_t>(o[i] >= 0.0 ? levels + k : levels - 1 - k);
        }
    }
    std::vector<uint8_t> encode(const float* x, const float* c) const {
        std::vector<double> r;
        const double s = residual(x, c, r);
        const int levels = 1 << (bits - 1);
        std::vector<uint8_t> u(d, static_cast<uint8_t>(levels));
        double f[5] = {0, 0, 0, 0, 0};
        if (s != 0.0) {
            std::vector<float> v(d, 0.0f);
            double rn2 = 0.0, cr = 0.0;
            for (uint32_t i = 0; i < dim; ++i) {
                const double t = r[i] / s;
                v[i] = static_cast<float>(t);
                rn2 += t * t;
                if (c) cr += static_cast<double>(c[i]) * r[i];
            }
            rotate(v.data());
            double on2 = 0.0;
            for (size_t i = 0; i < d; ++i) on2 += static_cast<double>(v[i]) * v[i];
            const double inv = 1.0 / std::sqrt(on2);
            std::vector<double> o(d);
            for (size_t i = 0; i < d; ++i) o[i] = v[i] * inv;
            double yo = 0.0, yy = 0.0;
            if (bits == 1) {
                for (size_t i = 0; i < d; ++i) {
                    u[i] = o[i] >= 0.0 ? 1 : 0;
                    yo += 0.5 * std::fabs(o[i]);
                }
                yy = 0.25 * static_cast<double>(d);
            } else {
                search(o, u, &yo, &yy);
            }
            const double ynorm = std::sqrt(yy);
            const double a = std::min(1.0, yo / ynorm);
            const double rnorm = s * std::sqrt(rn2);
            f[0] = rnorm;
            f[1] = cr;
            f[2] = rnorm / (a * ynorm);
            f[3] =
                rnorm * std::sqrt(std::max(0.0, 1.0 - a * a)) / (a * std::sqrt(static_cast<double>(d - 1)));
            f[4] = rnorm / a;
        }
        const size_t nb = d * bits / 8;
        std::vector<uint8_t> out(nb + 20, 0);
        for (size_t i = 0; i < d; ++i) {
            if (bits == 1)
                out[i / 8] |= static_cast<uint8_t>(u[i] << (i % 8));
            else if (bits == 4)
                out[i / 2] |= static_cast<uint8_t>(u[i] << (4 * (i % 2)));
            else
                out[i] = u[i];
        }
        for (size_t k = 0; k < 5; ++k) {
            const float fk = static_cast<float>(f[k]);
            std::memcpy(&out[nb + 4 * k], &fk, 4);
        }
        return out;
    }
    RabitqQuery prepare(const float* q, const float* c) const {
        RabitqQuery st;
        const size_t words = d / 64;
        st.padded_dim = static_cast<uint32_t>(d);
        st.bits = bits;
        if (bits == 1)
            st.planes.assign(4 * words, 0);
        else
            st.w16.assign(d, 0);
        std::vector<double> r;
        const double s = residual(q, c, r);
        double qc = 0.0;
        if (c)
            for (uint32_t i = 0; i < dim; ++i) qc += static_cast<double>(q[i]) * c[i];
        st.qc = qc;
        if (s == 0.0) return st;
        std::vector<float> v(d, 0.0f);
        double rn2 = 0.0;
        for (uint32_t i = 0; i < dim; ++i) {
            const double t = r[i] / s;
            v[i] = static_cast<float>(t);
            rn2 += t * t;
        }
        rotate(v.data());
        double on2 = 0.0, omax = 0.0;
        for (size_t i = 0; i < d; ++i) {
            on2 += static_cast<double>(v[i]) * v[i];
            omax = std::max(omax, std::fabs(static_cast<double>(v[i])));
        }
        const double inv = 1.0 / std::sqrt(on2);
        const int top = bits == 1 ? 7 : 32767;
        const double delta = omax * inv / top;
        const double to_w = 1.0 / delta;
        double e2 = 0.0;
        int64_t wsum = 0;
        for (size_t i = 0; i < d; ++i) {
            const double oi = v[i] * inv;
            const double t = oi * to_w;
            int w = static_cast<int>(t + (t >= 0.0 ? 0.5 : -0.5));
            w = std::max(-top, std::min(top, w));
            const double e = oi - delta * static_cast<double>(w);
            e2 += e * e;
            wsum += w;
            const size_t base = i / 64 * 64;
            if (bits == 1) {
                const uint64_t nibble = static_cast<uint64_t>(w) & 0xf;
                for (size_t k = 0; k < 4; ++k)
                    st.planes[k * words + i / 64] |= ((nibble >> k) & 1u) << (i - base);
            } else if (bits == 4) {
                st.w16[base + (i % 2) * 32 + (i - base) / 2] = static_cast<int16_t>(w);
            } else {
                st.w16[i] = static_cast<int16_t>(w);
            }
        }
        st.q_norm = s * std::sqrt(rn2);
        st.delta = delta;
        st.w_offset = ((1 << bits) - 1) / 2.0 * static_cast<double>(wsum);
        st.err_query = std::sqrt(e2 / static_cast<double>(d));
        return st;
    }
};

}  // namespace ref

/// Inputs that reach the corners: Gaussian, wide magnitudes, signed zeros,
/// exact ties, a few elements only, integers.
std::vector<std::vector<float>> hostile_inputs(uint32_t dim, std::mt19937& rng) {
    std::vector<std::vector<float>> xs;
    xs.push_back(gaussian(dim, rng));
    std::vector<float> wide = gaussian(dim, rng);
    std::uniform_int_distribution<int> ex(-60, 60);
    for (float& x : wide) x = std::ldexp(x, ex(rng));
    xs.push_back(wide);
    std::vector<float> zeros(dim, 0.0f);
    for (uint32_t i = 0; i < dim; i += 2) zeros[i] = -0.0f;
    zeros[dim / 2] = 3.0f;
    xs.push_back(zeros);
    std::vector<float> ints(dim);
    std::uniform_int_distribution<int> small(-2, 2);
    for (float& x : ints) x = static_cast<float>(small(rng));
    xs.push_back(ints);
    return xs;
}

class RabitqLevelTest : public ::testing::TestWithParam<SimdLevel> {};

TEST_P(RabitqLevelTest, CodesAndPreparedStatesMatchTheReference) {
    const SimdLevel level = GetParam();
    if (!cpu_supports(level)) GTEST_SKIP() << simd_level_name(level) << " not supported by this CPU";
    const RabitqKernels& kernels = rabitq_kernels(level);
    std::vector<uint32_t> dims;
    for (uint32_t d = 1; d <= 130; ++d) dims.push_back(d);
    for (uint32_t d :
         {191u,  255u,  256u,  257u,  383u,  384u,  385u,  511u,  513u,  767u,  768u,   784u,   1000u, 1023u,
          1025u, 1536u, 2047u, 2049u, 3001u, 4095u, 4097u, 6143u, 8191u, 8193u, 12289u, 15999u, 16000u})
        dims.push_back(d);
    std::mt19937 rng(4242);
    RabitqScratch scratch;
    for (uint32_t dim : dims) {
        for (uint32_t bits : kBits) {
            // The multi-bit reference is slow at large dimensions: fewer inputs there.
            if (bits != 1 && dim > 2100 && dim % 2 == 0) continue;
            const uint64_t seed = dim * 31 + bits;
            const RabitqCodec codec(dim, bits, seed);
            const ref::Codec reference(dim, bits, seed);
            const std::vector<float> centroid = gaussian(dim, rng);
            std::vector<std::vector<float>> xs = hostile_inputs(dim, rng);
            xs.push_back(centroid);  // x == c: a zero residual
            for (size_t k = 0; k < xs.size(); ++k) {
                for (const float* c : {static_cast<const float*>(nullptr), centroid.data()}) {
                    const std::string where = "dim " + std::to_string(dim) + " bits " + std::to_string(bits) +
                                              " input " + std::to_string(k) + (c ? " centroid" : "");
                    const std::vector<uint8_t> want = reference.encode(xs[k].data(), c);
                    std::vector<uint8_t> got(codec.code_bytes());
                    codec.encode(xs[k].data(), c, got.data(), scratch, kernels);
                    ASSERT_EQ(got, want) << where;
                    const RabitqQuery ws = reference.prepare(xs[k].data(), c);
                    RabitqQuery gs;
                    codec.prepare(xs[k].data(), c, gs, kRabitqDefaultEpsilon, kernels);
                    ASSERT_EQ(gs.planes, ws.planes) << where;
                    ASSERT_EQ(gs.w16, ws.w16) << where;
                    ASSERT_EQ(gs.q_norm, ws.q_norm) << where;
                    ASSERT_EQ(gs.delta, ws.delta) << where;
                    ASSERT_EQ(gs.w_offset, ws.w_offset) << where;
                    ASSERT_EQ(gs.qc, ws.qc) << where;
                    ASSERT_EQ(gs.err_query, ws.err_query) << where;
                }
            }
        }
    }
}

/// encode without scratch (thread-local) and with, prepare reused across
/// codecs of different sizes: the same bytes and states.
TEST(Rabitq, ScratchAndReuseDoNotChangeResults) {
    std::mt19937 rng(77);
    RabitqScratch scratch;
    RabitqQuery reused;
    for (uint32_t dim : {2000u, 7u, 384u, 65u}) {
        for (uint32_t bits : kBits) {
            const RabitqCodec codec(dim, bits, 5);
            const std::vector<float> x = gaussian(dim, rng), c = gaussian(dim, rng);
            std::vector<uint8_t> a(codec.code_bytes()), b(codec.code_bytes());
            codec.encode(x.data(), c.data(), a.data());
            codec.encode(x.data(), c.data(), b.data(), scratch);
            EXPECT_EQ(a, b);
            RabitqQuery fresh;
            codec.prepare(x.data(), c.data(), fresh);
            codec.prepare(x.data(), c.data(), reused);
            // (The other width's vector keeps what an earlier codec left.)
            if (bits == 1)
                EXPECT_EQ(fresh.planes, reused.planes);
            else
                EXPECT_EQ(fresh.w16, reused.w16);
            EXPECT_EQ(fresh.err_query, reused.err_query);
            EXPECT_EQ(fresh.w_offset, reused.w_offset);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Levels, RabitqLevelTest,
                         ::testing::Values(SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512),
                         [](const ::testing::TestParamInfo<SimdLevel>& info) {
                             return std::string(simd_level_name(info.param));
                         });

// ---- SIMD kernels --------------------------------------------------------------

/// A kernel table under test: a SIMD level's, or the AVX-512 one with the
/// AVX512_VPOPCNTDQ 1-bit kernel.
struct KernelVariant {
    SimdLevel level;
    bool vpopcnt;
};

bool variant_supported(const KernelVariant& v) {
    return cpu_supports(v.level) && (!v.vpopcnt || cpu_has_vpopcntdq());
}

const RabitqKernels& variant_kernels(const KernelVariant& v) {
    return v.vpopcnt ? rabitq_kernels_avx512_vpopcnt() : rabitq_kernels(v.level);
}

std::string variant_name(const KernelVariant& v) {
    return std::string(simd_level_name(v.level)) + (v.vpopcnt ? "_vpopcntdq" : "");
}

class RabitqKernelTest : public ::testing::TestWithParam<KernelVariant> {};

TEST_P(RabitqKernelTest, MatchesScalar) {
    const KernelVariant variant = GetParam();
    if (!variant_supported(variant)) GTEST_SKIP() << variant_name(variant) << " not supported by this CPU";
    const RabitqKernels& simd = variant_kernels(variant);
    const RabitqKernels& scalar = rabitq_kernels_scalar();
    std::mt19937 rng(static_cast<uint32_t>(variant.level) + 100);
    for (uint32_t bits : kBits) {
        for (uint32_t dim : {1u, 64u, 65u, 200u, 384u, 512u, 784u, 1536u, 2100u, 16000u}) {
            const RabitqCodec codec(dim, bits, 17);
            const size_t cb = codec.code_bytes(), stride = cb + 3, n = dim > 2000 ? 9 : 70;
            // Random digits (any byte is a valid code) with real factors,
            // at an odd address.
            std::vector<uint8_t> codes(n * stride + 1);
            std::uniform_int_distribution<int> byte(0, 255);
            for (auto& b : codes) b = static_cast<uint8_t>(byte(rng));
            for (size_t i = 0; i < n; ++i) {
                std::vector<uint8_t> real(cb);
                const std::vector<float> x = gaussian(dim, rng);
                codec.encode(x.data(), nullptr, real.data());
                for (size_t k = cb - 20; k < cb; ++k) codes[1 + i * stride + k] = real[k];
            }
            const std::vector<float> q = gaussian(dim, rng);
            RabitqQuery st;
            codec.prepare(q.data(), nullptr, st);
            for (RabitqMetric m : {RabitqMetric::L2Squared, RabitqMetric::InnerProduct}) {
                std::vector<RabitqEstimate> a(n), b(n);
                codec.estimate_batch(st, codes.data() + 1, n, stride, m, a.data(), scalar);
                codec.estimate_batch(st, codes.data() + 1, n, stride, m, b.data(), simd);
                // The kernels compute exact integers, so the estimates agree
                // bit for bit.
                for (size_t i = 0; i < n; ++i) {
                    ASSERT_EQ(a[i].value, b[i].value) << "bits " << bits << " dim " << dim << " code " << i;
                    ASSERT_EQ(a[i].lower, b[i].lower);
                    ASSERT_EQ(a[i].upper, b[i].upper);
                }
            }
        }
    }
}

/// The float finish at the edges: factors of 0, denormal, huge, infinite
/// and NaN (a corrupt page can hold any bytes), integers of either sign
/// and far from the offset, both metrics: every level's estimates are the
/// reference's bit for bit, saturation and NaN included.
TEST_P(RabitqKernelTest, FinishMatchesScalarOnEdgeFactors) {
    const KernelVariant variant = GetParam();
    if (!variant_supported(variant)) GTEST_SKIP() << variant_name(variant) << " not supported by this CPU";
    const RabitqKernels& simd = variant_kernels(variant);
    const float specials[] = {0.0f,   -0.0f,   1e-45f,   1e-38f,   1.0f,      -1.0f,         3e38f,
                              -3e38f, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY, std::nanf(""), 0.5f};
    const size_t nb = 48, stride = nb + 20 + 5, n = 203;  // 25 full groups of 8 and a tail of 3
    std::mt19937 rng(7);
    std::uniform_int_distribution<size_t> pick(0, std::size(specials) - 1);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<uint8_t> codes(n * stride + 1);
    std::vector<int64_t> dots(n);
    for (size_t i = 0; i < n; ++i) {
        for (size_t k = 0; k < 5; ++k) {
            const float v = (i + k) % 3 == 0 ? specials[pick(rng)] : g(rng);
            std::memcpy(&codes[1 + i * stride + nb + 4 * k], &v, 4);
        }
        dots[i] = static_cast<int64_t>(g(rng) * 1000.0f) * ((i % 11 == 0) ? (int64_t{1} << 40) : 1);
    }
    for (bool l2 : {true, false}) {
        for (double scale : {0.013, 1e300}) {
            const RabitqFinish p{2.5, -0.75, scale, 0.04, 0.003, 12.5, nb, l2};
            std::vector<RabitqEstimate> a(n), b(n);
            rabitq_finish_scalar(p, codes.data() + 1, n, stride, dots.data(), a.data());
            simd.finish(p, codes.data() + 1, n, stride, dots.data(), b.data());
            for (size_t i = 0; i < n; ++i)
                ASSERT_EQ(0, std::memcmp(&a[i], &b[i], sizeof(RabitqEstimate)))
                    << "code " << i << " l2 " << l2 << " scale " << scale << ": " << a[i].value << " "
                    << a[i].lower << " " << a[i].upper << " vs " << b[i].value << " " << b[i].lower << " "
                    << b[i].upper;
        }
    }
}

/// Extreme integers: every digit at its maximum against a query of +-32767
/// at the largest dimension, where an int32 accumulator would overflow.
TEST_P(RabitqKernelTest, ExtremeDigitsDoNotOverflow) {
    const KernelVariant variant = GetParam();
    if (!variant_supported(variant)) GTEST_SKIP() << variant_name(variant) << " not supported by this CPU";
    const RabitqKernels& simd = variant_kernels(variant);
    const RabitqKernels& scalar = rabitq_kernels_scalar();
    const size_t d = 16000;
    std::vector<int16_t> w(d);
    for (size_t i = 0; i < d; ++i) w[i] = (i % 7 == 3) ? -32767 : 32767;
    std::vector<uint8_t> codes(d, 0xff);
    int64_t a = 0, b = 0;
    scalar.dot_b8(w.data(), d, codes.data(), 1, d, &a);
    simd.dot_b8(w.data(), d, codes.data(), 1, d, &b);
    EXPECT_EQ(a, b);
    EXPECT_GT(a, int64_t{1} << 31);
    scalar.dot_b4(w.data(), d, codes.data(), 1, d / 2, &a);
    simd.dot_b4(w.data(), d, codes.data(), 1, d / 2, &b);
    EXPECT_EQ(a, b);
    EXPECT_GT(a, int64_t{1} << 31);
    std::vector<uint64_t> planes(4 * d / 64, ~uint64_t{0});
    scalar.dot_b1(planes.data(), d / 64, codes.data(), 1, d / 8, &a);
    simd.dot_b1(planes.data(), d / 64, codes.data(), 1, d / 8, &b);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a, -static_cast<int64_t>(d));  // digit 0b1111 = -1 in every dimension
}

INSTANTIATE_TEST_SUITE_P(
    Levels, RabitqKernelTest,
    ::testing::Values(KernelVariant{SimdLevel::Scalar, false}, KernelVariant{SimdLevel::AVX2, false},
                      KernelVariant{SimdLevel::AVX512, false}, KernelVariant{SimdLevel::AVX512, true}),
    [](const ::testing::TestParamInfo<KernelVariant>& info) { return variant_name(info.param); });

}  // namespace
}  // namespace nmvec
