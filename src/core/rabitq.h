// rabitq.h — the RaBitQ quantizer (1 bit per dimension) and its extended
// multi-bit form (4 or 8 bits per dimension), for the IVF index.
//
// Ideas from Gao & Long, "RaBitQ: Quantizing High-Dimensional Vectors with a
// Theoretical Error Bound for Approximate Nearest Neighbor Search" (SIGMOD
// 2024) and Gao et al., "Practical and Asymptotically Optimal Quantization of
// High-Dimensional Vectors in Euclidean Space for Approximate Nearest
// Neighbor Search" (extended RaBitQ). Implemented in rabitq.cpp (codec,
// scalar kernels, dispatch) and rabitq_<isa>.cpp (SIMD kernels).
//
// ## What a code is
//
// A vector x is coded relative to a centroid c (its IVF list's): r = x - c.
// The codec rotates r with a fixed random orthogonal map P (see "Rotation"),
// normalises it, o = P r / ||r||, and stores the grid point nearest in angle:
//
//   bits = 1:  u_i = [o_i >= 0],             y_i = u_i - 1/2      (RaBitQ)
//   bits = B:  u_i in [0, 2^B - 1],          y_i = u_i - (2^B-1)/2 (extended)
//
// For B > 1 the codec searches the scale t for which rounding t|o| to the
// grid (clipped to its 2^(B-1) magnitudes) maximises <y/||y||, o> (a 64-point
// coarse grid of t, then a 32-point refinement; not the paper's exact sweep,
// but the estimator below stays exact for whatever code is chosen). Let
// xbar = y/||y|| and a = <xbar, o> (in (0, 1]; ~0.80 for 1 bit, ~0.995 for 4
// bits, ~0.9999 for 8 bits).
//
// Layout of one code (code_bytes() bytes, no alignment required):
//   [padded_dim * bits / 8 bytes]  u packed: 1 bit: dimension i is bit i%8 of
//                                  byte i/8; 4 bits: dimension i is the low
//                                  (i even) or high (i odd) nibble of byte i/2;
//                                  8 bits: one byte each
//   [5 float32, little endian]     ||r||, <c, r>, ||r||/(a ||y||),
//                                  ||r|| sqrt(1-a^2)/(a sqrt(D-1)), ||r||/a
// where D = padded_dim(). E.g. 1 bit, 384 dims: 48 + 20 = 68 bytes; 784 dims
// pad to 832: 104 + 20 = 124 bytes; 4 bits, 384 dims: 212; 8 bits: 404.
//
// ## Two-stage codes (bits = 2)
//
// A 1-bit code, then a second bit plane and three more factors:
//   [padded_dim / 8 bytes]   plane 1: the 1-bit code's bits (o_i >= 0)
//   [5 float32]              the 1-bit code's factors, as above
//   [padded_dim / 8 bytes]   plane 2: the low bits of 2-bit digits
//   [3 float32]              ||r||/(a2 ||y2||), ||r|| sqrt(1-a2^2)/(a2
//                            sqrt(D-1)), ||r||/a2 for those digits
// e.g. 384 dims: 68 + 48 + 12 = 128 bytes. The 2-bit digit u = 2 p1 + p2
// (y2 = u - 3/2, magnitudes 1/2 and 3/2 from the scale search) has plane 1
// as its high bit, so the first 68 bytes are exactly the 1-bit code of the
// same vector: estimate_batch reads only them (the scan's pass over every
// record costs what a 1-bit code's does), and refine() reads both planes
// for the few records that might rank: a2 is ~0.94 against ~0.80, which
// makes the bound's code term sqrt(1-a^2)/a ~0.36 against ~0.75. The
// query's 4-bit planes serve both.
//
// ## Estimator (the paper's)
//
// With q_r = q - c and q' = P q_r / ||q_r||, <o, q'> is estimated without bias
// by <xbar, q'> / a, so
//   <q_r, r>~  = ||q_r|| ||r|| <xbar, q'> / a
//   ||q - x||^2~ = ||q_r||^2 + ||r||^2 - 2 <q_r, r>~
//   <q, x>~      = <q, c> + <c, r> + <q_r, r>~
// (<c, r> is stored exactly, so the inner product needs nothing else; cosine
// is run on normalised vectors by the caller). The query is prepared once per
// (query, centroid): q' is quantised, for 1-bit codes to 4-bit signed integers
// w in [-7, 7] (kept as 4 bit planes, so <u, w> is 4 AND+popcount passes), for
// 4/8-bit codes to int16 (|w| <= 32767, multiplied with 16-bit madd); either
// way q'~ = delta * w and the integer <u, w> gives <y, q'~> exactly.
//
// ## Error bound and confidence
//
// Over the random rotation, the estimate of <o, q'> is off by
// sqrt(1-a^2)/a * g, where g is one coordinate of a random unit vector in
// D-1 dimensions, scaled by sqrt(1 - <o,q'>^2) <= 1: g is roughly normal
// with standard deviation <= 1/sqrt(D-1). The paper bounds it by
// epsilon0 * sqrt(1-a^2)/(a sqrt(D-1)); epsilon0 is its confidence
// parameter, the bound failing with probability about P(|N(0,1)| > epsilon0)
// (2 exp(-c0 epsilon0^2) in the paper). We add the query quantisation error
// q' - q'~ = e the same way: <xbar, e>/a has standard deviation about
// ||e||/(a sqrt(D)), bounded by epsilon0 ||e||/(a sqrt(D)) (added linearly,
// which is conservative). So
//   |<q_r, r>~ - <q_r, r>| <= epsilon0 ||q_r|| (f3 + f4 ||e|| / sqrt(D))
// with f3, f4 the last two stored floats; the bound on ||q-x||^2 is twice
// that, on <q, x> once. kRabitqDefaultEpsilon = 3.0 (P(|N(0,1)| > 3) =
// 0.27 %: the unit tests check >= 99 % coverage); the paper's 1.9 (~94 %) is
// a good choice when the bound only steers re-ranking. The rotation is
// structured, not uniformly random, so these probabilities are empirical
// (measured in test_rabitq.cpp), not proved.
//
// ## Rotation
//
// D = dim rounded up to a multiple of 64 (r is zero-padded), L = the largest
// power of two <= D. P is 4 rounds of: flip signs with a random +-1 diagonal,
// normalised Walsh-Hadamard transform of coordinates [0, L), flip signs,
// normalised Walsh-Hadamard transform of [D-L, D). Each step is orthogonal;
// the two blocks cover [0, D) (L > D/2), so after two rounds every output
// depends on every input. The 8 sign diagonals come from the seed through
// splitmix64 (our own code, so every build and platform gets the same codec).
// Cost: 8 L log2(L) additions plus 8 D multiplications per rotation, e.g.
// 16 K at 384 dims, 1.8 M at 16000 dims (L = 16384); memory 8 D floats.
// Computed in float32 by the active SIMD level's kernel (rabitq_fwht.h):
// only additions, subtractions, sign flips and the final scaling, in the
// textbook order and never fused into FMA, so every level, build and x86-64
// machine gets the same bits (test_rabitq.cpp checks every level against a
// scalar reference).
//
// ## Values
//
// encode/prepare throw nmvec::Error(DataException) on a NaN or infinite
// element. Residuals are scaled by their largest element before rotating and
// all factors are computed in double, so tiny and huge finite values work;
// encode throws nmvec::Error(OutOfRange) only if a stored factor would exceed
// float's range: ||x - c|| / a beyond FLT_MAX (elements around 1e37 and
// up), or |<c, x - c>| beyond FLT_MAX.
// Estimates are computed in double and returned as float, saturated to
// [-FLT_MAX, FLT_MAX]: always finite, never NaN. x == c (zero residual) codes
// exactly (estimates are then exact), as does a query equal to the centroid.
//
// ## Cost (measured by bench/micro/bench_rabitq.cpp)
//
// estimate_batch = one integer kernel pass per code (1 bit: 4 AND+popcount
// passes over padded_dim bits; 4/8 bits: padded_dim 16-bit multiply-adds)
// plus ~15 double operations on the code's factors (8 codes at a time at
// AVX-512, the factors gathered from the records, the same bits as the
// scalar loop). prepare = one rotation
// plus O(D) quantisation. encode = one rotation, plus for 4/8 bits the scale
// search (96 evaluations of O(D), run as 32 scales per SIMD pass), which
// makes multi-bit encoding ~6x the cost of 1-bit encoding. Both encode and
// prepare end in two chains of D dependent double additions (the factors'
// sums must be added in order to keep the codes' bits), ~3 cycles per
// element each: at 384 dimensions about 0.9 us of a ~1.6 us encode.
//
// Thread safety: a RabitqCodec is immutable after construction; all its
// methods are const and may run concurrently. A RabitqQuery belongs to one
// thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "simd.h"

