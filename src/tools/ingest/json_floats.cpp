// json_floats.cpp — see json_floats.h.
//
// Two passes over an array. The first finds its commas and its ']' (16
// bytes at a time with SSE2, part of every x86-64). The second reads each
// element between them on its own, so that no element waits for the one
// before it (one at a time, the end of one number is where the next starts,
// and that chain of loads is what a number-by-number reader waits on).
//
// An element of the common form -?0.D+ (up to 16 digits D) is read as 16
// decimal places M, those past its end as 0, and d = M * 1e-16; any other
// number's digits are gathered into a 64-bit m with a decimal exponent e
// and, when m < 2^53 and |e| <= 22, d = m * 10^e. Either way d is within
// two units in the last place of the text's value, so rounding d to float32
// gives what strtof gives unless d lies close to halfway between two floats
// (or outside float32's normal range): those elements, and every form
// outside these, go to strtof itself.
#include "json_floats.h"

#include <atomic>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "json_floats_kernels.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nmvec::ingest {

namespace {

constexpr double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
/// 10^-k rounded to double (to nearest, as the compiler reads the literal).
constexpr double kNegPow10[23] = {1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
                                  1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
                                  1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};
constexpr uint64_t kPow10Int[20] = {1ULL,
                                    10ULL,
                                    100ULL,
                                    1000ULL,
                                    10000ULL,
                                    100000ULL,
                                    1000000ULL,
                                    10000000ULL,
                                    100000000ULL,
                                    1000000000ULL,
                                    10000000000ULL,
                                    100000000000ULL,
                                    1000000000000ULL,
                                    10000000000000ULL,
                                    100000000000000ULL,
                                    1000000000000000ULL,
                                    10000000000000000ULL,
                                    100000000000000000ULL,
                                    1000000000000000000ULL,
                                    10000000000000000000ULL};

/// Most digits a token may have here (simdjson and strtof read any number;
/// this only bounds the strtof copy below).
constexpr int kMaxDigits = 100;

inline bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// How many of the 8 bytes of v (first byte lowest) are ASCII digits before the first that is not.
inline int leading_digits(uint64_t v) {
    // A byte is a digit iff its high nibble is 3 and still 3 after adding 6.
    // A carry out of a byte (>= 0xfa, not a digit) only reaches later bytes.
    uint64_t t = (v & 0xf0f0f0f0f0f0f0f0ULL) | (((v + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4);
    uint64_t x = t ^ 0x3333333333333333ULL;  // zero bytes: digits
    return x == 0 ? 8 : __builtin_ctzll(x) / 8;
}

/// The value of 8 digits held as byte values 0 to 9, the most significant in the lowest byte.
inline uint32_t eight_digits(uint64_t v) {
    v = v * 10 + (v >> 8);  // bytes 0, 2, 4, 6: two-digit numbers
    const uint64_t mask = 0x000000ff000000ffULL;
    const uint64_t mul1 = 100 + (1000000ULL << 32);
    const uint64_t mul2 = 1 + (10000ULL << 32);
    return static_cast<uint32_t>((((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32);
}

/// The run of digits at p: m = m * 10^k + (its value), count += k. Returns
/// the first byte after it. m wraps once count passes 19 (the caller then
/// does not use it).
inline const char* digit_run(const char* p, const char* end, uint64_t& m, int& count) {
    while (end - p >= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        int n = leading_digits(v);
        if (n == 0) return p;
        uint64_t digits = (v << (8 * (8 - n))) & 0x0f0f0f0f0f0f0f0fULL;  // leading zero bytes = 0 digits
        m = m * kPow10Int[n] + eight_digits(digits);
        count += n;
        p += n;
        if (n < 8) return p;
        if (count > kMaxDigits) return p;
    }
    for (; p < end && is_digit(*p); ++p) {
        m = m * 10 + static_cast<unsigned>(*p - '0');
        ++count;
    }
    return p;
}

/// The float32 of the token [start, p) by strtof; p, or nullptr if it is
/// not finite or too long.
[[gnu::noinline, gnu::cold]] const char* by_strtof(const char* start, const char* p, float* out) {
    char buf[kMaxDigits + 16];
    const size_t len = static_cast<size_t>(p - start);
    if (len >= sizeof buf) return nullptr;  // many leading zeros
    std::memcpy(buf, start, len);
    buf[len] = '\0';
    const float f = std::strtof(buf, nullptr);
    if (!std::isfinite(f)) return nullptr;
    *out = f;
    return p;
}

/// The float32 of a token text [start, p) read as sign, digits m (count of
/// them, 19 at most for m to be exact) and decimal exponent e10; p, or
/// nullptr if not handled.
[[gnu::always_inline]] inline const char* finish(const char* start, const char* p, bool neg, bool integer,
                                                 uint64_t m, int count, int e10, float* out) {
    if (count > kMaxDigits) return nullptr;
    if (m == 0 && count <= 19) {
        // simdjson reads a bare "-0" as an integer, i.e. +0; let it decide.
        if (neg && integer) return nullptr;
        *out = neg ? -0.0f : 0.0f;
        return p;
    }
    if (count <= 19 && m < (uint64_t{1} << 53) && e10 >= -22 && e10 <= 22) {
        // m is exact, 10^e10 exact or within half a unit in the last place,
        // the product rounded once more: d is within 2 units in the last
        // place of the text's value (a division would be exact, but is
        // several times slower).
        const double d = static_cast<double>(m) * (e10 < 0 ? kNegPow10[-e10] : kPow10[e10]);
        // Within float32's normal range the 29 bits below float32's
        // precision say how far d is from halfway between two floats;
        // within 8 units of it, rounding d might not round the text as
        // strtof does.
        if (d >= 0x1p-126 && d < 0x1p128) {
            uint64_t bits;
            std::memcpy(&bits, &d, 8);
            const uint64_t low = bits & ((uint64_t{1} << 29) - 1);
            if (low - ((uint64_t{1} << 28) - 8) > 16) {
                const float f = static_cast<float>(d);
                if (std::isinf(f)) return nullptr;
                *out = neg ? -f : f;
                return p;
            }
        }
    }
    return by_strtof(start, p, out);
}

/// One number token at p < end (JSON grammar); nullptr if not handled.
[[gnu::noinline]] const char* number_general(const char* p, const char* end, float* out) {
    const char* start = p;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        if (++p == end) return nullptr;
    }
    if (!is_digit(*p)) return nullptr;
    uint64_t m = 0;
    int count = 0;
    if (*p == '0') {
        ++p;
        if (p < end && is_digit(*p)) return nullptr;  // a leading zero: not JSON
    } else {
        p = digit_run(p, end, m, count);
    }
    bool integer = true;
    int frac = 0;
    if (p < end && *p == '.') {
        integer = false;
        ++p;
        int before = count;
        p = digit_run(p, end, m, count);
        frac = count - before;
        if (frac == 0) return nullptr;
    }
    int exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        ++p;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        const char* es = p;
        for (; p < end && is_digit(*p) && p - es < 2; ++p) exp = exp * 10 + (*p - '0');
        if (p == es || (p < end && is_digit(*p))) return nullptr;  // none, or more than two digits
        if (eneg) exp = -exp;
    }
    return finish(start, p, neg, integer, m, count, exp - frac, out);
}

/// Masks of the first k bytes of 16, as two words: kFirstBytes[k][0] the
/// first 8 bytes, kFirstBytes[k][1] the next 8.
struct ByteMasks {
    uint64_t m[17][2];
    constexpr ByteMasks() : m() {
        for (int k = 0; k <= 16; ++k) {
            m[k][0] = k >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * k)) - 1;
            m[k][1] = k <= 8 ? 0 : k == 16 ? ~uint64_t{0} : (uint64_t{1} << (8 * (k - 8))) - 1;
        }
    }
};
constexpr ByteMasks kFirstBytes;

/// Zero bytes where v has an ASCII digit (other bytes nonzero; a carry out
/// of a byte >= 0xfa, itself not a digit, can only touch the bytes after it).
inline uint64_t non_digits(uint64_t v) {
    return ((v & 0xf0f0f0f0f0f0f0f0ULL) | (((v + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4)) ^
           0x3333333333333333ULL;
}

#if defined(__SSE2__)
/// The 16 bytes at p as 16 decimal places, those from k on counted as 0:
/// false unless the first k are digits.
inline bool sixteen_places(const char* p, int k, uint64_t* m) {
    const __m128i d = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8('0'));
    const unsigned digits =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)));
    const unsigned need = (1u << k) - 1;
    if ((digits & need) != need) return false;
    const __m128i places =
        _mm_and_si128(d, _mm_cmplt_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm_set1_epi8(static_cast<char>(k))));
    // Pairs, then fours, then eights of places, the more significant first
    // (every partial value fits its lane: 99, 9999, 99999999).
    const __m128i zero = _mm_setzero_si128();
    const __m128i w10 = _mm_set_epi16(1, 10, 1, 10, 1, 10, 1, 10);
    const __m128i twos = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(places, zero), w10),
                                         _mm_madd_epi16(_mm_unpackhi_epi8(places, zero), w10));
    const __m128i fours = _mm_madd_epi16(twos, _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100));
    const __m128i eights =
        _mm_madd_epi16(_mm_packs_epi32(fours, fours), _mm_set_epi16(1, 10000, 1, 10000, 1, 10000, 1, 10000));
    const uint64_t both = static_cast<uint64_t>(_mm_cvtsi128_si64(eights));
    *m = (both & 0xffffffffu) * 100000000 + (both >> 32);
    return true;
}
#else
inline bool sixteen_places(const char* p, int k, uint64_t* m) {
    uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    const uint64_t ma = kFirstBytes.m[k][0], mb = kFirstBytes.m[k][1];
    if (((non_digits(a) & ma) | (non_digits(b) & mb)) != 0) return false;
    *m = uint64_t{eight_digits(a & ma & 0x0f0f0f0f0f0f0f0fULL)} * 100000000 +
         eight_digits(b & mb & 0x0f0f0f0f0f0f0f0fULL);
    return true;
}
#endif

