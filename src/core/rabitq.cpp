// rabitq.cpp — the RaBitQ codec (rotation, encode, decode, query
// preparation, the float side of the estimates), the scalar integer kernels
// and their dispatch. See rabitq.h for the method, rabitq_impl.h for the
// kernels' contract.
//
// Everything that decides a code's bytes (rotation, scale search, factors)
// lives here, in a file compiled without ISA flags and without FMA, or in
// the per-level kernels (rabitq_impl.h: the transform, the residual's
// scaling, the scale search's scores), which do the same operations in the
// same order per element, so a vector gets the same code in every build at
// every level on every x86-64 machine (test_rabitq.cpp compares each level
// with a scalar reference). Sums that feed the codes are added in order.
#include "rabitq.h"

#include <emmintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "error.h"
#include "rabitq_fwht.h"
#include "rabitq_impl.h"

namespace nmvec {

namespace {

constexpr int kRounds = 4;
constexpr size_t kFactors = 5;
constexpr size_t kFactorBytes = kFactors * sizeof(float);
/// A two-stage code's own factors after its second plane (rabitq.h).
constexpr size_t kTwoStageFactorBytes = 3 * sizeof(float);
/// Codes per chunk of estimate_batch: the kernel's results go to the stack.
constexpr size_t kChunk = 64;
/// Grid points of the scale search for multi-bit codes.
constexpr int kCoarseSteps = 64;
constexpr int kFineSteps = 32;
static_assert(kCoarseSteps % 32 == 0 && kFineSteps % 32 == 0, "the score kernels take scales 32 at a time");

/// splitmix64 (Steele, Lea, Flood): a tiny, well-mixed generator whose
/// output is fixed by its definition, unlike <random>'s distributions.
uint64_t splitmix64(uint64_t& state) noexcept {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// In-place normalised Walsh-Hadamard transform of v[0, n), n a power of 2
/// >= 4. The first two butterfly levels run fused on groups of 4 (the same
/// additions in the same order as two separate levels, so the same bits);
/// the later levels' inner loops are contiguous and vectorise.
void fwht(float* v, size_t n) noexcept {
    for (size_t i = 0; i < n; i += 4) {
        const float a = v[i] + v[i + 1], b = v[i] - v[i + 1];
        const float c = v[i + 2] + v[i + 3], d = v[i + 2] - v[i + 3];
        v[i] = a + c;
        v[i + 1] = b + d;
        v[i + 2] = a - c;
        v[i + 3] = b - d;
    }
    for (size_t h = 4; h < n; h <<= 1) {
        for (size_t i = 0; i < n; i += 2 * h) {
            float* x = v + i;
            float* y = v + i + h;
            for (size_t j = 0; j < h; ++j) {
                const float a = x[j];
                const float b = y[j];
                x[j] = a + b;
                y[j] = a - b;
            }
        }
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
    for (size_t i = 0; i < n; ++i) v[i] *= scale;
}

constexpr uint32_t kSignBit = 0x80000000u;

/// v[i] *= -1 where flip[i] is the sign bit (exact).
void flip(float* v, const uint32_t* f, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, v + i, sizeof b);
        b ^= f[i];
        std::memcpy(v + i, &b, sizeof b);
    }
}

template <bool kCentroid>
bool max_residual_t(const float* x, const float* c, uint32_t dim, double* out) noexcept {
    const __m128i expo = _mm_set1_epi32(0x7f800000);
    const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
    __m128i bad = _mm_setzero_si128();
    __m128d m0 = _mm_setzero_pd(), m1 = _mm_setzero_pd();
    uint32_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        const __m128 xv = _mm_loadu_ps(x + i);
        bad = _mm_or_si128(bad, _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(xv), expo), expo));
        __m128d r0 = _mm_cvtps_pd(xv), r1 = _mm_cvtps_pd(_mm_movehl_ps(xv, xv));
        if (kCentroid) {
            const __m128 cv = _mm_loadu_ps(c + i);
            bad = _mm_or_si128(bad, _mm_cmpeq_epi32(_mm_and_si128(_mm_castps_si128(cv), expo), expo));
            r0 = _mm_sub_pd(r0, _mm_cvtps_pd(cv));
            r1 = _mm_sub_pd(r1, _mm_cvtps_pd(_mm_movehl_ps(cv, cv)));
        }
        m0 = _mm_max_pd(m0, _mm_and_pd(r0, abs_mask));
        m1 = _mm_max_pd(m1, _mm_and_pd(r1, abs_mask));
    }
    const __m128d m = _mm_max_pd(m0, m1);
    double s = std::max(_mm_cvtsd_f64(m), _mm_cvtsd_f64(_mm_unpackhi_pd(m, m)));
    bool ok = _mm_movemask_epi8(bad) == 0;
    for (; i < dim; ++i) {
        ok = ok && std::isfinite(x[i]) && (!kCentroid || std::isfinite(c[i]));
        const double r = static_cast<double>(x[i]) - (kCentroid ? static_cast<double>(c[i]) : 0.0);
        s = std::max(s, std::fabs(r));
    }
    *out = s;
    return ok;
}

/// max |x_i - c_i| (in double; c null: the zero vector) into *out; false
/// if an element of x or c is NaN or infinite (*out is then meaningless).
bool max_residual(const float* x, const float* c, uint32_t dim, double* out) noexcept {
    return c ? max_residual_t<true>(x, c, dim, out) : max_residual_t<false>(x, c, dim, out);
}

