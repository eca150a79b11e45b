// sha256.cpp — SHA-256 as specified in FIPS 180-4, section 6.2.
#include "sha256.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "sha256_kernels.h"

#if NMVEC_SHA256_SHANI
#include <cpuid.h>
#endif

namespace nmvec {

namespace {

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

inline uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

namespace detail {

void sha256_compress_portable(uint32_t state[8], const uint8_t* blocks, size_t n) noexcept {
    for (; n > 0; --n, blocks += 64) {
        const uint8_t* block = blocks;
        uint32_t w[64];
        for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
        for (int t = 16; t < 64; ++t) {
            uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; ++t) {
            uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = h + s1 + ch + detail::kSha256Round[t] + w[t];
            uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = s0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

}  // namespace detail

namespace {

bool cpu_has_shani() noexcept {
#if NMVEC_SHA256_SHANI
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool sha = b & (1u << 29);
    return ssse3 && sse41 && sha;
#else
    return false;
#endif
}

detail::Sha256CompressFn kernel_fn(Sha256Kernel k) noexcept {
#if NMVEC_SHA256_SHANI
    if (k == Sha256Kernel::ShaNi) return detail::sha256_compress_shani;
#endif
    (void)k;
    return detail::sha256_compress_portable;
}

/// The kernel in use, chosen on first use.
std::atomic<detail::Sha256CompressFn> g_compress{nullptr};
std::atomic<Sha256Kernel> g_kernel{Sha256Kernel::Portable};

detail::Sha256CompressFn compress_fn() noexcept {
    detail::Sha256CompressFn f = g_compress.load(std::memory_order_relaxed);
    if (f) return f;
    const Sha256Kernel k = cpu_has_shani() ? Sha256Kernel::ShaNi : Sha256Kernel::Portable;
    g_kernel.store(k, std::memory_order_relaxed);
    f = kernel_fn(k);
    g_compress.store(f, std::memory_order_relaxed);
    return f;
}

}  // namespace

bool sha256_kernel_supported(Sha256Kernel k) noexcept {
    return k == Sha256Kernel::Portable || cpu_has_shani();
}

Sha256Kernel sha256_kernel() noexcept {
    compress_fn();
    return g_kernel.load(std::memory_order_relaxed);
}

bool sha256_use_kernel(Sha256Kernel k) noexcept {
    if (!sha256_kernel_supported(k)) return false;
    g_kernel.store(k, std::memory_order_relaxed);
    g_compress.store(kernel_fn(k), std::memory_order_relaxed);
    return true;
}

const char* sha256_kernel_name(Sha256Kernel k) noexcept {
    return k == Sha256Kernel::ShaNi ? "sha-ni" : "portable";
}

void Sha256::reset() noexcept {
    // Initial hash value (FIPS 180-4, 5.3.3).
    state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    buf_len_ = 0;
    total_len_ = 0;
}

void Sha256::compress(const uint8_t* blocks, size_t n) noexcept { compress_fn()(state_.data(), blocks, n); }

void Sha256::update(const void* data, size_t len) noexcept {
    const auto* p = static_cast<const uint8_t*>(data);
    total_len_ += len;
    if (buf_len_ > 0) {
        size_t take = std::min(len, buf_.size() - buf_len_);
        std::memcpy(buf_.data() + buf_len_, p, take);
        buf_len_ += take;
        p += take;
        len -= take;
        if (buf_len_ < buf_.size()) return;
        compress(buf_.data(), 1);
        buf_len_ = 0;
    }
    if (len >= 64) {
        compress(p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    if (len > 0) {
        std::memcpy(buf_.data(), p, len);
        buf_len_ = len;
    }
}

void Sha256::update_u64_le(uint64_t v) noexcept {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    update(b, sizeof b);
}

void Sha256::update_u32_le(uint32_t v) noexcept {
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    update(b, sizeof b);
}

Sha256Digest Sha256::finish() noexcept {
    // Padding (FIPS 180-4, 5.1.1): a 1 bit, zeros up to 56 mod 64, then the
    // message length in bits as a 64-bit big-endian integer.
    uint64_t bits = total_len_ * 8;
    uint8_t pad[72] = {0x80};
    size_t pad_len = (buf_len_ < 56 ? 56 : 120) - buf_len_;
    for (int i = 0; i < 8; ++i) pad[pad_len + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    update(pad, pad_len + 8);

    Sha256Digest out;
    for (int i = 0; i < 8; ++i) {
        out[4 * i] = static_cast<uint8_t>(state_[i] >> 24);
        out[4 * i + 1] = static_cast<uint8_t>(state_[i] >> 16);
        out[4 * i + 2] = static_cast<uint8_t>(state_[i] >> 8);
        out[4 * i + 3] = static_cast<uint8_t>(state_[i]);
    }
    return out;
}

Sha256Digest sha256(std::string_view data) noexcept {
    Sha256 h;
    h.update(data);
    return h.finish();
}

void to_hex(const Sha256Digest& d, char* out) noexcept {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (size_t i = 0; i < d.size(); ++i) {
        out[2 * i] = kDigits[d[i] >> 4];
        out[2 * i + 1] = kDigits[d[i] & 15];
    }
}

std::string to_hex(const Sha256Digest& d) {
    std::string s(64, '\0');
    to_hex(d, s.data());
    return s;
}

}  // namespace nmvec