/// One element [s, e) (e is the ',' or ']' after it; 19 bytes readable from
/// s): the common form -?0.D+ with 1 to 16 digits D read without branching
/// on the digits; anything else by number_general.
///
/// The 16 bytes after "0." are read as 16 digit places, those past the
/// token counted as 0, which gives M = D * 10^(16 - k) for the k digits D;
/// then d = M * 1e-16 (a double within 2 units in the last place of 0.D:
/// M converted, 1e-16 and the product each rounded once). Where d is not
/// within 16 units of halfway between two floats, (float)d is what strtof
/// gives for the text.
[[gnu::always_inline]] inline bool element(const char* s, const char* e, float* out) {
    const bool neg = *s == '-';
    const char* ds = s + neg + 2;  // the digits after "0."
    const long k = e - ds;
    if (s[neg] == '0' && s[neg + 1] == '.' && k >= 1 && k <= 16) {
        uint64_t m;
        if (sixteen_places(ds, static_cast<int>(k), &m)) {
            const double d = static_cast<double>(m) * 1e-16;
            uint64_t bits;
            std::memcpy(&bits, &d, 8);
            const uint64_t low = bits & ((uint64_t{1} << 29) - 1);
            if (d >= 0x1p-126 && low - ((uint64_t{1} << 28) - 16) > 32) {
                uint32_t fbits;
                const float f = static_cast<float>(d);
                std::memcpy(&fbits, &f, 4);
                fbits |= uint32_t{neg} << 31;
                std::memcpy(out, &fbits, 4);
                return true;
            }
        }
    }
    return number_general(s, e, out) == e;
}

