// test_distance.cpp — every kernel of every compiled SIMD variant the CPU
// supports, on every length 1..1100, against a double-precision reference.
//
// Tolerance (u32 = 2^-24 = float's unit roundoff, t_i the exact terms:
// (a-b)^2, a*b, |a-b|, a*a, b*b). A float32 kernel rounds each term at most
// twice before adding it (difference, then product or fma) and then adds it
// through a chain of at most k float additions (the terms that share one
// accumulator lane plus the final cross-lane reduction). The classical bound
// for such a sum is |err| <= gamma_k * sum|t_i|, gamma_k = k u32 / (1 - k u32).
// So we allow
//     |got - exact| <= 1.01 * k(n) * u32 * sum|t_i| + 1e-30
// with k(n) an upper bound for the variant's layout:
//     scalar (one accumulator, in order):    k = n + 2
//     AVX2   (>= 2 x 8 lanes, see the file): k = n/16 + 16
//     AVX-512 (>= 2 x 16 lanes):             k = n/32 + 16
// This is a worst-case bound, not a statistical one, so it never flakes; it
// is still tight enough to catch real bugs: the NegativeControl test below
// shows a kernel that drops one element fails at almost every length.
// The AVX-512 FP16 variant's f16 kernels round in fp16 (u16 = 2^-11); their
// bound is derived in distance_avx512fp16.cpp:
//     |err| <= (4.01 u16 + (n/32 + 16) u32) * sum|t_i| + n * 2^-25.
// f16 references use the exactly widened half values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "distance.h"
#include "distance_impl.h"
#include "error.h"
#include "half.h"
#include "simd.h"

