// test_kmeans.cpp — the C entry points of nmvec_faiss_api.h (kmeans.cpp)
// against brute-force references: recovery of separated blobs, determinism,
// spherical centroids, argument checks, interrupts (and that FAISS's global
// interrupt hook and the thread settings are restored), assignment.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <omp.h>

#include <faiss/impl/AuxIndexStructures.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "nmvec_faiss_api.h"

namespace {

using Matrix = std::vector<float>;  // row-major

double l2sq(const float* a, const float* b, int64_t d) {
    double s = 0;
    for (int64_t j = 0; j < d; j++) s += (double(a[j]) - b[j]) * (double(a[j]) - b[j]);
    return s;
}

double dot(const float* a, const float* b, int64_t d) {
    double s = 0;
    for (int64_t j = 0; j < d; j++) s += double(a[j]) * b[j];
    return s;
}

/// Index of the nearest row of c (k x d) to x: smallest L2 or largest dot.
int64_t nearest(const float* x, const Matrix& c, int64_t k, int64_t d, bool ip) {
    int64_t best = 0;
    double best_v = ip ? dot(x, c.data(), d) : l2sq(x, c.data(), d);
    for (int64_t j = 1; j < k; j++) {
        double v = ip ? dot(x, c.data() + j * d, d) : l2sq(x, c.data() + j * d, d);
        if (ip ? v > best_v : v < best_v) best = j, best_v = v;
    }
    return best;
}

Matrix uniform(int64_t n, int64_t d, uint32_t seed, float lo = -1, float hi = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    Matrix m(size_t(n * d));
    for (float& v : m) v = u(rng);
    return m;
}

/// Blobs: centre i is R * e_i (pairwise equidistant), `per` points each with
/// N(0, sigma^2) noise per coordinate, rows shuffled; truth[i] = blob of row i.
struct Blobs {
    int64_t n, d, blobs;
    Matrix x, centres;
    std::vector<int> truth;
};

Blobs make_blobs(int64_t blobs, int64_t per, int64_t d, float radius, float sigma, uint32_t seed) {
    Blobs b{blobs * per, d, blobs, {}, Matrix(size_t(blobs * d), 0.0f), {}};
    for (int64_t i = 0; i < blobs; i++) b.centres[size_t(i * d + i)] = radius;
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, sigma);
    std::vector<int> order(size_t(b.n));
    for (int64_t i = 0; i < b.n; i++) order[size_t(i)] = int(i / per);
    std::shuffle(order.begin(), order.end(), rng);
    b.x.resize(size_t(b.n * d));
    for (int64_t i = 0; i < b.n; i++) {
        for (int64_t j = 0; j < d; j++)
            b.x[size_t(i * d + j)] = b.centres[size_t(order[size_t(i)] * d + j)] + noise(rng);
    }
    b.truth = order;
    return b;
}

nmvec_kmeans_args kmeans_args(const Matrix& x, int64_t n, int64_t d, int64_t k, Matrix& out) {
    out.assign(size_t(k * d), std::numeric_limits<float>::quiet_NaN());
    nmvec_kmeans_args a{};
    a.x = x.data();
    a.n = n;
    a.d = d;
    a.k = k;
    a.iterations = 20;
    a.threads = 1;
    a.seed = 42;
    a.spherical = 0;
    a.max_points_per_centroid = 0;
    a.centroids = out.data();
    return a;
}