/// Elements one at a time, whitespace allowed (the text of a JSON writer
/// that pretty-prints).
const char* array_general(const char* p, const char* end, size_t max_elems, std::vector<float>& out) {
    out.clear();
    while (p < end && is_ws(*p)) ++p;
    if (p == end || *p == ']') return nullptr;
    for (;;) {
        if (out.size() == max_elems) return nullptr;
        float f;
        const char* q = p;
        while (q < end && !is_ws(*q) && *q != ',' && *q != ']') ++q;
        if (q == p || number_general(p, q, &f) != q) return nullptr;
        out.push_back(f);
        p = q;
        while (p < end && is_ws(*p)) ++p;
        if (p == end) return nullptr;
        if (*p == ']') return p;
        if (*p != ',') return nullptr;
        ++p;
        while (p < end && is_ws(*p)) ++p;
        if (p == end) return nullptr;
    }
}

/// Set bits of a 16-bit mask (no POPCNT instruction needed).
inline unsigned popcount16(unsigned x) {
    x = x - ((x >> 1) & 0x5555);
    x = (x & 0x3333) + ((x >> 2) & 0x3333);
    x = (x + (x >> 4)) & 0x0f0f;
    return (x + (x >> 8)) & 0x1f;
}

}  // namespace

namespace {

bool cpu_has_avx2() noexcept {
#if NMVEC_FLOATS_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("popcnt");
#else
    return false;
#endif
}

std::atomic<int> g_kernel{-1};  // a Float32Kernel, -1 before the first read

Float32Kernel current_kernel() noexcept {
    int k = g_kernel.load(std::memory_order_relaxed);
    if (k < 0) {
        k = static_cast<int>(cpu_has_avx2() ? Float32Kernel::Avx2 : Float32Kernel::Baseline);
        g_kernel.store(k, std::memory_order_relaxed);
    }
    return static_cast<Float32Kernel>(k);
}

}  // namespace

