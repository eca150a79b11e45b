// distance_avx512fp16.cpp — f16 kernels doing their arithmetic in fp16
// (AVX-512 FP16, Sapphire Rapids and later). Compiled with the _avx512fp16
// flags (file-name suffix); run only when cpu_supports(AVX512FP16). The f32
// kernels of this level are the AVX-512 ones.
//
// Scheme. Work in blocks of 64 elements = two 32-lane fp16 vectors per input.
// Within a block each lane combines just two terms in fp16, e.g. for l2sq
//     s = fma_ph(d1, d1, mul_ph(d0, d0)),   d0, d1 = sub_ph(a, b),
// and then the block sum s is widened exactly (vcvtph2ps) and added into
// float32 accumulators. fp16 arithmetic halves the conversion work and
// doubles the lanes per instruction; keeping each fp16 chain two terms long
// keeps its error small and fixed, independent of n.
//
// Error bound (u16 = 2^-11, u32 = 2^-24, t_i the exact terms):
//   each term sees at most 4 fp16 roundings for l2sq (the difference, counted
//   twice because it is squared, the product, the fma) and at most 2 for
//   dot, l1 and the cosine parts (product or difference, then the add/fma);
//   float32 accumulation adds at most (n/32 + 16) roundings on top. So
//     |err| <= (4.01 u16 + (n/32 + 16) u32) * sum|t_i| + n * 2^-25
//   (the last term covers fp16 results that land in the subnormal range,
//   where the absolute rounding error is at most half of 2^-24 per rounding).
//   In relative terms that is about 2e-3 of sum|t_i| for l2sq and 1e-3 for the
//   others, against about 1e-6 for the widening AVX-512 kernels. Halves
//   themselves carry 2^-11 relative precision, so for ranking neighbours
//   this is of the same order as the storage format's own rounding.
//
// Overflow. fp16 tops out at 65504, so a block of large values (|x| > ~180
// for l2sq and dot, pixel-like data) can overflow to Inf. After each block
// we test its fp16 sums for Inf/NaN (one vfpclassph); on the first such
// block we hand the rest of the vector, from that block on, to the widening
// AVX-512 kernel. Results are then exactly as accurate as that kernel's, and
// a vector that overflows wastes at most one block of fp16 work. Inputs that
// are themselves Inf or NaN also take that path and give the same Inf/NaN.
//
// The last n % 64 elements also go to the widening AVX-512 kernel.
//
// This level cannot be run on the AMD EPYC machines we develop on (no
// avx512fp16); its unit tests skip there and run on Intel Sapphire Rapids.
// GCC 12's _mm512_undefined_* (used inside _mm512_cvtph_ps and
// _mm512_reduce_add_ps) self-initialise a variable and trip -Wuninitialized
// under -Werror (GCC bug 105593, fixed in 12.3/13). Silence just those two.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "distance_impl.h"