[[noreturn]] void throw_non_finite(const float* x, const float* c, uint32_t dim, const char* what) {
    uint32_t i = 0;
    while (i < dim && std::isfinite(x[i]) && (!c || std::isfinite(c[i]))) ++i;
    throw Error(
        ErrorKind::DataException, std::string("rabitq: ") + what + " has a non-finite element",
        "Element " + std::to_string(i) + " of the " + what + " or of the centroid is NaN or infinite.");
}

template <bool kCentroid>
void scale_residual_t(const float* x, const float* c, size_t dim, double s, double* t, float* v) noexcept {
    const __m128d sv = _mm_set1_pd(s);
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        const __m128 xv = _mm_loadu_ps(x + i);
        __m128d r0 = _mm_cvtps_pd(xv), r1 = _mm_cvtps_pd(_mm_movehl_ps(xv, xv));
        if (kCentroid) {
            const __m128 cv = _mm_loadu_ps(c + i);
            r0 = _mm_sub_pd(r0, _mm_cvtps_pd(cv));
            r1 = _mm_sub_pd(r1, _mm_cvtps_pd(_mm_movehl_ps(cv, cv)));
        }
        const __m128d t0 = _mm_div_pd(r0, sv), t1 = _mm_div_pd(r1, sv);
        _mm_storeu_pd(t + i, t0);
        _mm_storeu_pd(t + i + 2, t1);
        _mm_storeu_ps(v + i, _mm_movelh_ps(_mm_cvtpd_ps(t0), _mm_cvtpd_ps(t1)));
    }
    for (; i < dim; ++i) {
        const double r = static_cast<double>(x[i]) - (kCentroid ? static_cast<double>(c[i]) : 0.0);
        t[i] = r / s;
        v[i] = static_cast<float>(t[i]);
    }
}

/// t = (x - c) / s in double, v = t rounded to float (c null: zero).
void scale_residual_sse2(const float* x, const float* c, size_t dim, double s, double* t, float* v) {
    if (c)
        scale_residual_t<true>(x, c, dim, s, t, v);
    else
        scale_residual_t<false>(x, c, dim, s, t, v);
}

/// The query's quantisation of 64 rotated elements v (see prepare): w[i] =
/// round(v_i inv to_w) clamped to [-top, top], e2[i] = (v_i inv - delta
/// w_i)^2. Clamping before truncating gives the same w as after (top is an
/// integer and truncation is monotonic).
void quantize64(const float* v, double inv, double to_w, double delta, int top, int32_t* w,
                double* e2) noexcept {
    const __m128d vinv = _mm_set1_pd(inv), vto = _mm_set1_pd(to_w), vdelta = _mm_set1_pd(delta);
    const __m128d hi = _mm_set1_pd(top), lo = _mm_set1_pd(-top);
    const __m128d half = _mm_set1_pd(0.5), mhalf = _mm_set1_pd(-0.5), zero = _mm_setzero_pd();
    for (size_t i = 0; i < 64; i += 4) {
        const __m128 x = _mm_loadu_ps(v + i);
        for (size_t h = 0; h < 2; ++h) {
            const __m128d o = _mm_mul_pd(_mm_cvtps_pd(h ? _mm_movehl_ps(x, x) : x), vinv);
            const __m128d t = _mm_mul_pd(o, vto);
            // Round half away from zero: t + (t >= 0 ? 0.5 : -0.5), truncated.
            const __m128d ge = _mm_cmpge_pd(t, zero);
            const __m128d r = _mm_add_pd(t, _mm_or_pd(_mm_and_pd(ge, half), _mm_andnot_pd(ge, mhalf)));
            const __m128i wi = _mm_cvttpd_epi32(_mm_max_pd(_mm_min_pd(r, hi), lo));
            const __m128d e = _mm_sub_pd(o, _mm_mul_pd(vdelta, _mm_cvtepi32_pd(wi)));
            _mm_storeu_pd(e2 + i + 2 * h, _mm_mul_pd(e, e));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(w + i + 2 * h), wi);
        }
    }
}

constexpr double FLT_MAX_D = FLT_MAX;

float load_float(const uint8_t* p) noexcept {
    float f;
    std::memcpy(&f, p, sizeof f);
    return f;
}

/// Digit u of dimension i of a packed code.
unsigned digit(const uint8_t* code, uint32_t bits, size_t i) noexcept {
    switch (bits) {
        case 1:
            return (code[i / 8] >> (i % 8)) & 1u;
        case 4:
            return (code[i / 2] >> (4 * (i % 2))) & 0xfu;
        default:
            return code[i];
    }
}

