// bench_rabitq.cpp — the RaBitQ codec (src/core/rabitq.h) beside the exact
// float32 L2 kernel.
//
//   encode/<bits>/<dim>             one vector (residual against a centroid);
//                                   time per vector
//   prepare/<bits>/<dim>            one (query, centroid) pair; time per query
//   estimate/<level>/<bits>/<dim>   estimate_batch over kCodes codes laid out
//                                   back to back (an IVF list); time per code.
//                                   <level> is each supported SIMD level's
//                                   kernel table, and "active" (what the
//                                   index calls)
//   dots/<level>/<bits>/<dim>       the integer kernel alone over the same
//                                   codes (estimate minus the float finish)
//   finish/<level>/<dim>            the float finish alone (1-bit codes'
//                                   factors 80 bytes apart, as in a list)
//   rotate/<dim>                    the rotation alone (active level)
//   fwht/<level>/<n>                one Walsh-Hadamard transform of n floats
//   exact_l2/<dim>                  active_kernels().f32_l2sq over kCodes
//                                   float32 vectors back to back; time per
//                                   vector: the in-process baseline
//
// Per-item figures come from items_per_second (Google Benchmark divides the
// iteration time by SetItemsProcessed). Data: Gaussian vectors from a fixed
// seed; kCodes codes of 384 dims take 68 KB (1 bit) to 404 KB (8 bits), the
// float vectors 1.5 MB, so the lists sit in L2 or L3 as a short IVF list would.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "distance.h"
#include "rabitq.h"
#include "rabitq_impl.h"
#include "simd.h"

