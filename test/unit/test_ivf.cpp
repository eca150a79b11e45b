// Unit tests of CentroidSearch (src/core/ivf.h): nearest centroids against
// a plain loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "ivf.h"

namespace {

std::vector<float> random_vectors(size_t n, size_t dim, uint32_t seed, bool normalize) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> v(n * dim);
    for (float& x : v) x = g(rng);
    if (normalize)
        for (size_t i = 0; i < n; ++i)
            nmvec::hnsw::normalize_for(nmvec::hnsw::Metric::Cosine, v.data() + i * dim, dim);
    return v;
}

uint32_t brute_nearest(const nmvec::CentroidSearch& s, nmvec::hnsw::Metric m, const float* q) {
    nmvec::hnsw::Distance dist(m, s.dim());
    uint32_t best = 0;
    for (uint32_t i = 1; i < s.size(); ++i)
        if (dist(s.centroid(i), q) < dist(s.centroid(best), q)) best = i;
    return best;
}

TEST(CentroidSearch, FewCentroidsAreExact) {
    const size_t dim = 16, k = 20;
    auto c = random_vectors(k, dim, 1, false);
    nmvec::CentroidSearch s(nmvec::hnsw::Metric::L2, dim, c.data(), k);
    auto q = random_vectors(200, dim, 2, false);
    for (size_t i = 0; i < 200; ++i)
        EXPECT_EQ(s.nearest(q.data() + i * dim),
                  brute_nearest(s, nmvec::hnsw::Metric::L2, q.data() + i * dim));
}

class CentroidMetrics : public ::testing::TestWithParam<nmvec::hnsw::Metric> {};

TEST_P(CentroidMetrics, NearestAgreesWithLoop) {
    const nmvec::hnsw::Metric m = GetParam();
    const bool unit = m == nmvec::hnsw::Metric::Cosine;
    const size_t dim = 64, k = 1000, nq = 1000;
    auto c = random_vectors(k, dim, 3, unit);
    nmvec::CentroidSearch s(m, dim, c.data(), k);
    auto q = random_vectors(nq, dim, 4, unit);
    size_t same = 0;
    for (size_t i = 0; i < nq; ++i) {
        const float* qi = q.data() + i * dim;
        const uint32_t g = s.nearest(qi), b = brute_nearest(s, m, qi);
        ASSERT_LT(g, k);
        if (g == b) ++same;
    }
    EXPECT_EQ(same, nq);
}

TEST_P(CentroidMetrics, DistancesAreTheIndexDistances) {
    const nmvec::hnsw::Metric m = GetParam();
    const bool unit = m == nmvec::hnsw::Metric::Cosine;
    const size_t dim = 32, k = 500;
    auto c = random_vectors(k, dim, 5, unit);
    nmvec::CentroidSearch s(m, dim, c.data(), k);
    auto q = random_vectors(1, dim, 6, unit);
    nmvec::hnsw::Distance dist(m, dim);
    std::vector<float> d;
    s.distances(q.data(), d);
    ASSERT_EQ(d.size(), k);
    for (uint32_t i = 0; i < k; ++i) EXPECT_FLOAT_EQ(d[i], dist(s.centroid(i), q.data()));
    // nearest() is the smallest of them.
    EXPECT_EQ(d[s.nearest(q.data())], *std::min_element(d.begin(), d.end()));
}

float dist_norm2(const float* v, size_t dim) {
    float n = 0.0f;
    for (size_t i = 0; i < dim; ++i) n += v[i] * v[i];
    return n;
}

/// distances_ranked: the nearest are exact and first in its order, the
/// rest estimated no nearer than them, and close to the truth. Clustered
/// centroids (as k-means leaves them) and plain random ones.
TEST_P(CentroidMetrics, RankedDistancesKeepTheNearestExact) {
    const nmvec::hnsw::Metric m = GetParam();
    const bool unit = m == nmvec::hnsw::Metric::Cosine;
    for (const size_t dim : {size_t{96}, size_t{384}}) {
        const size_t k = 3000;
        auto c = random_vectors(k, dim, 11, unit);
        nmvec::CentroidSearch s(m, dim, c.data(), k);
        ASSERT_TRUE(s.coded());
        nmvec::hnsw::Distance dist(m, dim);
        auto qs = random_vectors(20, dim, 12, unit);
        for (size_t qi = 0; qi < 20; ++qi) {
            const float* q = qs.data() + qi * dim;
            for (const size_t nearest : {size_t{1}, size_t{8}, size_t{64}}) {
                std::vector<float> got, truth;
                const size_t exact = s.distances_ranked(q, nearest, got);
                s.distances(q, truth);
                ASSERT_EQ(got.size(), k);
                EXPECT_GE(exact, nearest);
                EXPECT_LT(exact, k / 4) << "most distances come from the codes";
                std::vector<uint32_t> by_truth(k), by_got(k);
                for (uint32_t i = 0; i < k; ++i) by_truth[i] = by_got[i] = i;
                auto order = [](const std::vector<float>& d) {
                    return [&d](uint32_t a, uint32_t b) { return d[a] < d[b] || (d[a] == d[b] && a < b); };
                };
                std::sort(by_truth.begin(), by_truth.end(), order(truth));
                std::sort(by_got.begin(), by_got.end(), order(got));
                const float kth = truth[by_truth[nearest - 1]];
                size_t exact_seen = 0;
                for (uint32_t i = 0; i < k; ++i) {
                    if (got[i] == truth[i]) {
                        ++exact_seen;
                        continue;
                    }
                    EXPECT_GE(got[i], kth) << "dim " << dim << " row " << i;
                    // Off by at most 2 % of ||q|| ||c|| (L2: twice <q, c>).
                    const float cn = std::sqrt(dist_norm2(s.centroid(i), dim)),
                                qn = std::sqrt(dist_norm2(q, dim));
                    EXPECT_NEAR(got[i], truth[i], 0.02f * qn * cn) << "row " << i;
                }
                EXPECT_GE(exact_seen, exact);
                for (size_t j = 0; j < nearest; ++j)
                    EXPECT_EQ(by_got[j], by_truth[j]) << "dim " << dim << " rank " << j;
            }
        }
    }
    // Not coded (few centroids): every distance exact.
    auto few = random_vectors(100, 16, 3, unit);
    nmvec::CentroidSearch small(m, 16, few.data(), 100);
    std::vector<float> got, truth;
    EXPECT_EQ(small.distances_ranked(few.data(), 4, got), 100u);
    small.distances(few.data(), truth);
    EXPECT_EQ(got, truth);
}