/// For each of nt scales t (nt a multiple of 8), over the n magnitudes a:
/// num = sum y_i a_i and den = sum y_i^2 with y_i = min(floor(t a_i), top)
/// + 1/2 (t a_i >= 0, so truncation is floor). Each scale's sums are added
/// in order of i, in its own lane, so they are the plain loop's.
void score_scales_sse2(const double* a, size_t n, double top, const double* ts, size_t nt, double* num,
                       double* den) {
    const __m128d vtop = _mm_set1_pd(top), half = _mm_set1_pd(0.5);
    for (size_t g = 0; g < nt; g += 8) {
        __m128d t[4], sn[4], sd[4];
        for (int k = 0; k < 4; ++k) {
            t[k] = _mm_loadu_pd(ts + g + 2 * k);
            sn[k] = _mm_setzero_pd();
            sd[k] = _mm_setzero_pd();
        }
        for (size_t i = 0; i < n; ++i) {
            const __m128d ai = _mm_set1_pd(a[i]);
            for (int k = 0; k < 4; ++k) {
                const __m128d y = _mm_add_pd(
                    _mm_cvtepi32_pd(_mm_cvttpd_epi32(_mm_min_pd(_mm_mul_pd(t[k], ai), vtop))), half);
                sn[k] = _mm_add_pd(sn[k], _mm_mul_pd(y, ai));
                sd[k] = _mm_add_pd(sd[k], _mm_mul_pd(y, y));
            }
        }
        for (int k = 0; k < 4; ++k) {
            _mm_storeu_pd(num + g + 2 * k, sn[k]);
            _mm_storeu_pd(den + g + 2 * k, sd[k]);
        }
    }
}

/// The scale search for multi-bit digits (rabitq.h) over the magnitudes a
/// of the unit vector o (largest amax): returns the best scale t, with
/// <y, |o|> and ||y||^2 of its digits.
double search_scale(const double* a, size_t n, uint32_t bits, double amax, double* yo, double* yy,
                    const RabitqKernels& kernels) {
    const int levels = 1 << (bits - 1);  // magnitudes 0.5 .. levels - 0.5
    const double top = levels - 1;
    // The largest element reaches the top level at t = levels / amax; the
    // best scale clips at most a few outliers, so search t in
    // [0.1, 2] * levels / amax, coarsely and then around the best point.
    // Score of t: <y, |o|> / ||y||; the first best wins.
    const double base = levels / amax;
    const double lo = 0.1 * base, hi = 2.0 * base;
    const double step = (hi - lo) / (kCoarseSteps - 1);
    double ts[kCoarseSteps], num[kCoarseSteps], den[kCoarseSteps];
    double best_t = lo, best = -1.0, best_num = 0.0, best_den = 0.0;
    auto pick = [&](int steps) {
        kernels.score_scales(a, n, top, ts, static_cast<size_t>(steps), num, den);
        for (int j = 0; j < steps; ++j) {
            const double s = num[j] / std::sqrt(den[j]);
            if (s > best) {
                best = s;
                best_t = ts[j];
                best_num = num[j];
                best_den = den[j];
            }
        }
    };
    for (int j = 0; j < kCoarseSteps; ++j) ts[j] = lo + step * j;
    pick(kCoarseSteps);
    const double flo = std::max(lo, best_t - step);
    const double fstep = (std::min(hi, best_t + step) - flo) / (kFineSteps - 1);
    for (int j = 0; j < kFineSteps; ++j) ts[j] = flo + fstep * j;
    pick(kFineSteps);
    *yo = best_num;
    *yy = best_den;
    return best_t;
}

/// Clamps to float's finite range (a NaN cannot arise: every input is finite).
inline float saturate(double v) noexcept {
    return static_cast<float>(std::min(std::max(v, -FLT_MAX_D), FLT_MAX_D));
}

/// The estimate of a code whose factors start at f (||r||, <c, r>, ...)
/// from <q_r, r>~ = ip and the half-width err of its bound; qn2 = ||q_r||^2,
/// qc = <q, c>.
template <RabitqMetric kMetric>
inline void set_estimate(double qn2, double qc, const uint8_t* f, double ip, double err,
                         RabitqEstimate& e) noexcept {
    if (kMetric == RabitqMetric::L2Squared) {
        const double f0 = load_float(f);
        const double val = qn2 + f0 * f0 - 2.0 * ip;
        e.value = saturate(val);
        e.lower = saturate(std::max(val - 2.0 * err, 0.0));
        e.upper = saturate(val + 2.0 * err);
    } else {
        const double val = qc + load_float(f + 4) + ip;
        e.value = saturate(val);
        e.lower = saturate(val - err);
        e.upper = saturate(val + err);
    }
}

/// Turns the kernels' integers <u, w> of m codes into estimates (rabitq.h):
/// per code a few double operations on the stored factors.
template <RabitqMetric kMetric>
void finish(const RabitqFinish& p, const uint8_t* codes, size_t m, size_t stride, const int64_t* dots,
            RabitqEstimate* out) noexcept {
    for (size_t j = 0; j < m; ++j) {
        const uint8_t* f = codes + j * stride + p.nb;
        // <q_r, r>~ = ||q_r|| * f2 * delta * <y, w>
        const double ip = p.scale * load_float(f + 8) * (static_cast<double>(dots[j]) - p.w_offset);
        const double err = p.err_scale * (load_float(f + 12) + load_float(f + 16) * p.err_query);
        set_estimate<kMetric>(p.qn2, p.qc, f, ip, err, out[j]);
    }
}

// ---- scalar kernels --------------------------------------------------------

void dot_b1_scalar(const uint64_t* planes, size_t words, const uint8_t* codes, size_t n, size_t stride,
                   int64_t* out) {
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        int64_t sum = 0;
        for (size_t i = 0; i < words; ++i) {
            uint64_t x;
            std::memcpy(&x, c + 8 * i, 8);
            sum += __builtin_popcountll(x & planes[i]);
            sum += 2 * __builtin_popcountll(x & planes[words + i]);
            sum += 4 * __builtin_popcountll(x & planes[2 * words + i]);
            sum -= 8 * __builtin_popcountll(x & planes[3 * words + i]);
        }
        out[j] = sum;
    }
}