/// Checks that k-means labelled every blob with one centroid of its own and
/// put that centroid near the blob's true centre.
void expect_blobs_recovered(const Blobs& b, const Matrix& c) {
    std::vector<int64_t> blob_label(size_t(b.blobs), -1);
    for (int64_t i = 0; i < b.n; i++) {
        int64_t l = nearest(b.x.data() + i * b.d, c, b.blobs, b.d, false);
        int64_t& expected = blob_label[size_t(b.truth[size_t(i)])];
        if (expected < 0) expected = l;
        ASSERT_EQ(l, expected) << "row " << i << " of blob " << b.truth[size_t(i)];
    }
    std::set<int64_t> distinct(blob_label.begin(), blob_label.end());
    ASSERT_EQ(int64_t(distinct.size()), b.blobs) << "two blobs share a centroid";
    for (int64_t blob = 0; blob < b.blobs; blob++) {
        // The blob's mean is within a few sigma / sqrt(per) of the centre per
        // coordinate: with sigma = 0.1, per = 200, d = 16 the distance is
        // about 0.03; 0.2 leaves a wide margin and is still far below the
        // blob spacing (radius * sqrt(2) = 14).
        double dist =
            std::sqrt(l2sq(c.data() + blob_label[size_t(blob)] * b.d, b.centres.data() + blob * b.d, b.d));
        EXPECT_LT(dist, 0.2) << "blob " << blob;
    }
}

struct CountingInterrupt {
    int calls = 0;
    int fire_at = 0;  // return 1 from this call on (0 = never)
    int omp_threads_seen = -1;
    static int fn(void* arg) {
        auto* self = static_cast<CountingInterrupt*>(arg);
        self->calls++;
        self->omp_threads_seen = omp_get_max_threads();
        return self->fire_at > 0 && self->calls >= self->fire_at ? 1 : 0;
    }
};

TEST(FaissKmeans, ApiVersion) { EXPECT_EQ(nmvec_faiss_api_version(), NMVEC_FAISS_API_VERSION); }

TEST(FaissKmeans, RecoversSeparatedBlobs) {
    // FAISS starts from k random points, so a seed whose start puts two
    // centroids in one blob and none in another ends in that local optimum
    // (with these 8 blobs about 60% of seeds do). As a caller would (FAISS's
    // nredo), keep the run of lowest objective among 10 seeds: the chance
    // that all 10 miss is under 1%, and the data and seeds are fixed.
    Blobs b = make_blobs(8, 200, 16, 10.0f, 0.1f, 7);
    for (int threads : {1, 2}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        Matrix best;
        nmvec_kmeans_stats best_stats{HUGE_VAL, -1};
        for (uint32_t seed = 1; seed <= 10; seed++) {
            Matrix c;
            nmvec_kmeans_args a = kmeans_args(b.x, b.n, b.d, b.blobs, c);
            a.threads = threads;
            a.seed = seed;
            nmvec_kmeans_stats stats{-1, -1};
            a.stats = &stats;
            char err[256] = "x";
            ASSERT_EQ(nmvec_faiss_kmeans(&a, err, sizeof(err)), NMVEC_FAISS_OK) << err;
            EXPECT_STREQ(err, "");
            EXPECT_EQ(stats.iterations, 20);
            if (stats.objective < best_stats.objective) best = c, best_stats = stats;
        }
        expect_blobs_recovered(b, best);
        // Objective: sum of squared distances to the nearest centroid, about
        // n * d * sigma^2 = 1600 * 16 * 0.01 = 256.
        double ref = 0;
        for (int64_t i = 0; i < b.n; i++) {
            const float* xi = b.x.data() + i * b.d;
            ref += l2sq(xi, best.data() + nearest(xi, best, b.blobs, b.d, false) * b.d, b.d);
        }
        EXPECT_NEAR(best_stats.objective, ref, 1e-3 * ref);
        EXPECT_GT(best_stats.objective, 150);
        EXPECT_LT(best_stats.objective, 400);
    }
}

