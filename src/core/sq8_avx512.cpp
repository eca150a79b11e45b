// sq8_avx512.cpp — AVX-512 kernel for sq8 estimates (contract in sq8.h).
// Compiled with AVX-512 F/BW/DQ/VL (file-name suffix); run only when
// cpu_supports(SimdLevel::AVX512). As the AVX2 kernel, 32 dimensions per
// vpmaddwd; the last n % 32 are read with a masked load (no read past the
// code). Exact, so the same integer as the scalar loop.
// GCC 12's _mm512_undefined_* trip -Wuninitialized (GCC bug 105593), as in
// distance_avx512.cpp: silence just those two.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "sq8.h"

namespace nmvec::sq8 {

namespace {

inline int64_t hsum_epi32_wide(__m512i v) {
    const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
    const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
    return _mm512_reduce_add_epi64(_mm512_add_epi64(lo, hi));
}

int64_t dot_u8_i16(const uint8_t* c, const int16_t* w, size_t n) {
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i x0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i)));
        const __m512i x1 =
            _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i + 32)));
        acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(x0, _mm512_loadu_si512(w + i)));
        acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(x1, _mm512_loadu_si512(w + i + 32)));
    }
    for (; i < n; i += 32) {
        const size_t left = n - i < 32 ? n - i : 32;
        const __mmask32 m = left == 32 ? ~__mmask32{0} : ((__mmask32{1} << left) - 1);
        const __m512i x = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, c + i));
        acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(x, _mm512_maskz_loadu_epi16(m, w + i)));
    }
    return hsum_epi32_wide(acc0) + hsum_epi32_wide(acc1);
}

// u8 * s8 pairs into int16 (vpmaddubsw: no saturation for |w| <=
// kQueryLevels8), pairs of those into int32 (vpmaddwd by 1); two rows at a
// time for independent chains.
void dot_u8_i8_rows(const uint8_t* codes, size_t rows, const int8_t* w, size_t n, int32_t* out) {
    const __m512i ones = _mm512_set1_epi16(1);
    size_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const uint8_t* c0 = codes + r * n;
        const uint8_t* c1 = c0 + n;
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        for (size_t i = 0; i < n; i += 64) {
            const __m512i q = _mm512_load_si512(w + i);
            a0 = _mm512_add_epi32(
                a0, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_load_si512(c0 + i), q), ones));
            a1 = _mm512_add_epi32(
                a1, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_load_si512(c1 + i), q), ones));
        }
        out[r] = _mm512_reduce_add_epi32(a0);
        out[r + 1] = _mm512_reduce_add_epi32(a1);
    }
    for (; r < rows; ++r) {
        const uint8_t* c = codes + r * n;
        __m512i a = _mm512_setzero_si512();
        for (size_t i = 0; i < n; i += 64)
            a = _mm512_add_epi32(
                a, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_load_si512(c + i), _mm512_load_si512(w + i)),
                                     ones));
        out[r] = _mm512_reduce_add_epi32(a);
    }
}

// The same with AVX512_VNNI's vpdpbusd (u8 * s8, four products into each
// int32 lane in one instruction; no intermediate int16, so no saturation).
__attribute__((target("avx512vnni"))) void dot_u8_i8_rows_vnni(const uint8_t* codes, size_t rows,
                                                               const int8_t* w, size_t n, int32_t* out) {
    size_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const uint8_t* c0 = codes + r * n;
        const uint8_t* c1 = c0 + n;
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        for (size_t i = 0; i < n; i += 64) {
            const __m512i q = _mm512_load_si512(w + i);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_load_si512(c0 + i), q);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_load_si512(c1 + i), q);
        }
        out[r] = _mm512_reduce_add_epi32(a0);
        out[r + 1] = _mm512_reduce_add_epi32(a1);
    }
    for (; r < rows; ++r) {
        const uint8_t* c = codes + r * n;
        __m512i a = _mm512_setzero_si512();
        for (size_t i = 0; i < n; i += 64)
            a = _mm512_dpbusd_epi32(a, _mm512_load_si512(c + i), _mm512_load_si512(w + i));
        out[r] = _mm512_reduce_add_epi32(a);
    }
}

}  // namespace

const Kernels& kernels_avx512_no_vnni() {
    static const Kernels k = {dot_u8_i16, dot_u8_i8_rows};
    return k;
}

const Kernels& kernels_avx512() {
    static const Kernels k = {dot_u8_i16, cpu_has_vnni() ? dot_u8_i8_rows_vnni : dot_u8_i8_rows};
    return k;
}

}  // namespace nmvec::sq8
