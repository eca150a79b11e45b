// sq8_avx2.cpp — AVX2 kernel for sq8 estimates (contract in sq8.h).
// Compiled with -mavx2 -mfma -mf16c (file-name suffix); run only when
// cpu_supports(SimdLevel::AVX2). Code bytes are widened to 16 bits and
// multiplied with the int16 query by vpmaddwd into int32 lanes (no
// overflow for |w| <= kQueryLevels, sq8.h); the lanes are widened to int64
// at the end. Exact, so the same integer as the scalar loop.
#include <immintrin.h>

#include "sq8.h"

namespace nmvec::sq8 {

namespace {

inline int64_t hsum_epi32_wide(__m256i v) {
    const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
    const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
    const __m256i s4 = _mm256_add_epi64(lo, hi);
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
    return _mm_cvtsi128_si64(s2) + _mm_extract_epi64(s2, 1);
}

int64_t dot_u8_i16(const uint8_t* c, const int16_t* w, size_t n) {
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
        const __m256i x1 =
            _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i + 16)));
        acc0 = _mm256_add_epi32(
            acc0, _mm256_madd_epi16(x0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i))));
        acc1 = _mm256_add_epi32(
            acc1, _mm256_madd_epi16(x1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i + 16))));
    }
    if (i + 16 <= n) {
        const __m256i x0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
        acc0 = _mm256_add_epi32(
            acc0, _mm256_madd_epi16(x0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i))));
        i += 16;
    }
    int64_t s = hsum_epi32_wide(acc0) + hsum_epi32_wide(acc1);
    for (; i < n; ++i) s += static_cast<int64_t>(c[i]) * w[i];
    return s;
}

inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// u8 * s8 pairs into int16 (vpmaddubsw: no saturation for |w| <=
// kQueryLevels8), pairs of those into int32 (vpmaddwd by 1).
void dot_u8_i8_rows(const uint8_t* codes, size_t rows, const int8_t* w, size_t n, int32_t* out) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (size_t r = 0; r < rows; ++r) {
        const uint8_t* c = codes + r * n;
        __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
        for (size_t i = 0; i < n; i += 64) {
            const __m256i p0 =
                _mm256_maddubs_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(c + i)),
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(w + i)));
            const __m256i p1 =
                _mm256_maddubs_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(c + i + 32)),
                                     _mm256_load_si256(reinterpret_cast<const __m256i*>(w + i + 32)));
            acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(p0, ones));
            acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(p1, ones));
        }
        out[r] = hsum_epi32(_mm256_add_epi32(acc0, acc1));
    }
}

}  // namespace

const Kernels& kernels_avx2() {
    static const Kernels k = {dot_u8_i16, dot_u8_i8_rows};
    return k;
}

}  // namespace nmvec::sq8