namespace {

constexpr size_t kDims[] = {384, 784};
constexpr uint32_t kBits[] = {1, 4, 8};
constexpr size_t kCodes = 1000;

std::vector<float> gaussian(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = g(rng);
    return v;
}

struct Data {
    std::vector<float> vectors;  // kCodes x dim
    std::vector<float> centroid, query;
};

const Data& data_for(size_t dim) {
    static Data d384, d784;
    Data& d = dim == 384 ? d384 : d784;
    if (d.vectors.empty()) {
        d.vectors = gaussian(kCodes * dim, 1);
        d.centroid = gaussian(dim, 2);
        d.query = gaussian(dim, 3);
    }
    return d;
}

void bench_encode(benchmark::State& state, uint32_t bits, size_t dim) {
    const Data& d = data_for(dim);
    const nmvec::RabitqCodec codec(static_cast<uint32_t>(dim), bits, 42);
    std::vector<uint8_t> code(codec.code_bytes());
    size_t i = 0;
    for (auto _ : state) {
        codec.encode(&d.vectors[i * dim], d.centroid.data(), code.data());
        benchmark::DoNotOptimize(code.data());
        i = (i + 1) % kCodes;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void bench_prepare(benchmark::State& state, uint32_t bits, size_t dim) {
    const Data& d = data_for(dim);
    const nmvec::RabitqCodec codec(static_cast<uint32_t>(dim), bits, 42);
    nmvec::RabitqQuery st;
    for (auto _ : state) {
        codec.prepare(d.query.data(), d.centroid.data(), st);
        benchmark::DoNotOptimize(st.q_norm);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void bench_estimate(benchmark::State& state, uint32_t bits, size_t dim, const nmvec::RabitqKernels* kernels) {
    const Data& d = data_for(dim);
    const nmvec::RabitqCodec codec(static_cast<uint32_t>(dim), bits, 42);
    const size_t cb = codec.code_bytes();
    std::vector<uint8_t> codes(kCodes * cb);
    for (size_t i = 0; i < kCodes; ++i) codec.encode(&d.vectors[i * dim], d.centroid.data(), &codes[i * cb]);
    nmvec::RabitqQuery st;
    codec.prepare(d.query.data(), d.centroid.data(), st);
    std::vector<nmvec::RabitqEstimate> out(kCodes);
    for (auto _ : state) {
        if (kernels)
            codec.estimate_batch(st, codes.data(), kCodes, 0, nmvec::RabitqMetric::L2Squared, out.data(),
                                 *kernels);
        else
            codec.estimate_batch(st, codes.data(), kCodes, 0, nmvec::RabitqMetric::L2Squared, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCodes));
    state.counters["code_bytes"] = static_cast<double>(cb);
}

/// The integer kernel alone (no factors, no float finish).
void bench_dots(benchmark::State& state, uint32_t bits, size_t dim, const nmvec::RabitqKernels* kernels) {
    const Data& d = data_for(dim);
    const nmvec::RabitqCodec codec(static_cast<uint32_t>(dim), bits, 42);
    const size_t cb = codec.code_bytes(), pd = codec.padded_dim();
    std::vector<uint8_t> codes(kCodes * cb);
    for (size_t i = 0; i < kCodes; ++i) codec.encode(&d.vectors[i * dim], d.centroid.data(), &codes[i * cb]);
    nmvec::RabitqQuery st;
    codec.prepare(d.query.data(), d.centroid.data(), st);
    std::vector<int64_t> out(kCodes);
    for (auto _ : state) {
        if (bits == 1)
            kernels->dot_b1(st.planes.data(), pd / 64, codes.data(), kCodes, cb, out.data());
        else if (bits == 4)
            kernels->dot_b4(st.w16.data(), pd, codes.data(), kCodes, cb, out.data());
        else
            kernels->dot_b8(st.w16.data(), pd, codes.data(), kCodes, cb, out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCodes));
}

/// The float finish alone (a level's RabitqKernels::finish) over the 1-bit
/// codes' factors, stored 80 bytes apart as in an ivf list page, from
/// precomputed integers: estimate minus dots, measured directly.
void bench_finish(benchmark::State& state, size_t dim, const nmvec::RabitqKernels* kernels) {
    const Data& d = data_for(dim);
    const nmvec::RabitqCodec codec(static_cast<uint32_t>(dim), 1, 42);
    const size_t cb = codec.code_bytes(), stride = cb + 12, pd = codec.padded_dim();
    std::vector<uint8_t> codes(kCodes * stride);
    for (size_t i = 0; i < kCodes; ++i)
        codec.encode(&d.vectors[i * dim], d.centroid.data(), &codes[i * stride]);
    nmvec::RabitqQuery st;
    codec.prepare(d.query.data(), d.centroid.data(), st);
    std::vector<int64_t> dots(kCodes);
    kernels->dot_b1(st.planes.data(), pd / 64, codes.data(), kCodes, stride, dots.data());
    const nmvec::RabitqFinish p{st.q_norm * st.q_norm,
                                st.qc,
                                st.q_norm * st.delta,
                                st.epsilon * st.q_norm,
                                st.err_query,
                                st.w_offset,
                                pd / 8,
                                true};
    std::vector<nmvec::RabitqEstimate> out(kCodes);
    for (auto _ : state) {
        kernels->finish(p, codes.data(), kCodes, stride, dots.data(), out.data());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCodes));
}

/// The rotation alone (codec.rotate: the active level's transform).
void bench_rotate(benchmark::State& state, size_t dim) {
    const Data& d = data_for(dim);
    const nmvec::RabitqCodec codec(static_cast<uint32_t>(dim), 1, 42);
    std::vector<float> out(codec.padded_dim());
    for (auto _ : state) {
        codec.rotate(d.query.data(), out.data());
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

/// One normalised Walsh-Hadamard transform of n floats with a level's kernel.
void bench_fwht(benchmark::State& state, size_t n, const nmvec::RabitqKernels* kernels) {
    std::vector<float> v(n, 0.5f);
    std::vector<uint32_t> flip(n, 0);
    for (size_t i = 0; i < n; i += 3) flip[i] = 0x80000000u;
    for (auto _ : state) {
        kernels->fwht(v.data(), n, flip.data(), 0.0625f);
        benchmark::DoNotOptimize(v.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void bench_exact(benchmark::State& state, size_t dim) {
    const Data& d = data_for(dim);
    const auto l2 = nmvec::active_kernels().f32_l2sq;
    std::vector<float> out(kCodes);
    for (auto _ : state) {
        for (size_t i = 0; i < kCodes; ++i) out[i] = l2(d.query.data(), &d.vectors[i * dim], dim);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCodes));
}

}  // namespace

int main(int argc, char** argv) {
    using nmvec::SimdLevel;
    for (size_t dim : kDims) {
        const std::string ds = std::to_string(dim);
        for (uint32_t bits : kBits) {
            const std::string bs = std::to_string(bits);
            benchmark::RegisterBenchmark(("encode/" + bs + "/" + ds).c_str(), bench_encode, bits, dim)
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(("prepare/" + bs + "/" + ds).c_str(), bench_prepare, bits, dim)
                ->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(("estimate/active/" + bs + "/" + ds).c_str(), bench_estimate, bits,
                                         dim, nullptr)
                ->Unit(benchmark::kMicrosecond);
            for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512}) {
                if (!nmvec::cpu_supports(level)) continue;
                benchmark::RegisterBenchmark(
                    ("estimate/" + std::string(nmvec::simd_level_name(level)) + "/" + bs + "/" + ds).c_str(),
                    bench_estimate, bits, dim, &nmvec::rabitq_kernels(level))
                    ->Unit(benchmark::kMicrosecond);
                benchmark::RegisterBenchmark(
                    ("dots/" + std::string(nmvec::simd_level_name(level)) + "/" + bs + "/" + ds).c_str(),
                    bench_dots, bits, dim, &nmvec::rabitq_kernels(level))
                    ->Unit(benchmark::kMicrosecond);
            }
            if (bits == 1) {
                for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512}) {
                    if (!nmvec::cpu_supports(level)) continue;
                    benchmark::RegisterBenchmark(
                        ("finish/" + std::string(nmvec::simd_level_name(level)) + "/" + ds).c_str(),
                        bench_finish, dim, &nmvec::rabitq_kernels(level))
                        ->Unit(benchmark::kMicrosecond);
                }
            }
            if (bits == 1 && nmvec::cpu_has_vpopcntdq()) {
                benchmark::RegisterBenchmark(("estimate/avx512_vpopcntdq/" + bs + "/" + ds).c_str(),
                                             bench_estimate, bits, dim,
                                             &nmvec::rabitq_kernels_avx512_vpopcnt())
                    ->Unit(benchmark::kMicrosecond);
                benchmark::RegisterBenchmark(("dots/avx512_vpopcntdq/" + bs + "/" + ds).c_str(), bench_dots,
                                             bits, dim, &nmvec::rabitq_kernels_avx512_vpopcnt())
                    ->Unit(benchmark::kMicrosecond);
            }
        }
        benchmark::RegisterBenchmark(("rotate/" + ds).c_str(), bench_rotate, dim)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("exact_l2/" + ds).c_str(), bench_exact, dim)
            ->Unit(benchmark::kMicrosecond);
    }
    for (size_t n : {256, 512}) {
        for (SimdLevel level : {SimdLevel::Scalar, SimdLevel::AVX2, SimdLevel::AVX512}) {
            if (!nmvec::cpu_supports(level)) continue;
            benchmark::RegisterBenchmark(
                ("fwht/" + std::string(nmvec::simd_level_name(level)) + "/" + std::to_string(n)).c_str(),
                bench_fwht, n, &nmvec::rabitq_kernels(level));
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