void dot_b4_scalar(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
                   int64_t* out) {
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        int64_t sum = 0;
        for (size_t blk = 0; blk < padded_dim; blk += 64) {
            const uint8_t* b = c + blk / 2;
            const int16_t* w = w16 + blk;
            for (size_t k = 0; k < 32; ++k) {
                sum += static_cast<int64_t>(b[k] & 0xf) * w[k];
                sum += static_cast<int64_t>(b[k] >> 4) * w[32 + k];
            }
        }
        out[j] = sum;
    }
}

void dot_b8_scalar(const int16_t* w16, size_t padded_dim, const uint8_t* codes, size_t n, size_t stride,
                   int64_t* out) {
    for (size_t j = 0; j < n; ++j) {
        const uint8_t* c = codes + j * stride;
        int64_t sum = 0;
        for (size_t i = 0; i < padded_dim; ++i) sum += static_cast<int64_t>(c[i]) * w16[i];
        out[j] = sum;
    }
}

}  // namespace

void rabitq_finish_scalar(const RabitqFinish& p, const uint8_t* codes, size_t m, size_t stride,
                          const int64_t* dots, RabitqEstimate* out) {
    if (p.l2)
        finish<RabitqMetric::L2Squared>(p, codes, m, stride, dots, out);
    else
        finish<RabitqMetric::InnerProduct>(p, codes, m, stride, dots, out);
}

namespace {

/// The baseline's transform: SSE2, four floats at a time.
void fwht_sse2(float* v, size_t n, const uint32_t* flip, float scale) {
    rabitq_fwht::Fwht<4>::run<8>(v, n, flip, scale);
}

}  // namespace

const RabitqKernels& rabitq_kernels_scalar() {
    static const RabitqKernels k = {dot_b1_scalar,       dot_b4_scalar,     dot_b8_scalar,       fwht_sse2,
                                    scale_residual_sse2, score_scales_sse2, rabitq_finish_scalar};
    return k;
}

const RabitqKernels& rabitq_kernels(SimdLevel level) {
    switch (level) {
        case SimdLevel::Scalar:
            return rabitq_kernels_scalar();
        case SimdLevel::AVX2:
            return rabitq_kernels_avx2();
        case SimdLevel::AVX512:
        case SimdLevel::AVX512FP16:
            return rabitq_kernels_avx512();
    }
    throw Error(ErrorKind::Internal,
                "no rabitq kernels for SIMD level " + std::to_string(static_cast<int>(level)));
}

const RabitqKernels& rabitq_active_kernels() {
    static const RabitqKernels& k = best_simd_level() >= SimdLevel::AVX512 && cpu_has_vpopcntdq()
                                        ? rabitq_kernels_avx512_vpopcnt()
                                        : rabitq_kernels(best_simd_level());
    return k;
}

// ---- codec -----------------------------------------------------------------

RabitqCodec::RabitqCodec(uint32_t dim, uint32_t bits, uint64_t seed) : dim_(dim), bits_(bits), seed_(seed) {
    if (dim < 1 || dim > kRabitqMaxDim)
        throw Error(ErrorKind::InvalidParameter,
                    "rabitq: dimension " + std::to_string(dim) + " is out of range",
                    "The dimension must be between 1 and " + std::to_string(kRabitqMaxDim) + ".");
    if (bits != 1 && bits != 2 && bits != 4 && bits != 8)
        throw Error(ErrorKind::InvalidParameter,
                    "rabitq: " + std::to_string(bits) + " bits per dimension is not supported",
                    "The number of bits must be 1, 2 (two-stage), 4 or 8.");
    padded_ = (dim + 63) / 64 * 64;
    block_ = 1;
    while (block_ * 2 <= padded_) block_ *= 2;
    code_bytes_ = rabitq_code_bytes(dim, bits);
    static_assert(rabitq_code_bytes(64, 8) == 64 + kFactorBytes, "code layout: bits, then the factors");
    static_assert(rabitq_code_bytes(64, 2) == 2 * (8 + kFactorBytes) - 2 * sizeof(float),
                  "two-stage layout: a 1-bit code, the second plane, 3 factors");
    scale_ = static_cast<float>(1.0 / std::sqrt(static_cast<double>(block_)));

    // 2 * kRounds diagonals of +-1, 64 signs per generator output; the
    // generator's state starts from the seed mixed with a fixed tag, so seed
    // 0 is as good as any other.
    uint64_t state = seed ^ 0x52614269745121ULL;  // "RaBitQ!"
    flips_.resize(static_cast<size_t>(2 * kRounds) * padded_);
    uint64_t word = 0;
    for (size_t i = 0; i < flips_.size(); ++i) {
        if (i % 64 == 0) word = splitmix64(state);
        flips_[i] = (word >> (i % 64)) & 1u ? kSignBit : 0u;
    }
    // The flips as the transforms apply them on load (rotate_in_place).
    const size_t d = padded_, l = block_;
    load_flips_.resize(static_cast<size_t>(2 * kRounds) * l);
    for (int r = 0; r < kRounds; ++r) {
        const uint32_t* f0 = flips_.data() + (2 * r) * d;
        const uint32_t* f1 = f0 + d;
        uint32_t* m0 = load_flips_.data() + (2 * r) * l;
        uint32_t* m1 = m0 + l;
        for (size_t i = 0; i < l; ++i)
            m0[i] = f0[i] ^ (r > 0 && i < d - l ? flips_[(2 * r - 1) * d + i] : 0u);
        for (size_t i = d - l; i < d; ++i) m1[i - (d - l)] = f1[i] ^ (i >= l ? f0[i] : 0u);
    }
}

