// bench_ivf.cpp — CentroidSearch::nearest (src/core/ivf.h), the list an ivf
// insert goes to: the pruned, code-estimated search against the exhaustive
// float32 pass, on centroids spread around topics as k-means leaves them on
// embeddings (384-d, cosine; 1,000 and 3,162 centroids: the automatic lists
// at 1M and 10M rows).
//
//   nearest/<k>      nearest() per query; counters: codes estimated and
//                    float32 distances computed per query
//   exhaustive/<k>   distances() to every centroid, then the least
//   ranked/<k>       distances_ranked(), exact for the 64 nearest (the ivf
//                    scan's list order); counter: float32 distances a query
//   */<k>/copies:8   the same over 8 copies of the centroids in turn (39 MB
//                    at 3,162: more than the cache, as 8 backends' copies)
//   list_pages/run:<r>  what an ivf list's page layout costs a scan: 330
//                    pages of 8 KB a query (8 lists at 10M rows), each read
//                    whole with the next one prefetched, out of a 1 GiB
//                    arena (a 10M index in shared buffers), in runs of r
//                    consecutive pages at random places; per page. Run 1 is
//                    lists appended as rows came (pages interleaved), 41
//                    a list laid out in a row by the build (ivf_build.cpp);
//                    counter per_page: seconds a page
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "ivf.h"

namespace {

constexpr size_t kDim = 384, kQueries = 1024;

std::vector<float> clustered(size_t n, size_t topics, float spread, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> t(topics * kDim);
    for (float& x : t) x = g(rng);
    std::normal_distribution<float> s(0.0f, spread);
    std::uniform_int_distribution<size_t> pick(0, topics - 1);
    std::vector<float> v(n * kDim);
    for (size_t i = 0; i < n; ++i) {
        const size_t k = pick(rng);
        for (size_t j = 0; j < kDim; ++j) v[i * kDim + j] = t[k * kDim + j] + s(rng);
        nmvec::hnsw::normalize_for(nmvec::hnsw::Metric::Cosine, v.data() + i * kDim, kDim);
    }
    return v;
}

constexpr size_t kCopies = 8;

struct Fixture {
    std::vector<float> queries;
    std::unique_ptr<nmvec::CentroidSearch> search;
    std::vector<std::unique_ptr<nmvec::CentroidSearch>> copies;  // kCopies of the same centroids
};

const Fixture& fixture(size_t k) {
    static std::vector<std::pair<size_t, Fixture>> cache;
    for (auto& [n, f] : cache)
        if (n == k) return f;
    Fixture f;
    auto c = clustered(k, 60, 0.5f, 1);
    f.search = std::make_unique<nmvec::CentroidSearch>(nmvec::hnsw::Metric::Cosine, kDim, c.data(), k);
    for (size_t i = 0; i < kCopies; ++i)
        f.copies.push_back(
            std::make_unique<nmvec::CentroidSearch>(nmvec::hnsw::Metric::Cosine, kDim, c.data(), k));
    f.queries = clustered(kQueries, 60, 0.7f, 1);
    cache.emplace_back(k, std::move(f));
    return cache.back().second;
}

/// The search a pass uses: the one copy, or with range(1) the copies in turn.
const nmvec::CentroidSearch& pick(const Fixture& f, const benchmark::State& state, size_t i) {
    return state.range(1) > 1 ? *f.copies[i % kCopies] : *f.search;
}

void nearest(benchmark::State& state) {
    const Fixture& f = fixture(static_cast<size_t>(state.range(0)));
    size_t i = 0, scanned = 0, exact = 0, n = 0;
    for (auto _ : state) {
        size_t s = 0, x = 0;
        benchmark::DoNotOptimize(f.search->nearest(f.queries.data() + (i++ % kQueries) * kDim, &s, &x));
        scanned += s;
        exact += x;
        ++n;
    }
    state.counters["codes"] = static_cast<double>(scanned) / static_cast<double>(n);
    state.counters["float32"] = static_cast<double>(exact) / static_cast<double>(n);
}

void exhaustive(benchmark::State& state) {
    const Fixture& f = fixture(static_cast<size_t>(state.range(0)));
    std::vector<float> d;
    size_t i = 0;
    for (auto _ : state) {
        pick(f, state, i).distances(f.queries.data() + (i % kQueries) * kDim, d);
        ++i;
        benchmark::DoNotOptimize(std::min_element(d.begin(), d.end()));
    }
}

void ranked(benchmark::State& state) {
    const Fixture& f = fixture(static_cast<size_t>(state.range(0)));
    std::vector<float> d;
    size_t i = 0, exact = 0;
    for (auto _ : state) {
        exact += pick(f, state, i).distances_ranked(f.queries.data() + (i % kQueries) * kDim, 64, d);
        ++i;
        benchmark::DoNotOptimize(std::min_element(d.begin(), d.end()));
    }
    state.counters["float32"] = static_cast<double>(exact) / static_cast<double>(std::max<size_t>(i, 1));
}

void list_pages(benchmark::State& state) {
    constexpr size_t kArena = size_t{1} << 30, kPage = 8192, kPagesPerQuery = 330;
    static std::vector<uint64_t, nmvec::CacheLineAllocator<uint64_t>> arena(kArena / sizeof(uint64_t), 1);
    const auto run = static_cast<size_t>(state.range(0));
    const size_t pages = kArena / kPage;
    std::mt19937_64 rng(7);
    std::vector<size_t> order;  // 64 queries' pages
    for (size_t q = 0; q < 64; ++q)
        for (size_t r = 0; r < kPagesPerQuery / run; ++r) {
            const size_t first = rng() % (pages - run);
            for (size_t k = 0; k < run; ++k) order.push_back(first + k);
        }
    const char* base = reinterpret_cast<const char*>(arena.data());
    uint64_t sum = 0;
    size_t done = 0;
    for (auto _ : state) {
        for (size_t i = 0; i < order.size(); ++i) {
            if (i + 1 < order.size()) {
                const char* next = base + order[i + 1] * kPage;
                for (size_t at = 0; at < kPage; at += 64) __builtin_prefetch(next + at);
            }
            const auto* page = reinterpret_cast<const uint64_t*>(base + order[i] * kPage);
            for (size_t w = 0; w < kPage / sizeof(uint64_t); w += 8) sum += page[w];
        }
        done += order.size();
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(static_cast<int64_t>(done));
    state.counters["per_page"] = benchmark::Counter(
        static_cast<double>(done), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(nearest)->Args({1000, 1})->Args({3162, 1});
BENCHMARK(exhaustive)->ArgNames({"", "copies"})->Args({1000, 1})->Args({3162, 1})->Args({3162, 8});
BENCHMARK(ranked)->ArgNames({"", "copies"})->Args({1000, 1})->Args({3162, 1})->Args({3162, 8});
BENCHMARK(list_pages)->ArgName("run")->Arg(1)->Arg(41);

}  // namespace

BENCHMARK_MAIN();