TEST(FaissKmeans, SameSeedSameCentroidsOtherSeedOther) {
    Matrix x = uniform(3000, 8, 1);
    for (int threads : {1, 2}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        Matrix c1, c2, c3;
        nmvec_kmeans_args a1 = kmeans_args(x, 3000, 8, 30, c1);
        nmvec_kmeans_args a2 = kmeans_args(x, 3000, 8, 30, c2);
        nmvec_kmeans_args a3 = kmeans_args(x, 3000, 8, 30, c3);
        a1.threads = a2.threads = a3.threads = threads;
        a3.seed = a1.seed + 1;
        ASSERT_EQ(nmvec_faiss_kmeans(&a1, nullptr, 0), NMVEC_FAISS_OK);
        ASSERT_EQ(nmvec_faiss_kmeans(&a2, nullptr, 0), NMVEC_FAISS_OK);
        ASSERT_EQ(nmvec_faiss_kmeans(&a3, nullptr, 0), NMVEC_FAISS_OK);
        EXPECT_EQ(c1, c2);
        EXPECT_NE(c1, c3);
    }
}

TEST(FaissKmeans, SeedAboveThirtyBitsIsAccepted) {
    Matrix x = uniform(500, 4, 2);
    Matrix c1, c2;
    nmvec_kmeans_args a1 = kmeans_args(x, 500, 4, 5, c1);
    nmvec_kmeans_args a2 = kmeans_args(x, 500, 4, 5, c2);
    a1.seed = 0xffffffffu;
    a2.seed = 0x3fffffffu;  // the same low 30 bits
    ASSERT_EQ(nmvec_faiss_kmeans(&a1, nullptr, 0), NMVEC_FAISS_OK);
    ASSERT_EQ(nmvec_faiss_kmeans(&a2, nullptr, 0), NMVEC_FAISS_OK);
    EXPECT_EQ(c1, c2);
}

void expect_unit_rows(const Matrix& c, int64_t k, int64_t d) {
    for (int64_t i = 0; i < k; i++)
        EXPECT_NEAR(std::sqrt(dot(&c[size_t(i * d)], &c[size_t(i * d)], d)), 1.0, 1e-5);
}

TEST(FaissKmeans, SphericalCentroidsHaveUnitNorm) {
    Matrix x = uniform(2000, 12, 3, 0.5f, 3.0f);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 2000, 12, 16, c);
    a.spherical = 1;
    nmvec_kmeans_stats stats{};
    a.stats = &stats;
    ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
    expect_unit_rows(c, 16, 12);
    // The objective is a sum of inner products with unit centroids: positive
    // here, and at most the sum of the points' norms.
    double norms = 0;
    for (int64_t i = 0; i < 2000; i++) norms += std::sqrt(dot(&x[size_t(i * 12)], &x[size_t(i * 12)], 12));
    EXPECT_GT(stats.objective, 0.9 * norms);
    EXPECT_LE(stats.objective, norms * (1 + 1e-5));
}

TEST(FaissKmeans, KEqualsN) {
    Matrix x = uniform(40, 5, 4, 0.5f, 2.0f);
    for (int spherical : {0, 1}) {
        SCOPED_TRACE("spherical " + std::to_string(spherical));
        Matrix c;
        nmvec_kmeans_args a = kmeans_args(x, 40, 5, 40, c);
        a.spherical = spherical;
        nmvec_kmeans_stats stats{-1, -1};
        a.stats = &stats;
        ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
        EXPECT_EQ(stats.iterations, 1);
        EXPECT_EQ(stats.objective, 0);
        // Every point is a centroid (normalised when spherical).
        Matrix expected = x;
        if (spherical) {
            for (int64_t i = 0; i < 40; i++) {
                double norm = std::sqrt(dot(&expected[size_t(i * 5)], &expected[size_t(i * 5)], 5));
                for (int64_t j = 0; j < 5; j++)
                    expected[size_t(i * 5 + j)] = float(expected[size_t(i * 5 + j)] / norm);
            }
            expect_unit_rows(c, 40, 5);
        }
        for (int64_t i = 0; i < 40; i++) {
            int64_t l = nearest(&expected[size_t(i * 5)], c, 40, 5, false);
            EXPECT_LT(l2sq(&expected[size_t(i * 5)], &c[size_t(l * 5)], 5), 1e-10) << "point " << i;
        }
    }
}