namespace nmvec {
namespace {

constexpr size_t kMaxN = 1100;
constexpr size_t kPad = 8;  // room for unaligned starts
constexpr double kU32 = 1.0 / (1 << 24);
constexpr double kU16 = 1.0 / (1 << 11);

enum class DataKind { Unit, Pixels, Large };

const char* data_name(DataKind d) {
    switch (d) {
        case DataKind::Unit:
            return "unit";
        case DataKind::Pixels:
            return "pixels";
        case DataKind::Large:
            return "large";
    }
    return "?";
}

/// Two random vectors as float, as half bits, and the halves widened.
struct Data {
    std::vector<float> a, b;
    std::vector<uint16_t> ha, hb;
    std::vector<float> wa, wb;
};

Data make_data(DataKind kind, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    std::uniform_int_distribution<int> pixel(0, 255);
    // "large" exercises the fp16 overflow path: |x| up to 60000 (finite in
    // half, but squares and sums are far beyond 65504).
    std::uniform_real_distribution<float> large(-60000.0f, 60000.0f);
    Data d;
    const size_t size = kMaxN + kPad;
    for (auto* v : {&d.a, &d.b}) {
        v->resize(size);
        for (float& x : *v) {
            switch (kind) {
                case DataKind::Unit:
                    x = unit(rng);
                    break;
                case DataKind::Pixels:
                    x = static_cast<float>(pixel(rng));
                    break;
                case DataKind::Large:
                    x = large(rng);
                    break;
            }
        }
    }
    d.ha.resize(size);
    d.hb.resize(size);
    d.wa.resize(size);
    d.wb.resize(size);
    for (size_t i = 0; i < size; ++i) {
        d.ha[i] = float_to_half(d.a[i]);
        d.hb[i] = float_to_half(d.b[i]);
        d.wa[i] = half_to_float(d.ha[i]);
        d.wb[i] = half_to_float(d.hb[i]);
    }
    return d;
}

/// Exact-enough (double) values and sum|t_i| of every quantity.
struct Reference {
    double l2 = 0, dot = 0, dot_abs = 0, l1 = 0, aa = 0, bb = 0;
};

Reference reference(const float* a, const float* b, size_t n) {
    Reference r;
    for (size_t i = 0; i < n; ++i) {
        const double x = a[i], y = b[i];
        r.l2 += (x - y) * (x - y);
        r.dot += x * y;
        r.dot_abs += std::fabs(x * y);
        r.l1 += std::fabs(x - y);
        r.aa += x * x;
        r.bb += y * y;
    }
    return r;
}

/// Allowed error as a function of sum|t_i|, see the top of the file.
struct Tolerance {
    double rel;
    double abs;
    double operator()(double sum_abs) const { return rel * sum_abs + abs; }
};

Tolerance f32_tolerance(SimdLevel level, size_t n) {
    double k = 0;
    switch (level) {
        case SimdLevel::Scalar:
            k = static_cast<double>(n) + 2;
            break;
        case SimdLevel::AVX2:
            k = static_cast<double>(n) / 16 + 16;
            break;
        case SimdLevel::AVX512:
        case SimdLevel::AVX512FP16:
            k = static_cast<double>(n) / 32 + 16;
            break;
    }
    return {1.01 * k * kU32, 1e-30};
}

Tolerance f16_tolerance(SimdLevel level, size_t n) {
    if (level != SimdLevel::AVX512FP16) return f32_tolerance(level, n);
    return {4.01 * kU16 + (static_cast<double>(n) / 32 + 16) * kU32, static_cast<double>(n) * kU32 / 2};
}

/// Runs all 8 kernels of `k` at length n (at unaligned offsets depending on
/// n) and returns a description of every out-of-tolerance result.
std::string check_length(const DistanceKernels& k, const Data& d, size_t n, Tolerance tol32,
                         Tolerance tol16) {
    std::ostringstream bad;
    auto expect = [&](const char* what, double got, double want, double sum_abs, Tolerance tol) {
        const double err = std::fabs(got - want);
        if (!(err <= tol(sum_abs)))
            bad << "  n=" << n << " " << what << ": got " << got << " want " << want << " err " << err
                << " > tol " << tol(sum_abs) << "\n";
    };
    const size_t oa = n % 5, ob = (3 * n) % 7;

    {
        const float* a = d.a.data() + oa;
        const float* b = d.b.data() + ob;
        const Reference r = reference(a, b, n);
        expect("f32_l2sq", k.f32_l2sq(a, b, n), r.l2, r.l2, tol32);
        expect("f32_dot", k.f32_dot(a, b, n), r.dot, r.dot_abs, tol32);
        expect("f32_l1", k.f32_l1(a, b, n), r.l1, r.l1, tol32);
        float ab = -1, aa = -1, bb = -1;
        k.f32_cosine_parts(a, b, n, &ab, &aa, &bb);
        expect("f32_cosine ab", ab, r.dot, r.dot_abs, tol32);
        expect("f32_cosine aa", aa, r.aa, r.aa, tol32);
        expect("f32_cosine bb", bb, r.bb, r.bb, tol32);
    }
    {
        const uint16_t* a = d.ha.data() + oa;
        const uint16_t* b = d.hb.data() + ob;
        const Reference r = reference(d.wa.data() + oa, d.wb.data() + ob, n);
        expect("f16_l2sq", k.f16_l2sq(a, b, n), r.l2, r.l2, tol16);
        expect("f16_dot", k.f16_dot(a, b, n), r.dot, r.dot_abs, tol16);
        expect("f16_l1", k.f16_l1(a, b, n), r.l1, r.l1, tol16);
        float ab = -1, aa = -1, bb = -1;
        k.f16_cosine_parts(a, b, n, &ab, &aa, &bb);
        expect("f16_cosine ab", ab, r.dot, r.dot_abs, tol16);
        expect("f16_cosine aa", aa, r.aa, r.aa, tol16);
        expect("f16_cosine bb", bb, r.bb, r.bb, tol16);
    }
    return bad.str();
}

struct Case {
    SimdLevel level;
    DataKind data;
};

void PrintTo(const Case& c, std::ostream* os) { *os << simd_level_name(c.level) << "/" << data_name(c.data); }

class KernelsTest : public ::testing::TestWithParam<Case> {};

TEST_P(KernelsTest, AllLengthsMatchDoubleReference) {
    const Case c = GetParam();
    if (!cpu_supports(c.level))
        GTEST_SKIP() << "CPU does not support " << simd_level_name(c.level) << " (best is "
                     << simd_level_name(best_simd_level()) << ")";
    const DistanceKernels& k = distance_kernels(c.level);
    const Data d = make_data(c.data, 1234 + static_cast<uint32_t>(c.data));
    std::string failures;
    int failed_lengths = 0;
    for (size_t n = 1; n <= kMaxN; ++n) {
        const std::string bad = check_length(k, d, n, f32_tolerance(c.level, n), f16_tolerance(c.level, n));
        if (!bad.empty() && ++failed_lengths <= 5) failures += bad;
    }
    EXPECT_EQ(failed_lengths, 0) << "first failures:\n" << failures;
}

std::vector<Case> all_cases() {
    std::vector<Case> cases;
    for (int l = 0; l < kSimdLevelCount; ++l)
        for (DataKind d : {DataKind::Unit, DataKind::Pixels, DataKind::Large})
            cases.push_back({static_cast<SimdLevel>(l), d});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Variants, KernelsTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                             return std::string(simd_level_name(info.param.level)) + "_" +
                                    data_name(info.param.data);
                         });

TEST(Kernels, EmptyInputGivesZero) {
    for (int l = 0; l < kSimdLevelCount; ++l) {
        const auto level = static_cast<SimdLevel>(l);
        if (!cpu_supports(level)) continue;
        const DistanceKernels& k = distance_kernels(level);
        const float f = 1.0f;
        const uint16_t h = 0x3c00;
        float ab = -1, aa = -1, bb = -1;
        EXPECT_EQ(k.f32_l2sq(&f, &f, 0), 0.0f);
        EXPECT_EQ(k.f32_dot(&f, &f, 0), 0.0f);
        EXPECT_EQ(k.f32_l1(&f, &f, 0), 0.0f);
        k.f32_cosine_parts(&f, &f, 0, &ab, &aa, &bb);
        EXPECT_EQ(ab + aa + bb, 0.0f);
        EXPECT_EQ(k.f16_l2sq(&h, &h, 0), 0.0f);
        EXPECT_EQ(k.f16_dot(&h, &h, 0), 0.0f);
        EXPECT_EQ(k.f16_l1(&h, &h, 0), 0.0f);
        ab = aa = bb = -1;
        k.f16_cosine_parts(&h, &h, 0, &ab, &aa, &bb);
        EXPECT_EQ(ab + aa + bb, 0.0f);
    }
}

// The tolerance must be able to fail: a kernel that ignores the last element
// is caught at nearly every length (it slips through only when that
// element's term happens to be below the tolerance). Measured here: AVX-512
// 97-99.7% of lengths, scalar (loosest bound, k = n + 2) 90-99.7%.
float (*g_l2sq)(const float*, const float*, size_t);
float (*g_dot)(const float*, const float*, size_t);
float (*g_h_l1)(const uint16_t*, const uint16_t*, size_t);

TEST(Kernels, NegativeControlDroppedTailIsCaught) {
    const Data d = make_data(DataKind::Unit, 99);
    for (int l = 0; l < kSimdLevelCount; ++l) {
        const auto level = static_cast<SimdLevel>(l);
        if (!cpu_supports(level)) continue;
        const DistanceKernels& good = distance_kernels(level);
        g_l2sq = good.f32_l2sq;
        g_dot = good.f32_dot;
        g_h_l1 = good.f16_l1;
        DistanceKernels broken[3] = {good, good, good};
        broken[0].f32_l2sq = [](const float* a, const float* b, size_t n) { return g_l2sq(a, b, n - 1); };
        broken[1].f32_dot = [](const float* a, const float* b, size_t n) { return g_dot(a, b, n - 1); };
        broken[2].f16_l1 = [](const uint16_t* a, const uint16_t* b, size_t n) { return g_h_l1(a, b, n - 1); };
        for (const DistanceKernels& k : broken) {
            int caught = 0;
            for (size_t n = 1; n <= kMaxN; ++n)
                caught += !check_length(k, d, n, f32_tolerance(level, n), f16_tolerance(level, n)).empty();
            EXPECT_GE(caught, static_cast<int>(kMaxN * 85 / 100))
                << simd_level_name(level) << ": caught at " << caught << " of " << kMaxN;
        }
    }
}

TEST(Kernels, TablesAreComplete) {
    for (int l = 0; l < kSimdLevelCount; ++l) {
        const DistanceKernels& k = distance_kernels(static_cast<SimdLevel>(l));
        EXPECT_TRUE(k.f32_l2sq && k.f32_dot && k.f32_l1 && k.f32_cosine_parts) << l;
        EXPECT_TRUE(k.f16_l2sq && k.f16_dot && k.f16_l1 && k.f16_cosine_parts) << l;
    }
    EXPECT_THROW(distance_kernels(static_cast<SimdLevel>(kSimdLevelCount)), Error);
}

TEST(Kernels, ActiveIsBestLevel) {
    EXPECT_EQ(&active_kernels(), &distance_kernels(best_simd_level()));
    EXPECT_TRUE(cpu_supports(best_simd_level()));
}

TEST(Simd, DetectionIsMonotoneAndNamed) {
    EXPECT_TRUE(cpu_supports(SimdLevel::Scalar));
    for (int l = 1; l < kSimdLevelCount; ++l) {
        if (cpu_supports(static_cast<SimdLevel>(l))) {
            EXPECT_TRUE(cpu_supports(static_cast<SimdLevel>(l - 1)));
        }
    }
    EXPECT_STREQ(simd_level_name(SimdLevel::Scalar), "scalar");
    EXPECT_STREQ(simd_level_name(SimdLevel::AVX2), "avx2");
    EXPECT_STREQ(simd_level_name(SimdLevel::AVX512), "avx512");
    EXPECT_STREQ(simd_level_name(SimdLevel::AVX512FP16), "avx512fp16");
    ::testing::Test::RecordProperty("best_simd_level", simd_level_name(best_simd_level()));
}

TEST(Simd, EnvironmentCanOnlyLower) {
    const char* saved_env = std::getenv("NMVEC_SIMD");
    const std::string saved = saved_env ? saved_env : "";
    unsetenv("NMVEC_SIMD");
    const SimdLevel detected = best_simd_level();

    setenv("NMVEC_SIMD", "scalar", 1);
    EXPECT_EQ(best_simd_level(), SimdLevel::Scalar);
    setenv("NMVEC_SIMD", "avx512fp16", 1);  // never above what the CPU has
    EXPECT_EQ(best_simd_level(), detected);
    EXPECT_TRUE(cpu_supports(best_simd_level()));
    setenv("NMVEC_SIMD", "avx2", 1);
    EXPECT_EQ(best_simd_level(), detected < SimdLevel::AVX2 ? detected : SimdLevel::AVX2);
    setenv("NMVEC_SIMD", "no-such-level", 1);
    EXPECT_EQ(best_simd_level(), detected);

    if (saved_env)
        setenv("NMVEC_SIMD", saved.c_str(), 1);
    else
        unsetenv("NMVEC_SIMD");
}

TEST(Cosine, FromParts) {
    EXPECT_DOUBLE_EQ(cosine_from_parts(1.0f, 1.0f, 1.0f), 0.0);
    EXPECT_DOUBLE_EQ(cosine_from_parts(-2.0f, 1.0f, 4.0f), 2.0);
    EXPECT_DOUBLE_EQ(cosine_from_parts(0.0f, 1.0f, 4.0f), 1.0);
    EXPECT_DOUBLE_EQ(cosine_from_parts(1.5f, 1.0f, 9.0f), 0.5);
    // Rounding past +-1 is clamped.
    EXPECT_EQ(cosine_from_parts(1.0001f, 1.0f, 1.0f), 0.0);
    EXPECT_EQ(cosine_from_parts(-1.0001f, 1.0f, 1.0f), 2.0);
    // A zero vector has no direction.
    EXPECT_TRUE(std::isnan(cosine_from_parts(0.0f, 0.0f, 1.0f)));
    EXPECT_TRUE(std::isnan(cosine_from_parts(0.0f, 1.0f, 0.0f)));
    EXPECT_TRUE(std::isnan(cosine_from_parts(std::nanf(""), 1.0f, 1.0f)));
    // A part that overflowed is no measure of the angle.
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_TRUE(std::isnan(cosine_from_parts(1.0, inf, 1.0)));
    EXPECT_TRUE(std::isnan(cosine_from_parts(1.0, 1.0, inf)));
    EXPECT_TRUE(std::isnan(cosine_from_parts(inf, inf, inf)));
}

// Cosine distance as the extension computes it (cosine_distance_f32/_f16),
// for vectors at every scale. In float32, x*x overflows for |x| > ~1.8e19 and
// underflows (to 0, or to a subnormal with few bits) for |x| < ~1e-19, which
// once gave NaN (or a wrong value) for ordinary non-zero vectors. The
// reference is computed in double from the very floats (halves) passed in.
struct CosineRef {
    double distance;
    double bound;  // allowed |error|, from the kernel's tolerance on the parts
};

CosineRef cosine_reference(const double* x, const double* y, size_t n, Tolerance tol) {
    double ab = 0, ab_abs = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; ++i) {
        ab += x[i] * y[i];
        ab_abs += std::fabs(x[i] * y[i]);
        aa += x[i] * x[i];
        bb += y[i] * y[i];
    }
    const double norms = std::sqrt(aa * bb);
    double sim = ab / norms;
    sim = std::max(-1.0, std::min(1.0, sim));
    // Perturbing ab, aa, bb by their tolerances moves ab/sqrt(aa*bb) by at
    // most about d_ab/norms + |sim| (d_aa/aa + d_bb/bb)/2; doubled for the
    // second-order terms, plus float32's underflow of single terms (at most
    // n * 2^-150 per part, below 2^-100 of the norms).
    const double d_ab = tol(ab_abs), d_aa = tol(aa), d_bb = tol(bb);
    const double bound = 2.0 * (d_ab / norms + std::fabs(sim) * (d_aa / aa + d_bb / bb) / 2) +
                         static_cast<double>(n) * 0x1p-50;
    return {1.0 - sim, bound};
}