void RabitqCodec::rotate_in_place(float* v, const RabitqKernels& kernels) const {
    // Round r: v *= diagonal 2r; H on [0, L); v *= diagonal 2r+1; H on
    // [D-L, D). Sign flips are exact and commute with each other, so each
    // element's flips between two transforms that touch it are merged into
    // one, applied as the second transform loads it (load_flips_): [L, D)
    // takes both diagonals of round r on entering H on [D-L, D), and [0,
    // D-L) takes diagonal 2r-1 on entering round r's first H. Only round 3's
    // last flip of [0, D-L) is left over.
    const size_t d = padded_, l = block_;
    for (int r = 0; r < kRounds; ++r) {
        const uint32_t* m0 = load_flips_.data() + (2 * r) * l;
        kernels.fwht(v, l, m0, scale_);
        kernels.fwht(v + (d - l), l, m0 + l, scale_);
    }
    flip(v, flips_.data() + (2 * kRounds - 1) * d, d - l);
}

void RabitqCodec::unrotate_in_place(float* v) const {
    // Each step is its own inverse (normalised Hadamard, +-1 diagonals):
    // apply them in reverse order.
    const size_t d = padded_, l = block_;
    for (int r = kRounds - 1; r >= 0; --r) {
        fwht(v + (d - l), l);
        flip(v, flips_.data() + (2 * r + 1) * d, d);
        fwht(v, l);
        flip(v, flips_.data() + (2 * r) * d, d);
    }
}

void RabitqCodec::rotate(const float* x, float* out) const {
    std::copy(x, x + dim_, out);
    std::fill(out + dim_, out + padded_, 0.0f);
    rotate_in_place(out, rabitq_active_kernels());
}

void RabitqCodec::unrotate(const float* y, float* out) const {
    std::vector<float> v(y, y + padded_);
    unrotate_in_place(v.data());
    std::copy(v.begin(), v.begin() + dim_, out);
}

void RabitqCodec::encode(const float* x, const float* centroid, uint8_t* out) const {
    thread_local RabitqScratch scratch;
    encode(x, centroid, out, scratch, rabitq_active_kernels());
}

void RabitqCodec::encode(const float* x, const float* centroid, uint8_t* out, RabitqScratch& scratch) const {
    encode(x, centroid, out, scratch, rabitq_active_kernels());
}

