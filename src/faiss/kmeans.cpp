// kmeans.cpp — k-means training and nearest-centroid assignment through
// FAISS, behind the C entry points of nmvec_faiss_api.h (which documents the
// arguments and return codes).
//
// No Postgres here (the unit tests link this file alone); nmvec_faiss.cpp
// makes it part of nmvec_faiss.so. Three pieces of process-global state are
// set for the length of one call and restored afterwards, so calls are
// serialised by one mutex:
//  * FAISS's interrupt hook, faiss::InterruptCallback::instance.
//    InterruptCallback::check() asks it on the calling thread (faiss::Clustering
//    after each assignment step and each centroid update; NearestFlat below
//    before each slice of about 2^31 multiply-adds of an assignment step) and
//    throws a FaissException when the hook says stop. The hook we install
//    asks the caller's callback and remembers a "yes", so an interrupt is
//    told apart from other FAISS errors and stays set for the rest of the
//    call. It holds no lock and touches nothing but an atomic, so it is also
//    safe where FAISS asks from OpenMP threads (is_interrupted()).
//  * The OpenMP thread count of the calling thread (omp_set_num_threads).
//  * OpenBLAS's thread count, set to 1 for the call (see NearestFlat below).
//    We do not link against OpenBLAS (the BLAS is whatever libblas.so.3 is,
//    per Debian's alternatives); openblas_set_num_threads is looked up at run
//    time and skipped if the BLAS is another one.
//
// The expensive part of both k-means and assign is finding each vector's
// nearest centroid. FAISS's IndexFlat does it block by block with one
// multi-threaded matrix product per 4096 x 1024 block and then an OpenMP pass
// over the block; on 2 cores the BLAS and OpenMP thread pools take turns and
// spin while waiting, and 2 threads were only ~1.4x faster than 1. NearestFlat
// instead runs one OpenMP loop over small blocks of vectors, each thread doing
// its block's inner products with a single-threaded sgemm and picking the
// nearest centroid itself: ~2x on 2 cores and ~1.2x faster on 1 (measured
// with 100k x 384-d vectors and 1000 centroids).
#ifdef PG_VERSION_NUM
#error "kmeans.cpp must not include Postgres headers"
#endif

#include "nmvec_faiss_api.h"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/utils/distances.h>

#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

// The Fortran BLAS matrix product (column-major), as libblas.so.3 exports it.
extern "C" int sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                      const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                      const float* beta, float* c, const int* ldc);