constexpr double kScales32[] = {1e-38, 1e-30, 1e-22, 1e-19, 1e-17, 1e-15, 1.0,
                                1e15,  1e18,  1e19,  1e20,  1e30,  1e38};
constexpr size_t kLengths[] = {1, 2, 7, 16, 33, 100, 384, 1536};

TEST(Cosine, FiniteAndAccurateAtEveryScaleF32) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    for (int l = 0; l < kSimdLevelCount; ++l) {
        const auto level = static_cast<SimdLevel>(l);
        if (!cpu_supports(level)) continue;
        const DistanceKernels& k = distance_kernels(level);
        for (double scale : kScales32) {
            for (size_t n : kLengths) {
                std::vector<float> a(n), b(n);
                std::vector<double> x(n), y(n);
                for (size_t i = 0; i < n; ++i) {
                    // |u| >= 0.1 keeps every element non-zero after rounding
                    double u = unit(rng), v = unit(rng);
                    u = u < 0 ? u - 0.1 : u + 0.1;
                    v = v < 0 ? v - 0.1 : v + 0.1;
                    a[i] = static_cast<float>(u / 1.1 * scale);
                    b[i] = static_cast<float>(v / 1.1 * scale);
                    x[i] = a[i];
                    y[i] = b[i];
                }
                // Relative tolerance only: an absolute slack would hide errors at tiny scales.
                const Tolerance tol = {f32_tolerance(level, n).rel, 0.0};
                const CosineRef ref = cosine_reference(x.data(), y.data(), n, tol);
                const double got = cosine_distance_f32(k, a.data(), b.data(), n);
                EXPECT_TRUE(got >= 0.0 && got <= 2.0)
                    << simd_level_name(level) << " scale " << scale << " n " << n << ": " << got;
                EXPECT_LE(std::fabs(got - ref.distance), ref.bound)
                    << simd_level_name(level) << " scale " << scale << " n " << n << ": got " << got
                    << " want " << ref.distance;
            }
        }
    }
}