namespace nmvec {

/// Default confidence parameter epsilon0 of the error bound (see above).
constexpr float kRabitqDefaultEpsilon = 3.0f;

/// The confidence the ivf scan re-ranks with. The scan reads rows in
/// lower-bound order until the nearest read is within every remaining lower
/// bound, so this sets how many rows it reads. A lower bound above the true
/// distance happens for ~0.01 % of 1-bit codes at 3, ~0.1 % at 2.5, ~0.8 %
/// at 2 (random data, 16 to 784 dims, one-sided; the unit tests check 2.5).
/// On 1M 384-d events (1,000 lists, automatic probes, 200 queries) the rows
/// read per query were 324 / 222 / 147 at 3 / 2.5 / 2, recall@10 0.9945 /
/// 0.9945 / 0.9935. On 10M (3,162 lists, 50 queries): 393 / 243 / 142 rows
/// at 2.5 / 2 / 1.5, recall@10 0.990 / 0.990 / 0.978, single-client p50
/// 1.81 / 1.69 / 1.57 ms. Not lowered to 2: a failed bound also puts rows
/// out of order within a round (sql/19's 16-d first round was no longer
/// in order), for a 2-7 % gain.
constexpr float kRabitqScanEpsilon = 2.5f;

/// Largest dimension a codec accepts (the vector type's limit).
constexpr uint32_t kRabitqMaxDim = 16000;

/// Bytes of one code of a codec of (dim, bits): dim rounded up to a
/// multiple of 64, `bits` bits each, then 5 float32 factors (see "Layout").
/// RabitqCodec::code_bytes() returns this; index pages size their records
/// with it without building a codec.
constexpr uint32_t rabitq_code_bytes(uint32_t dim, uint32_t bits) {
    return bits == 2 ? (dim + 63u) / 64u * 64u / 4u + 8u * static_cast<uint32_t>(sizeof(float))
                     : (dim + 63u) / 64u * 64u * bits / 8u + 5u * static_cast<uint32_t>(sizeof(float));
}

/// What an estimate is of.
enum class RabitqMetric {
    L2Squared,     ///< ||q - x||^2
    InnerProduct,  ///< <q, x> (a similarity: larger is closer)
};

/// An estimate with its bound: lower <= value <= upper, and the true value
/// lies in [lower, upper] with the probability epsilon0 promises. For
/// L2Squared, lower is clamped at 0 (value may be slightly negative).
struct RabitqEstimate {
    float value;
    float lower;
    float upper;
};

/// The integer kernels behind estimate_batch, one table per SIMD level
/// (rabitq_impl.h). Exposed only so tests and benchmarks can pick a level.
struct RabitqKernels;

/// A query prepared for one (query, centroid) pair by RabitqCodec::prepare.
/// Reusable: preparing again for the same codec allocates nothing.
struct RabitqQuery {
    uint32_t padded_dim = 0;  ///< of the codec that prepared it
    uint32_t bits = 0;
    std::vector<uint64_t> planes;  ///< 1 bit: 4 bit planes of w, padded_dim/64 words each
    std::vector<int16_t> w16;      ///< 4/8 bits: w as int16 (4 bits: in the kernels' order)
    std::vector<float> rotated;    ///< scratch: the rotated query
    std::vector<double> residual;  ///< scratch: (q - c) / max |q - c|, then per-element errors
    double q_norm = 0;             ///< ||q - c||
    double delta = 0;              ///< q'~ = delta * w
    double w_offset = 0;           ///< (2^bits - 1)/2 * sum(w): <y, w> = <u, w> - w_offset
    double qc = 0;                 ///< <q, c>
    double err_query = 0;          ///< ||q' - q'~|| / sqrt(D)
    double epsilon = kRabitqDefaultEpsilon;
};

/// Scratch space for RabitqCodec::encode, reusable across calls and codecs
/// (it only grows); one thread at a time.
struct RabitqScratch {
    std::vector<double> dbl;
    std::vector<float> flt;
};

/// The codec: immutable, deterministic from (dim, bits, seed).
class RabitqCodec {
 public:
    /// dim in 1..kRabitqMaxDim, bits in {1, 2, 4, 8} (2: two-stage, see
    /// "Two-stage codes"); otherwise throws
    /// nmvec::Error(InvalidParameter). Builds the rotation (O(dim) time).
    RabitqCodec(uint32_t dim, uint32_t bits, uint64_t seed);