TEST(FaissKmeans, KOneIsTheMean) {
    Matrix x = uniform(1000, 3, 5);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 1000, 3, 1, c);
    ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
    for (int j = 0; j < 3; j++) {
        double mean = 0;
        for (int i = 0; i < 1000; i++) mean += x[size_t(i * 3 + j)];
        EXPECT_NEAR(c[size_t(j)], mean / 1000, 1e-5);
    }
}

TEST(FaissKmeans, MaxPointsPerCentroidSubsamples) {
    // 20 centroids x 10 points = 200 of the 5000 points are used: the
    // centroids differ from those of the full run, and stay sane.
    Matrix x = uniform(5000, 6, 6);
    Matrix full, sampled;
    nmvec_kmeans_args af = kmeans_args(x, 5000, 6, 20, full);
    nmvec_kmeans_args as = kmeans_args(x, 5000, 6, 20, sampled);
    as.max_points_per_centroid = 10;
    ASSERT_EQ(nmvec_faiss_kmeans(&af, nullptr, 0), NMVEC_FAISS_OK);
    ASSERT_EQ(nmvec_faiss_kmeans(&as, nullptr, 0), NMVEC_FAISS_OK);
    EXPECT_NE(full, sampled);
    for (float v : sampled) {
        EXPECT_GE(v, -1.0f);
        EXPECT_LE(v, 1.0f);
    }
}

TEST(FaissKmeans, BadArgumentsAreRejected) {
    Matrix x = uniform(10, 4, 8);
    struct Case {
        const char* what;
        void (*edit)(nmvec_kmeans_args&);
    };
    const Case cases[] = {
        {"k > n", [](nmvec_kmeans_args& a) { a.k = 11; }},
        {"k = 0", [](nmvec_kmeans_args& a) { a.k = 0; }},
        {"k < 0", [](nmvec_kmeans_args& a) { a.k = -1; }},
        {"d = 0", [](nmvec_kmeans_args& a) { a.d = 0; }},
        {"d > INT32_MAX", [](nmvec_kmeans_args& a) { a.d = int64_t(1) << 31; }},
        {"n = 0", [](nmvec_kmeans_args& a) { a.n = 0; }},
        {"n > INT32_MAX", [](nmvec_kmeans_args& a) { a.n = int64_t(1) << 31; }},
        {"n * d overflows",
         [](nmvec_kmeans_args& a) {
             a.n = std::numeric_limits<int32_t>::max();
             a.d = std::numeric_limits<int32_t>::max();
         }},
        {"x NULL", [](nmvec_kmeans_args& a) { a.x = nullptr; }},
        {"centroids NULL", [](nmvec_kmeans_args& a) { a.centroids = nullptr; }},
        {"iterations = 0", [](nmvec_kmeans_args& a) { a.iterations = 0; }},
        {"threads < 0", [](nmvec_kmeans_args& a) { a.threads = -1; }},
        {"max_points_per_centroid < 0", [](nmvec_kmeans_args& a) { a.max_points_per_centroid = -1; }},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        Matrix out;
        nmvec_kmeans_args a = kmeans_args(x, 10, 4, 3, out);
        for (float& v : out) v = 7.0f;
        c.edit(a);
        char err[200] = "";
        EXPECT_EQ(nmvec_faiss_kmeans(&a, err, sizeof(err)), NMVEC_FAISS_BAD_ARGUMENT);
        EXPECT_EQ(std::string(err).rfind("k-means: ", 0), 0u) << err;
        EXPECT_GT(std::string(err).size(), 9u);
        for (float v : out) EXPECT_EQ(v, 7.0f);
    }
    char err[200];
    EXPECT_EQ(nmvec_faiss_kmeans(nullptr, err, sizeof(err)), NMVEC_FAISS_BAD_ARGUMENT);
    EXPECT_STREQ(err, "k-means: args is NULL");
    // err may be NULL with errcap 0, and a tiny buffer is truncated, not overrun.
    EXPECT_EQ(nmvec_faiss_kmeans(nullptr, nullptr, 0), NMVEC_FAISS_BAD_ARGUMENT);
    char tiny[5] = {'x', 'x', 'x', 'x', 'x'};
    EXPECT_EQ(nmvec_faiss_kmeans(nullptr, tiny, 4), NMVEC_FAISS_BAD_ARGUMENT);
    EXPECT_STREQ(tiny, "k-m");
    EXPECT_EQ(tiny[4], 'x');
}

