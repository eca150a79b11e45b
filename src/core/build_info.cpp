// build_info.cpp — see build_info.h.
#include "build_info.h"

#include <cstdio>

#include "simd.h"

namespace nmvec {

void build_info(char* buf, size_t cap) noexcept {
    if (cap == 0) return;
    std::snprintf(buf, cap, "nmvec %s; kernels: %s", kVersion, simd_level_name(best_simd_level()));
}

}  // namespace nmvec
