// hnsw.h — Hierarchical Navigable Small World graphs (Malkov & Yashunin),
// the algorithm only: no pages, no Postgres.
//
// What lives here:
//  * Metric and the distance used by the graph (vectors under Cosine are
//    stored unit-normalised, so cosine distance is 1 - dot);
//  * VisitedSet, an epoch-tagged set that needs no clearing between searches;
//  * search_layer / descend_levels, templated on a graph accessor so that the
//    same code walks the in-memory build graph and (in src/pg) index pages;
//  * select_neighbors, the neighbour-selection heuristic;
//  * Graph, the in-memory graph that CREATE INDEX builds on several threads,
//    and ParallelBuild, which runs the worker threads.
// Implemented in hnsw.cpp (and inline templates below).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "distance.h"
#include "memory.h"

namespace nmvec::hnsw {

enum class Metric : uint8_t { L2 = 1, InnerProduct = 2, Cosine = 3, L1 = 4 };

/// Limits on the build options (validated by Params::check).
constexpr int kMinM = 2, kMaxM = 100;
constexpr int kMinEfConstruction = 4, kMaxEfConstruction = 1000;
/// Levels are capped: with m >= 2 a level above 15 needs 2^15+ elements per
/// level step and buys nothing.
constexpr int kMaxLevel = 15;

struct Params {
    int m = 16;                       ///< neighbours per element on levels > 0; 2m on level 0
    int ef_construction = 64;         ///< candidate list size while inserting
    uint64_t seed = 0x6e6d766563ULL;  ///< level assignment is a function of (seed, id)
    /// Throws nmvec::Error(InvalidParameter) when out of range.
    void check() const;
};

/// Neighbour-list capacity of a level.
inline int level_capacity(const Params& p, int level) { return level == 0 ? 2 * p.m : p.m; }

/// Level of element `id`: floor(-ln(u) / ln(m)) for u uniform in (0,1] drawn
/// from a hash of (seed, id), so it does not depend on insertion order.
int random_level(uint64_t seed, uint64_t id, int m);

/// Distance between two stored (or query) vectors under a metric; smaller is
/// closer. L2 is the squared distance (monotone in the true one).
class Distance {
 public:
    Distance(Metric metric, size_t dim) : metric_(metric), dim_(dim), k_(&active_kernels()) {}
    float operator()(const float* a, const float* b) const {
        switch (metric_) {
            case Metric::L2:
                return k_->f32_l2sq(a, b, dim_);
            case Metric::InnerProduct:
                return -k_->f32_dot(a, b, dim_);
            case Metric::Cosine:
                return 1.0f - k_->f32_dot(a, b, dim_);
            case Metric::L1:
                return k_->f32_l1(a, b, dim_);
        }
        return 0.0f;
    }
    Metric metric() const { return metric_; }
    size_t dim() const { return dim_; }

 private:
    Metric metric_;
    size_t dim_;
    const DistanceKernels* k_;
};

/// Normalise v in place for Cosine; returns false for a zero (or non-finite
/// norm) vector, which cannot be placed under Cosine.
bool normalize_for(Metric metric, float* v, size_t dim);

struct Neighbor {
    float dist;
    uint32_t id;
};
inline bool operator<(const Neighbor& a, const Neighbor& b) {
    return a.dist < b.dist || (a.dist == b.dist && a.id < b.id);
}
inline bool operator>(const Neighbor& a, const Neighbor& b) { return b < a; }

/// A set of element ids with O(1) clear: each slot holds the epoch at which
/// it was last marked. Grows on demand (ids need not be dense up front).
class VisitedSet {
 public:
    void clear() {
        if (++epoch_ == 0) {  // wrapped: really clear once every 2^16 searches
            std::fill(tags_.begin(), tags_.end(), 0);
            epoch_ = 1;
        }
    }
    /// Marks id; returns true if it was not marked yet.
    bool insert(uint32_t id) {
        if (id >= tags_.size()) tags_.resize(std::max<size_t>(id + 1, tags_.size() * 2), 0);
        if (tags_[id] == epoch_) return false;
        tags_[id] = epoch_;
        return true;
    }
    bool contains(uint32_t id) const { return id < tags_.size() && tags_[id] == epoch_; }
    void reserve(size_t n) {
        if (tags_.size() < n) tags_.resize(n, 0);
    }

 private:
    std::vector<uint16_t> tags_;
    uint16_t epoch_ = 1;
};

/// Ids already compared during one descent: neighbour lists of nodes next to
/// each other on a level overlap, and an element seen on level l is often a
/// neighbour again on level l-1. A quarter of a descent's distances were
/// repeats (fashion-mnist, m=16). Fixed size; when full, it stops recording
/// and the descent just computes.
class DescentSeen {
 public:
    DescentSeen() { slots_.fill(kEmpty); }
    /// True if id was not recorded yet (and records it).
    bool insert(uint32_t id) {
        if (used_ >= kSlots / 2) return true;
        uint32_t h = (id * 2654435761u) >> (32 - kBits);
        for (;; h = (h + 1) & (kSlots - 1)) {
            if (slots_[h] == id) return false;
            if (slots_[h] == kEmpty) {
                slots_[h] = id;
                ++used_;
                return true;
            }
        }
    }

