// rabitq_fwht.h — private: the width-generic parts of the codec's kernels
// (rabitq_impl.h), written once with GCC vector extensions: the normalised
// Walsh-Hadamard transform behind RabitqCodec's rotation (rabitq.h),
// instantiated by rabitq.cpp (4 floats: SSE2, the baseline),
// rabitq_avx2.cpp (8) and rabitq_avx512.cpp (16), each compiled with its own
// ISA flags; the residual's scaling, the scale search's scores and the
// estimates' float finish (AVX2 and AVX-512 only; the baseline has its own
// versions).
//
// Bit-identical at every width: every output is produced by exactly the
// additions and subtractions of the textbook radix-2 transform, level by
// level in increasing stride (1, 2, 4, ...), then one multiplication by the
// scale; only which elements share a register changes. The tricks used keep
// that true:
// * A level whose stride is inside a register: p = the register with lanes
//   i and i^h swapped; lane i becomes p_i + v_i (= v_i + v_{i+h}, addition
//   commutes exactly) where bit h of i is clear, p_i + (-v_i) (= v_{i-h} -
//   v_i: IEEE defines a - b as a + (-b)) where it is set. Negation is a
//   sign-bit XOR.
// * The input sign flips (the rotation's +-1 diagonal) are XORs of the sign
//   bit, exactly multiplication by -1.
// * The only multiplication is by the scale, last, with nothing added to the
//   product, so no FMA contraction can change it.
// Levels run in registers on blocks of R vectors, then in passes over
// memory two levels at a time (the same operations as two passes).
#pragma once

#include <cfloat>
#include <cstddef>
#include <cstdint>

#include "rabitq_impl.h"

namespace nmvec {
namespace rabitq_fwht {

template <int W>
struct Vectors;
template <>
struct Vectors<4> {
    typedef float F __attribute__((vector_size(16)));
    typedef int32_t I __attribute__((vector_size(16)));
    static constexpr I kLanes = {0, 1, 2, 3};
};
template <>
struct Vectors<8> {
    typedef float F __attribute__((vector_size(32)));
    typedef int32_t I __attribute__((vector_size(32)));
    static constexpr I kLanes = {0, 1, 2, 3, 4, 5, 6, 7};
};
template <>
struct Vectors<16> {
    typedef float F __attribute__((vector_size(64)));
    typedef int32_t I __attribute__((vector_size(64)));
    static constexpr I kLanes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
};

template <int W>
struct Fwht {
    using F = typename Vectors<W>::F;
    using I = typename Vectors<W>::I;

    static inline __attribute__((always_inline)) F load(const float* p) {
        F v;
        __builtin_memcpy(&v, p, sizeof v);
        return v;
    }
    static inline __attribute__((always_inline)) F load_flipped(const float* p, const uint32_t* flip) {
        I v, m;
        __builtin_memcpy(&v, p, sizeof v);
        __builtin_memcpy(&m, flip, sizeof m);
        return reinterpret_cast<F>(v ^ m);
    }
    static inline __attribute__((always_inline)) void store(float* p, F v) {
        __builtin_memcpy(p, &v, sizeof v);
    }

    /// One butterfly level of stride H < W inside a register.
    template <int H>
    static inline __attribute__((always_inline)) F level_in(F v) {
        const I perm = Vectors<W>::kLanes ^ H;
        const I neg = ((Vectors<W>::kLanes & H) != 0) & static_cast<int32_t>(0x80000000u);
        const F p = __builtin_shuffle(v, perm);
        return p + reinterpret_cast<F>(reinterpret_cast<I>(v) ^ neg);
    }

    template <int H>
    static inline __attribute__((always_inline)) F levels_in(F v) {
        if constexpr (H < W) {
            return levels_in<2 * H>(level_in<H>(v));
        } else {
            return v;
        }
    }

    /// The levels of stride H*W, 2H*W, ... < R*W: across the R registers.
    template <int R, int H>
    static inline __attribute__((always_inline)) void levels_across(F* x) {
        if constexpr (H < R) {
#pragma GCC unroll 16
            for (int k = 0; k < R / 2; ++k) {
                const int j = k / H * 2 * H + k % H;
                const F a = x[j], b = x[j + H];
                x[j] = a + b;
                x[j + H] = a - b;
            }
            levels_across<R, 2 * H>(x);
        }
    }

