// rabitq_avx512.cpp — AVX-512 (F/BW/DQ/VL) integer kernels for RaBitQ
// estimates (contract in rabitq_impl.h). Compiled with the AVX-512 flags
// (file-name suffix); run only when cpu_supports(SimdLevel::AVX512).
//
// The same methods as rabitq_avx2.cpp on 512-bit registers: the 1-bit kernel
// counts bits with the nibble-table shuffle (vpopcntq needs AVX512_VPOPCNTDQ,
// which our AVX-512 level does not require) and reads a code's last 1..7
// words with a masked load, so a 384-dimension code (6 words) is one step.
// A second 1-bit kernel (dot_b1_vpopcnt, its own table) uses vpopcntq,
// compiled for that extension by a target attribute and chosen at run time
// when cpu_has_vpopcntdq(): 2.1x the shuffle kernel at 384 dimensions.
// The float finish (finish below): 8 codes at a time in double, the same
// bits as the reference.
// GCC 12's _mm512_undefined_* (inside the masked loads, conversions and
// reductions) trip -Wuninitialized (GCC bug 105593), as in
// distance_avx512.cpp: silence just those two.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "rabitq_fwht.h"
#include "rabitq_impl.h"

namespace nmvec {

namespace {

inline __m512i popcount_bytes(__m512i x) {
    const __m512i table =
        _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4));
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i lo = _mm512_and_si512(x, low);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(x, 4), low);
    return _mm512_add_epi8(_mm512_shuffle_epi8(table, lo), _mm512_shuffle_epi8(table, hi));
}

inline void b1_step(__m512i x, __m512i p0, __m512i p1, __m512i p2, __m512i p3, __m512i& pos, __m512i& neg) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i t0 = popcount_bytes(_mm512_and_si512(x, p0));
    const __m512i t1 = popcount_bytes(_mm512_and_si512(x, p1));
    const __m512i t2 = popcount_bytes(_mm512_and_si512(x, p2));
    const __m512i t3 = popcount_bytes(_mm512_and_si512(x, p3));
    __m512i s = _mm512_add_epi8(t2, t2);
    s = _mm512_add_epi8(s, t1);
    s = _mm512_add_epi8(s, s);
    s = _mm512_add_epi8(s, t0);
    pos = _mm512_add_epi64(pos, _mm512_sad_epu8(s, zero));
    neg = _mm512_add_epi64(neg, _mm512_sad_epu8(t3, zero));
}

/// Sum of the 16 int32 lanes, widened to int64 first.
inline int64_t hsum_epi32_wide(__m512i v) {
    const __m512i lo = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v));
    const __m512i hi = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1));
    return _mm512_reduce_add_epi64(_mm512_add_epi64(lo, hi));
}

/// Mask of the first `words` (1..8) 64-bit lanes.
inline __mmask8 mask_all(size_t words) { return static_cast<__mmask8>((1u << words) - 1u); }