void RabitqCodec::encode(const float* x, const float* centroid, uint8_t* out, RabitqScratch& scratch,
                         const RabitqKernels& kernels) const {
    const size_t d = padded_;
    // t: (x - c) / s, dim doubles; a: |o|, d doubles (multi-bit only);
    // v: the rotated vector, d floats.
    if (scratch.dbl.size() < dim_ + d) scratch.dbl.resize(dim_ + d);
    if (scratch.flt.size() < d) scratch.flt.resize(d);
    double* t = scratch.dbl.data();
    double* a = t + dim_;
    float* v = scratch.flt.data();

    double s;
    if (!max_residual(x, centroid, dim_, &s)) throw_non_finite(x, centroid, dim_, "vector");
    const int levels = 1 << (bits_ - 1);
    const size_t nb = scan_bit_bytes();
    float f[kFactors] = {0, 0, 0, 0, 0};
    if (s == 0.0) {
        // Zero residual: all factors 0 make every estimate exact; the digits
        // (all +1/2) do not matter.
        switch (bits_) {
            case 1:
                std::memset(out, 0xff, nb);
                break;
            case 2:
                std::memset(out, 0xff, code_bytes_);
                std::memset(out + nb, 0, kFactorBytes);
                std::memset(out + 2 * nb + kFactorBytes, 0, kTwoStageFactorBytes);
                return;
            case 4:
                std::memset(out, levels * 0x11, nb);
                break;
            default:
                std::memset(out, levels, nb);
        }
        std::memcpy(out + nb, f, kFactorBytes);
        return;
    }
    // Scale by the largest element so the float rotation neither overflows
    // nor loses tiny values; the factors carry the scale.
    kernels.scale_residual(x, centroid, dim_, s, t, v);
    std::fill(v + dim_, v + d, 0.0f);
    rotate_in_place(v, kernels);
    // Three independent sums in one loop: each is added in order (the
    // code's bytes depend on their rounding), so each is a chain of
    // dependent additions; interleaved they cost one chain.
    double rn2 = 0.0, cr = 0.0, on2 = 0.0;
    if (centroid) {
        for (uint32_t i = 0; i < dim_; ++i) {
            rn2 += t[i] * t[i];
            const double ri = static_cast<double>(x[i]) - static_cast<double>(centroid[i]);
            cr += static_cast<double>(centroid[i]) * ri;
            on2 += static_cast<double>(v[i]) * v[i];
        }
    } else {
        for (uint32_t i = 0; i < dim_; ++i) {
            rn2 += t[i] * t[i];
            on2 += static_cast<double>(v[i]) * v[i];
        }
    }
    for (size_t i = dim_; i < d; ++i) on2 += static_cast<double>(v[i]) * v[i];
    const double inv = 1.0 / std::sqrt(on2);

    // |o| into a, for the multi-bit scale search; returns its largest.
    auto magnitudes = [&]() {
        double amax = 0.0;
        for (size_t i = 0; i < d; ++i) {
            a[i] = std::fabs(static_cast<double>(v[i]) * inv);
            amax = std::max(amax, a[i]);
        }
        return amax;
    };
    // o = v * inv; u_i's sign side is o_i >= 0, i.e. v_i >= 0 (inv > 0, and
    // -0 >= 0 either way).
    double yo = 0.0, yy = 0.0;
    if (bits_ <= 2) {
        for (size_t i = 0; i < d; ++i) yo += 0.5 * std::fabs(static_cast<double>(v[i]) * inv);
        yy = 0.25 * static_cast<double>(d);
        const __m128 zero = _mm_setzero_ps();
        for (size_t i = 0; i < d; i += 8) {
            const int lo = _mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(v + i), zero));
            const int hi = _mm_movemask_ps(_mm_cmpge_ps(_mm_loadu_ps(v + i + 4), zero));
            out[i / 8] = static_cast<uint8_t>(lo | hi << 4);
        }
    } else {
        const double best_t = search_scale(a, d, bits_, magnitudes(), &yo, &yy, kernels);
        const double top = levels - 1;
        for (size_t i = 0; i < d; i += 2) {
            unsigned u[2];
            for (size_t k = 0; k < 2; ++k) {
                const int m = static_cast<int>(std::min(best_t * a[i + k], top));
                u[k] = static_cast<unsigned>(v[i + k] >= 0.0f ? levels + m : levels - 1 - m);
            }
            if (bits_ == 4) {
                out[i / 2] = static_cast<uint8_t>(u[0] | u[1] << 4);
            } else {
                out[i] = static_cast<uint8_t>(u[0]);
                out[i + 1] = static_cast<uint8_t>(u[1]);
            }
        }
    }
    const double rnorm = s * std::sqrt(rn2);
    // The factors of digits y with <y, |o|> = yo and ||y||^2 = yy: the last
    // three (rabitq.h, "Layout") into out[0, 3).
    auto scaled = [&](double yo_, double yy_, double* out3) {
        const double ynorm = std::sqrt(yy_);
        const double alpha = std::min(1.0, yo_ / ynorm);  // > 0: y agrees with o in sign everywhere
        out3[0] = rnorm / (alpha * ynorm);
        out3[1] = rnorm * std::sqrt(std::max(0.0, 1.0 - alpha * alpha)) /
                  (alpha * std::sqrt(static_cast<double>(d - 1)));
        out3[2] = rnorm / alpha;
    };
    auto store = [](const double* fd, size_t n, uint8_t* to) {
        float fl[kFactors];
        for (size_t k = 0; k < n; ++k) {
            if (!(std::fabs(fd[k]) <= FLT_MAX))
                throw Error(ErrorKind::OutOfRange, "rabitq: vector is too large to quantize",
                            "Its distance from the centroid, or its inner product with the centroid, "
                            "exceeds the range of float.");
            fl[k] = static_cast<float>(fd[k]);
        }
        std::memcpy(to, fl, n * sizeof(float));
    };
    double fd[kFactors] = {rnorm, cr, 0, 0, 0};
    scaled(yo, yy, fd + 2);
    store(fd, kFactors, out + nb);
    if (bits_ == 2) {
        // The second plane: 2-bit digits whose high bit is the sign the
        // first plane holds (u = 2 + m for o_i >= 0, 1 - m below, m in
        // {0, 1} from the scale search), so <u, w> = 2 <plane 1, w> +
        // <plane 2, w>; plane 2 holds the low bits.
        double yo2 = 0.0, yy2 = 0.0;
        const double best_t = search_scale(a, d, 2, magnitudes(), &yo2, &yy2, kernels);
        uint8_t* low = out + nb + kFactorBytes;
        std::memset(low, 0, nb);
        for (size_t i = 0; i < d; ++i) {
            const unsigned m = best_t * a[i] >= 1.0 ? 1u : 0u;
            const unsigned u = v[i] >= 0.0f ? 2u + m : 1u - m;
            low[i / 8] = static_cast<uint8_t>(low[i / 8] | (u & 1u) << (i % 8));
        }
        double gd[3];
        scaled(yo2, yy2, gd);
        store(gd, 3, low + nb);
    }
}

