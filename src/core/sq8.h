// sq8.h — 8-bit scalar quantisation with one range per vector, for the
// quantised walk of the hnsw index (quantizer = 'sq8').
//
// ## What a code is
//
// A vector x of `dims` floats is coded with its own range: lo = min x_i,
// step = (max x_i - lo) / 255, c_i = round((x_i - lo) / step) in [0, 255],
// so x^_i = lo + step c_i is within step/2 of x_i. Layout (code_bytes(dims)
// bytes, no alignment required):
//
//   [float32 lo][float32 step][float64 ||x^||^2]   16 bytes
//   [dims bytes]                                   c_0 .. c_{dims-1}
//
// One range per vector needs no training: an index built empty, filled by
// inserts, or built from a sample codes every vector by the same rule, and
// nothing is stored outside the code. A per-dimension range (trained) would
// be finer when dimensions have very different spreads; for the embeddings
// and image data this index serves (fashion-mnist: every pixel 0..255;
// normalised embeddings: all dimensions of the same order) one range per
// vector loses little (measured in docs/hnsw-quantizer.md).
//
// ## Query side
//
// A query q (float32) is prepared once: w_i = round(q_i / qs) with qs =
// max |q_i| / kQueryLevels, so |w_i| <= kQueryLevels and |q_i - qs w_i| <=
// qs/2. The integer <c, w> is computed exactly by the kernels (sq8_<isa>.cpp:
// bytes widened to 16 bits, vpmaddwd), so every SIMD level returns the same
// integer as the scalar loop, bit for bit, and so the same estimates. Then
//
//   <q, x>~      = lo sum(q) + step qs <c, w>
//   ||q - x||^2~ = ||q||^2 - 2 <q, x>~ + ||x^||^2
//
// Error: |<q, x>~ - <q, x>| <= step/2 sum|q_i| + step qs/2 sum c_i (the
// first term from coding x, the second from quantising q); the L2 estimate
// is off by at most twice that plus | ||x^||^2 - ||x||^2 |.
//
// Implemented in sq8.cpp (codec, scalar kernel, dispatch) and
// sq8_<isa>.cpp (SIMD kernels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "simd.h"

namespace nmvec::sq8 {

/// Bytes of the code header (lo, step, ||x^||^2).
constexpr size_t kHeaderBytes = 16;
/// Query weights lie in [-kQueryLevels, kQueryLevels]: a 16-bit product
/// pair is then at most 2 * 255 * 2047 < 2^21, and an int32 lane of the
/// SIMD kernels adds at most dims / 16 of them: below 2^31 for every
/// dims up to 16,384.
constexpr int kQueryLevels = 2047;
constexpr size_t kMaxDims = 16384;

/// Bytes of the code of a `dims`-dimensional vector.
inline size_t code_bytes(size_t dims) { return kHeaderBytes + dims; }

/// The header of a code (copied out: codes need no alignment).
struct Header {
    float lo;
    float step;
    double norm2;  ///< ||x^||^2 of the decoded vector
};
Header read_header(const uint8_t* code);

/// Code x (dims finite floats) into out[0, code_bytes(dims)).
void encode(const float* x, size_t dims, uint8_t* out);
/// The decoded vector x^ into out[0, dims).
void decode(const uint8_t* code, size_t dims, float* out);

/// Bound of the 8-bit query weights of dot_u8_i8_rows: a pair of u8 * s8
/// products is then at most 2 * 255 * 63 < 2^15, so vpmaddubsw never
/// saturates, and an int32 sum over kMaxDims stays below 2^31.
constexpr int kQueryLevels8 = 63;
/// Rows of dot_u8_i8_rows are padded to a multiple of this many bytes.
constexpr size_t kRowAlign = 64;

/// Integer kernels (exact: every level gives the scalar result).
struct Kernels {
    /// sum_i c[i] * w[i] for i < n (n <= kMaxDims, |w[i]| <= kQueryLevels).
    int64_t (*dot_u8_i16)(const uint8_t* c, const int16_t* w, size_t n);
    /// out[r] = sum_i codes[r * n + i] * w[i] for r < rows: `rows` code rows
    /// of n bytes back to back (header-less; n a multiple of kRowAlign,
    /// n <= kMaxDims + kRowAlign, zero padding where w is 0), |w[i]| <=
    /// kQueryLevels8. codes and w 64-byte aligned.
    void (*dot_u8_i8_rows)(const uint8_t* codes, size_t rows, const int8_t* w, size_t n, int32_t* out);
};
/// The table of one SIMD level (AVX512FP16 uses the AVX-512 one); throws
/// nmvec::Error(Internal) for a level not compiled in. Check cpu_supports().
const Kernels& kernels(SimdLevel level);
/// The best supported level's table, chosen on first use.
const Kernels& active_kernels();
const Kernels& kernels_scalar();
const Kernels& kernels_avx2();
const Kernels& kernels_avx512();  ///< with VNNI's row kernel when the CPU has it
/// The AVX-512 table without VNNI (what kernels_avx512() is on CPUs
/// without it; for tests on CPUs with it).
const Kernels& kernels_avx512_no_vnni();

/// A query prepared for estimates against codes.
struct Query {
    size_t dims = 0;
    std::vector<int16_t> w;  ///< quantised query
    double qs = 0.0;         ///< q_i ~= qs * w_i
    double sum = 0.0;        ///< sum q_i
    double norm2 = 0.0;      ///< ||q||^2
    double abs_sum = 0.0;    ///< sum |q_i| (for error bounds)

    void prepare(const float* q, size_t n);
    /// <q, x>~ for the code of x.
    double dot(const uint8_t* code, const Kernels& k) const;
    /// ||q - x||^2~.
    double l2sq(const uint8_t* code, const Kernels& k) const {
        return norm2 - 2.0 * dot(code, k) + read_header(code).norm2;
    }
};

}  // namespace nmvec::sq8
