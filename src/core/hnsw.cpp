// hnsw.cpp — see hnsw.h.
//
// Concurrency of Graph::insert (several threads, one Graph):
//  * Vectors and levels are written before any insert starts and never
//    change afterwards: readable without locks.
//  * A neighbour list is read and written only under its element's striped
//    mutex (lock_of(id)); a thread holds at most one such mutex at a time, so
//    no lock order is needed. Readers copy the list out under the lock.
//  * entry_ / max_level_ change under entry_lock_. An insert whose level is
//    above the current top level holds entry_lock_ for its whole duration
//    (as hnswlib does), so the new top element is fully linked before it
//    becomes the entry point; other inserts take it only briefly.
#include "hnsw.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <string>

#include "error.h"
#include "memory.h"

namespace nmvec::hnsw {

void Params::check() const {
    if (m < kMinM || m > kMaxM)
        throw Error(ErrorKind::InvalidParameter, "m must be between " + std::to_string(kMinM) + " and " +
                                                     std::to_string(kMaxM) + ", not " + std::to_string(m));
    if (ef_construction < kMinEfConstruction || ef_construction > kMaxEfConstruction)
        throw Error(ErrorKind::InvalidParameter,
                    "ef_construction must be between " + std::to_string(kMinEfConstruction) + " and " +
                        std::to_string(kMaxEfConstruction) + ", not " + std::to_string(ef_construction));
    if (ef_construction < 2 * m)
        throw Error(ErrorKind::InvalidParameter, "ef_construction must be at least twice m (" +
                                                     std::to_string(2 * m) + "), not " +
                                                     std::to_string(ef_construction));
}

namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

int random_level(uint64_t seed, uint64_t id, int m) {
    // u in (0, 1]: 53 random bits, never 0.
    double u = (static_cast<double>(splitmix64(seed ^ splitmix64(id)) >> 11) + 1.0) * 0x1.0p-53;
    double level = -std::log(u) / std::log(static_cast<double>(m));
    return level >= kMaxLevel ? kMaxLevel : static_cast<int>(level);
}

bool normalize_for(Metric metric, float* v, size_t dim) {
    if (metric != Metric::Cosine) return true;
    // Eight independent sums (one chain of dim double adds cost ~0.5 us at
    // 384 dims, a measurable share of an ivf insert).
    double lanes[8] = {};
    size_t i = 0;
    for (; i + 8 <= dim; i += 8)
        for (size_t l = 0; l < 8; ++l) lanes[l] += static_cast<double>(v[i + l]) * v[i + l];
    for (; i < dim; ++i) lanes[0] += static_cast<double>(v[i]) * v[i];
    const double s =
        ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    if (!(s > 0.0) || !std::isfinite(s)) return false;
    double inv = 1.0 / std::sqrt(s);
    for (i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] * inv);
    return true;
}

Graph::Graph(Metric metric, size_t dim, const Params& params, size_t capacity, AlignedFloats* adopt)
    : params_(params), dim_(dim), capacity_(capacity), dist_(metric, dim), locks_(kLockStripes) {
    params_.check();
    if (capacity > UINT32_MAX - 1)
        throw Error(ErrorKind::ProgramLimitExceeded, "too many elements for one graph");
    if (adopt) {
        if (adopt->size() != capacity * dim)
            throw Error(ErrorKind::Internal, "adopted vector buffer has the wrong size");
        vectors_.swap(*adopt);
    } else {
        vectors_.reserve(capacity * dim);
        advise_huge_pages(vectors_.data(), capacity * dim * sizeof(float));
        vectors_.resize(capacity * dim);
    }
    levels_.resize(capacity);
    const size_t links0 = capacity * (1 + 2 * static_cast<size_t>(params_.m));
    level0_.reserve(links0);
    advise_huge_pages(level0_.data(), links0 * sizeof(uint32_t));
    level0_.assign(links0, 0);
    upper_offset_.resize(capacity);
    size_t upper = 0;
    for (size_t i = 0; i < capacity; ++i) {
        int l = random_level(params_.seed, i, params_.m);
        levels_[i] = static_cast<int8_t>(l);
        upper_offset_[i] = upper;
        upper += static_cast<size_t>(l) * (1 + params_.m);
    }
    upper_.assign(upper, 0);
}

size_t Graph::estimate_bytes(size_t n, size_t dim, const Params& p) {
    // Expected upper-level slots: sum over l >= 1 of n / m^l ~= n / (m - 1).
    size_t upper = n / static_cast<size_t>(std::max(1, p.m - 1)) * (1 + p.m);
    return n * dim * sizeof(float) + n * (1 + 2 * static_cast<size_t>(p.m)) * sizeof(uint32_t) +
           upper * sizeof(uint32_t) + n * (sizeof(int8_t) + sizeof(uint64_t)) +
           kLockStripes * sizeof(std::mutex);
}

