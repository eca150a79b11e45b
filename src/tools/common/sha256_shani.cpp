// sha256_shani.cpp — the SHA-256 compression function on the x86 SHA
// extensions (SHA-NI: sha256rnds2, sha256msg1, sha256msg2; with SSSE3 and
// SSE4.1 for the byte and lane shuffles). Built with those instruction sets
// enabled; sha256.cpp calls it only when CPUID reports them. See sha256.h.
#include "sha256_kernels.h"

#if NMVEC_SHA256_SHANI

#include <immintrin.h>

namespace nmvec::detail {

namespace {

// The round constants (FIPS 180-4, 4.2.2), four per 128-bit load.
alignas(16) constexpr uint32_t kK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

}  // namespace

void sha256_compress_shani(uint32_t state[8], const uint8_t* blocks, size_t n) noexcept {
    // Lanes are written low to high: [x0, x1, x2, x3]. sha256rnds2 keeps the
    // working variables as ABEF = [F, E, B, A] and CDGH = [H, G, D, C].
    const __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));      // [A, B, C, D]
    const __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));  // [E, F, G, H]
    const __m128i badc = _mm_shuffle_epi32(abcd, 0xb1);                                 // [B, A, D, C]
    const __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1b);                                 // [H, G, F, E]
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);                                      // [F, E, B, A]
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xf0);                                   // [H, G, D, C]
    // Message words are big-endian.
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

    for (; n > 0; --n, blocks += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w[4];  // W[4g .. 4g+3] of the last four groups, group g in w[g % 4]
        for (int g = 0; g < 16; ++g) {
            __m128i words;
            if (g < 4) {
                words = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * g)),
                                         bswap);
            } else {
                // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a
                // time: msg1 adds s0 to groups g-4/g-3, alignr gives W[t-7..t-4]
                // from groups g-2/g-1, msg2 adds s1 (also of the new words).
                __m128i t = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                words = _mm_sha256msg2_epu32(t, w[(g + 3) & 3]);
            }
            w[g & 3] = words;
            const __m128i wk =
                _mm_add_epi32(words, _mm_load_si128(reinterpret_cast<const __m128i*>(kK + 4 * g)));
            // Two rounds on the low two words, two on the high two; each
            // call returns the new ABEF, and the old ABEF is the new CDGH.
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }

    const __m128i abef_r = _mm_shuffle_epi32(abef, 0x1b);  // [A, B, E, F]
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);    // [G, H, C, D]
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(abef_r, dchg, 0xf0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, abef_r, 8));
}

}  // namespace nmvec::detail

#endif  // NMVEC_SHA256_SHANI