 private:
    static constexpr int kBits = 9;
    static constexpr uint32_t kSlots = 1u << kBits, kEmpty = UINT32_MAX;
    std::array<uint32_t, kSlots> slots_;
    uint32_t used_ = 0;
};

/// Greedy descent from `ep` on levels top .. bottom+1 (none when top <=
/// bottom): the closest element found, to start the search on `bottom`.
template <class Access>
Neighbor descend_levels(Access& a, uint32_t ep, int top, int bottom) {
    DescentSeen seen;
    seen.insert(ep);
    Neighbor cur{a.distance(ep), ep};
    uint32_t batch[2 * kMaxM];
    for (int level = top; level > bottom; --level) {
        bool changed = true;
        while (changed) {
            changed = false;
            size_t n = 0;
            a.neighbors(cur.id, level, [&](uint32_t nid) {
                if (n < 2 * kMaxM && seen.insert(nid)) batch[n++] = nid;
            });
            a.prefetch(batch, n);
            for (size_t i = 0; i < n; ++i) {
                float d = a.distance(batch[i]);
                if (d < cur.dist) {
                    cur = {d, batch[i]};
                    changed = true;
                }
            }
        }
    }
    return cur;
}

/// Best-first search on one level from the entry points in `entry` (whose
/// dist fields are set), keeping the ef closest. On return `result` holds
/// them in increasing distance. `visited` must be cleared by the caller
/// (entry points are marked here).
template <class Access>
void search_layer(Access& a, const std::vector<Neighbor>& entry, size_t ef, int level, VisitedSet& visited,
                  std::vector<Neighbor>& result) {
    // candidates: min-heap on dist (std heap with greater); best: max-heap (size <= ef)
    std::vector<Neighbor> candidates, best;
    candidates.reserve(ef * 2);
    best.reserve(ef + 1);
    for (const Neighbor& e : entry) {
        if (!visited.insert(e.id)) continue;
        candidates.push_back(e);
        std::push_heap(candidates.begin(), candidates.end(), std::greater<Neighbor>());
        best.push_back(e);
        std::push_heap(best.begin(), best.end());
        if (best.size() > ef) {
            std::pop_heap(best.begin(), best.end());
            best.pop_back();
        }
    }
    while (!candidates.empty()) {
        Neighbor c = candidates.front();
        if (best.size() >= ef && c.dist > best.front().dist) break;
        std::pop_heap(candidates.begin(), candidates.end(), std::greater<Neighbor>());
        candidates.pop_back();
        a.neighbors(c.id, level, [&](uint32_t nid) {
            if (!visited.insert(nid)) return;
            float d = a.distance(nid);
            if (best.size() < ef || d < best.front().dist) {
                candidates.push_back({d, nid});
                std::push_heap(candidates.begin(), candidates.end(), std::greater<Neighbor>());
                best.push_back({d, nid});
                std::push_heap(best.begin(), best.end());
                if (best.size() > ef) {
                    std::pop_heap(best.begin(), best.end());
                    best.pop_back();
                }
            }
        });
    }
    std::sort_heap(best.begin(), best.end());
    result.swap(best);
}

/// The HNSW neighbour-selection heuristic: walk the candidates in increasing
/// distance and keep one only if it is closer to the base element than to
/// every neighbour kept so far (so kept neighbours point in different
/// directions), up to `max` of them. `sorted` must be in increasing distance;
/// `dist(a, b)` gives the distance between two elements.
template <class DistFn>
void select_neighbors(const std::vector<Neighbor>& sorted, size_t max, DistFn&& dist,
                      std::vector<Neighbor>& out) {
    out.clear();
    if (sorted.size() <= max) {
        out = sorted;
        return;
    }
    for (const Neighbor& c : sorted) {
        if (out.size() >= max) break;
        bool keep = true;
        for (const Neighbor& r : out) {
            if (dist(c.id, r.id) < c.dist) {
                keep = false;
                break;
            }
        }
        if (keep) out.push_back(c);
    }
}

/// The in-memory graph built by CREATE INDEX: vectors in one flat array,
/// neighbour lists in fixed-capacity slots. insert() may run on several
/// threads at once (per-element striped locks guard neighbour lists; one
/// mutex guards the entry point). Never calls Postgres.
class Graph {
 public:
    /// Room for `capacity` elements of `dim` floats. With `adopt`, the graph
    /// takes that buffer (capacity * dim floats, already normalised under
    /// Cosine) as its vectors instead of allocating and copying.
    Graph(Metric metric, size_t dim, const Params& params, size_t capacity, AlignedFloats* adopt = nullptr);

    /// Bytes a graph of n elements needs (vectors, links, levels), to compare
    /// with maintenance_work_mem before building.
    static size_t estimate_bytes(size_t n, size_t dim, const Params& params);

