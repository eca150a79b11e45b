// build_info.cpp — see build_info.h.
#include "build_info.h"

#include <faiss/Index.h>
#include <faiss/utils/utils.h>

#include <cstdio>
#include <string>

#include "simd.h"

namespace nmvec {

void build_info(char* buf, size_t cap) noexcept {
    if (cap == 0) return;
    try {
        std::string faiss_opts = faiss::get_compile_options();
        std::snprintf(buf, cap, "nmvec %s; kernels: %s; faiss %d.%d.%d (%s)", kVersion,
                      simd_level_name(best_simd_level()), FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR,
                      FAISS_VERSION_PATCH, faiss_opts.c_str());
    } catch (...) {
        std::snprintf(buf, cap, "nmvec %s", kVersion);
    }
}

}  // namespace nmvec