    uint32_t dim() const noexcept { return dim_; }
    uint32_t bits() const noexcept { return bits_; }
    uint64_t seed() const noexcept { return seed_; }
    /// dim rounded up to a multiple of 64: the rotated space's dimension D.
    uint32_t padded_dim() const noexcept { return padded_; }
    /// Bytes of one code: padded_dim * bits / 8 + 5 floats.
    size_t code_bytes() const noexcept { return code_bytes_; }

    /// Codes x - centroid (centroid may be null: the zero vector) into
    /// out[0, code_bytes()). Throws as described under "Values".
    /// Uses a thread-local RabitqScratch, so it allocates only when a
    /// thread first meets a larger codec.
    void encode(const float* x, const float* centroid, uint8_t* out) const;
    /// The same with caller-owned scratch space.
    void encode(const float* x, const float* centroid, uint8_t* out, RabitqScratch& scratch) const;
    /// The same with the rotation kernel of a given level (tests,
    /// benchmarks): the code is the same at every level.
    void encode(const float* x, const float* centroid, uint8_t* out, RabitqScratch& scratch,
                const RabitqKernels& kernels) const;

    /// Approximate reconstruction c + ||r|| a P^-1 xbar (the projection of
    /// the code's direction on the true one), dim floats into out.
    void decode(const uint8_t* code, const float* centroid, float* out) const;

