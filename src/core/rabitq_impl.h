// rabitq_impl.h — private: the per-ISA integer kernels behind
// RabitqCodec::estimate_batch (rabitq.h).
//
// Every dot kernel computes, for each of n codes (`stride` bytes apart), the
// exact integer <u, w> of the code's digits u with the prepared query's
// integer vector w (see rabitq.h), into out[j]. Results are exact integers,
// so every variant must agree with the scalar one bit for bit. The float
// arithmetic that turns them into estimates (finish) and the codec's
// kernels (fwht, scale_residual, score_scales) must also agree bit for
// bit: they do the scalar operations per element, in the same order.
//
// Each rabitq_<isa>.cpp is compiled with that ISA's flags (file-name suffix)
// and is the only place where its intrinsics appear. Only rabitq.cpp and the
// unit tests include this header.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rabitq.h"
#include "simd.h"

namespace nmvec {

/// What turns a code's integer <u, w> into its estimate (rabitq.h,
/// "Estimator"), from the prepared query: ||q_r||^2, <q, c>, ||q_r|| delta,
/// epsilon0 ||q_r||, ||e|| / sqrt(D), the offset of <y, w> from <u, w>;
/// nb: the bytes before a code's factors; l2: L2 squared, else inner product.
struct RabitqFinish {
    double qn2, qc, scale, err_scale, err_query, w_offset;
    size_t nb;
    bool l2;
};

/// The scalar reference of RabitqKernels::finish (rabitq.cpp): the other
/// levels hand it the codes their vectors do not fill.
void rabitq_finish_scalar(const RabitqFinish& p, const uint8_t* codes, size_t m, size_t stride,
                          const int64_t* dots, RabitqEstimate* out);

struct RabitqKernels {
    /// 1-bit codes: w has 4-bit two's complement digits in bit planes
    /// planes[k * words + i] (k = 0..3, plane 3 has weight -8); words =
    /// padded_dim / 64. out[j] = sum_i u_i w_i.
    void (*dot_b1)(const uint64_t* planes, size_t words, const uint8_t* codes, size_t n, size_t stride,
                   int64_t* out);
    /// 4-bit codes (two per byte, even dimension in the low nibble); w16 in
    /// blocks of 64 dimensions: 32 even-dimension entries, then 32 odd ones.
    void (*dot_b4)(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
                   int64_t* out);
    /// 8-bit codes, w16 in natural order.
    void (*dot_b8)(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
                   int64_t* out);
    /// The rotation's normalised Walsh-Hadamard transform of v[0, n) in
    /// place (n a power of two >= 64), each element first XORed with
    /// flip[i] (0 or the sign bit), the result multiplied by scale. Bit for
    /// bit the same at every level (rabitq_fwht.h).
    void (*fwht)(float* v, size_t n, const uint32_t* flip, float scale);
    /// t = (x - c) / s in double, v = t rounded to float, n elements (c
    /// null: zero). The same bits at every level.
    void (*scale_residual)(const float* x, const float* c, size_t n, double s, double* t, float* v);
    /// The multi-bit scale search's scores for nt scales ts (nt a multiple
    /// of 32) over the magnitudes a[0, n): num[j] = sum y_i a_i, den[j] =
    /// sum y_i^2 with y_i = min(trunc(ts[j] a_i), top) + 1/2, added in order
    /// of i. The same bits at every level.
    void (*score_scales)(const double* a, size_t n, double top, const double* ts, size_t nt, double* num,
                         double* den);
    /// The estimates of m codes (`stride` bytes apart, factors nb bytes into
    /// each) from their integers dots[j]. Every level does the scalar
    /// reference's double operations in its order, no product fused into
    /// an addition, min and max with std::min/std::max's operand order
    /// (NaN included), so the same bits.
    void (*finish)(const RabitqFinish& p, const uint8_t* codes, size_t m, size_t stride, const int64_t* dots,
                   RabitqEstimate* out);
};

/// The table of one level; throws nmvec::Error(Internal) for a level not
/// compiled in. AVX512FP16 uses the AVX-512 table. Calling a table's kernels
/// on a CPU without the ISA is undefined behaviour: check cpu_supports().
const RabitqKernels& rabitq_kernels(SimdLevel level);

/// The best supported level's table, chosen on first use.
const RabitqKernels& rabitq_active_kernels();

const RabitqKernels& rabitq_kernels_scalar();
const RabitqKernels& rabitq_kernels_avx2();
const RabitqKernels& rabitq_kernels_avx512();
/// The AVX-512 table with the 1-bit kernel on AVX512_VPOPCNTDQ; the active
/// table when cpu_has_vpopcntdq() and the level is AVX-512 or above.
const RabitqKernels& rabitq_kernels_avx512_vpopcnt();

/// SIMD kernels for 4/8 bits add 16-bit products into int32 lanes and widen
/// the lanes to int64 after at most this many dimensions: each lane then
/// holds at most 1024 / 16 * 2 products of <= 255 * 32767, below 2^31.
constexpr size_t kRabitqFlushDims = 1024;

}  // namespace nmvec