namespace {

using idx_t = faiss::Index::idx_t;

/// Serialises the entry points (see the top of the file).
std::mutex g_call_mutex;

/// Vectors searched per faiss::Index::search call in assign, between our own
/// interrupt checks; also bounds the temporary label/distance buffers.
constexpr int64_t kAssignChunk = 65536;

void set_error(char* err, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

void set_error(char* err, size_t cap, const char* fmt, ...) {
    if (err == nullptr || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/// True if rows x cols floats fit in int64_t bytes (both > 0).
bool floats_fit(int64_t rows, int64_t cols) {
    const int64_t max_floats = std::numeric_limits<int64_t>::max() / int64_t(sizeof(float));
    return rows <= max_floats / cols;
}

/// The caller's callback as FAISS's interrupt hook.
class CallerInterrupt final : public faiss::InterruptCallback {
 public:
    CallerInterrupt(nmvec_faiss_interrupt_fn fn, void* arg) : fn_(fn), arg_(arg) {}

    bool want_interrupt() override {
        if (fired_.load(std::memory_order_relaxed)) return true;
        if (fn_ != nullptr && fn_(arg_) != 0) {
            fired_.store(true, std::memory_order_relaxed);
            return true;
        }
        return false;
    }

    bool fired() const { return fired_.load(std::memory_order_relaxed); }

 private:
    nmvec_faiss_interrupt_fn fn_;
    void* arg_;
    std::atomic<bool> fired_{false};
};

/// Installs a CallerInterrupt as FAISS's hook for its lifetime and puts back
/// whatever was installed before (normally nothing). Installed even without
/// a caller callback, so that a hook left by someone else cannot stop us.
class InterruptScope {
 public:
    InterruptScope(nmvec_faiss_interrupt_fn fn, void* arg) {
        auto mine = std::make_unique<CallerInterrupt>(fn, arg);
        hook_ = mine.get();
        std::lock_guard<std::mutex> guard(faiss::InterruptCallback::lock);
        previous_ = std::move(faiss::InterruptCallback::instance);
        faiss::InterruptCallback::instance = std::move(mine);
    }
    ~InterruptScope() {
        std::unique_ptr<faiss::InterruptCallback> mine;
        std::lock_guard<std::mutex> guard(faiss::InterruptCallback::lock);
        mine = std::move(faiss::InterruptCallback::instance);
        faiss::InterruptCallback::instance = std::move(previous_);
    }
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;

    CallerInterrupt& hook() { return *hook_; }

 private:
    CallerInterrupt* hook_;
    std::unique_ptr<faiss::InterruptCallback> previous_;
};

/// OpenBLAS's thread-count functions, if the process's BLAS is OpenBLAS.
struct BlasThreadFns {
    void (*set)(int) = nullptr;
    int (*get)() = nullptr;
};

const BlasThreadFns& blas_thread_fns() {
    static const BlasThreadFns fns = [] {
        BlasThreadFns f;
        // RTLD_DEFAULT finds it when libblas.so.3 (and so libopenblas.so.0)
        // is in the global scope: the unit tests, and a backend, which
        // dlopens modules with RTLD_GLOBAL. Otherwise ask the loaded
        // OpenBLAS directly; RTLD_NOLOAD never loads a library that is not
        // already there.
        void* set = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
        void* get = dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
        if (set == nullptr || get == nullptr) {
            void* lib = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
            if (lib != nullptr) {  // kept open: we keep its function pointers
                set = dlsym(lib, "openblas_set_num_threads");
                get = dlsym(lib, "openblas_get_num_threads");
            }
        }
        if (set != nullptr && get != nullptr) {
            f.set = reinterpret_cast<void (*)(int)>(set);
            f.get = reinterpret_cast<int (*)()>(get);
        }
        return f;
    }();
    return fns;
}

/// For its lifetime: OpenMP threads = `threads` (if > 0) and OpenBLAS
/// threads = 1 (NearestFlat calls sgemm from every OpenMP thread); restores
/// the previous counts.
class ThreadScope {
 public:
    explicit ThreadScope(int threads) {
        if (threads > 0) {
            omp_before_ = omp_get_max_threads();
            omp_set_num_threads(threads);
        }
        const BlasThreadFns& blas = blas_thread_fns();
        if (blas.set != nullptr) {
            blas_before_ = blas.get();
            if (blas_before_ != 1) blas.set(1);
        }
    }
    ~ThreadScope() {
        if (omp_before_ > 0) omp_set_num_threads(omp_before_);
        const BlasThreadFns& blas = blas_thread_fns();
        if (blas_before_ > 0 && blas.get() != blas_before_) blas.set(blas_before_);
    }
    ThreadScope(const ThreadScope&) = delete;
    ThreadScope& operator=(const ThreadScope&) = delete;

 private:
    int omp_before_ = 0;
    int blas_before_ = 0;
};

/// An IndexFlat (L2 or inner product) whose k = 1 search is the blocked
/// nearest-centroid loop described at the top of the file; faiss::Clustering
/// uses it like IndexFlatL2/IP. Other searches are IndexFlat's.
class NearestFlat final : public faiss::IndexFlat {
 public:
    NearestFlat(idx_t d, bool inner_product)
        : faiss::IndexFlat(d, inner_product ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2) {}

    void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                const faiss::SearchParameters* params) const override {
        if (k != 1 || params != nullptr || ntotal < 1 || ntotal > std::numeric_limits<int>::max() ||
            d > std::numeric_limits<int>::max()) {
            faiss::IndexFlat::search(n, x, k, distances, labels, params);
            return;
        }
        nearest(n, x, distances, labels);
    }

 private:
    /// labels[i] = the nearest stored vector to x[i] (ties: lowest index),
    /// distances[i] its squared L2 distance or inner product. A label is
    /// always valid, even when distances overflow or are NaN (faiss::Clustering
    /// indexes arrays with it); the distance is then not finite. Checks FAISS's interrupt hook on this thread
    /// between slices of about 2^31 multiply-adds (~30-60 ms on one core).
    void nearest(idx_t n, const float* x, float* distances, idx_t* labels) const {
        const bool ip = metric_type == faiss::METRIC_INNER_PRODUCT;
        const int nc = int(ntotal);
        const int dim = int(d);
        const float* c = get_xb();
        std::vector<float> c_norms(size_t(nc), 0.0f);
        if (!ip) faiss::fvec_norms_L2sqr(c_norms.data(), c, size_t(dim), size_t(nc));

        // Rows per block: the block's nc inner products take about 2 MiB.
        const idx_t block = std::clamp<idx_t>((idx_t(1) << 19) / nc, 32, 1024);
        const int threads = std::max(1, omp_get_max_threads());
        const idx_t slice =
            std::max<idx_t>(block * threads, ((idx_t(1) << 31) / (idx_t(nc) * dim)) / block * block);
        std::vector<float> scratch(size_t(threads) * size_t(block) * size_t(nc));

        for (idx_t s0 = 0; s0 < n; s0 += slice) {
            faiss::InterruptCallback::check();
            const idx_t s1 = std::min(n, s0 + slice);
#pragma omp parallel for schedule(dynamic) num_threads(threads)
            for (idx_t b0 = s0; b0 < s1; b0 += block) {
                float* ipb = scratch.data() + size_t(omp_get_thread_num()) * size_t(block) * size_t(nc);
                const int m = int(std::min(block, s1 - b0));
                const float one = 1.0f, zero = 0.0f;
                // ipb (row-major m x nc) = x[b0 .. b0 + m) c^T.
                sgemm_("T", "N", &nc, &m, &dim, &one, c, &dim, x + b0 * dim, &dim, &zero, ipb, &nc);
                for (int i = 0; i < m; i++) {
                    const float* row = ipb + size_t(i) * size_t(nc);
                    idx_t best_j = 0;
                    float best;
                    if (ip) {
                        best = row[0];
                        for (int j = 1; j < nc; j++) {
                            if (row[j] > best) best = row[j], best_j = j;
                        }
                    } else {
                        // |x - c|^2 = |x|^2 + (|c|^2 - 2 <x, c>): the first
                        // term is the same for every centroid.
                        best = c_norms[0] - 2.0f * row[0];
                        for (int j = 1; j < nc; j++) {
                            const float v = c_norms[size_t(j)] - 2.0f * row[j];
                            if (v < best) best = v, best_j = j;
                        }
                        const float* xi = x + (b0 + i) * dim;
                        best += faiss::fvec_norm_L2sqr(xi, size_t(dim));
                        if (best < 0.0f) best = 0.0f;  // cancellation; keeps NaN
                    }
                    labels[b0 + i] = best_j;
                    distances[b0 + i] = best;
                }
            }
        }
    }
};

std::unique_ptr<faiss::IndexFlat> make_flat_index(int64_t d, bool inner_product) {
    return std::make_unique<NearestFlat>(idx_t(d), inner_product);
}

/// Scales each non-zero row of m (rows x d) to unit L2 norm.
void normalize_rows(float* m, int64_t rows, int64_t d) {
    for (int64_t i = 0; i < rows; i++) {
        float* row = m + i * d;
        double sq = 0;
        for (int64_t j = 0; j < d; j++) sq += double(row[j]) * row[j];
        if (sq > 0) {
            const float inv = float(1.0 / std::sqrt(sq));
            for (int64_t j = 0; j < d; j++) row[j] *= inv;
        }
    }
}

/// The argument checks of nmvec_faiss_kmeans: nullptr if fine, else why not.
const char* kmeans_args_problem(const nmvec_kmeans_args* a) {
    if (a == nullptr) return "args is NULL";
    if (a->x == nullptr) return "x is NULL";
    if (a->centroids == nullptr) return "centroids is NULL";
    if (a->d < 1 || a->d > std::numeric_limits<int32_t>::max()) return "d must be between 1 and INT32_MAX";
    if (a->n < 1 || a->n > std::numeric_limits<int32_t>::max()) return "n must be between 1 and INT32_MAX";
    if (a->k < 1 || a->k > a->n) return "k must be between 1 and n";
    if (!floats_fit(a->n, a->d)) return "n * d is too large";
    if (a->iterations < 1) return "iterations must be at least 1";
    if (a->threads < 0) return "threads must not be negative";
    if (a->max_points_per_centroid < 0) return "max_points_per_centroid must not be negative";
    return nullptr;
}

const char* assign_args_problem(const nmvec_assign_args* a) {
    if (a == nullptr) return "args is NULL";
    if (a->centroids == nullptr) return "centroids is NULL";
    if (a->x == nullptr && a->n > 0) return "x is NULL";
    if (a->labels == nullptr && a->n > 0) return "labels is NULL";
    if (a->d < 1 || a->d > std::numeric_limits<int32_t>::max()) return "d must be between 1 and INT32_MAX";
    if (a->k < 1 || a->k > std::numeric_limits<int32_t>::max()) return "k must be between 1 and INT32_MAX";
    if (a->n < 0) return "n must not be negative";
    if (!floats_fit(a->k, a->d)) return "k * d is too large";
    if (a->n > 0 && !floats_fit(a->n, a->d)) return "n * d is too large";
    if (a->metric != NMVEC_FAISS_METRIC_L2 && a->metric != NMVEC_FAISS_METRIC_INNER_PRODUCT)
        return "unknown metric";
    if (a->threads < 0) return "threads must not be negative";
    return nullptr;
}

int kmeans_body(const nmvec_kmeans_args& a, CallerInterrupt& hook, char* err, size_t errcap) {
    faiss::ClusteringParameters cp;
    cp.niter = a.iterations;
    cp.nredo = 1;
    cp.verbose = false;
    cp.spherical = a.spherical != 0;
    // FAISS warns on stderr (the server log) below 39 points per centroid;
    // whether that is enough is the caller's call.
    cp.min_points_per_centroid = 0;
    cp.max_points_per_centroid =
        a.max_points_per_centroid == 0 ? std::numeric_limits<int>::max() : a.max_points_per_centroid;
    // FAISS adds small numbers to the seed in int arithmetic.
    cp.seed = int(a.seed & 0x3fffffffu);

    faiss::Clustering clus(int(a.d), int(a.k), cp);
    std::unique_ptr<faiss::IndexFlat> index = make_flat_index(a.d, cp.spherical);
    clus.train(idx_t(a.n), a.x, *index);

    if (hook.fired()) return NMVEC_FAISS_INTERRUPTED;
    if (clus.centroids.size() != size_t(a.k) * size_t(a.d) || clus.iteration_stats.empty()) {
        set_error(err, errcap, "faiss k-means returned %zu floats and %zu iterations for k = %lld, d = %lld",
                  clus.centroids.size(), clus.iteration_stats.size(), (long long)a.k, (long long)a.d);
        return NMVEC_FAISS_ERROR;
    }
    // Finite input can still overflow float in the distances (components
    // beyond about 1e17 at 16,000 dimensions): say so instead of returning
    // infinite or NaN centroids.
    const float obj = clus.iteration_stats.back().obj;
    if (!std::isfinite(obj) || !std::all_of(clus.centroids.begin(), clus.centroids.end(),
                                            [](float v) { return std::isfinite(v); })) {
        set_error(err, errcap, "k-means gave non-finite distances or centroids (input values too large?)");
        return NMVEC_FAISS_ERROR;
    }
    std::memcpy(a.centroids, clus.centroids.data(), clus.centroids.size() * sizeof(float));
    // FAISS copies the points unnormalised when k == n.
    if (cp.spherical) normalize_rows(a.centroids, a.k, a.d);
    if (a.stats != nullptr) {
        a.stats->objective = obj;
        a.stats->iterations = int32_t(clus.iteration_stats.size());
    }
    return NMVEC_FAISS_OK;
}

int assign_body(const nmvec_assign_args& a, CallerInterrupt& hook, char* err, size_t errcap) {
    std::unique_ptr<faiss::IndexFlat> index =
        make_flat_index(a.d, a.metric == NMVEC_FAISS_METRIC_INNER_PRODUCT);
    index->add(idx_t(a.k), a.centroids);

    const int64_t chunk = std::min(a.n, kAssignChunk);
    std::vector<idx_t> labels(static_cast<size_t>(chunk));
    std::vector<float> distances(static_cast<size_t>(chunk));
    for (int64_t i0 = 0; i0 < a.n; i0 += chunk) {
        if (hook.want_interrupt()) return NMVEC_FAISS_INTERRUPTED;
        const int64_t m = std::min(chunk, a.n - i0);
        index->search(idx_t(m), a.x + i0 * a.d, 1, distances.data(), labels.data());
        if (hook.fired()) return NMVEC_FAISS_INTERRUPTED;
        for (int64_t i = 0; i < m; i++) {
            // NaN or overflowing components give a NaN or infinite distance
            // (and an arbitrary label).
            if (labels[size_t(i)] < 0 || labels[size_t(i)] >= a.k || !std::isfinite(distances[size_t(i)])) {
                set_error(err, errcap, "vector %lld has no nearest centroid (non-finite distance)",
                          (long long)(i0 + i));
                return NMVEC_FAISS_ERROR;
            }
            a.labels[i0 + i] = int32_t(labels[size_t(i)]);
        }
        if (a.distances != nullptr)
            std::memcpy(a.distances + i0, distances.data(), size_t(m) * sizeof(float));
    }
    return NMVEC_FAISS_OK;
}

/// Runs body under the call mutex, the thread settings and the interrupt
/// hook, translating every exception into a status code.
template <typename Body>
int guarded_call(int threads, nmvec_faiss_interrupt_fn fn, void* arg, char* err, size_t errcap, Body body) {
    try {
        std::lock_guard<std::mutex> serial(g_call_mutex);
        ThreadScope thread_scope(threads);
        InterruptScope interrupt_scope(fn, arg);
        CallerInterrupt& hook = interrupt_scope.hook();
        if (hook.want_interrupt()) return NMVEC_FAISS_INTERRUPTED;
        try {
            return body(hook);
        } catch (const faiss::FaissException& e) {
            if (hook.fired()) return NMVEC_FAISS_INTERRUPTED;
            set_error(err, errcap, "faiss: %s", e.what());
            return NMVEC_FAISS_ERROR;
        }
    } catch (const std::bad_alloc&) {
        set_error(err, errcap, "out of memory");
        return NMVEC_FAISS_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_error(err, errcap, "%s", e.what());
        return NMVEC_FAISS_ERROR;
    } catch (...) {
        set_error(err, errcap, "unknown C++ exception");
        return NMVEC_FAISS_ERROR;
    }
}

}  // namespace

extern "C" {

int nmvec_faiss_api_version(void) { return NMVEC_FAISS_API_VERSION; }

int nmvec_faiss_kmeans(const nmvec_kmeans_args* args, char* err, size_t errcap) {
    set_error(err, errcap, "%s", "");
    if (const char* problem = kmeans_args_problem(args)) {
        set_error(err, errcap, "k-means: %s", problem);
        return NMVEC_FAISS_BAD_ARGUMENT;
    }
    return guarded_call(args->threads, args->interrupted, args->interrupt_arg, err, errcap,
                        [&](CallerInterrupt& hook) { return kmeans_body(*args, hook, err, errcap); });
}

int nmvec_faiss_assign(const nmvec_assign_args* args, char* err, size_t errcap) {
    set_error(err, errcap, "%s", "");
    if (const char* problem = assign_args_problem(args)) {
        set_error(err, errcap, "assign: %s", problem);
        return NMVEC_FAISS_BAD_ARGUMENT;
    }
    if (args->n == 0) return NMVEC_FAISS_OK;
    return guarded_call(args->threads, args->interrupted, args->interrupt_arg, err, errcap,
                        [&](CallerInterrupt& hook) { return assign_body(*args, hook, err, errcap); });
}

}  // extern "C"