TEST(FaissKmeans, NonFiniteInputIsAFaissError) {
    Matrix x = uniform(100, 4, 9);
    x[37] = std::numeric_limits<float>::quiet_NaN();
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 100, 4, 5, c);
    char err[512] = "";
    EXPECT_EQ(nmvec_faiss_kmeans(&a, err, sizeof(err)), NMVEC_FAISS_ERROR);
    EXPECT_NE(std::string(err).find("NaN"), std::string::npos) << err;
    EXPECT_EQ(std::string(err).rfind("faiss: ", 0), 0u) << err;
}

TEST(FaissKmeans, OverflowingInputIsAnError) {
    // Finite, but the squared distances overflow float.
    Matrix x = uniform(200, 4, 16, -3e19f, 3e19f);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 200, 4, 5, c);
    char err[512] = "";
    EXPECT_EQ(nmvec_faiss_kmeans(&a, err, sizeof(err)), NMVEC_FAISS_ERROR);
    EXPECT_NE(std::string(err).find("non-finite"), std::string::npos) << err;
}

TEST(FaissKmeans, InterruptAtOnce) {
    Matrix x = uniform(20000, 16, 10);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 20000, 16, 100, c);
    a.iterations = 1000;
    CountingInterrupt in;
    in.fire_at = 1;
    a.interrupted = CountingInterrupt::fn;
    a.interrupt_arg = &in;
    char err[200] = "x";
    EXPECT_EQ(nmvec_faiss_kmeans(&a, err, sizeof(err)), NMVEC_FAISS_INTERRUPTED);
    EXPECT_EQ(in.calls, 1);  // checked before any work
    EXPECT_STREQ(err, "");
    EXPECT_EQ(faiss::InterruptCallback::instance.get(), nullptr);
}

TEST(FaissKmeans, InterruptInsideFaiss) {
    // The hook is asked once before FAISS starts, then in every iteration
    // once by the assignment step (one slice here) and twice by
    // faiss::Clustering: the 10th call comes from inside FAISS, long before
    // the 1000th iteration. The hook is sticky: no call after the "yes".
    Matrix x = uniform(20000, 16, 11);
    for (int fire_at : {2, 10}) {
        SCOPED_TRACE("fire_at " + std::to_string(fire_at));
        Matrix c;
        nmvec_kmeans_args a = kmeans_args(x, 20000, 16, 100, c);
        a.iterations = 1000;
        a.threads = 2;
        CountingInterrupt in;
        in.fire_at = fire_at;
        a.interrupted = CountingInterrupt::fn;
        a.interrupt_arg = &in;
        nmvec_kmeans_stats stats{-1, -1};
        a.stats = &stats;
        EXPECT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_INTERRUPTED);
        EXPECT_EQ(in.calls, fire_at);
        EXPECT_EQ(stats.iterations, -1);  // not written
        // The callback ran on the calling thread under the call's settings.
        EXPECT_EQ(in.omp_threads_seen, 2);
        // Uninstalled: a second call without a callback runs to the end.
        EXPECT_EQ(faiss::InterruptCallback::instance.get(), nullptr);
        nmvec_kmeans_args b = kmeans_args(x, 20000, 16, 100, c);
        b.iterations = 3;
        ASSERT_EQ(nmvec_faiss_kmeans(&b, nullptr, 0), NMVEC_FAISS_OK);
    }
}