    /// All levels of stride < R*W on the R*W floats at v, flipped on load;
    /// scaled at the end if they are all the levels.
    template <int R>
    static inline __attribute__((always_inline)) void block(float* v, const uint32_t* flip, float scale,
                                                            bool last) {
        F x[R];
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) x[r] = levels_in<1>(load_flipped(v + r * W, flip + r * W));
        levels_across<R, 1>(x);
        if (last)
#pragma GCC unroll 16
            for (int r = 0; r < R; ++r) x[r] *= scale;
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) store(v + r * W, x[r]);
    }

    template <int R>
    static void blocks(float* v, size_t n, const uint32_t* flip, float scale) {
        const bool last = n == static_cast<size_t>(R * W);
        for (size_t i = 0; i < n; i += R * W) block<R>(v + i, flip + i, scale, last);
    }

    /// v[0, n) in place, n a power of two >= 4 W; element i is first
    /// XORed with flip[i] (0 or the sign bit). R_MAX: vectors per block.
    template <int R_MAX>
    static void run(float* v, size_t n, const uint32_t* flip, float scale) {
        size_t h = n / W < static_cast<size_t>(R_MAX) ? n : static_cast<size_t>(R_MAX * W);
        if (h == 4 * W)
            blocks<4>(v, n, flip, scale);
        else if (h == 8 * W)
            blocks<8>(v, n, flip, scale);
        else
            blocks<R_MAX>(v, n, flip, scale);
        while (h < n) {
            if (4 * h <= n) {
                // Levels h and 2h together.
                const bool last = 4 * h == n;
                for (size_t base = 0; base < n; base += 4 * h)
                    for (size_t j = base; j < base + h; j += W) {
                        const F x0 = load(v + j), x1 = load(v + j + h);
                        const F x2 = load(v + j + 2 * h), x3 = load(v + j + 3 * h);
                        const F a0 = x0 + x1, a1 = x0 - x1, a2 = x2 + x3, a3 = x2 - x3;
                        F y0 = a0 + a2, y1 = a1 + a3, y2 = a0 - a2, y3 = a1 - a3;
                        if (last) {
                            y0 *= scale;
                            y1 *= scale;
                            y2 *= scale;
                            y3 *= scale;
                        }
                        store(v + j, y0);
                        store(v + j + h, y1);
                        store(v + j + 2 * h, y2);
                        store(v + j + 3 * h, y3);
                    }
                h *= 4;
            } else {
                // The last level, alone.
                for (size_t j = 0; j < h; j += W) {
                    const F a = load(v + j), b = load(v + j + h);
                    store(v + j, (a + b) * scale);
                    store(v + j + h, (a - b) * scale);
                }
                h *= 2;
            }
        }
    }
};

/// t = (x - c) / s in double and v = t rounded to float, for n elements (c
/// null: the zero vector). Subtraction, division and rounding are correctly
/// rounded at any width, so vectorising this loop cannot change a bit.
inline __attribute__((always_inline)) void scale_residual(const float* __restrict x,
                                                          const float* __restrict c, size_t n, double s,
                                                          double* __restrict t, float* __restrict v) {
    if (c) {
        for (size_t i = 0; i < n; ++i) {
            t[i] = (static_cast<double>(x[i]) - static_cast<double>(c[i])) / s;
            v[i] = static_cast<float>(t[i]);
        }
    } else {
        for (size_t i = 0; i < n; ++i) {
            t[i] = static_cast<double>(x[i]) / s;
            v[i] = static_cast<float>(t[i]);
        }
    }
}

template <int W>
struct DoubleVectors;
template <>
struct DoubleVectors<4> {
    typedef double F __attribute__((vector_size(32)));
    typedef float Narrow __attribute__((vector_size(16)));
};
template <>
struct DoubleVectors<8> {
    typedef double F __attribute__((vector_size(64)));
    typedef float Narrow __attribute__((vector_size(32)));
};