void RabitqCodec::decode(const uint8_t* code, const float* centroid, float* out) const {
    const size_t d = padded_;
    const size_t nb = scan_bit_bytes();
    const double rnorm = load_float(code + nb);
    // Two-stage codes decode from both planes (their own last factor).
    const uint8_t* low = bits_ == 2 ? code + nb + kFactorBytes : nullptr;
    const double f4 =
        low ? load_float(low + nb + 2 * sizeof(float)) : load_float(code + nb + 4 * sizeof(float));
    auto digit_at = [&](size_t i) -> double {
        if (low) return 2.0 * digit(code, 1, i) + digit(low, 1, i) - 1.5;
        return digit(code, bits_, i) - ((1 << bits_) - 1) / 2.0;
    };
    std::vector<float> v(d, 0.0f);
    if (f4 > 0.0) {
        double yy = 0.0;
        for (size_t i = 0; i < d; ++i) {
            const double y = digit_at(i);
            yy += y * y;
        }
        // ||r|| a / ||y|| with a = ||r|| / f4.
        const double scale = rnorm * (rnorm / f4) / std::sqrt(yy);
        for (size_t i = 0; i < d; ++i) v[i] = static_cast<float>(digit_at(i) * scale);
        unrotate_in_place(v.data());
    }
    for (uint32_t i = 0; i < dim_; ++i) out[i] = v[i] + (centroid ? centroid[i] : 0.0f);
}

void RabitqCodec::prepare(const float* q, const float* centroid, RabitqQuery& st, float epsilon0) const {
    prepare(q, centroid, st, epsilon0, rabitq_active_kernels());
}

void RabitqCodec::prepare(const float* q, const float* centroid, RabitqQuery& st, float epsilon0,
                          const RabitqKernels& kernels) const {
    if (!(epsilon0 > 0.0f) || !std::isfinite(epsilon0))
        throw Error(ErrorKind::InvalidParameter, "rabitq: confidence parameter must be positive",
                    "epsilon0 was " + std::to_string(epsilon0) + ".");
    const size_t d = padded_;
    const size_t words = d / 64;
    st.padded_dim = padded_;
    st.bits = bits_;
    st.epsilon = epsilon0;
    st.rotated.resize(d);
    st.residual.resize(d);
    const uint32_t sbits = bits_ == 2 ? 1 : bits_;  // a two-stage code is scanned as 1 bit
    if (sbits == 1) {
        st.planes.resize(4 * words);
    } else {
        st.w16.resize(d);
    }
    float* v = st.rotated.data();
    double* t = st.residual.data();
    double s;
    if (!max_residual(q, centroid, dim_, &s)) throw_non_finite(q, centroid, dim_, "query");
    if (s == 0.0) {
        double qc = 0.0;
        if (centroid)
            for (uint32_t i = 0; i < dim_; ++i) qc += static_cast<double>(q[i]) * centroid[i];
        st.qc = qc;
        std::fill(st.planes.begin(), st.planes.end(), 0);
        std::fill(st.w16.begin(), st.w16.end(), 0);
        st.q_norm = 0.0;
        st.delta = 0.0;
        st.w_offset = 0.0;
        st.err_query = 0.0;
        return;
    }
    kernels.scale_residual(q, centroid, dim_, s, t, v);
    std::fill(v + dim_, v + d, 0.0f);
    rotate_in_place(v, kernels);
    // In-order sums interleaved, as in encode.
    double qc = 0.0, rn2 = 0.0, on2 = 0.0;
    if (centroid) {
        for (uint32_t i = 0; i < dim_; ++i) {
            qc += static_cast<double>(q[i]) * centroid[i];
            rn2 += t[i] * t[i];
            on2 += static_cast<double>(v[i]) * v[i];
        }
    } else {
        for (uint32_t i = 0; i < dim_; ++i) {
            rn2 += t[i] * t[i];
            on2 += static_cast<double>(v[i]) * v[i];
        }
    }
    for (size_t i = dim_; i < d; ++i) on2 += static_cast<double>(v[i]) * v[i];
    st.qc = qc;
    __m128 vmax = _mm_setzero_ps();
    const __m128 abs_mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    for (size_t i = 0; i < d; i += 4) vmax = _mm_max_ps(vmax, _mm_and_ps(_mm_loadu_ps(v + i), abs_mask));
    vmax = _mm_max_ps(vmax, _mm_movehl_ps(vmax, vmax));
    vmax = _mm_max_ss(vmax, _mm_shuffle_ps(vmax, vmax, 1));
    const double omax = _mm_cvtss_f32(vmax);

    const double inv = 1.0 / std::sqrt(on2);
    const int top = sbits == 1 ? 7 : 32767;
    const double delta = omax * inv / top;
    const double to_w = 1.0 / delta;
    double* e2s = t;  // t is used up: per-element squared errors
    int64_t wsum = 0;
    alignas(16) int32_t w[64];
    for (size_t base = 0; base < d; base += 64) {
        quantize64(v + base, inv, to_w, delta, top, w, e2s + base);
        __m128i ws = _mm_setzero_si128();
        for (size_t k = 0; k < 64; k += 4)
            ws = _mm_add_epi32(ws, _mm_load_si128(reinterpret_cast<const __m128i*>(w + k)));
        alignas(16) int32_t lanes[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(lanes), ws);
        wsum += static_cast<int64_t>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
        if (sbits == 1) {
            // The nibbles' bit k of 64 dimensions: w as bytes, bit k moved
            // to each byte's top, gathered by movemask.
            uint64_t plane[4] = {0, 0, 0, 0};
            for (size_t g = 0; g < 64; g += 16) {
                const __m128i* p = reinterpret_cast<const __m128i*>(w + g);
                const __m128i w16 = _mm_packs_epi32(_mm_load_si128(p), _mm_load_si128(p + 1));
                const __m128i w16b = _mm_packs_epi32(_mm_load_si128(p + 2), _mm_load_si128(p + 3));
                const __m128i w8 = _mm_packs_epi16(w16, w16b);
                plane[0] |= static_cast<uint64_t>(_mm_movemask_epi8(_mm_slli_epi16(w8, 7))) << g;
                plane[1] |= static_cast<uint64_t>(_mm_movemask_epi8(_mm_slli_epi16(w8, 6))) << g;
                plane[2] |= static_cast<uint64_t>(_mm_movemask_epi8(_mm_slli_epi16(w8, 5))) << g;
                plane[3] |= static_cast<uint64_t>(_mm_movemask_epi8(_mm_slli_epi16(w8, 4))) << g;
            }
            for (size_t k = 0; k < 4; ++k) st.planes[k * words + base / 64] = plane[k];
        } else if (sbits == 4) {
            for (size_t i = 0; i < 64; ++i) st.w16[base + (i % 2) * 32 + i / 2] = static_cast<int16_t>(w[i]);
        } else {
            for (size_t i = 0; i < 64; ++i) st.w16[base + i] = static_cast<int16_t>(w[i]);
        }
    }
    double e2 = 0.0;
    for (size_t i = 0; i < d; ++i) e2 += e2s[i];
    st.q_norm = s * std::sqrt(rn2);
    st.delta = delta;
    st.w_offset = ((1 << sbits) - 1) / 2.0 * static_cast<double>(wsum);
    st.err_query = std::sqrt(e2 / static_cast<double>(d));
}