TEST(FaissKmeans, CallbackThatNeverFiresIsAskedRepeatedly) {
    Matrix x = uniform(20000, 16, 12);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 20000, 16, 100, c);
    a.iterations = 4;
    CountingInterrupt in;
    a.interrupted = CountingInterrupt::fn;
    a.interrupt_arg = &in;
    ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
    // Once before FAISS starts, then per iteration once in the assignment
    // (20000 x 100 x 16 multiply-adds: one slice) and twice in Clustering.
    EXPECT_EQ(in.calls, 1 + 3 * 4);
}

TEST(FaissKmeans, LongAssignmentIsCheckedInSlices) {
    // 40000 x 256 centroids x 256 dims = 2.6e9 multiply-adds: two slices of
    // at most 2^31, so one iteration asks 1 + 2 + 2 times.
    Matrix x = uniform(40000, 256, 15);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 40000, 256, 256, c);
    a.iterations = 1;
    a.threads = 2;
    CountingInterrupt in;
    a.interrupted = CountingInterrupt::fn;
    a.interrupt_arg = &in;
    ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
    EXPECT_EQ(in.calls, 5);
}

/// Stands for a hook someone else installed: it would stop every FAISS call.
struct AlwaysInterrupt : faiss::InterruptCallback {
    bool want_interrupt() override { return true; }
};

TEST(FaissKmeans, ForeignHookIsSetAsideAndRestored) {
    auto* foreign = new AlwaysInterrupt;
    faiss::InterruptCallback::instance.reset(foreign);
    Matrix x = uniform(5000, 8, 13);
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 5000, 8, 10, c);
    EXPECT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
    EXPECT_EQ(faiss::InterruptCallback::instance.get(), foreign);
    faiss::InterruptCallback::clear_instance();
}

using BlasGet = int (*)();

BlasGet openblas_get() { return reinterpret_cast<BlasGet>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")); }

TEST(FaissKmeans, ThreadSettingsAreRestored) {
    const int omp_before = omp_get_max_threads();
    BlasGet blas_get = openblas_get();
    const int blas_before = blas_get ? blas_get() : 0;
    Matrix x = uniform(5000, 8, 14);
    for (int threads : {1, 2, 3}) {
        SCOPED_TRACE("threads " + std::to_string(threads));
        Matrix c;
        nmvec_kmeans_args a = kmeans_args(x, 5000, 8, 10, c);
        a.threads = threads;
        CountingInterrupt in;
        a.interrupted = CountingInterrupt::fn;
        a.interrupt_arg = &in;
        ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
        EXPECT_EQ(in.omp_threads_seen, threads);
        EXPECT_EQ(omp_get_max_threads(), omp_before);
        if (blas_get) {
            EXPECT_EQ(blas_get(), blas_before);
        }
    }
    // threads = 0 keeps the current settings during the call.
    Matrix c;
    nmvec_kmeans_args a = kmeans_args(x, 5000, 8, 10, c);
    a.threads = 0;
    CountingInterrupt in;
    a.interrupted = CountingInterrupt::fn;
    a.interrupt_arg = &in;
    ASSERT_EQ(nmvec_faiss_kmeans(&a, nullptr, 0), NMVEC_FAISS_OK);
    EXPECT_EQ(in.omp_threads_seen, omp_before);
}

// --- assign ----------------------------------------------------------------------

nmvec_assign_args assign_args(const Matrix& c, int64_t k, const Matrix& x, int64_t n, int64_t d,
                              std::vector<int32_t>& labels, std::vector<float>* dist) {
    labels.assign(size_t(n), -7);
    if (dist) dist->assign(size_t(n), -7.0f);
    nmvec_assign_args a{};
    a.centroids = c.data();
    a.k = k;
    a.d = d;
    a.x = x.data();
    a.n = n;
    a.metric = NMVEC_FAISS_METRIC_L2;
    a.threads = 2;
    a.labels = labels.data();
    a.distances = dist ? dist->data() : nullptr;
    return a;
}

void expect_assign_matches_brute_force(bool ip, int64_t n, int64_t k, int64_t d, int threads) {
    Matrix c = uniform(k, d, 20);
    Matrix x = uniform(n, d, 21);
    std::vector<int32_t> labels;
    std::vector<float> dist;
    nmvec_assign_args a = assign_args(c, k, x, n, d, labels, &dist);
    a.metric = ip ? NMVEC_FAISS_METRIC_INNER_PRODUCT : NMVEC_FAISS_METRIC_L2;
    a.threads = threads;
    char err[200];
    ASSERT_EQ(nmvec_faiss_assign(&a, err, sizeof(err)), NMVEC_FAISS_OK) << err;
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++) {
        const float* xi = x.data() + i * d;
        int64_t ref = nearest(xi, c, k, d, ip);
        ASSERT_GE(labels[size_t(i)], 0);
        ASSERT_LT(labels[size_t(i)], k);
        const float* got_c = c.data() + int64_t(labels[size_t(i)]) * d;
        const float* ref_c = c.data() + ref * d;
        // FAISS computes in float (|x|^2 + |c|^2 - 2<x,c> for L2): it may pick
        // another centroid only if that one is as near up to rounding.
        double got_v = ip ? dot(xi, got_c, d) : l2sq(xi, got_c, d);
        double ref_v = ip ? dot(xi, ref_c, d) : l2sq(xi, ref_c, d);
        ASSERT_NEAR(got_v, ref_v, 1e-4) << "row " << i;
        ASSERT_NEAR(dist[size_t(i)], got_v, 1e-4) << "row " << i;
        same += labels[size_t(i)] == ref;
    }
    EXPECT_GE(same, n - n / 1000) << "near-ties should be rare with random data";
}