INSTANTIATE_TEST_SUITE_P(Metrics, CentroidMetrics,
                         ::testing::Values(nmvec::hnsw::Metric::L2, nmvec::hnsw::Metric::InnerProduct,
                                           nmvec::hnsw::Metric::Cosine),
                         [](const ::testing::TestParamInfo<nmvec::hnsw::Metric>& info) {
                             switch (info.param) {
                                 case nmvec::hnsw::Metric::L2:
                                     return std::string("L2");
                                 case nmvec::hnsw::Metric::InnerProduct:
                                     return std::string("InnerProduct");
                                 default:
                                     return std::string("Cosine");
                             }
                         });

TEST(CentroidSearch, OneCentroid) {
    const float c[3] = {1, 2, 3};
    nmvec::CentroidSearch s(nmvec::hnsw::Metric::L2, 3, c, 1);
    const float q[3] = {0, 0, 0};
    EXPECT_EQ(s.nearest(q), 0u);
    std::vector<float> d;
    s.distances(q, d);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_FLOAT_EQ(d[0], 14.0f);
}

/// Centroids as k-means leaves them on embeddings: spread around a few
/// dozen topics (each topic a random direction, its centroids a small
/// perturbation of it), queries near them.
std::vector<float> clustered(size_t n, size_t dim, size_t topics, float spread, uint32_t seed, bool unit) {
    auto t = random_vectors(topics, dim, seed, false);
    std::mt19937 rng(seed + 1);
    std::normal_distribution<float> g(0.0f, spread);
    std::uniform_int_distribution<size_t> pick(0, topics - 1);
    std::vector<float> v(n * dim);
    for (size_t i = 0; i < n; ++i) {
        const size_t k = pick(rng);
        for (size_t j = 0; j < dim; ++j) v[i * dim + j] = t[k * dim + j] + g(rng);
        if (unit) nmvec::hnsw::normalize_for(nmvec::hnsw::Metric::Cosine, v.data() + i * dim, dim);
    }
    return v;
}

class GroupedMetrics : public ::testing::TestWithParam<nmvec::hnsw::Metric> {};

// From 256 centroids on (L2, cosine) the search is grouped and prunes
// groups by the triangle inequality: still the exhaustive answer for every
// query, ties to the lowest index included, and on clustered centroids it
// computes far fewer distances than k.
TEST_P(GroupedMetrics, PrunedSearchIsExact) {
    const nmvec::hnsw::Metric m = GetParam();
    const bool unit = m == nmvec::hnsw::Metric::Cosine;
    const size_t dim = 96, k = 1000, nq = 2000;
    auto c = clustered(k, dim, 40, 0.15f, 7, unit);
    // Exact duplicates: ties must go to the lower index.
    std::copy_n(c.data() + 10 * dim, dim, c.data() + 500 * dim);
    std::copy_n(c.data() + 700 * dim, dim, c.data() + 20 * dim);
    nmvec::CentroidSearch s(m, dim, c.data(), k);
    ASSERT_GT(s.groups(), 0u);
    auto q = clustered(nq, dim, 40, 0.3f, 7, unit);
    size_t total = 0, total_exact = 0;
    for (size_t i = 0; i < nq; ++i) {
        const float* qi = q.data() + i * dim;
        size_t scanned = 0, exact = 0;
        ASSERT_EQ(s.nearest(qi, &scanned, &exact), brute_nearest(s, m, qi)) << "query " << i;
        total += scanned;
        total_exact += exact;
        ASSERT_GE(exact, 1u);
        ASSERT_LE(exact, scanned);
    }
    // Queries equal to a duplicated centroid: the lower index.
    EXPECT_EQ(s.nearest(c.data() + 10 * dim), 10u);
    EXPECT_EQ(s.nearest(c.data() + 700 * dim), 20u);
    EXPECT_LT(total / nq, k / 3) << "mean centroids scanned";
    // The 8-bit codes leave few centroids for a float32 distance.
    EXPECT_LT(total_exact / nq, 40u) << "mean float32 distances";
}