RabitqEstimate RabitqCodec::estimate(const RabitqQuery& st, const uint8_t* code, RabitqMetric metric) const {
    RabitqEstimate e;
    estimate_batch(st, code, 1, code_bytes_, metric, &e);
    return e;
}

void RabitqCodec::estimate_batch(const RabitqQuery& st, const uint8_t* codes, size_t n, size_t stride,
                                 RabitqMetric metric, RabitqEstimate* out) const {
    estimate_batch(st, codes, n, stride, metric, out, rabitq_active_kernels());
}

void RabitqCodec::estimate_batch(const RabitqQuery& st, const uint8_t* codes, size_t n, size_t stride,
                                 RabitqMetric metric, RabitqEstimate* out,
                                 const RabitqKernels& kernels) const {
    if (st.padded_dim != padded_ || st.bits != bits_)
        throw Error(ErrorKind::Internal, "rabitq: query state was prepared for another codec");
    if (stride == 0) stride = code_bytes_;
    const double qn = st.q_norm;
    const RabitqFinish fin{qn * qn,      st.qc,       qn * st.delta,    st.epsilon * qn,
                           st.err_query, st.w_offset, scan_bit_bytes(), metric == RabitqMetric::L2Squared};
    int64_t dots[kChunk];
    for (size_t start = 0; start < n; start += kChunk) {
        const size_t m = std::min(kChunk, n - start);
        const uint8_t* chunk = codes + start * stride;
        switch (bits_) {
            case 1:
            case 2:
                kernels.dot_b1(st.planes.data(), padded_ / 64, chunk, m, stride, dots);
                break;
            case 4:
                kernels.dot_b4(st.w16.data(), padded_, chunk, m, stride, dots);
                break;
            default:
                kernels.dot_b8(st.w16.data(), padded_, chunk, m, stride, dots);
        }
        kernels.finish(fin, chunk, m, stride, dots, out + start);
    }
}

RabitqEstimate RabitqCodec::refine(const RabitqQuery& st, const uint8_t* code, RabitqMetric metric) const {
    return refine(st, code, metric, rabitq_active_kernels());
}

RabitqEstimate RabitqCodec::refine(const RabitqQuery& st, const uint8_t* code, RabitqMetric metric,
                                   const RabitqKernels& kernels) const {
    if (bits_ != 2) throw Error(ErrorKind::Internal, "rabitq: only two-stage codes can be refined");
    if (st.padded_dim != padded_ || st.bits != bits_)
        throw Error(ErrorKind::Internal, "rabitq: query state was prepared for another codec");
    const size_t nb = scan_bit_bytes();
    // Plane 1 at code, plane 2 one 1-bit code's length after it: one kernel
    // call over "two codes" gives both products.
    int64_t dots[2];
    kernels.dot_b1(st.planes.data(), padded_ / 64, code, 2, nb + kFactorBytes, dots);
    const uint8_t* f = code + nb;                     // ||r||, <c, r>, ...
    const uint8_t* g = code + 2 * nb + kFactorBytes;  // the 2-bit digits' factors
    // <y, w> = <u, w> - 3/2 sum(w), and w_offset is 1/2 sum(w) (the scan's 1 bit).
    const double yw = static_cast<double>(2 * dots[0] + dots[1]) - 3.0 * st.w_offset;
    const double qn = st.q_norm;
    const double ip = qn * st.delta * load_float(g) * yw;
    const double err = st.epsilon * qn * (load_float(g + 4) + load_float(g + 8) * st.err_query);
    RabitqEstimate e;
    if (metric == RabitqMetric::L2Squared)
        set_estimate<RabitqMetric::L2Squared>(qn * qn, st.qc, f, ip, err, e);
    else
        set_estimate<RabitqMetric::InnerProduct>(qn * qn, st.qc, f, ip, err, e);
    return e;
}

}  // namespace nmvec
