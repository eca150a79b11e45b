// bench_sq8.cpp — the sq8 codec (src/core/sq8.h) beside the exact float32
// kernels, per vector, for what an hnsw scan with quantizer = 'sq8' computes
// at each visit.
//
//   l2/<level>/<dim>        Query::l2sq over kCodes codes back to back
//                           (header read, integer kernel, float finish)
//   dot/<level>/<dim>       the integer kernel alone
//   exact_l2/<dim>          active_kernels().f32_l2sq over kCodes float32
//                           vectors back to back: the walk without codes
//   encode/<dim>, prepare/<dim>   one vector / one query
//
// Per-item figures from items_per_second. kCodes codes of 784 dims take
// 0.8 MB, the float vectors 3.1 MB: beyond L2, as a graph walk's random
// visits are.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "distance.h"
#include "simd.h"
#include "sq8.h"

namespace {

constexpr size_t kDims[] = {128, 384, 784, 1536};
constexpr size_t kCodes = 1000;

struct Data {
    std::vector<float> vectors, query;
    std::vector<uint8_t> codes;
};

const Data& data_for(size_t dim) {
    static std::vector<std::pair<size_t, Data>> cache;
    for (auto& [d, data] : cache)
        if (d == dim) return data;
    Data d;
    std::mt19937 rng(1);
    std::normal_distribution<float> g(0.0f, 1.0f);
    d.vectors.resize(kCodes * dim);
    for (float& x : d.vectors) x = g(rng);
    d.query.resize(dim);
    for (float& x : d.query) x = g(rng);
    const size_t cb = nmvec::sq8::code_bytes(dim);
    d.codes.resize(kCodes * cb);
    for (size_t i = 0; i < kCodes; ++i)
        nmvec::sq8::encode(d.vectors.data() + i * dim, dim, d.codes.data() + i * cb);
    cache.emplace_back(dim, std::move(d));
    return cache.back().second;
}

void bench_l2(benchmark::State& st, nmvec::SimdLevel level, size_t dim) {
    const Data& d = data_for(dim);
    const auto& k = nmvec::sq8::kernels(level);
    nmvec::sq8::Query q;
    q.prepare(d.query.data(), dim);
    const size_t cb = nmvec::sq8::code_bytes(dim);
    for (auto _ : st) {
        double s = 0;
        for (size_t i = 0; i < kCodes; ++i) s += q.l2sq(d.codes.data() + i * cb, k);
        benchmark::DoNotOptimize(s);
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kCodes));
}

void bench_dot(benchmark::State& st, nmvec::SimdLevel level, size_t dim) {
    const Data& d = data_for(dim);
    const auto& k = nmvec::sq8::kernels(level);
    nmvec::sq8::Query q;
    q.prepare(d.query.data(), dim);
    const size_t cb = nmvec::sq8::code_bytes(dim);
    for (auto _ : st) {
        int64_t s = 0;
        for (size_t i = 0; i < kCodes; ++i)
            s += k.dot_u8_i16(d.codes.data() + i * cb + nmvec::sq8::kHeaderBytes, q.w.data(), dim);
        benchmark::DoNotOptimize(s);
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kCodes));
}

void bench_exact(benchmark::State& st, size_t dim) {
    const Data& d = data_for(dim);
    const auto& k = nmvec::active_kernels();
    for (auto _ : st) {
        float s = 0;
        for (size_t i = 0; i < kCodes; ++i) s += k.f32_l2sq(d.query.data(), d.vectors.data() + i * dim, dim);
        benchmark::DoNotOptimize(s);
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kCodes));
}

void bench_encode(benchmark::State& st, size_t dim) {
    const Data& d = data_for(dim);
    std::vector<uint8_t> out(nmvec::sq8::code_bytes(dim));
    size_t i = 0;
    for (auto _ : st) {
        nmvec::sq8::encode(d.vectors.data() + (i++ % kCodes) * dim, dim, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}

void bench_prepare(benchmark::State& st, size_t dim) {
    const Data& d = data_for(dim);
    nmvec::sq8::Query q;
    for (auto _ : st) {
        q.prepare(d.query.data(), dim);
        benchmark::DoNotOptimize(q.w.data());
    }
    st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}

}  // namespace

int main(int argc, char** argv) {
    using nmvec::SimdLevel;
    for (size_t dim : kDims) {
        const std::string ds = std::to_string(dim);
        for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512}) {
            if (!nmvec::cpu_supports(level)) continue;
            const std::string ls = nmvec::simd_level_name(level);
            benchmark::RegisterBenchmark(("l2/" + ls + "/" + ds).c_str(), bench_l2, level, dim);
            benchmark::RegisterBenchmark(("dot/" + ls + "/" + ds).c_str(), bench_dot, level, dim);
        }
        benchmark::RegisterBenchmark(("exact_l2/" + ds).c_str(), bench_exact, dim);
        benchmark::RegisterBenchmark(("encode/" + ds).c_str(), bench_encode, dim);
        benchmark::RegisterBenchmark(("prepare/" + ds).c_str(), bench_prepare, dim);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
