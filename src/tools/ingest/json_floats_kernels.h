// json_floats_kernels.h — the AVX2 passes of Float32ArrayReader
// (json_floats_avx2.cpp), for json_floats.cpp's dispatch and its tests'.
#pragma once

#include <cstddef>
#include <cstdint>

// Built where the compiler targets x86-64 (the file is compiled with -mavx2
// -mbmi -mpopcnt there, see src/tools/CMakeLists.txt).
#if defined(__x86_64__) && defined(__GNUC__)
#define NMVEC_FLOATS_AVX2 1
#else
#define NMVEC_FLOATS_AVX2 0
#endif

namespace nmvec::ingest::detail {

#if NMVEC_FLOATS_AVX2
/// Pass 1: the first ']' after p (nullptr if none before end, or if more
/// than max_elems elements come before it), and the offsets from p of the
/// commas before it in ends[0, *commas) (ends has room for max_elems + 32).
const char* find_commas_avx2(const char* p, const char* end, size_t max_elems, uint32_t* ends,
                             size_t* commas);

/// Pass 2: the n + 1 elements between p, the commas and close, as float32
/// into out[0, n]; false if one is not a number Float32ArrayReader takes.
bool read_elements_avx2(const char* p, const char* end, const uint32_t* ends, size_t n, const char* close,
                        float* out);
#endif

}  // namespace nmvec::ingest::detail
