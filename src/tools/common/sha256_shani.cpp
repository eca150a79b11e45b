// sha256_shani.cpp — the SHA-256 compression function on the x86 SHA
// extensions (SHA-NI: sha256rnds2, sha256msg1, sha256msg2; with SSSE3 and
// SSE4.1 for the byte and lane shuffles). Built with those instruction sets
// enabled; sha256.cpp calls it only when CPUID reports them. See sha256.h.
#include "sha256_kernels.h"

#if NMVEC_SHA256_SHANI

#include <immintrin.h>

namespace nmvec::detail {

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
                _mm_add_epi32(words, _mm_load_si128(reinterpret_cast<const __m128i*>(kSha256Round + 4 * g)));
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
