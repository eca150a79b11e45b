/* nmvec_faiss_api.h — the C entry points of nmvec_faiss.so: k-means training
 * and nearest-centroid assignment through FAISS, for the IVF index build.
 *
 * Plain C: no Postgres and no FAISS types, so nmvec.so (which never links
 * FAISS, see nmvec_faiss.cpp) and the unit tests can both include it.
 * nmvec.so resolves an entry point with
 *     (nmvec_faiss_kmeans_fn) load_external_function("$libdir/nmvec_faiss",
 *                                                     NMVEC_FAISS_KMEANS_SYMBOL, true, NULL)
 * Implemented in kmeans.cpp; exported by nmvec_faiss.cpp.
 *
 * Every entry point returns one of the nmvec_faiss_status codes and never
 * throws, longjmps or calls Postgres. On failure it writes a NUL-terminated
 * message into err (truncated to errcap bytes; err may be NULL when errcap is
 * 0); on success err holds "". Calls are serialised inside the process: FAISS's
 * interrupt hook and OpenBLAS's thread count are process-global. */
#ifndef NMVEC_FAISS_API_H
#define NMVEC_FAISS_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a struct below or an entry point's meaning changes; the
 * caller compares nmvec_faiss_api_version() with the value it was built with. */
#define NMVEC_FAISS_API_VERSION 1

#define NMVEC_FAISS_API_VERSION_SYMBOL "nmvec_faiss_api_version"
#define NMVEC_FAISS_KMEANS_SYMBOL "nmvec_faiss_kmeans"
#define NMVEC_FAISS_ASSIGN_SYMBOL "nmvec_faiss_assign"

enum nmvec_faiss_status {
    NMVEC_FAISS_OK = 0,
    /* The interrupt callback returned non-zero; outputs are unspecified. */
    NMVEC_FAISS_INTERRUPTED = 1,
    /* An argument is out of range or a required pointer is NULL; nothing was
     * computed and the outputs are untouched. */
    NMVEC_FAISS_BAD_ARGUMENT = 2,
    /* An allocation failed (std::bad_alloc). */
    NMVEC_FAISS_OUT_OF_MEMORY = 3,
    /* FAISS (or the C++ runtime) raised another error, e.g. non-finite input. */
    NMVEC_FAISS_ERROR = 4
};

/* Asked now and then, possibly from any thread, whether to stop: non-zero
 * means stop. It must be cheap, must not block and must not call Postgres
 * (in a backend: read a volatile flag such as InterruptPending). */
typedef int (*nmvec_faiss_interrupt_fn)(void* arg);

enum nmvec_faiss_metric {
    /* Nearest = smallest squared Euclidean distance. */
    NMVEC_FAISS_METRIC_L2 = 0,
    /* Nearest = largest inner product. */
    NMVEC_FAISS_METRIC_INNER_PRODUCT = 1
};

/* Filled by nmvec_faiss_kmeans on success. */
struct nmvec_kmeans_stats {
    /* At the last assignment step: the sum over the training points of the
     * squared L2 distance to the nearest centroid, or for spherical k-means
     * of the inner product with the most similar centroid. 0 when k == n. */
    double objective;
    /* Assignment/update iterations run (1 when k == n: no iteration needed). */
    int32_t iterations;
};

struct nmvec_kmeans_args {
    /* Training vectors, row-major float32, n x d, all finite. */
    const float* x;
    int64_t n;
    /* 1 <= d <= INT32_MAX. */
    int64_t d;
    /* 1 <= k <= n. n <= INT32_MAX (FAISS 1.7 numbers training points with
     * int) and n * d * sizeof(float) must fit in int64_t. */
    int64_t k;
    /* Assignment/update iterations, >= 1. */
    int32_t iterations;
    /* OpenMP threads for this call (the work is split into blocks over
     * OpenMP threads, each doing single-threaded BLAS; OpenBLAS, if that is
     * the BLAS, is set to 1 thread for the call); both are restored
     * afterwards. 0 = the process's current OpenMP setting. */
    int32_t threads;
    /* Seeds the initial centroids and any subsampling: the same input, seed
     * and threads give the same centroids. Only the low 30 bits are used. */
    uint32_t seed;
    /* Non-zero: spherical k-means for inner-product and cosine indexes:
     * points are assigned to the centroid of largest inner product and every
     * centroid is L2-normalised after each update (and on output). */
    int32_t spherical;
    /* FAISS's max_points_per_centroid: if n > k * this, FAISS trains on a
     * random sample of k * this points. 0 = use all n points (the caller has
     * sampled already). */
    int32_t max_points_per_centroid;
    /* Output: k x d centroids, row-major, allocated by the caller. */
    float* centroids;
    /* Optional (may be NULL): asked between blocks of work. */
    nmvec_faiss_interrupt_fn interrupted;
    void* interrupt_arg;
    /* Optional (may be NULL): statistics out. */
    struct nmvec_kmeans_stats* stats;
};

struct nmvec_assign_args {
    /* k x d centroids, row-major; 1 <= k <= INT32_MAX, 1 <= d <= INT32_MAX,
     * k * d * sizeof(float) fits in int64_t. */
    const float* centroids;
    int64_t k;
    int64_t d;
    /* n x d vectors to assign, row-major, n >= 0, n * d * sizeof(float) fits
     * in int64_t. */
    const float* x;
    int64_t n;
    /* enum nmvec_faiss_metric. */
    int32_t metric;
    /* As in nmvec_kmeans_args. */
    int32_t threads;
    /* Output, n entries: the index of the nearest centroid of each vector
     * (ties: the lowest index, up to float rounding). */
    int32_t* labels;
    /* Optional output (may be NULL), n entries: the squared L2 distance to,
     * or the inner product with, that centroid, as FAISS computes it (for L2
     * through |x|^2 + |c|^2 - 2<x,c>, so with float cancellation error).
     * A vector whose distance is not finite (NaN or overflowing components)
     * makes the call fail with NMVEC_FAISS_ERROR; labels and distances are
     * then written only partly. */
    float* distances;
    nmvec_faiss_interrupt_fn interrupted;
    void* interrupt_arg;
};

/* NMVEC_FAISS_API_VERSION of the library. */
typedef int (*nmvec_faiss_api_version_fn)(void);
int nmvec_faiss_api_version(void);

/* k-means: writes k centroids of args->x into args->centroids. */
typedef int (*nmvec_faiss_kmeans_fn)(const struct nmvec_kmeans_args* args, char* err, size_t errcap);
int nmvec_faiss_kmeans(const struct nmvec_kmeans_args* args, char* err, size_t errcap);

/* Nearest centroid of every vector of args->x. */
typedef int (*nmvec_faiss_assign_fn)(const struct nmvec_assign_args* args, char* err, size_t errcap);
int nmvec_faiss_assign(const struct nmvec_assign_args* args, char* err, size_t errcap);

#ifdef __cplusplus
}
#endif

#endif /* NMVEC_FAISS_API_H */
