// rabitq_avx2.cpp — AVX2 integer kernels for RaBitQ estimates (contract in
// rabitq_impl.h). Compiled with -mavx2 -mfma -mf16c (file-name suffix); run
// only when cpu_supports(SimdLevel::AVX2).
//
// 1 bit: 256 code bits at a time are ANDed with the query's 4 bit planes and
// counted per byte with the nibble-table shuffle (Mula's method; AVX2 has no
// vector popcount); the weighted byte counts t0 + 2 t1 + 4 t2 (<= 56) and t3
// are summed with vpsadbw. The last 1..3 words of a code are read with
// vpmaskmovq, which neither reads nor faults past the mask.
// 4/8 bits: digits widened to 16 bits and multiplied with the int16 query by
// vpmaddwd; int32 lanes are widened to int64 every kRabitqFlushDims
// dimensions, before they could overflow (rabitq_impl.h).
// The float finish: 4 codes at a time in double, the same bits as the
// reference (see finish below).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "rabitq_fwht.h"
#include "rabitq_impl.h"

namespace nmvec {

namespace {

/// Per-byte popcount of x.
inline __m256i popcount_bytes(__m256i x) {
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,  //
                                           0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    const __m256i lo = _mm256_and_si256(x, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
    return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

inline int64_t hsum_epi64(__m256i v) {
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

/// Sum of the 8 int32 lanes, widened to int64 first.
inline int64_t hsum_epi32_wide(__m256i v) {
    const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
    const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
    return hsum_epi64(_mm256_add_epi64(lo, hi));
}

/// One 256-bit step of the 1-bit kernel: adds the weighted counts.
inline void b1_step(__m256i x, __m256i p0, __m256i p1, __m256i p2, __m256i p3, __m256i& pos, __m256i& neg) {
    const __m256i zero = _mm256_setzero_si256();
    const __m256i t0 = popcount_bytes(_mm256_and_si256(x, p0));
    const __m256i t1 = popcount_bytes(_mm256_and_si256(x, p1));
    const __m256i t2 = popcount_bytes(_mm256_and_si256(x, p2));
    const __m256i t3 = popcount_bytes(_mm256_and_si256(x, p3));
    __m256i s = _mm256_add_epi8(t2, t2);
    s = _mm256_add_epi8(s, t1);
    s = _mm256_add_epi8(s, s);
    s = _mm256_add_epi8(s, t0);
    pos = _mm256_add_epi64(pos, _mm256_sad_epu8(s, zero));
    neg = _mm256_add_epi64(neg, _mm256_sad_epu8(t3, zero));
}

void dot_b1(const uint64_t* planes, size_t words, const uint8_t* codes, size_t n, size_t stride,
            int64_t* out) {
    const size_t full = words / 4 * 4;
    const size_t rest = words - full;
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(rest)), lane);
    const auto* q0 = reinterpret_cast<const long long*>(planes);
    const auto* q1 = q0 + words;
    const auto* q2 = q1 + words;
    const auto* q3 = q2 + words;
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        __m256i pos = _mm256_setzero_si256();
        __m256i neg = _mm256_setzero_si256();
        for (size_t i = 0; i < full; i += 4) {
            const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 8 * i));
            b1_step(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q0 + i)),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q1 + i)),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q2 + i)),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q3 + i)), pos, neg);
        }
        if (rest) {
            const __m256i x = _mm256_maskload_epi64(reinterpret_cast<const long long*>(c + 8 * full), mask);
            b1_step(x, _mm256_maskload_epi64(q0 + full, mask), _mm256_maskload_epi64(q1 + full, mask),
                    _mm256_maskload_epi64(q2 + full, mask), _mm256_maskload_epi64(q3 + full, mask), pos, neg);
        }
        out[j] = hsum_epi64(_mm256_sub_epi64(pos, _mm256_slli_epi64(neg, 3)));
    }
}

void dot_b4(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
            int64_t* out) {
    const __m128i low = _mm_set1_epi8(0x0f);
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        int64_t total = 0;
        for (size_t base = 0; base < padded_dim; base += kRabitqFlushDims) {
            const size_t end = std::min(padded_dim, base + kRabitqFlushDims);
            __m256i acc0 = _mm256_setzero_si256();
            __m256i acc1 = _mm256_setzero_si256();
            for (size_t blk = base; blk < end; blk += 64) {
                const int16_t* w = w16 + blk;
                for (size_t h = 0; h < 32; h += 16) {
                    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + blk / 2 + h));
                    const __m128i even = _mm_and_si128(x, low);
                    const __m128i odd = _mm_and_si128(_mm_srli_epi16(x, 4), low);
                    acc0 = _mm256_add_epi32(
                        acc0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(even),
                                                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + h))));
                    acc1 = _mm256_add_epi32(
                        acc1,
                        _mm256_madd_epi16(_mm256_cvtepu8_epi16(odd),
                                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 + h))));
                }
            }
            total += hsum_epi32_wide(acc0) + hsum_epi32_wide(acc1);
        }
        out[j] = total;
    }
}