    /// Store the vector of element `id` (< capacity); normalises it under
    /// Cosine. Not thread-safe with insert() of the same id.
    void set_vector(uint32_t id, const float* v);

    /// Link element `id` (its vector set) into the graph. Thread-safe.
    void insert(uint32_t id, VisitedSet& visited);

    /// k nearest elements to q (q normalised by the caller under Cosine).
    /// Not thread-safe with insert().
    std::vector<Neighbor> search(const float* q, size_t k, size_t ef, VisitedSet& visited) const;

    size_t capacity() const { return capacity_; }
    size_t dim() const { return dim_; }
    const Params& params() const { return params_; }
    Metric metric() const { return dist_.metric(); }
    int level(uint32_t id) const { return levels_[id]; }
    const float* vector(uint32_t id) const { return vectors_.data() + static_cast<size_t>(id) * dim_; }
    /// Neighbour ids of `id` on `level`; *count set to their number.
    const uint32_t* links(uint32_t id, int level, uint32_t* count) const;
    /// Entry point and top level; entry_point() is UINT32_MAX while empty.
    uint32_t entry_point() const { return entry_; }
    int max_level() const { return max_level_; }
    size_t memory_bytes() const;

    /// Accessor for searches after the build (no locks): the Access concept
    /// of search_layer and IterativeSearch, for query q.
    struct Access {
        const Graph& g;
        const float* q;
        float distance(uint32_t id) const { return g.dist_(q, g.vector(id)); }
        template <class F>
        void neighbors(uint32_t id, int level, F f) const {
            uint32_t n;
            const uint32_t* p = g.links(id, level, &n);
            for (uint32_t i = 0; i < n; ++i) f(p[i]);
        }
        bool live(uint32_t) const { return true; }
        void prefetch(const uint32_t*, size_t) const {}
        uint32_t size() const { return static_cast<uint32_t>(g.capacity()); }
    };
    /// The level-0 entry for q: greedy descent from the top; id UINT32_MAX if empty.
    Neighbor descend(const float* q) const;

    /// Once every insert of ids [0, count) has returned (one thread, no
    /// insert running): make each of them reachable on level 0 from the entry
    /// point, so that a search can find it. Neighbour pruning orphans a few
    /// elements even on one thread (each list that took the element dropped
    /// it for a closer one: 227 of fashion-mnist's 60,000), and concurrent
    /// inserts more (an element linked from a stale view of the graph, its
    /// thread descheduled between search and link). Each orphan gets an
    /// in-link from its nearest reachable element with a free slot (or
    /// replaces that element's farthest link when none has one, and the walk
    /// is redone), and out-links if it has none. Returns how many elements
    /// were linked.
    size_t link_unreachable(uint32_t count);

 private:
    friend struct BuildAccess;
    uint32_t* link_slot(uint32_t id, int level);
    std::mutex& lock_of(uint32_t id) const { return locks_[id & (kLockStripes - 1)]; }
    void connect(uint32_t id, int level, const std::vector<Neighbor>& selected);

    static constexpr size_t kLockStripes = 4096;
    Params params_;
    size_t dim_;
    size_t capacity_;
    Distance dist_;
    AlignedFloats vectors_;
    std::vector<int8_t> levels_;
    std::vector<uint32_t> level0_;        // capacity * (1 + 2m): count, then slots
    std::vector<uint64_t> upper_offset_;  // per element: start in upper_ (levels >= 1)
    std::vector<uint32_t> upper_;         // per level >= 1: count, then m slots
    mutable std::vector<std::mutex> locks_;
    std::mutex entry_lock_;
    uint32_t entry_ = UINT32_MAX;
    int max_level_ = -1;
};

/// Runs Graph::insert for ids [0, count) on `threads` worker threads. The
/// caller's thread stays free to watch for cancellation and report progress
/// (in a backend: check interrupts), then calls wait_for() until it returns
/// true. Destroying the object cancels and joins the workers.
class ParallelBuild {
 public:
    ParallelBuild(Graph& graph, uint32_t count, int threads);
    ~ParallelBuild();
    ParallelBuild(const ParallelBuild&) = delete;
    ParallelBuild& operator=(const ParallelBuild&) = delete;

    /// Wait up to `ms` milliseconds; true when every element is inserted
    /// and (on the caller's thread) Graph::link_unreachable has run.
    bool wait_for(int ms);
    /// Ask the workers to stop after their current element and join them.
    void cancel();
    uint32_t done() const { return done_.load(std::memory_order_relaxed); }
    /// Elements link_unreachable had to link (valid once wait_for is true).
    size_t relinked() const { return relinked_; }

 private:
    void work();
    Graph& graph_;
    uint32_t count_;
    std::atomic<uint32_t> next_{0};
    std::atomic<uint32_t> done_{0};
    std::atomic<bool> stop_{false};
    std::atomic<int> running_{0};
    std::vector<std::thread> threads_;
    size_t relinked_ = 0;
    bool linked_done_ = false;
};

}  // namespace nmvec::hnsw
