// nmvec_faiss.cpp — the part of nmvec that links FAISS, built as its own
// module (nmvec_faiss.so) and loaded only by the backend that needs it.
//
// FAISS links OpenMP, LAPACK and BLAS; on Debian, BLAS is OpenBLAS, whose
// library constructor starts a worker thread per core that spins for ~0.1 s.
// Linked into nmvec.so, that load cost every new connection ~10 ms at its
// first vector value and burned the other core meanwhile (the first query of
// a session ran ~10 % slower than pgvector's). So nmvec.so links none of it,
// and this module is loaded with load_external_function when FAISS is used:
// today by nmvec_build_info(), later by the IVF index's k-means training.
//
// Exports (C linkage, resolved by name with load_external_function):
//   nmvec_faiss_info          here;
//   nmvec_faiss_api_version,
//   nmvec_faiss_kmeans,
//   nmvec_faiss_assign        declared in nmvec_faiss_api.h, implemented in
//                             kmeans.cpp (Postgres-free, unit tested alone).
extern "C" {
#include "postgres.h"

#include "fmgr.h"
}

#include "nmvec_faiss_api.h"

#include <faiss/Index.h>
#include <faiss/utils/utils.h>

#include <cstdio>
#include <string>
#include <type_traits>

// The entry points must have the types nmvec.so casts them to.
static_assert(std::is_same_v<decltype(&nmvec_faiss_api_version), nmvec_faiss_api_version_fn>);
static_assert(std::is_same_v<decltype(&nmvec_faiss_kmeans), nmvec_faiss_kmeans_fn>);
static_assert(std::is_same_v<decltype(&nmvec_faiss_assign), nmvec_faiss_assign_fn>);

extern "C" {
PG_MODULE_MAGIC;

/// "faiss 1.7.3 (<compile options>)" into buf (NUL-terminated, truncated to
/// cap); 0 on success, -1 if FAISS threw. No Postgres call, no exception out.
int nmvec_faiss_info(char* buf, size_t cap);
}

int nmvec_faiss_info(char* buf, size_t cap) {
    if (cap == 0) return -1;
    try {
        std::string opts = faiss::get_compile_options();
        std::snprintf(buf, cap, "faiss %d.%d.%d (%s)", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR,
                      FAISS_VERSION_PATCH, opts.c_str());
        return 0;
    } catch (...) {
        std::snprintf(buf, cap, "faiss: error");
        return -1;
    }
}