TEST(FaissAssign, L2MatchesBruteForce) { expect_assign_matches_brute_force(false, 3000, 37, 24, 2); }
TEST(FaissAssign, InnerProductMatchesBruteForce) { expect_assign_matches_brute_force(true, 3000, 37, 24, 2); }
TEST(FaissAssign, OneThread) { expect_assign_matches_brute_force(false, 1000, 10, 8, 1); }
TEST(FaissAssign, FewVectors) { expect_assign_matches_brute_force(false, 7, 10, 8, 2); }

TEST(FaissAssign, SeveralChunksWithoutDistances) {
    // More rows than one search call takes (65536), so two chunks.
    const int64_t n = 70001, k = 9, d = 3;
    Matrix c = uniform(k, d, 22);
    Matrix x = uniform(n, d, 23);
    std::vector<int32_t> labels;
    nmvec_assign_args a = assign_args(c, k, x, n, d, labels, nullptr);
    ASSERT_EQ(nmvec_faiss_assign(&a, nullptr, 0), NMVEC_FAISS_OK);
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++) same += labels[size_t(i)] == nearest(x.data() + i * d, c, k, d, false);
    EXPECT_GE(same, n - n / 1000);
    EXPECT_EQ(*std::min_element(labels.begin(), labels.end()), 0);
    EXPECT_EQ(*std::max_element(labels.begin(), labels.end()), k - 1);
}

TEST(FaissAssign, NoVectorsIsFine) {
    Matrix c = uniform(3, 2, 24);
    nmvec_assign_args a{};
    a.centroids = c.data();
    a.k = 3;
    a.d = 2;
    EXPECT_EQ(nmvec_faiss_assign(&a, nullptr, 0), NMVEC_FAISS_OK);
}

