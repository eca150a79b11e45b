// build_info.h — a one-line description of this build (version, kernels in
// use, FAISS compile options), for nmvec_build_info() and benchmark reports.
#pragma once

#include <cstddef>

namespace nmvec {

constexpr const char* kVersion = "0.1.0";

/// Write the description, NUL-terminated and truncated to cap, into buf.
void build_info(char* buf, size_t cap) noexcept;

}  // namespace nmvec