void dot_b1(const uint64_t* planes, size_t words, const uint8_t* codes, size_t n, size_t stride,
            int64_t* out) {
    const size_t full = words / 8 * 8;
    const size_t rest = words - full;
    const __mmask8 mask = static_cast<__mmask8>((1u << rest) - 1u);
    const uint64_t* q0 = planes;
    const uint64_t* q1 = q0 + words;
    const uint64_t* q2 = q1 + words;
    const uint64_t* q3 = q2 + words;
    if (words <= 8) {
        // Up to 512 dimensions: one step per code, the planes stay in
        // registers, and two codes per iteration overlap their reductions.
        const __m512i p0 = _mm512_maskz_loadu_epi64(mask_all(words), q0);
        const __m512i p1 = _mm512_maskz_loadu_epi64(mask_all(words), q1);
        const __m512i p2 = _mm512_maskz_loadu_epi64(mask_all(words), q2);
        const __m512i p3 = _mm512_maskz_loadu_epi64(mask_all(words), q3);
        const __mmask8 m = mask_all(words);
        size_t j = 0;
        for (; j + 2 <= n; j += 2) {
            __m512i pos0 = _mm512_setzero_si512(), neg0 = _mm512_setzero_si512();
            __m512i pos1 = _mm512_setzero_si512(), neg1 = _mm512_setzero_si512();
            b1_step(_mm512_maskz_loadu_epi64(m, codes + j * stride), p0, p1, p2, p3, pos0, neg0);
            b1_step(_mm512_maskz_loadu_epi64(m, codes + (j + 1) * stride), p0, p1, p2, p3, pos1, neg1);
            out[j] = _mm512_reduce_add_epi64(_mm512_sub_epi64(pos0, _mm512_slli_epi64(neg0, 3)));
            out[j + 1] = _mm512_reduce_add_epi64(_mm512_sub_epi64(pos1, _mm512_slli_epi64(neg1, 3)));
        }
        for (; j < n; ++j) {
            __m512i pos = _mm512_setzero_si512(), neg = _mm512_setzero_si512();
            b1_step(_mm512_maskz_loadu_epi64(m, codes + j * stride), p0, p1, p2, p3, pos, neg);
            out[j] = _mm512_reduce_add_epi64(_mm512_sub_epi64(pos, _mm512_slli_epi64(neg, 3)));
        }
        return;
    }
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        __m512i pos = _mm512_setzero_si512();
        __m512i neg = _mm512_setzero_si512();
        for (size_t i = 0; i < full; i += 8) {
            b1_step(_mm512_loadu_si512(c + 8 * i), _mm512_loadu_si512(q0 + i), _mm512_loadu_si512(q1 + i),
                    _mm512_loadu_si512(q2 + i), _mm512_loadu_si512(q3 + i), pos, neg);
        }
        if (rest) {
            b1_step(_mm512_maskz_loadu_epi64(mask, c + 8 * full), _mm512_maskz_loadu_epi64(mask, q0 + full),
                    _mm512_maskz_loadu_epi64(mask, q1 + full), _mm512_maskz_loadu_epi64(mask, q2 + full),
                    _mm512_maskz_loadu_epi64(mask, q3 + full), pos, neg);
        }
        out[j] = _mm512_reduce_add_epi64(_mm512_sub_epi64(pos, _mm512_slli_epi64(neg, 3)));
    }
}

/// One code of up to 512 dimensions against the four planes with
/// AVX512_VPOPCNTDQ: per 64-bit lane t0 + 2 t1 + 4 t2 - 8 t3 (plane 3
/// weighs -8), the lanes summed by the caller.
__attribute__((target("avx512vpopcntdq"))) inline __m512i b1_lanes_vpopcnt(__m512i x, __m512i p0, __m512i p1,
                                                                           __m512i p2, __m512i p3) {
    const __m512i t0 = _mm512_popcnt_epi64(_mm512_and_si512(x, p0));
    const __m512i t1 = _mm512_popcnt_epi64(_mm512_and_si512(x, p1));
    const __m512i t2 = _mm512_popcnt_epi64(_mm512_and_si512(x, p2));
    const __m512i t3 = _mm512_popcnt_epi64(_mm512_and_si512(x, p3));
    return _mm512_add_epi64(_mm512_add_epi64(t0, _mm512_slli_epi64(t1, 1)),
                            _mm512_sub_epi64(_mm512_slli_epi64(t2, 2), _mm512_slli_epi64(t3, 3)));
}

