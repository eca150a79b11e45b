// bench_parse — vectors parsed per second from text: nmvec's from_chars
// parser against a strtof loop (how a C extension typically parses), on
// 384-d (and 768/1536-d) vectors with full-precision random elements, the way
// an embedding model's output is printed.
//
//   ./build/bench_parse --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "vector_text.h"

namespace {

/// 256 distinct lines of `dims` elements, printed in shortest round-trip form.
std::vector<std::string> make_lines(int dims) {
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 0.05f);
    std::vector<std::string> lines;
    std::vector<float> v(dims);
    for (int i = 0; i < 256; ++i) {
        for (auto& x : v) x = dist(rng);
        std::string s(nmvec::vector_text_max_len(dims), '\0');
        s.resize(nmvec::format_vector_text(v.data(), v.size(), s.data()));
        lines.push_back(std::move(s));
    }
    return lines;
}

/// The baseline: a strtof loop with the same checks (brackets, commas,
/// finite values, dims limit).
size_t parse_strtof(const char* s, float* out, size_t cap) {
    while (std::isspace(static_cast<unsigned char>(*s))) ++s;
    if (*s++ != '[') throw std::runtime_error("malformed");
    size_t n = 0;
    for (;;) {
        char* end;
        errno = 0;
        float f = std::strtof(s, &end);
        if (end == s) throw std::runtime_error("malformed");
        if (errno == ERANGE || !std::isfinite(f)) throw std::runtime_error("range");
        if (n == cap) throw std::runtime_error("too many");
        out[n++] = f;
        s = end;
        while (std::isspace(static_cast<unsigned char>(*s))) ++s;
        if (*s == ',') {
            ++s;
            continue;
        }
        if (*s == ']') break;
        throw std::runtime_error("malformed");
    }
    return n;
}

void BM_parse_nmvec(benchmark::State& state) {
    auto lines = make_lines(static_cast<int>(state.range(0)));
    std::vector<float> out(nmvec::kMaxDims);
    size_t i = 0, total = 0;
    for (auto _ : state) {
        const std::string& s = lines[i++ & 255];
        total += nmvec::parse_vector_text(s, out.data(), out.size(), "vector");
        benchmark::DoNotOptimize(out.data());
    }
    benchmark::DoNotOptimize(total);
    state.SetItemsProcessed(state.iterations());  // vectors/s
}

void BM_parse_strtof(benchmark::State& state) {
    auto lines = make_lines(static_cast<int>(state.range(0)));
    std::vector<float> out(nmvec::kMaxDims);
    size_t i = 0, total = 0;
    for (auto _ : state) {
        const std::string& s = lines[i++ & 255];
        total += parse_strtof(s.c_str(), out.data(), out.size());
        benchmark::DoNotOptimize(out.data());
    }
    benchmark::DoNotOptimize(total);
    state.SetItemsProcessed(state.iterations());
}

void BM_format_nmvec(benchmark::State& state) {
    auto lines = make_lines(static_cast<int>(state.range(0)));
    std::vector<float> v(state.range(0));
    nmvec::parse_vector_text(lines[0], v.data(), v.size(), "vector");
    std::string buf(nmvec::vector_text_max_len(v.size()), '\0');
    for (auto _ : state) {
        benchmark::DoNotOptimize(nmvec::format_vector_text(v.data(), v.size(), buf.data()));
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_parse_nmvec)->Arg(384)->Arg(768)->Arg(1536);
BENCHMARK(BM_parse_strtof)->Arg(384)->Arg(768)->Arg(1536);
BENCHMARK(BM_format_nmvec)->Arg(384)->Arg(768)->Arg(1536);
BENCHMARK_MAIN();