    /// Prepares `state` for estimates of the query q against codes made with
    /// this centroid (null = zero vector). epsilon0 > 0 sets the bound's
    /// width. Throws nmvec::Error(DataException) on a non-finite element,
    /// InvalidParameter on epsilon0 <= 0 or NaN.
    void prepare(const float* q, const float* centroid, RabitqQuery& state,
                 float epsilon0 = kRabitqDefaultEpsilon) const;
    /// The same with the rotation kernel of a given level (tests,
    /// benchmarks): the state is the same at every level.
    void prepare(const float* q, const float* centroid, RabitqQuery& state, float epsilon0,
                 const RabitqKernels& kernels) const;

    /// One estimate. The state must come from prepare() on this codec (or
    /// one with the same dim and bits); otherwise throws Error(Internal).
    RabitqEstimate estimate(const RabitqQuery& state, const uint8_t* code, RabitqMetric metric) const;

    /// Estimates n codes starting at `codes`, `stride` bytes apart (0 means
    /// code_bytes(): codes back to back), into out[0, n). The hot path:
    /// uses the active SIMD level's kernels.
    void estimate_batch(const RabitqQuery& state, const uint8_t* codes, size_t n, size_t stride,
                        RabitqMetric metric, RabitqEstimate* out) const;

    /// The same with the kernels of a given level (tests, benchmarks).
    void estimate_batch(const RabitqQuery& state, const uint8_t* codes, size_t n, size_t stride,
                        RabitqMetric metric, RabitqEstimate* out, const RabitqKernels& kernels) const;

    /// A two-stage code's (bits() == 2) refined estimate from both planes,
    /// its bound about half as wide as estimate's (see "Two-stage codes").
    /// Throws Error(Internal) for another codec or a state from another.
    RabitqEstimate refine(const RabitqQuery& state, const uint8_t* code, RabitqMetric metric) const;
    /// The same with the kernels of a given level (tests, benchmarks).
    RabitqEstimate refine(const RabitqQuery& state, const uint8_t* code, RabitqMetric metric,
                          const RabitqKernels& kernels) const;

    /// The rotation P: dim floats in, padded_dim floats out.
    void rotate(const float* x, float* out) const;
    /// Its inverse, keeping the first dim coordinates: padded_dim in, dim out.
    void unrotate(const float* y, float* out) const;

 private:
    void rotate_in_place(float* v, const RabitqKernels& kernels) const;
    void unrotate_in_place(float* v) const;
    /// Bytes of the digits estimate_batch reads (a two-stage code's first plane).
    size_t scan_bit_bytes() const noexcept {
        return static_cast<size_t>(padded_) * (bits_ == 2 ? 1 : bits_) / 8;
    }

    uint32_t dim_;
    uint32_t bits_;
    uint64_t seed_;
    uint32_t padded_;
    uint32_t block_;  ///< L: the Walsh-Hadamard block length
    size_t code_bytes_;
    float scale_;                       ///< 1/sqrt(L), the transform's normalisation
    std::vector<uint32_t> load_flips_;  ///< kRounds * 2 masks of L entries: the flips merged per transform
    std::vector<uint32_t> flips_;  ///< kRounds * 2 diagonals of padded_ entries: 0 (+1) or the sign bit (-1)
};

}  // namespace nmvec