/// dot_b1 with AVX512_VPOPCNTDQ: a count per 64-bit lane instead of the
/// nibble-table shuffle; up to 512 dimensions one step per code with the
/// planes in registers.
__attribute__((target("avx512vpopcntdq"))) void dot_b1_vpopcnt(const uint64_t* planes, size_t words,
                                                               const uint8_t* codes, size_t n, size_t stride,
                                                               int64_t* out) {
    if (words > 8) {
        // Longer codes: 8 words a step, the last 1..8 masked, the lanes
        // accumulated and summed once per code.
        const size_t steps = (words + 7) / 8;
        const __mmask8 last = mask_all(words - (steps - 1) * 8);
        for (size_t j = 0; j < n; ++j) {
            const uint8_t* c = codes + j * stride;
            __m512i acc = _mm512_setzero_si512();
            for (size_t st = 0; st < steps; ++st) {
                const __mmask8 m = st + 1 == steps ? last : static_cast<__mmask8>(0xff);
                const size_t i = st * 8;
                acc = _mm512_add_epi64(acc,
                                       b1_lanes_vpopcnt(_mm512_maskz_loadu_epi64(m, c + 8 * i),
                                                        _mm512_maskz_loadu_epi64(m, planes + i),
                                                        _mm512_maskz_loadu_epi64(m, planes + words + i),
                                                        _mm512_maskz_loadu_epi64(m, planes + 2 * words + i),
                                                        _mm512_maskz_loadu_epi64(m, planes + 3 * words + i)));
            }
            out[j] = _mm512_reduce_add_epi64(acc);
        }
        return;
    }
    const __mmask8 m = mask_all(words);
    const __m512i p0 = _mm512_maskz_loadu_epi64(m, planes);
    const __m512i p1 = _mm512_maskz_loadu_epi64(m, planes + words);
    const __m512i p2 = _mm512_maskz_loadu_epi64(m, planes + 2 * words);
    const __m512i p3 = _mm512_maskz_loadu_epi64(m, planes + 3 * words);
    size_t j = 0;
    for (; j + 2 <= n; j += 2) {
        const __m512i s0 = b1_lanes_vpopcnt(_mm512_maskz_loadu_epi64(m, codes + j * stride), p0, p1, p2, p3);
        const __m512i s1 =
            b1_lanes_vpopcnt(_mm512_maskz_loadu_epi64(m, codes + (j + 1) * stride), p0, p1, p2, p3);
        out[j] = _mm512_reduce_add_epi64(s0);
        out[j + 1] = _mm512_reduce_add_epi64(s1);
    }
    for (; j < n; ++j)
        out[j] = _mm512_reduce_add_epi64(
            b1_lanes_vpopcnt(_mm512_maskz_loadu_epi64(m, codes + j * stride), p0, p1, p2, p3));
}

void dot_b4(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
            int64_t* out) {
    const __m256i low = _mm256_set1_epi8(0x0f);
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        int64_t total = 0;
        for (size_t base = 0; base < padded_dim; base += kRabitqFlushDims) {
            const size_t end = std::min(padded_dim, base + kRabitqFlushDims);
            __m512i acc0 = _mm512_setzero_si512();
            __m512i acc1 = _mm512_setzero_si512();
            for (size_t blk = base; blk < end; blk += 64) {
                const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + blk / 2));
                const __m256i even = _mm256_and_si256(x, low);
                const __m256i odd = _mm256_and_si256(_mm256_srli_epi16(x, 4), low);
                acc0 = _mm512_add_epi32(
                    acc0, _mm512_madd_epi16(_mm512_cvtepu8_epi16(even), _mm512_loadu_si512(w16 + blk)));
                acc1 = _mm512_add_epi32(
                    acc1, _mm512_madd_epi16(_mm512_cvtepu8_epi16(odd), _mm512_loadu_si512(w16 + blk + 32)));
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
            __m512i acc0 = _mm512_setzero_si512();
            __m512i acc1 = _mm512_setzero_si512();
            for (size_t i = base; i < end; i += 64) {
                const __m512i x0 =
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i)));
                const __m512i x1 =
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i + 32)));
                acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(x0, _mm512_loadu_si512(w16 + i)));
                acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(x1, _mm512_loadu_si512(w16 + i + 32)));
            }
            total += hsum_epi32_wide(acc0) + hsum_epi32_wide(acc1);
        }
        out[j] = total;
    }
}