bool float32_kernel_supported(Float32Kernel k) noexcept {
    return k == Float32Kernel::Baseline || cpu_has_avx2();
}

Float32Kernel float32_kernel() noexcept { return current_kernel(); }

bool float32_use_kernel(Float32Kernel k) noexcept {
    if (!float32_kernel_supported(k)) return false;
    g_kernel.store(static_cast<int>(k), std::memory_order_relaxed);
    return true;
}

const char* float32_kernel_name(Float32Kernel k) noexcept {
    return k == Float32Kernel::Avx2 ? "avx2" : "baseline";
}

const char* Float32ArrayReader::read(const char* p, const char* end, size_t max_elems,
                                     std::vector<float>& out) {
    const char* close = nullptr;
#if NMVEC_FLOATS_AVX2
    if (current_kernel() == Float32Kernel::Avx2) {
        if (ends_.size() < max_elems + 32) ends_.resize(max_elems + 32);
        size_t n = 0;
        close = detail::find_commas_avx2(p, end, max_elems, ends_.data(), &n);
        if (close && n + 1 <= max_elems) {
            out.resize(n + 1);
            if (detail::read_elements_avx2(p, end, ends_.data(), n, close, out.data())) return close;
        }
        return array_general(p, end, max_elems, out);
    }
#endif
    close = read_plain(p, end, max_elems, out);
    return close ? close : array_general(p, end, max_elems, out);
}

const char* Float32ArrayReader::read_plain(const char* p, const char* end, size_t max_elems,
                                           std::vector<float>& out) {
    // Pass 1: the first ']' and the commas before it. Nothing else is
    // looked at here: pass 2 checks that each piece between them is one
    // number (so a string, a nested array or whitespace fails there).
    if (ends_.size() < max_elems + 16) ends_.resize(max_elems + 16);
    uint32_t* ends = ends_.data();
    size_t n = 0;  // commas
    const char* close = nullptr;
    const char* q = p;
#if defined(__SSE2__)
    for (; end - q >= 16; q += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
        unsigned commas = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(','))));
        const unsigned rbr = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(']'))));
        if (rbr) {
            commas &= (rbr & (0u - rbr)) - 1;
            close = q + __builtin_ctz(rbr);
        }
        // Two offsets written whatever the count (a block has one or two
        // commas as a rule), a loop only for more.
        const uint32_t base = static_cast<uint32_t>(q - p);
        const unsigned count = popcount16(commas);
        ends[n] = base + static_cast<uint32_t>(__builtin_ctz(commas | 0x10000));
        commas &= commas - 1;
        ends[n + 1] = base + static_cast<uint32_t>(__builtin_ctz(commas | 0x10000));
        commas &= commas - 1;
        size_t at = n + 2;
        for (; commas; commas &= commas - 1) ends[at++] = base + static_cast<uint32_t>(__builtin_ctz(commas));
        n += count;
        if (n >= max_elems) return nullptr;
        if (close) break;
    }
#endif
    if (!close) {
        for (; q < end && *q != ']'; ++q) {
            if (*q == ',') {
                ends[n++] = static_cast<uint32_t>(q - p);
                if (n >= max_elems) return nullptr;
            }
        }
        if (q == end) return nullptr;
        close = q;
    }
    if (n + 1 > max_elems) return nullptr;
    // Pass 2: the elements, each on its own (none waits for the one before).
    out.resize(n + 1);
    float* o = out.data();
    const char* s = p;
    for (size_t i = 0; i <= n; ++i) {
        const char* e = i < n ? p + ends[i] : close;
        if (e - s < 1) return nullptr;
        if (end - s < 19) {  // near the end of the text: no 16-byte reads
            if (number_general(s, e, &o[i]) != e) return nullptr;
        } else if (!element(s, e, &o[i])) {
            return nullptr;
        }
        s = e + 1;
    }
    return close;
}

bool parse_float32_number(const char* text, size_t len, float* out) {
    if (len == 0) return false;
    const char* end = text + len;
    return number_general(text, end, out) == end;
}

}  // namespace nmvec::ingest
