// sha256.h — SHA-256 (FIPS 180-4), incremental, no dependencies.
//
// The ledger's block hash is a SHA-256 over a sequence of byte strings
// (src/tools/common/ledger.h); this is the hash function behind it.
// Implemented in sha256.cpp (portable C++) and sha256_shani.cpp (the x86 SHA
// extensions, used when the CPU has them: the same digests, several times
// faster); tested against the FIPS 180 example vectors with each.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nmvec {

/// A 32-byte SHA-256 digest.
using Sha256Digest = std::array<uint8_t, 32>;

/// Incremental SHA-256: update() any number of times, then finish() once.
class Sha256 {
 public:
    Sha256() noexcept { reset(); }

    /// Start a new message.
    void reset() noexcept;

    /// Append bytes to the message.
    void update(const void* data, size_t len) noexcept;
    void update(std::string_view s) noexcept { update(s.data(), s.size()); }

    /// Append an unsigned integer as little-endian bytes (Rust's to_le_bytes).
    void update_u64_le(uint64_t v) noexcept;
    void update_u32_le(uint32_t v) noexcept;

    /// Pad, return the digest. The object must be reset() before reuse.
    Sha256Digest finish() noexcept;

 private:
    void compress(const uint8_t* blocks, size_t n) noexcept;

    std::array<uint32_t, 8> state_{};
    std::array<uint8_t, 64> buf_{};
    size_t buf_len_ = 0;
    uint64_t total_len_ = 0;  ///< message length in bytes
};

/// The compression functions Sha256 can run on.
enum class Sha256Kernel {
    Portable,  ///< C++, any CPU
    ShaNi,     ///< x86 SHA extensions (with SSSE3 and SSE4.1)
};

/// Can this build and CPU run the kernel? (Portable: always.)
bool sha256_kernel_supported(Sha256Kernel k) noexcept;

/// The kernel in use: the fastest supported one, chosen at the first hash.
Sha256Kernel sha256_kernel() noexcept;

/// Use `k` from now on (for tests and benchmarks; not while other threads
/// hash). false, and nothing changes, if it is not supported.
bool sha256_use_kernel(Sha256Kernel k) noexcept;

/// "portable" or "sha-ni".
const char* sha256_kernel_name(Sha256Kernel k) noexcept;

/// SHA-256 of one byte string.
Sha256Digest sha256(std::string_view data) noexcept;

/// Lower-case hex of a digest (64 characters).
std::string to_hex(const Sha256Digest& d);

/// Write the 64 lower-case hex characters of `d` to out[0..64) (no NUL).
void to_hex(const Sha256Digest& d, char* out) noexcept;

}  // namespace nmvec