// Random centroids (no structure): still exact, whatever it prunes.
TEST_P(GroupedMetrics, UnstructuredStaysExact) {
    const nmvec::hnsw::Metric m = GetParam();
    const bool unit = m == nmvec::hnsw::Metric::Cosine;
    const size_t dim = 32, k = 300;
    auto c = random_vectors(k, dim, 11, unit);
    nmvec::CentroidSearch s(m, dim, c.data(), k);
    auto q = random_vectors(500, dim, 12, unit);
    for (size_t i = 0; i < 500; ++i)
        ASSERT_EQ(s.nearest(q.data() + i * dim), brute_nearest(s, m, q.data() + i * dim));
}

INSTANTIATE_TEST_SUITE_P(Metrics, GroupedMetrics,
                         ::testing::Values(nmvec::hnsw::Metric::L2, nmvec::hnsw::Metric::Cosine),
                         [](const ::testing::TestParamInfo<nmvec::hnsw::Metric>& info) {
                             return std::string(info.param == nmvec::hnsw::Metric::L2 ? "L2" : "Cosine");
                         });

// Under inner product nothing is grouped, but from 256 centroids on every
// centroid is estimated from its code first: the exhaustive answer, with
// float32 distances for a few.
TEST(CentroidSearch, CodedInnerProductIsExact) {
    const nmvec::hnsw::Metric m = nmvec::hnsw::Metric::InnerProduct;
    const size_t dim = 64, k = 600, nq = 1000;
    auto c = clustered(k, dim, 30, 0.2f, 21, false);
    std::copy_n(c.data() + 5 * dim, dim, c.data() + 400 * dim);  // a tie
    nmvec::CentroidSearch s(m, dim, c.data(), k);
    ASSERT_TRUE(s.coded());
    ASSERT_EQ(s.groups(), 0u);
    auto q = clustered(nq, dim, 30, 0.4f, 22, false);
    size_t total_exact = 0;
    for (size_t i = 0; i < nq; ++i) {
        size_t scanned = 0, exact = 0;
        ASSERT_EQ(s.nearest(q.data() + i * dim, &scanned, &exact), brute_nearest(s, m, q.data() + i * dim));
        EXPECT_EQ(scanned, k);
        total_exact += exact;
    }
    EXPECT_LT(total_exact / nq, k / 10);
    EXPECT_EQ(s.nearest(c.data() + 5 * dim), brute_nearest(s, m, c.data() + 5 * dim));
}

// Magnitudes far from 1 (the bounds are relative to the norms) and queries
// at a centroid, halfway between two, or zero: still exact.
TEST(CentroidSearch, CodedSearchAtExtremes) {
    const size_t dim = 40, k = 300;
    for (nmvec::hnsw::Metric m : {nmvec::hnsw::Metric::L2, nmvec::hnsw::Metric::InnerProduct}) {
        for (float scale : {1e-18f, 1e-6f, 1e6f, 1e15f}) {
            auto c = random_vectors(k, dim, 31, false);
            for (float& x : c) x *= scale;
            nmvec::CentroidSearch s(m, dim, c.data(), k);
            ASSERT_TRUE(s.coded());
            auto q = random_vectors(200, dim, 32, false);
            for (float& x : q) x *= scale;
            for (size_t i = 0; i < 200; ++i)
                ASSERT_EQ(s.nearest(q.data() + i * dim), brute_nearest(s, m, q.data() + i * dim))
                    << "scale " << scale << " query " << i;
            for (uint32_t i = 0; i < 20; ++i) {
                std::vector<float> mid(dim), zero(dim, 0.0f);
                for (size_t j = 0; j < dim; ++j) mid[j] = (c[i * dim + j] + c[(i + 1) * dim + j]) / 2;
                ASSERT_EQ(s.nearest(c.data() + i * dim), brute_nearest(s, m, c.data() + i * dim));
                ASSERT_EQ(s.nearest(mid.data()), brute_nearest(s, m, mid.data()));
                ASSERT_EQ(s.nearest(zero.data()), brute_nearest(s, m, zero.data()));
            }
        }
    }
}

TEST(CentroidSearch, GroupedOnlyWhereExact) {
    const size_t dim = 8;
    auto c = random_vectors(300, dim, 13, false);
    EXPECT_EQ(nmvec::CentroidSearch(nmvec::hnsw::Metric::InnerProduct, dim, c.data(), 300).groups(), 0u);
    EXPECT_EQ(nmvec::CentroidSearch(nmvec::hnsw::Metric::L2, dim, c.data(), 255).groups(), 0u);
    EXPECT_EQ(nmvec::CentroidSearch(nmvec::hnsw::Metric::L2, dim, c.data(), 300).groups(), 17u);
}

}  // namespace
