// build_info.h — a one-line description of this build (version, kernels in
// use), for nmvec_build_info() and benchmark reports. FAISS is described by
// nmvec_faiss.so (src/faiss/), which nmvec.so does not link.
#pragma once

#include <cstddef>

namespace nmvec {

constexpr const char* kVersion = "0.1.0";

/// Write the description, NUL-terminated and truncated to cap, into buf.
void build_info(char* buf, size_t cap) noexcept;

}  // namespace nmvec