TEST(Cosine, FiniteAndAccurateAtEveryScaleF16) {
    // Halves run from 6e-8 (subnormal below 6.1e-5) to 65504. The widening
    // kernels square them exactly in float32; the fp16 kernel's products of
    // small halves underflow in fp16.
    constexpr double kScales16[] = {1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.1, 1.0, 100.0, 60000.0};
    std::mt19937 rng(8);
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    for (int l = 0; l < kSimdLevelCount; ++l) {
        const auto level = static_cast<SimdLevel>(l);
        if (!cpu_supports(level)) continue;
        const DistanceKernels& k = distance_kernels(level);
        for (double scale : kScales16) {
            for (size_t n : kLengths) {
                std::vector<uint16_t> a(n), b(n);
                std::vector<double> x(n), y(n);
                bool a_zero = true, b_zero = true;
                for (size_t i = 0; i < n; ++i) {
                    a[i] = float_to_half(static_cast<float>(unit(rng) * scale));
                    b[i] = float_to_half(static_cast<float>(unit(rng) * scale));
                    x[i] = half_to_float(a[i]);
                    y[i] = half_to_float(b[i]);
                    a_zero = a_zero && x[i] == 0;
                    b_zero = b_zero && y[i] == 0;
                }
                if (a_zero) a[0] = 0x0001, x[0] = half_to_float(a[0]);  // non-zero vectors only
                if (b_zero) b[0] = 0x8001, y[0] = half_to_float(b[0]);
                const CosineRef ref = cosine_reference(x.data(), y.data(), n, f16_tolerance(level, n));
                const double got = cosine_distance_f16(k, a.data(), b.data(), n);
                EXPECT_TRUE(got >= 0.0 && got <= 2.0)
                    << simd_level_name(level) << " scale " << scale << " n " << n << ": " << got;
                EXPECT_LE(std::fabs(got - ref.distance), ref.bound)
                    << simd_level_name(level) << " scale " << scale << " n " << n << ": got " << got
                    << " want " << ref.distance;
            }
        }
    }
}

