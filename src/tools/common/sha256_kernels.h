// sha256_kernels.h — the SHA-256 compression functions behind Sha256
// (sha256.h), for sha256.cpp's dispatch and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>

// The SHA-NI kernel is built where the compiler targets x86-64 (the file is
// compiled with -msha -msse4.1 there, see src/tools/CMakeLists.txt).
#if defined(__x86_64__) && defined(__GNUC__)
#define NMVEC_SHA256_SHANI 1
#else
#define NMVEC_SHA256_SHANI 0
#endif

namespace nmvec::detail {

/// Run the compression function over n 64-byte blocks, updating state.
using Sha256CompressFn = void (*)(uint32_t state[8], const uint8_t* blocks, size_t n) noexcept;

void sha256_compress_portable(uint32_t state[8], const uint8_t* blocks, size_t n) noexcept;
#if NMVEC_SHA256_SHANI
void sha256_compress_shani(uint32_t state[8], const uint8_t* blocks, size_t n) noexcept;
#endif

}  // namespace nmvec::detail