void dot_b8(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
            int64_t* out) {
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        int64_t total = 0;
        for (size_t base = 0; base < padded_dim; base += kRabitqFlushDims) {
            const size_t end = std::min(padded_dim, base + kRabitqFlushDims);
            __m256i acc0 = _mm256_setzero_si256();
            __m256i acc1 = _mm256_setzero_si256();
            for (size_t i = base; i < end; i += 32) {
                const __m256i x0 =
                    _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
                const __m256i x1 =
                    _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i + 16)));
                acc0 = _mm256_add_epi32(
                    acc0,
                    _mm256_madd_epi16(x0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w16 + i))));
                acc1 = _mm256_add_epi32(
                    acc1, _mm256_madd_epi16(
                              x1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w16 + i + 16))));
            }
            total += hsum_epi32_wide(acc0) + hsum_epi32_wide(acc1);
        }
        out[j] = total;
    }
}

void fwht(float* v, size_t n, const uint32_t* flip, float scale) {
    rabitq_fwht::Fwht<8>::run<8>(v, n, flip, scale);
}

void scale_residual(const float* x, const float* c, size_t n, double s, double* t, float* v) {
    rabitq_fwht::scale_residual(x, c, n, s, t, v);
}

void score_scales(const double* a, size_t n, double top, const double* ts, size_t nt, double* num,
                  double* den) {
    using F = rabitq_fwht::DoubleVectors<4>::F;
    rabitq_fwht::score_scales<4>(a, n, top, ts, nt, num, den, [](F x) {
        return reinterpret_cast<F>(
            _mm256_round_pd(reinterpret_cast<__m256d>(x), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
    });
}

/// finish (rabitq_impl.h) for 4 codes at a time, as the AVX-512 kernel
/// does 8: each code's first four factors in one 16-byte load, transposed
/// to a vector per factor, the fifth loaded alone, then
/// rabitq_fwht::finish_lanes. The last m % 4 codes: the reference.
void finish(const RabitqFinish& p, const uint8_t* codes, size_t m, size_t stride, const int64_t* dots,
            RabitqEstimate* out) {
    using F = rabitq_fwht::DoubleVectors<4>::F;
    auto wide = [](__m128 x) { return reinterpret_cast<F>(_mm256_cvtps_pd(x)); };
    // std::max(a, b) = (b > a ? b : a) = vmaxpd(b, a); std::min likewise.
    auto max = [](F a, F b) {
        return reinterpret_cast<F>(_mm256_max_pd(reinterpret_cast<__m256d>(b), reinterpret_cast<__m256d>(a)));
    };
    auto min = [](F a, F b) {
        return reinterpret_cast<F>(_mm256_min_pd(reinterpret_cast<__m256d>(b), reinterpret_cast<__m256d>(a)));
    };
    size_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const uint8_t* f = codes + j * stride + p.nb;
        __m128 r0 = _mm_loadu_ps(reinterpret_cast<const float*>(f));
        __m128 r1 = _mm_loadu_ps(reinterpret_cast<const float*>(f + stride));
        __m128 r2 = _mm_loadu_ps(reinterpret_cast<const float*>(f + 2 * stride));
        __m128 r3 = _mm_loadu_ps(reinterpret_cast<const float*>(f + 3 * stride));
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r0 = factor 0 of the four codes, ...
        auto f4_of = [&](size_t k) {
            float v;
            std::memcpy(&v, f + k * stride + 16, sizeof v);
            return v;
        };
        const F d = {static_cast<double>(dots[j]), static_cast<double>(dots[j + 1]),
                     static_cast<double>(dots[j + 2]), static_cast<double>(dots[j + 3])};
        rabitq_fwht::finish_lanes<4>(p, d, wide(p.l2 ? r0 : r1), wide(r2), wide(r3),
                                     wide(_mm_setr_ps(f4_of(0), f4_of(1), f4_of(2), f4_of(3))), out + j, max,
                                     min);
    }
    rabitq_finish_scalar(p, codes + j * stride, m - j, stride, dots + j, out + j);
}

}  // namespace

const RabitqKernels& rabitq_kernels_avx2() {
    static const RabitqKernels k = {dot_b1, dot_b4, dot_b8, fwht, scale_residual, score_scales, finish};
    return k;
}

}  // namespace nmvec