TEST(Cosine, ExtremeExamples) {
    for (int l = 0; l < kSimdLevelCount; ++l) {
        const auto level = static_cast<SimdLevel>(l);
        if (!cpu_supports(level)) continue;
        const DistanceKernels& k = distance_kernels(level);
        const char* name = simd_level_name(level);
        // The example: squares of 1e-30 are 0 in float32.
        const float tiny_a[] = {1e-30f, 1e-30f}, tiny_b[] = {1e-30f, 2e-30f};
        EXPECT_NEAR(cosine_distance_f32(k, tiny_a, tiny_b, 2), 1.0 - 3.0 / std::sqrt(10.0), 1e-6) << name;
        // Squares of 1e20 overflow float32; 3e38 is near float's maximum.
        const float big_a[] = {1e20f, 1e20f}, big_b[] = {1e20f, 2e20f};
        EXPECT_NEAR(cosine_distance_f32(k, big_a, big_b, 2), 1.0 - 3.0 / std::sqrt(10.0), 1e-6) << name;
        const float max_a[] = {3e38f, 1e38f}, max_b[] = {1e38f, 3e38f};
        EXPECT_NEAR(cosine_distance_f32(k, max_a, max_b, 2), 0.4, 1e-6) << name;
        // Opposite and equal directions, smallest subnormals.
        const float sub_a[] = {1e-45f, 1e-45f}, sub_b[] = {-1e-45f, -1e-45f};
        EXPECT_DOUBLE_EQ(cosine_distance_f32(k, sub_a, sub_b, 2), 2.0) << name;
        EXPECT_DOUBLE_EQ(cosine_distance_f32(k, sub_a, sub_a, 2), 0.0) << name;
        // One huge and one tiny vector.
        EXPECT_NEAR(cosine_distance_f32(k, max_a, tiny_b, 2), 1.0 - 5.0 / std::sqrt(50.0), 1e-6) << name;
        // Zero vectors still have no direction.
        const float zero[] = {0.0f, 0.0f};
        EXPECT_TRUE(std::isnan(cosine_distance_f32(k, zero, tiny_b, 2))) << name;
        EXPECT_TRUE(std::isnan(cosine_distance_f32(k, big_a, zero, 2))) << name;
        // halfvec: the smallest subnormal halves.
        const uint16_t h_a[] = {0x0001, 0x0001}, h_b[] = {0x0001, 0x0002}, h_zero[] = {0, 0x8000};
        EXPECT_NEAR(cosine_distance_f16(k, h_a, h_b, 2), 1.0 - 3.0 / std::sqrt(10.0), 1e-6) << name;
        EXPECT_TRUE(std::isnan(cosine_distance_f16(k, h_zero, h_b, 2))) << name;
    }
}

}  // namespace
}  // namespace nmvec
