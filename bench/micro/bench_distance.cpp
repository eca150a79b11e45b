// bench_distance.cpp — nmvec distance kernels against FAISS and a plain loop.
//
// One iteration = one distance between two vectors of `dim` elements, so the
// reported time is ns per distance and items/s is distances per second. The
// two vectors (values in [-1, 1]) stay in L1 cache: this measures kernel
// throughput, not memory bandwidth. Benchmarks are registered at run time so
// that only the SIMD variants this CPU supports appear:
//
//   faiss/<op>/<dim>          faiss::fvec_L2sqr, faiss::fvec_inner_product
//   plain_loop/<op>/<dim>     a straightforward for-loop, float accumulator,
//                             compiled here with -O3 -march=native (no
//                             fast-math, so the compiler cannot vectorise
//                             the reduction)
//   nmvec_active/<op>/<dim>   active_kernels(), what the extension calls
//   nmvec_<isa>/<op>/<dim>    each supported variant's table
//
// <op> is f32_l2sq, f32_dot, and (nmvec only; FAISS has no fp16 kernels in
// this API) f16_l2sq, f16_dot.
#include <benchmark/benchmark.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "distance.h"
#include "half.h"
#include "simd.h"

namespace {

constexpr size_t kDims[] = {384, 768, 1536};

struct Pair {
    std::vector<float> a, b;
    std::vector<uint16_t> ha, hb;
};

const Pair& pair_for(size_t dim) {
    static std::vector<Pair> pairs = [] {
        std::vector<Pair> v;
        std::mt19937 rng(2026);
        std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
        for (size_t dim : kDims) {
            Pair p;
            for (size_t i = 0; i < dim; ++i) {
                p.a.push_back(unit(rng));
                p.b.push_back(unit(rng));
                p.ha.push_back(nmvec::float_to_half(p.a.back()));
                p.hb.push_back(nmvec::float_to_half(p.b.back()));
            }
            v.push_back(std::move(p));
        }
        return v;
    }();
    for (size_t i = 0; i < std::size(kDims); ++i)
        if (kDims[i] == dim) return pairs[i];
    std::abort();
}

__attribute__((noinline)) float plain_l2sq(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) {
        const float d = a[i] - b[i];
        sum += d * d;
    }
    return sum;
}

__attribute__((noinline)) float plain_dot(const float* a, const float* b, size_t n) {
    float sum = 0.0f;
    for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

/// ns per distance; with --benchmark_repetitions, also the spread (min, max)
/// next to Google Benchmark's mean/median/stddev/cv.
benchmark::internal::Benchmark* configure(benchmark::internal::Benchmark* b) {
    return b->Unit(benchmark::kNanosecond)
        ->ComputeStatistics("min", min_of)
        ->ComputeStatistics("max", max_of);
}

using F32Fn = float (*)(const float*, const float*, size_t);
using F16Fn = float (*)(const uint16_t*, const uint16_t*, size_t);

void run_f32(benchmark::State& state, F32Fn fn, size_t dim) {
    const Pair& p = pair_for(dim);
    const float* a = p.a.data();
    const float* b = p.b.data();
    for (auto _ : state) {
        // Keep the pointers opaque so calls cannot be hoisted or merged.
        benchmark::DoNotOptimize(a);
        benchmark::DoNotOptimize(b);
        benchmark::DoNotOptimize(fn(a, b, dim));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void run_f16(benchmark::State& state, F16Fn fn, size_t dim) {
    const Pair& p = pair_for(dim);
    const uint16_t* a = p.ha.data();
    const uint16_t* b = p.hb.data();
    for (auto _ : state) {
        benchmark::DoNotOptimize(a);
        benchmark::DoNotOptimize(b);
        benchmark::DoNotOptimize(fn(a, b, dim));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void add_f32(const std::string& who, const char* op, F32Fn fn) {
    for (size_t dim : kDims)
        configure(benchmark::RegisterBenchmark((who + "/" + op + "/" + std::to_string(dim)).c_str(), run_f32,
                                               fn, dim));
}

void add_f16(const std::string& who, const char* op, F16Fn fn) {
    for (size_t dim : kDims)
        configure(benchmark::RegisterBenchmark((who + "/" + op + "/" + std::to_string(dim)).c_str(), run_f16,
                                               fn, dim));
}

void add_nmvec(const std::string& who, const nmvec::DistanceKernels& k) {
    add_f32(who, "f32_l2sq", k.f32_l2sq);
    add_f32(who, "f32_dot", k.f32_dot);
    add_f16(who, "f16_l2sq", k.f16_l2sq);
    add_f16(who, "f16_dot", k.f16_dot);
}

}  // namespace

int main(int argc, char** argv) {
    add_f32("faiss", "f32_l2sq", faiss::fvec_L2sqr);
    add_f32("faiss", "f32_dot", faiss::fvec_inner_product);
    add_f32("plain_loop", "f32_l2sq", plain_l2sq);
    add_f32("plain_loop", "f32_dot", plain_dot);
    add_nmvec("nmvec_active", nmvec::active_kernels());
    for (int l = 0; l < nmvec::kSimdLevelCount; ++l) {
        const auto level = static_cast<nmvec::SimdLevel>(l);
        if (nmvec::cpu_supports(level))
            add_nmvec(std::string("nmvec_") + nmvec::simd_level_name(level), nmvec::distance_kernels(level));
    }
    benchmark::AddCustomContext("nmvec_best_simd_level", nmvec::simd_level_name(nmvec::best_simd_level()));

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