namespace nmvec {

namespace {

constexpr size_t kBlock = 64;
constexpr size_t kHalfLanes = 32;

/// vfpclassph categories: QNaN | +Inf | -Inf | SNaN.
constexpr int kNotFinite = 0x01 | 0x08 | 0x10 | 0x80;

const DistanceKernels& widening() { return distance_kernels_avx512(); }

__m512h load(const uint16_t* p) { return _mm512_loadu_ph(p); }

bool all_finite(__m512h s) { return _mm512_fpclass_ph_mask(s, kNotFinite) == 0; }

/// Widens the 32 fp16 lanes of s (exactly) and adds them to lo, hi.
void flush(__m512h s, __m512& lo, __m512& hi) {
    const __m512i bits = _mm512_castph_si512(s);
    lo = _mm512_add_ps(lo, _mm512_cvtph_ps(_mm512_castsi512_si256(bits)));
    hi = _mm512_add_ps(hi, _mm512_cvtph_ps(_mm512_extracti64x4_epi64(bits, 1)));
}

/// Block sum for l2sq: (a0-b0)^2 + (a1-b1)^2 per lane.
struct BlockL2 {
    static __m512h sum(const uint16_t* a, const uint16_t* b) {
        const __m512h d0 = _mm512_sub_ph(load(a), load(b));
        const __m512h d1 = _mm512_sub_ph(load(a + kHalfLanes), load(b + kHalfLanes));
        return _mm512_fmadd_ph(d1, d1, _mm512_mul_ph(d0, d0));
    }
    static float rest(const uint16_t* a, const uint16_t* b, size_t n) { return widening().f16_l2sq(a, b, n); }
};

struct BlockDot {
    static __m512h sum(const uint16_t* a, const uint16_t* b) {
        const __m512h p0 = _mm512_mul_ph(load(a), load(b));
        return _mm512_fmadd_ph(load(a + kHalfLanes), load(b + kHalfLanes), p0);
    }
    static float rest(const uint16_t* a, const uint16_t* b, size_t n) { return widening().f16_dot(a, b, n); }
};

struct BlockL1 {
    static __m512h sum(const uint16_t* a, const uint16_t* b) {
        const __m512h d0 = _mm512_abs_ph(_mm512_sub_ph(load(a), load(b)));
        const __m512h d1 = _mm512_abs_ph(_mm512_sub_ph(load(a + kHalfLanes), load(b + kHalfLanes)));
        return _mm512_add_ph(d0, d1);
    }
    static float rest(const uint16_t* a, const uint16_t* b, size_t n) { return widening().f16_l1(a, b, n); }
};

template <class Block>
float reduce(const uint16_t* a, const uint16_t* b, size_t n) {
    __m512 lo = _mm512_setzero_ps();
    __m512 hi = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
        const __m512h s = Block::sum(a + i, b + i);
        if (!all_finite(s)) break;  // overflow: the rest goes the widening way
        flush(s, lo, hi);
    }
    float total = _mm512_reduce_add_ps(_mm512_add_ps(lo, hi));
    if (i < n) total += Block::rest(a + i, b + i, n - i);
    return total;
}

float f16_l2sq(const uint16_t* a, const uint16_t* b, size_t n) { return reduce<BlockL2>(a, b, n); }
float f16_dot(const uint16_t* a, const uint16_t* b, size_t n) { return reduce<BlockDot>(a, b, n); }
float f16_l1(const uint16_t* a, const uint16_t* b, size_t n) { return reduce<BlockL1>(a, b, n); }

void f16_cosine(const uint16_t* a, const uint16_t* b, size_t n, float* ab, float* aa, float* bb) {
    __m512 ab_lo = _mm512_setzero_ps(), ab_hi = _mm512_setzero_ps();
    __m512 aa_lo = _mm512_setzero_ps(), aa_hi = _mm512_setzero_ps();
    __m512 bb_lo = _mm512_setzero_ps(), bb_hi = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
        const __m512h x0 = load(a + i), y0 = load(b + i);
        const __m512h x1 = load(a + i + kHalfLanes), y1 = load(b + i + kHalfLanes);
        const __m512h sab = _mm512_fmadd_ph(x1, y1, _mm512_mul_ph(x0, y0));
        const __m512h saa = _mm512_fmadd_ph(x1, x1, _mm512_mul_ph(x0, x0));
        const __m512h sbb = _mm512_fmadd_ph(y1, y1, _mm512_mul_ph(y0, y0));
        if (!(all_finite(sab) && all_finite(saa) && all_finite(sbb))) break;
        flush(sab, ab_lo, ab_hi);
        flush(saa, aa_lo, aa_hi);
        flush(sbb, bb_lo, bb_hi);
    }
    float rab = 0.0f, raa = 0.0f, rbb = 0.0f;
    if (i < n) widening().f16_cosine_parts(a + i, b + i, n - i, &rab, &raa, &rbb);
    *ab = _mm512_reduce_add_ps(_mm512_add_ps(ab_lo, ab_hi)) + rab;
    *aa = _mm512_reduce_add_ps(_mm512_add_ps(aa_lo, aa_hi)) + raa;
    *bb = _mm512_reduce_add_ps(_mm512_add_ps(bb_lo, bb_hi)) + rbb;
    // Small norms. The fp16 sums of the first i elements may be off by up to
    // i * 2^-25 in absolute terms (results among fp16's subnormals, see the
    // bound at the top); when aa or bb is below i * 2^-14 that is more than
    // fp16's own 2^-11 of the norm, and products that underflow to 0 can even
    // make a non-zero vector's norm 0 (NaN distance). Such vectors (elements
    // around 1e-2 and below) go the widening way, exactly as accurate as that
    // kernel; unit-scale vectors never do.
    const float small = static_cast<float>(i) * 0x1p-14f;
    if (i > 0 && (*aa < small || *bb < small)) widening().f16_cosine_parts(a, b, n, ab, aa, bb);
}

}  // namespace

const DistanceKernels& distance_kernels_avx512fp16() {
    const DistanceKernels& w = widening();
    static const DistanceKernels k = {w.f32_l2sq, w.f32_dot, w.f32_l1, w.f32_cosine_parts,
                                      f16_l2sq,   f16_dot,   f16_l1,   f16_cosine};
    return k;
}

}  // namespace nmvec