TEST(FaissAssign, BadArgumentsAreRejected) {
    Matrix c = uniform(3, 2, 25);
    Matrix x = uniform(10, 2, 26);
    struct Case {
        const char* what;
        void (*edit)(nmvec_assign_args&);
    };
    const Case cases[] = {
        {"k = 0", [](nmvec_assign_args& a) { a.k = 0; }},
        {"k > INT32_MAX", [](nmvec_assign_args& a) { a.k = int64_t(1) << 31; }},
        {"d = 0", [](nmvec_assign_args& a) { a.d = 0; }},
        {"n < 0", [](nmvec_assign_args& a) { a.n = -1; }},
        {"n * d overflows",
         [](nmvec_assign_args& a) {
             a.n = int64_t(1) << 61;
             a.d = 2;
         }},
        {"centroids NULL", [](nmvec_assign_args& a) { a.centroids = nullptr; }},
        {"x NULL", [](nmvec_assign_args& a) { a.x = nullptr; }},
        {"labels NULL", [](nmvec_assign_args& a) { a.labels = nullptr; }},
        {"metric", [](nmvec_assign_args& a) { a.metric = 2; }},
        {"threads < 0", [](nmvec_assign_args& a) { a.threads = -1; }},
    };
    for (const Case& cs : cases) {
        SCOPED_TRACE(cs.what);
        std::vector<int32_t> labels;
        nmvec_assign_args a = assign_args(c, 3, x, 10, 2, labels, nullptr);
        cs.edit(a);
        char err[200] = "";
        EXPECT_EQ(nmvec_faiss_assign(&a, err, sizeof(err)), NMVEC_FAISS_BAD_ARGUMENT);
        EXPECT_EQ(std::string(err).rfind("assign: ", 0), 0u) << err;
        for (int32_t l : labels) EXPECT_EQ(l, -7);
    }
    EXPECT_EQ(nmvec_faiss_assign(nullptr, nullptr, 0), NMVEC_FAISS_BAD_ARGUMENT);
}

TEST(FaissAssign, NaNRowIsAnError) {
    Matrix c = uniform(4, 3, 27);
    Matrix x = uniform(50, 3, 28);
    x[3 * 20 + 1] = std::numeric_limits<float>::quiet_NaN();
    std::vector<int32_t> labels;
    nmvec_assign_args a = assign_args(c, 4, x, 50, 3, labels, nullptr);
    char err[200] = "";
    EXPECT_EQ(nmvec_faiss_assign(&a, err, sizeof(err)), NMVEC_FAISS_ERROR);
    EXPECT_NE(std::string(err).find("vector 20 "), std::string::npos) << err;
}

TEST(FaissAssign, OverflowingRowIsAnError) {
    Matrix c = uniform(4, 3, 31);
    Matrix x = uniform(50, 3, 32);
    x[3 * 33] = 3e38f;
    std::vector<int32_t> labels;
    nmvec_assign_args a = assign_args(c, 4, x, 50, 3, labels, nullptr);
    char err[200] = "";
    EXPECT_EQ(nmvec_faiss_assign(&a, err, sizeof(err)), NMVEC_FAISS_ERROR);
    EXPECT_NE(std::string(err).find("vector 33 "), std::string::npos) << err;
}

TEST(FaissAssign, Interrupts) {
    const int64_t n = 200000, k = 16, d = 4;
    Matrix c = uniform(k, d, 29);
    Matrix x = uniform(n, d, 30);
    for (int fire_at : {1, 2, 5}) {
        SCOPED_TRACE("fire_at " + std::to_string(fire_at));
        std::vector<int32_t> labels;
        nmvec_assign_args a = assign_args(c, k, x, n, d, labels, nullptr);
        CountingInterrupt in;
        in.fire_at = fire_at;
        a.interrupted = CountingInterrupt::fn;
        a.interrupt_arg = &in;
        EXPECT_EQ(nmvec_faiss_assign(&a, nullptr, 0), NMVEC_FAISS_INTERRUPTED);
        EXPECT_EQ(in.calls, fire_at);
        EXPECT_EQ(faiss::InterruptCallback::instance.get(), nullptr);
    }
    std::vector<int32_t> labels;
    nmvec_assign_args a = assign_args(c, k, x, n, d, labels, nullptr);
    CountingInterrupt in;
    a.interrupted = CountingInterrupt::fn;
    a.interrupt_arg = &in;
    EXPECT_EQ(nmvec_faiss_assign(&a, nullptr, 0), NMVEC_FAISS_OK);
    // One check before each 65536-row chunk and one in its search.
    EXPECT_EQ(in.calls, 1 + 2 * 4);
}

}  // namespace