/// RabitqKernels::finish (rabitq_impl.h) on W codes at once, lane by lane
/// in the scalar reference's order (rabitq.cpp, finish), from each code's
/// integer <u, w> as a double (d) and its factors: fa = ||r|| under L2,
/// <c, r> under inner product; f2, f3, f4 the bound's. Each product is kept
/// from the addition after it by an empty asm (no FMA: the reference
/// rounds twice; a fused ip + (<q, c> + <c, r>) turned an overflowing
/// product's inf - inf = NaN into inf in the unit test). max(a, b) and
/// min(a, b) come from the ISA file, as its max/min instructions with the
/// operands in the order that makes them std::max / std::min lane by lane,
/// NaN included ((a < b) ? b : a), rather than left to how the compiler
/// maps a vector ?:. The ISA file loads and transposes the factors
/// (gathers were slower).
template <int W, class Max, class Min>
inline void finish_lanes(const RabitqFinish& p, typename DoubleVectors<W>::F d,
                         typename DoubleVectors<W>::F fa, typename DoubleVectors<W>::F f2,
                         typename DoubleVectors<W>::F f3, typename DoubleVectors<W>::F f4,
                         RabitqEstimate* out, Max max, Min min) {
    using F = typename DoubleVectors<W>::F;
    auto unfused = [](F x) {
        __asm__("" : "+v"(x));
        return x;
    };
    auto saturate = [&](F v) {
        return __builtin_convertvector(
            min(max(v, F{} - static_cast<double>(FLT_MAX)), F{} + static_cast<double>(FLT_MAX)),
            typename DoubleVectors<W>::Narrow);
    };
    // ip = scale * f2 * (<u, w> - offset); err = eps ||q_r|| (f3 + f4 err_query)
    const F ip = unfused(unfused(p.scale * f2) * (d - p.w_offset));
    const F err = unfused(p.err_scale * (f3 + unfused(f4 * p.err_query)));
    F val, lower, upper;
    if (p.l2) {
        val = (p.qn2 + unfused(fa * fa)) - unfused(2.0 * ip);
        const F err2 = unfused(2.0 * err);
        lower = max(val - err2, F{});
        upper = val + err2;
    } else {
        val = (p.qc + fa) + ip;
        lower = val - err;
        upper = val + err;
    }
    const auto v = saturate(val), lo = saturate(lower), up = saturate(upper);
    for (int k = 0; k < W; ++k) out[k] = RabitqEstimate{v[k], lo[k], up[k]};
}

/// The multi-bit scale search's scores (rabitq.cpp, score_scales): for each
/// of nt scales t (nt a multiple of 4 W), num = sum y_i a_i and den = sum
/// y_i^2 over i in order, y_i = min(t a_i, top) truncated + 1/2, each scale in
/// its own lane, so each lane does the scalar loop's operations in its
/// order. The empty asm on each product keeps the compiler from fusing it
/// with the addition into an FMA (one rounding instead of two), which these
/// files' ISA flags would otherwise allow.
/// trunc(x) for 0 <= x < 2^31 (the same as converting to int and back),
/// given by the ISA file as a rounding instruction.
template <int W, class Trunc>
inline void score_scales(const double* a, size_t n, double top, const double* ts, size_t nt, double* num,
                         double* den, Trunc trunc) {
    using F = typename DoubleVectors<W>::F;
    constexpr int G = 4;
    const F vtop = F{} + top, half = F{} + 0.5;
    for (size_t g = 0; g < nt; g += G * W) {
        F t[G], sn[G], sd[G];
        for (int k = 0; k < G; ++k) {
            __builtin_memcpy(&t[k], ts + g + k * W, sizeof(F));
            sn[k] = F{};
            sd[k] = F{};
        }
        for (size_t i = 0; i < n; ++i) {
            const double ai = a[i];
#pragma GCC unroll 4
            for (int k = 0; k < G; ++k) {
                const F ta = t[k] * ai;
                const F m = ta < vtop ? ta : vtop;
                const F y = trunc(m) + half;
                F p = y * ai, q = y * y;
                __asm__("" : "+v"(p), "+v"(q));
                sn[k] += p;
                sd[k] += q;
            }
        }
        for (int k = 0; k < G; ++k) {
            __builtin_memcpy(num + g + k * W, &sn[k], sizeof(F));
            __builtin_memcpy(den + g + k * W, &sd[k], sizeof(F));
        }
    }
}

}  // namespace rabitq_fwht
}  // namespace nmvec