size_t Graph::memory_bytes() const {
    return vectors_.size() * sizeof(float) + level0_.size() * sizeof(uint32_t) +
           upper_.size() * sizeof(uint32_t) + levels_.size() + upper_offset_.size() * sizeof(uint64_t) +
           locks_.size() * sizeof(std::mutex);
}

void Graph::set_vector(uint32_t id, const float* v) {
    float* dst = vectors_.data() + static_cast<size_t>(id) * dim_;
    std::copy(v, v + dim_, dst);
    normalize_for(dist_.metric(), dst, dim_);
}

uint32_t* Graph::link_slot(uint32_t id, int level) {
    if (level == 0)
        return level0_.data() + static_cast<size_t>(id) * (1 + 2 * static_cast<size_t>(params_.m));
    return upper_.data() + upper_offset_[id] + static_cast<size_t>(level - 1) * (1 + params_.m);
}

const uint32_t* Graph::links(uint32_t id, int level, uint32_t* count) const {
    const uint32_t* p = const_cast<Graph*>(this)->link_slot(id, level);
    *count = p[0];
    return p + 1;
}

/// Access for inserts running concurrently: neighbour lists copied under lock.
struct BuildAccess {
    Graph& g;
    const float* q;
    uint32_t buf[2 * kMaxM];
    float distance(uint32_t id) const { return g.dist_(q, g.vector(id)); }
    void prefetch(const uint32_t*, size_t) const {}
    template <class F>
    void neighbors(uint32_t id, int level, F f) {
        uint32_t n;
        {
            std::lock_guard<std::mutex> lock(g.lock_of(id));
            const uint32_t* p = g.link_slot(id, level);
            n = p[0];
            std::copy(p + 1, p + 1 + n, buf);
        }
        for (uint32_t i = 0; i < n; ++i) f(buf[i]);
    }
};

void Graph::connect(uint32_t id, int level, const std::vector<Neighbor>& selected) {
    const size_t cap = static_cast<size_t>(level_capacity(params_, level));
    {
        std::lock_guard<std::mutex> lock(lock_of(id));
        uint32_t* p = link_slot(id, level);
        p[0] = static_cast<uint32_t>(selected.size());
        for (size_t i = 0; i < selected.size(); ++i) p[1 + i] = selected[i].id;
    }
    auto pair_dist = [this](uint32_t a, uint32_t b) { return dist_(vector(a), vector(b)); };
    std::vector<Neighbor> cand, kept;
    for (const Neighbor& nb : selected) {
        std::lock_guard<std::mutex> lock(lock_of(nb.id));
        uint32_t* p = link_slot(nb.id, level);
        uint32_t n = p[0];
        bool present = false;
        for (uint32_t i = 0; i < n; ++i) present |= p[1 + i] == id;
        if (present) continue;
        if (n < cap) {
            p[1 + n] = id;
            p[0] = n + 1;
            continue;
        }
        // Full: choose among the old neighbours and the new one with the heuristic.
        cand.clear();
        const float* base = vector(nb.id);
        cand.push_back({nb.dist, id});
        for (uint32_t i = 0; i < n; ++i) cand.push_back({dist_(base, vector(p[1 + i])), p[1 + i]});
        std::sort(cand.begin(), cand.end());
        select_neighbors(cand, cap, pair_dist, kept);
        p[0] = static_cast<uint32_t>(kept.size());
        for (size_t i = 0; i < kept.size(); ++i) p[1 + i] = kept[i].id;
    }
}

void Graph::insert(uint32_t id, VisitedSet& visited) {
    const int level = levels_[id];
    std::unique_lock<std::mutex> top(entry_lock_);
    if (entry_ == UINT32_MAX) {  // first element
        entry_ = id;
        max_level_ = level;
        return;
    }
    uint32_t ep = entry_;
    int max_level = max_level_;
    if (level <= max_level) top.unlock();  // else: hold it, we become the entry point

    BuildAccess a{*this, vector(id), {}};
    const Neighbor start = descend_levels(a, ep, max_level, level);
    ep = start.id;
    float ep_dist = start.dist;

    std::vector<Neighbor> entry{{ep_dist, ep}}, found, selected;
    auto pair_dist = [this](uint32_t x, uint32_t y) { return dist_(vector(x), vector(y)); };
    for (int l = std::min(level, max_level); l >= 0; --l) {
        visited.clear();
        visited.insert(id);  // never link to itself
        search_layer(a, entry, static_cast<size_t>(params_.ef_construction), l, visited, found);
        select_neighbors(found, static_cast<size_t>(params_.m), pair_dist, selected);
        connect(id, l, selected);
        entry.swap(found);  // the whole candidate list seeds the next level down
    }
    if (level > max_level) {
        entry_ = id;
        max_level_ = level;
    }
}

std::vector<Neighbor> Graph::search(const float* q, size_t k, size_t ef, VisitedSet& visited) const {
    std::vector<Neighbor> out;
    if (entry_ == UINT32_MAX || k == 0) return out;
    Access a{*this, q};
    visited.clear();
    search_layer(a, std::vector<Neighbor>{descend(q)}, std::max(ef, k), 0, visited, out);
    if (out.size() > k) out.resize(k);
    return out;
}

