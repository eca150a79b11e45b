// rabitq.cpp — the RaBitQ codec (rotation, encode, decode, query
// preparation, the float side of the estimates), the scalar integer kernels
// and their dispatch. See rabitq.h for the method, rabitq_impl.h for the
// kernels' contract.
//
// Everything that decides a code's bytes (rotation, scale search, factors)
// lives here, in a file compiled without ISA flags and without FMA, so a
// vector gets the same code in every build on every x86-64 machine.
#include "rabitq.h"

#include <emmintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "error.h"
#include "rabitq_impl.h"

namespace nmvec {

namespace {

constexpr int kRounds = 4;
constexpr size_t kFactors = 5;
constexpr size_t kFactorBytes = kFactors * sizeof(float);
/// Codes per chunk of estimate_batch: the kernel's results go to the stack.
constexpr size_t kChunk = 64;
/// Grid points of the scale search for multi-bit codes.
constexpr int kCoarseSteps = 64;
constexpr int kFineSteps = 32;

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

void multiply(float* v, const float* d, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) v[i] *= d[i];
}

/// Residual r = x - c in double, checked finite; returns max |r_i|.
double residual(const float* x, const float* c, uint32_t dim, double* r, const char* what) {
    double s = 0.0;
    for (uint32_t i = 0; i < dim; ++i) {
        if (!std::isfinite(x[i]) || (c && !std::isfinite(c[i])))
            throw Error(ErrorKind::DataException,
                        std::string("rabitq: ") + what + " has a non-finite element",
                        "Element " + std::to_string(i) + " of the " + what +
                            " or of the centroid is NaN or infinite.");
        r[i] = static_cast<double>(x[i]) - (c ? static_cast<double>(c[i]) : 0.0);
        s = std::max(s, std::fabs(r[i]));
    }
    return s;
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

/// Best multi-bit digits for the unit vector o (see rabitq.h): fills u and
/// returns <y, o> and ||y||^2.
void search_digits(const double* o, size_t n, uint32_t bits, uint8_t* u, double* yo, double* yy) {
    const int levels = 1 << (bits - 1);  // magnitudes 0.5 .. levels - 0.5
    const double top = levels - 1;
    std::vector<double> a(n);
    double amax = 0.0;
    for (size_t i = 0; i < n; ++i) {
        a[i] = std::fabs(o[i]);
        amax = std::max(amax, a[i]);
    }
    // Score of scale t: <y, |o|> / ||y|| with y_i = min(floor(t a_i), top) + 1/2.
    // t a_i >= 0, so truncation is floor.
    auto score = [&](double t, double* num_out, double* den_out) {
        double num = 0.0, den = 0.0;
        for (size_t i = 0; i < n; ++i) {
            const double y = static_cast<double>(static_cast<int>(std::min(t * a[i], top))) + 0.5;
            num += y * a[i];
            den += y * y;
        }
        if (num_out) *num_out = num;
        if (den_out) *den_out = den;
        return num / std::sqrt(den);
    };
    // The largest element reaches the top level at t = levels / amax; the
    // best scale clips at most a few outliers, so search t in
    // [0.1, 2] * levels / amax, coarsely and then around the best point.
    const double base = levels / amax;
    const double lo = 0.1 * base, hi = 2.0 * base;
    const double step = (hi - lo) / (kCoarseSteps - 1);
    double best_t = lo, best = -1.0;
    for (int j = 0; j < kCoarseSteps; ++j) {
        const double t = lo + step * j;
        const double s = score(t, nullptr, nullptr);
        if (s > best) {
            best = s;
            best_t = t;
        }
    }
    const double flo = std::max(lo, best_t - step);
    const double fstep = (std::min(hi, best_t + step) - flo) / (kFineSteps - 1);
    for (int j = 0; j < kFineSteps; ++j) {
        const double t = flo + fstep * j;
        const double s = score(t, nullptr, nullptr);
        if (s > best) {
            best = s;
            best_t = t;
        }
    }
    double num = 0.0, den = 0.0;
    score(best_t, &num, &den);
    for (size_t i = 0; i < n; ++i) {
        const int k = static_cast<int>(std::min(best_t * a[i], top));
        u[i] = static_cast<uint8_t>(o[i] >= 0.0 ? levels + k : levels - 1 - k);
    }
    *yo = num;
    *yy = den;
}

/// Clamps to float's finite range (a NaN cannot arise: every input is finite).
inline float saturate(double v) noexcept {
    return static_cast<float>(std::min(std::max(v, -FLT_MAX_D), FLT_MAX_D));
}

/// Turns the kernels' integers <u, w> of m codes into estimates (rabitq.h):
/// per code a few double operations on the stored factors.
template <RabitqMetric kMetric>
void finish(const RabitqQuery& st, const uint8_t* codes, size_t m, size_t stride, size_t nb,
            const int64_t* dots, RabitqEstimate* out) noexcept {
    const double qn = st.q_norm;
    const double qn2 = qn * qn;
    const double scale = qn * st.delta;
    const double err_scale = st.epsilon * qn;
    const double err_query = st.err_query;
    const double w_offset = st.w_offset;
    const double ip_base = st.qc;
    for (size_t j = 0; j < m; ++j) {
        const uint8_t* f = codes + j * stride + nb;
        // <q_r, r>~ = ||q_r|| * f2 * delta * <y, w>
        const double ip = scale * load_float(f + 8) * (static_cast<double>(dots[j]) - w_offset);
        const double err = err_scale * (load_float(f + 12) + load_float(f + 16) * err_query);
        RabitqEstimate& e = out[j];
        if (kMetric == RabitqMetric::L2Squared) {
            const double f0 = load_float(f);
            const double val = qn2 + f0 * f0 - 2.0 * ip;
            e.value = saturate(val);
            e.lower = saturate(std::max(val - 2.0 * err, 0.0));
            e.upper = saturate(val + 2.0 * err);
        } else {
            const double val = ip_base + load_float(f + 4) + ip;
            e.value = saturate(val);
            e.lower = saturate(val - err);
            e.upper = saturate(val + err);
        }
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

const RabitqKernels& rabitq_kernels_scalar() {
    static const RabitqKernels k = {dot_b1_scalar, dot_b4_scalar, dot_b8_scalar};
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
    static const RabitqKernels& k = rabitq_kernels(best_simd_level());
    return k;
}

// ---- codec -----------------------------------------------------------------

RabitqCodec::RabitqCodec(uint32_t dim, uint32_t bits, uint64_t seed) : dim_(dim), bits_(bits), seed_(seed) {
    if (dim < 1 || dim > kRabitqMaxDim)
        throw Error(ErrorKind::InvalidParameter,
                    "rabitq: dimension " + std::to_string(dim) + " is out of range",
                    "The dimension must be between 1 and " + std::to_string(kRabitqMaxDim) + ".");
    if (bits != 1 && bits != 4 && bits != 8)
        throw Error(ErrorKind::InvalidParameter,
                    "rabitq: " + std::to_string(bits) + " bits per dimension is not supported",
                    "The number of bits must be 1, 4 or 8.");
    padded_ = (dim + 63) / 64 * 64;
    block_ = 1;
    while (block_ * 2 <= padded_) block_ *= 2;
    code_bytes_ = bit_bytes() + kFactorBytes;

    // 2 * kRounds diagonals of +-1, 64 signs per generator output; the
    // generator's state starts from the seed mixed with a fixed tag, so seed
    // 0 is as good as any other.
    uint64_t state = seed ^ 0x52614269745121ULL;  // "RaBitQ!"
    signs_.resize(static_cast<size_t>(2 * kRounds) * padded_);
    uint64_t word = 0;
    for (size_t i = 0; i < signs_.size(); ++i) {
        if (i % 64 == 0) word = splitmix64(state);
        signs_[i] = (word >> (i % 64)) & 1u ? -1.0f : 1.0f;
    }
}

void RabitqCodec::rotate_in_place(float* v) const {
    const size_t d = padded_, l = block_;
    for (int r = 0; r < kRounds; ++r) {
        multiply(v, signs_.data() + (2 * r) * d, d);
        fwht(v, l);
        multiply(v, signs_.data() + (2 * r + 1) * d, d);
        fwht(v + (d - l), l);
    }
}

void RabitqCodec::unrotate_in_place(float* v) const {
    // Each step is its own inverse (normalised Hadamard, +-1 diagonals):
    // apply them in reverse order.
    const size_t d = padded_, l = block_;
    for (int r = kRounds - 1; r >= 0; --r) {
        fwht(v + (d - l), l);
        multiply(v, signs_.data() + (2 * r + 1) * d, d);
        fwht(v, l);
        multiply(v, signs_.data() + (2 * r) * d, d);
    }
}

void RabitqCodec::rotate(const float* x, float* out) const {
    std::copy(x, x + dim_, out);
    std::fill(out + dim_, out + padded_, 0.0f);
    rotate_in_place(out);
}

void RabitqCodec::unrotate(const float* y, float* out) const {
    std::vector<float> v(y, y + padded_);
    unrotate_in_place(v.data());
    std::copy(v.begin(), v.begin() + dim_, out);
}

void RabitqCodec::encode(const float* x, const float* centroid, uint8_t* out) const {
    const size_t d = padded_;
    // One allocation: r (dim doubles), o (d doubles), v (d floats), u (d bytes).
    std::vector<double> buf(dim_ + d + d / 2 + d / 8);
    double* r = buf.data();
    double* o = r + dim_;
    float* v = reinterpret_cast<float*>(o + d);
    uint8_t* u = reinterpret_cast<uint8_t*>(v + d);

    const double s = residual(x, centroid, dim_, r, "vector");
    const int levels = 1 << (bits_ - 1);
    float f[kFactors] = {0, 0, 0, 0, 0};
    if (s == 0.0) {
        // Zero residual: all factors 0 make every estimate exact; the digits
        // (all +1/2) do not matter.
        std::fill(u, u + d, static_cast<uint8_t>(levels));
    } else {
        // Scale by the largest element so the float rotation neither
        // overflows nor loses tiny values; the factors carry the scale.
        double rn2 = 0.0, cr = 0.0;
        for (uint32_t i = 0; i < dim_; ++i) {
            const double t = r[i] / s;
            v[i] = static_cast<float>(t);
            rn2 += t * t;
            if (centroid) cr += static_cast<double>(centroid[i]) * r[i];
        }
        std::fill(v + dim_, v + d, 0.0f);
        rotate_in_place(v);
        double on2 = 0.0;
        for (size_t i = 0; i < d; ++i) on2 += static_cast<double>(v[i]) * v[i];
        const double inv = 1.0 / std::sqrt(on2);
        for (size_t i = 0; i < d; ++i) o[i] = v[i] * inv;

        double yo = 0.0, yy = 0.0;
        if (bits_ == 1) {
            for (size_t i = 0; i < d; ++i) {
                u[i] = o[i] >= 0.0 ? 1 : 0;
                yo += 0.5 * std::fabs(o[i]);
            }
            yy = 0.25 * static_cast<double>(d);
        } else {
            search_digits(o, d, bits_, u, &yo, &yy);
        }
        const double ynorm = std::sqrt(yy);
        const double a = std::min(1.0, yo / ynorm);  // > 0: y agrees with o in sign everywhere
        const double rnorm = s * std::sqrt(rn2);
        const double fd[kFactors] = {
            rnorm,
            cr,
            rnorm / (a * ynorm),
            rnorm * std::sqrt(std::max(0.0, 1.0 - a * a)) / (a * std::sqrt(static_cast<double>(d - 1))),
            rnorm / a,
        };
        for (size_t k = 0; k < kFactors; ++k) {
            if (!(std::fabs(fd[k]) <= FLT_MAX))
                throw Error(ErrorKind::OutOfRange, "rabitq: vector is too large to quantize",
                            "Its distance from the centroid, or its inner product with the centroid, "
                            "exceeds the range of float.");
            f[k] = static_cast<float>(fd[k]);
        }
    }

    const size_t nb = bit_bytes();
    std::memset(out, 0, nb);
    for (size_t i = 0; i < d; ++i) {
        switch (bits_) {
            case 1:
                out[i / 8] |= static_cast<uint8_t>(u[i] << (i % 8));
                break;
            case 4:
                out[i / 2] |= static_cast<uint8_t>(u[i] << (4 * (i % 2)));
                break;
            default:
                out[i] = u[i];
        }
    }
    std::memcpy(out + nb, f, kFactorBytes);
}

void RabitqCodec::decode(const uint8_t* code, const float* centroid, float* out) const {
    const size_t d = padded_;
    const size_t nb = bit_bytes();
    const double rnorm = load_float(code + nb);
    const double f4 = load_float(code + nb + 4 * sizeof(float));
    std::vector<float> v(d, 0.0f);
    if (f4 > 0.0) {
        const double half_span = ((1 << bits_) - 1) / 2.0;
        double yy = 0.0;
        for (size_t i = 0; i < d; ++i) {
            const double y = digit(code, bits_, i) - half_span;
            yy += y * y;
        }
        // ||r|| a / ||y|| with a = ||r|| / f4.
        const double scale = rnorm * (rnorm / f4) / std::sqrt(yy);
        for (size_t i = 0; i < d; ++i) v[i] = static_cast<float>((digit(code, bits_, i) - half_span) * scale);
        unrotate_in_place(v.data());
    }
    for (uint32_t i = 0; i < dim_; ++i) out[i] = v[i] + (centroid ? centroid[i] : 0.0f);
}

void RabitqCodec::prepare(const float* q, const float* centroid, RabitqQuery& st, float epsilon0) const {
    if (!(epsilon0 > 0.0f) || !std::isfinite(epsilon0))
        throw Error(ErrorKind::InvalidParameter, "rabitq: confidence parameter must be positive",
                    "epsilon0 was " + std::to_string(epsilon0) + ".");
    const size_t d = padded_;
    const size_t words = d / 64;
    st.padded_dim = padded_;
    st.bits = bits_;
    st.epsilon = epsilon0;
    st.rotated.resize(d);
    st.residual.resize(dim_);
    if (bits_ == 1) {
        st.planes.assign(4 * words, 0);
    } else {
        st.w16.assign(d, 0);
    }
    float* v = st.rotated.data();
    double* r = st.residual.data();
    const double s = residual(q, centroid, dim_, r, "query");
    double qc = 0.0;
    if (centroid)
        for (uint32_t i = 0; i < dim_; ++i) qc += static_cast<double>(q[i]) * centroid[i];
    st.qc = qc;
    if (s == 0.0) {
        st.q_norm = 0.0;
        st.delta = 0.0;
        st.w_offset = 0.0;
        st.err_query = 0.0;
        return;
    }
    double rn2 = 0.0;
    for (uint32_t i = 0; i < dim_; ++i) {
        const double t = r[i] / s;
        v[i] = static_cast<float>(t);
        rn2 += t * t;
    }
    std::fill(v + dim_, v + d, 0.0f);
    rotate_in_place(v);
    double on2 = 0.0, omax = 0.0;
    for (size_t i = 0; i < d; ++i) {
        on2 += static_cast<double>(v[i]) * v[i];
        omax = std::max(omax, std::fabs(static_cast<double>(v[i])));
    }
    const double inv = 1.0 / std::sqrt(on2);
    const int top = bits_ == 1 ? 7 : 32767;
    const double delta = omax * inv / top;
    const double to_w = 1.0 / delta;
    double e2 = 0.0;
    int64_t wsum = 0;
    for (size_t base = 0; base < d; base += 64) {
        uint64_t plane[4] = {0, 0, 0, 0};
        for (size_t i = base; i < base + 64; ++i) {
            const double oi = v[i] * inv;
            // Round half away from zero; |oi * to_w| <= top + rounding, so
            // the conversion cannot overflow, and the clamp catches the
            // rounding.
            const double t = oi * to_w;
            int w = static_cast<int>(t + (t >= 0.0 ? 0.5 : -0.5));
            w = std::max(-top, std::min(top, w));
            const double e = oi - delta * static_cast<double>(w);
            e2 += e * e;
            wsum += w;
            if (bits_ == 1) {
                const uint64_t nibble = static_cast<uint64_t>(w) & 0xf;  // two's complement digits
                for (size_t k = 0; k < 4; ++k) plane[k] |= ((nibble >> k) & 1u) << (i - base);
            } else if (bits_ == 4) {
                st.w16[base + (i % 2) * 32 + (i - base) / 2] = static_cast<int16_t>(w);
            } else {
                st.w16[i] = static_cast<int16_t>(w);
            }
        }
        if (bits_ == 1)
            for (size_t k = 0; k < 4; ++k) st.planes[k * words + base / 64] = plane[k];
    }
    st.q_norm = s * std::sqrt(rn2);
    st.delta = delta;
    st.w_offset = ((1 << bits_) - 1) / 2.0 * static_cast<double>(wsum);
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
    const size_t nb = bit_bytes();
    int64_t dots[kChunk];
    for (size_t start = 0; start < n; start += kChunk) {
        const size_t m = std::min(kChunk, n - start);
        const uint8_t* chunk = codes + start * stride;
        switch (bits_) {
            case 1:
                kernels.dot_b1(st.planes.data(), padded_ / 64, chunk, m, stride, dots);
                break;
            case 4:
                kernels.dot_b4(st.w16.data(), padded_, chunk, m, stride, dots);
                break;
            default:
                kernels.dot_b8(st.w16.data(), padded_, chunk, m, stride, dots);
        }
        if (metric == RabitqMetric::L2Squared)
            finish<RabitqMetric::L2Squared>(st, chunk, m, stride, nb, dots, out + start);
        else
            finish<RabitqMetric::InnerProduct>(st, chunk, m, stride, nb, dots, out + start);
    }
}

}  // namespace nmvec