void fwht(float* v, size_t n, const uint32_t* flip, float scale) {
    rabitq_fwht::Fwht<16>::run<16>(v, n, flip, scale);
}

void scale_residual(const float* x, const float* c, size_t n, double s, double* t, float* v) {
    rabitq_fwht::scale_residual(x, c, n, s, t, v);
}

void score_scales(const double* a, size_t n, double top, const double* ts, size_t nt, double* num,
                  double* den) {
    using F = rabitq_fwht::DoubleVectors<8>::F;
    rabitq_fwht::score_scales<8>(a, n, top, ts, nt, num, den, [](F x) {
        return reinterpret_cast<F>(
            _mm512_roundscale_pd(reinterpret_cast<__m512d>(x), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
    });
}

/// finish (rabitq_impl.h) for 8 codes at a time: each code's first four
/// factors in one 16-byte load, transposed to a vector per factor, the
/// fifth loaded alone, then rabitq_fwht::finish_lanes. The last m % 8
/// codes: the reference.
void finish(const RabitqFinish& p, const uint8_t* codes, size_t m, size_t stride, const int64_t* dots,
            RabitqEstimate* out) {
    using F = rabitq_fwht::DoubleVectors<8>::F;
    auto wide = [](__m256 x) { return reinterpret_cast<F>(_mm512_cvtps_pd(x)); };
    // std::max(a, b) = (b > a ? b : a) = vmaxpd(b, a); std::min likewise.
    auto max = [](F a, F b) {
        return reinterpret_cast<F>(_mm512_max_pd(reinterpret_cast<__m512d>(b), reinterpret_cast<__m512d>(a)));
    };
    auto min = [](F a, F b) {
        return reinterpret_cast<F>(_mm512_min_pd(reinterpret_cast<__m512d>(b), reinterpret_cast<__m512d>(a)));
    };
    size_t j = 0;
    for (; j + 8 <= m; j += 8) {
        const uint8_t* f = codes + j * stride + p.nb;
        auto pair = [&](size_t k) {  // factors 0-3 of codes k and k + 4
            return _mm256_set_m128(_mm_loadu_ps(reinterpret_cast<const float*>(f + (k + 4) * stride)),
                                   _mm_loadu_ps(reinterpret_cast<const float*>(f + k * stride)));
        };
        const __m256 r0 = pair(0), r1 = pair(1), r2 = pair(2), r3 = pair(3);
        const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
        const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
        auto f4_of = [&](size_t k) {
            float v;
            std::memcpy(&v, f + k * stride + 16, sizeof v);
            return v;
        };
        const __m256 f4 =
            _mm256_setr_ps(f4_of(0), f4_of(1), f4_of(2), f4_of(3), f4_of(4), f4_of(5), f4_of(6), f4_of(7));
        rabitq_fwht::finish_lanes<8>(
            p, reinterpret_cast<F>(_mm512_cvtepi64_pd(_mm512_loadu_si512(dots + j))),
            wide(p.l2 ? _mm256_shuffle_ps(t0, t2, 0x44) : _mm256_shuffle_ps(t0, t2, 0xee)),
            wide(_mm256_shuffle_ps(t1, t3, 0x44)), wide(_mm256_shuffle_ps(t1, t3, 0xee)), wide(f4), out + j,
            max, min);
    }
    rabitq_finish_scalar(p, codes + j * stride, m - j, stride, dots + j, out + j);
}

}  // namespace

const RabitqKernels& rabitq_kernels_avx512() {
    static const RabitqKernels k = {dot_b1, dot_b4, dot_b8, fwht, scale_residual, score_scales, finish};
    return k;
}

const RabitqKernels& rabitq_kernels_avx512_vpopcnt() {
    static const RabitqKernels k = {dot_b1_vpopcnt, dot_b4,       dot_b8, fwht,
                                    scale_residual, score_scales, finish};
    return k;
}

}  // namespace nmvec