Neighbor Graph::descend(const float* q) const {
    if (entry_ == UINT32_MAX) return {0.0f, UINT32_MAX};
    Access a{*this, q};
    return descend_levels(a, entry_, max_level_, 0);
}

size_t Graph::link_unreachable(uint32_t count) {
    if (entry_ == UINT32_MAX || count == 0) return 0;
    const uint32_t cap0 = static_cast<uint32_t>(level_capacity(params_, 0));
    std::vector<uint8_t> reached(capacity_, 0);
    std::vector<uint32_t> stack;
    auto walk = [&](uint32_t from) {  // mark everything reachable from `from` on level 0
        if (reached[from]) return;
        reached[from] = 1;
        stack.push_back(from);
        while (!stack.empty()) {
            uint32_t id = stack.back(), n;
            stack.pop_back();
            const uint32_t* p = links(id, 0, &n);
            for (uint32_t i = 0; i < n; ++i)
                if (!reached[p[i]]) {
                    reached[p[i]] = 1;
                    stack.push_back(p[i]);
                }
        }
    };
    auto pair_dist = [this](uint32_t x, uint32_t y) { return dist_(vector(x), vector(y)); };
    VisitedSet visited;
    visited.reserve(capacity_);
    std::vector<Neighbor> near, selected;
    size_t linked = 0;
    // A replaced link can orphan its target in turn; a few rounds settle it
    // (in practice the first round finds a free slot every time).
    for (int round = 0; round < 4; ++round) {
        std::fill(reached.begin(), reached.end(), 0);
        walk(entry_);
        bool replaced = false;
        for (uint32_t id = 0; id < count; ++id) {
            if (reached[id]) continue;
            Access a{*this, vector(id)};
            visited.clear();
            visited.insert(id);
            // Search level 0 from a reached start: all it meets is reached
            // too (the reached set is closed under links). The descent's end
            // is near the orphan and nearly always reached; else the entry.
            Neighbor start = descend_levels(a, entry_, max_level_, 0);
            if (!reached[start.id]) start = {a.distance(entry_), entry_};
            search_layer(a, std::vector<Neighbor>{start}, static_cast<size_t>(params_.ef_construction), 0,
                         visited, near);
            uint32_t* own = link_slot(id, 0);
            if (own[0] == 0) {
                select_neighbors(near, static_cast<size_t>(params_.m), pair_dist, selected);
                own[0] = static_cast<uint32_t>(selected.size());
                for (size_t i = 0; i < selected.size(); ++i) own[1 + i] = selected[i].id;
            }
            uint32_t* host = nullptr;
            for (const Neighbor& f : near) {
                uint32_t* p = link_slot(f.id, 0);
                if (p[0] < cap0) {
                    host = p;
                    break;
                }
            }
            if (host) {
                host[1 + host[0]] = id;
                ++host[0];
            } else {  // every candidate is full: the nearest drops its farthest link
                const uint32_t h = near.front().id;
                host = link_slot(h, 0);
                uint32_t far = 0;
                float far_dist = -1.0f;
                for (uint32_t i = 0; i < host[0]; ++i) {
                    float d = pair_dist(h, host[1 + i]);
                    if (d > far_dist) {
                        far_dist = d;
                        far = i;
                    }
                }
                host[1 + far] = id;
                replaced = true;
            }
            ++linked;
            walk(id);
        }
        if (!replaced) break;
    }
    return linked;
}

ParallelBuild::ParallelBuild(Graph& graph, uint32_t count, int threads) : graph_(graph), count_(count) {
    threads = std::max(1, threads);
    running_ = threads;
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { work(); });
}

ParallelBuild::~ParallelBuild() { cancel(); }

void ParallelBuild::work() {
    VisitedSet visited;
    visited.reserve(count_);
    try {
        for (;;) {
            if (stop_.load(std::memory_order_relaxed)) break;
            uint32_t id = next_.fetch_add(1, std::memory_order_relaxed);
            if (id >= count_) break;
            graph_.insert(id, visited);
            done_.fetch_add(1, std::memory_order_relaxed);
        }
    } catch (...) {
        // Only std::bad_alloc can come out of insert: stop everyone; the
        // caller sees done() < count and reports it.
        stop_ = true;
    }
    running_.fetch_sub(1);
}

bool ParallelBuild::wait_for(int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (running_.load() > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (running_.load() > 0) return false;
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    if (done_.load() < count_)
        throw Error(ErrorKind::Internal, "graph build stopped early (out of memory?) after " +
                                             std::to_string(done_.load()) + " of " + std::to_string(count_) +
                                             " elements");
    if (!linked_done_) {
        relinked_ = graph_.link_unreachable(count_);
        linked_done_ = true;
    }
    return true;
}

void ParallelBuild::cancel() {
    stop_ = true;
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

}  // namespace nmvec::hnsw
