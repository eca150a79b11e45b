// hnsw_iter.h — an HNSW level-0 search that can be resumed: the index scan
// behind `ORDER BY v <-> q` when the executor keeps asking for rows (a WHERE
// clause rejects some, or LIMIT exceeds ef_search).
//
// Rounds. Round r keeps the ef_r closest elements found so far (ef_0 =
// ef_search, then doubling); it expands candidates best-first until the
// closest unexpanded candidate is farther than the ef_r-th closest element,
// exactly like one ordinary HNSW search, then emits those elements in
// increasing distance. When they are used up, the next round doubles ef and
// goes on from where the last one stopped: unexpanded candidates and the
// elements the smaller ef had turned away are still there, nothing is
// visited twice.
//
// Completeness. When no candidate is left, the walk has reached every
// element that links lead to from where it started. It then sweeps the ids
// it never reached (Access::size(): ids are [0, size)), elements no link
// leads to, and emits them too: a search walked to the end returns every
// live element exactly once, so `WHERE ... LIMIT k` gets k rows whenever k
// match. With a filter, a round whose walk runs dry before it has found
// the round's ef passing elements sweeps at once, before it emits (what
// the sweep finds then competes in that round instead of coming out last
// as late finds).
//
// Order. Within a round results come out in non-decreasing distance. A later
// round can find an element closer than one already emitted (a "late find":
// ~2% of the elements of a graph walked to the end). Relaxed mode emits it
// at once, out of order. Strict mode (the default) holds it back until the
// walk has ended and emits the held ones last, closest first, counted in
// out_of_order(): the stream is non-decreasing up to the point where only
// late finds are left, and nothing is lost. A search that a LIMIT stops
// before the end never emits a late find, so what it returned is in order.
//
// Work cap. Once the first round is done, the search ends after
// `max_visits` distance computations (the caller reports it): a scan behind
// a very selective filter stops instead of walking the whole graph. The
// first round always completes, so a small cap never makes an ordinary
// search worse. What was found by then (late finds included) is still
// emitted.
//
// Filters. With Options::filter other than kNone, Access also has bool
// passes(id) (a WHERE clause on the index's filter columns, evaluated from
// what the index stores), and only elements that pass are emitted; the
// rounds' bound (ef) counts passing elements only. How the walk gets past
// the elements that fail:
//  * kTraverse: as without a filter: failing elements get their distance
//    and are expanded like any other, never emitted (cheap when most pass).
//  * kTwoHop: a failing neighbour costs no distance; its own neighbours
//    that pass are taken in its place (ACORN-1's expansion), so the walk
//    moves over the passing elements even when few do.
//  * kExact: no walk: the sweep below (ids in order, the filter first, a
//    distance for each that passes), for filters few elements pass.
// The sweep at the end of every walk makes all three complete: an element
// that passes and that no path of the walk reached is still emitted.
// choose_filter_mode() picks one from the filter's estimated selectivity.
//
// Entry samples (kTwoHop). The upper levels lead a walk down greedily, and
// now and then to a local minimum far from the query: an unfiltered walk
// at level 0 still finds its way from there through the elements between
// (their distances), a two-hop walk, which computes distances for passing
// elements only, settles among the passing elements near where it started.
// 200,000 nm-monitor events, the latest 10 %: 14 of 300 queries found none
// of their ten, the walk entering the port events' cluster at a distance of
// 1.32 while the query's nearest lay in the config events' at 0.55. So a
// two-hop walk first computes the distance of Options::entry_samples
// elements spread evenly over the ids (the same for every query: they stay
// in the CPU cache), and the closest of them joins the entry points: a
// cluster of 1 % of the elements holds about one of 128. Recall there
// 0.929 -> 0.971, the 23 % tenant 0.975 -> 0.991. Only the closest joins:
// with all 128 as candidates, the walk on fashion-mnist's anti-correlated
// label also set out from the far ones that pass (p95 1.1 -> 2.0 ms).
// Once the first round's walk has settled, the other samples closer to the
// query than its bound become candidates too, and the walk goes on from
// them (Options::revisit_samples): they lie in the region the answer comes
// from, and a walk that settled among the passing elements on one side of
// the query does not see those on another. Their distances are already
// computed, and a sample beyond the bound is never walked from. On
// fashion-mnist's anti-correlated label, 40 of 500 queries had missed 67
// of their 5,000 rows that way: recall 0.987 -> 0.990 (unfiltered 0.992),
// p95 the same within the noise (1.04 and 1.04 ms against 0.99 and 1.07
// without, runs alternated); the events' filters did not change.
//
// Passing seeds (kTwoHop). A two-hop walk starts where the upper levels led
// it, near the query; when the filter is anti-correlated with the vectors
// nothing there passes, not even two hops away, and the walk runs dry: no
// candidate left, fewer passing elements found than the round wants. Before
// the sweep (a distance for every passing element), such a walk takes up to
// Options::seeds passing elements spread over the ids (one from each of as
// many equal slices of [0, size()), the first that passes among the
// slice's first kSeedChecks candidate ids) as new candidates, and walks on
// from them: it converges on the query from inside the passing elements
// (the filtered entry points of Filtered-DiskANN, found by the filter
// instead of kept per label). Once per walk; the sweep still follows when
// the walk runs dry again, so completeness is unchanged.
//
// Crowded queries. When the walk from the seeds has settled, crowded()
// computes the distance of kCrowdSamples elements spread over the ids: if
// kCrowdLimit or more of them (about 3 % of the index) are closer to the
// query than the round's bound, the passing elements nearest the query lie
// beyond a crowd of failing ones, and the closest of them are often
// islands that only a path through that crowd leads to (fashion-mnist, a
// label other than the query's class: 13,000 of 60,000 elements closer
// than the 40th passing one; the walk from the seeds found 0.82 of the
// true 10, a traverse from the query side with 4,000 distances 0.86). Then
// the sweep runs at once, in that round. A query whose passing neighbours
// are only missing near it (nm-events, the 23 % tenant) is not crowded and
// keeps the walk's answer.
//
// Bounded sweep. Where Access has sweep bounds (HasSweepLower: index pages
// that keep a 1-bit code of each element beside its filter values), the
// sweep costs a bound per passing element instead of a distance: each goes
// to a second heap, lazy_, keyed by its lower bound. Before a round takes
// an element from the pool, every lazy element whose bound is below the
// pool's closest gets its distance and joins the pool (settle()): the
// pool's closest is then no farther than any lazy element can be, so the
// order is what the distances give (while the bounds hold: rabitq.h's
// confidence), and only the elements whose bound comes up before the scan
// stops cost a distance. A sweep over 6,000 passing 784-d vectors read
// ~100 of them instead of all.
//
// Draining. Once the sweep has run, every element the search can still
// emit is in the pool or lazy_ (the walk could only find ones the sweep
// already took), so the walk stops and each later round takes the pool's
// closest one at a time, settling just before each. A round used to
// settle all ef it would emit before emitting the first: fashion-mnist's
// anti-correlated label under LIMIT 10 computed the distances of every
// lazy element that could come before the 40th (up to 1,250 of 6,000),
// where the 10 rows need those before the 10th.
//
// Access is the same concept as in hnsw.h (distance(id), neighbors(id,
// level, f)), plus bool live(id): deleted elements are traversed but never
// emitted, prefetch(ids, n): a hint that those vectors are needed next, and
// size(): one past the largest id; with a filter, passes(id), and
// optionally next_candidate(id) (the first id >= id that may pass: the sweep
// skips what it rules out, e.g. pages whose summary no element can pass).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "hnsw.h"

namespace nmvec::hnsw {

/// How a filtered walk treats elements that fail the filter (see above).
enum class FilterMode : uint8_t { kNone, kTraverse, kTwoHop, kExact };

/// Whether Access has passes(id).
template <class A, class = void>
struct HasPasses : std::false_type {};
template <class A>
struct HasPasses<A, std::void_t<decltype(std::declval<A&>().passes(uint32_t{0}))>> : std::true_type {};

/// Whether Access has prefetch_filter(id) and prefetch_links(id): hints
/// that the filter values, or the level-0 neighbour list, of id are read
/// next (addresses only; see "Checks ahead" in expand()).
template <class A, class = void>
struct HasPrefetchFilter : std::false_type {};
template <class A>
struct HasPrefetchFilter<A, std::void_t<decltype(std::declval<A&>().prefetch_filter(uint32_t{0})),
                                        decltype(std::declval<A&>().prefetch_links(uint32_t{0}))>>
    : std::true_type {};

/// Whether Access has passing_run(id, &mask): for ids [id, id + k) (k, 1
/// to 64, returned), bit i of mask says whether id + i passes the filter;
/// the sweep checks a run of ids in one call instead of one id a call.
template <class A, class = void>
struct HasPassingRun : std::false_type {};
template <class A>
struct HasPassingRun<
    A, std::void_t<decltype(std::declval<A&>().passing_run(uint32_t{0}, std::declval<uint64_t*>()))>>
    : std::true_type {};

/// Whether Access has next_candidate(id): the first id >= id that may pass
/// the filter (whole pages skipped by a summary of their values).
template <class A, class = void>
struct HasNextCandidate : std::false_type {};
template <class A>
struct HasNextCandidate<A, std::void_t<decltype(std::declval<A&>().next_candidate(uint32_t{0}))>>
    : std::true_type {};

/// How many bounds the bounded sweep asks for together (below).
constexpr uint32_t kBoundBatch = 64;

/// Whether Access has sweep_bounds(), stage_sweep_code(id) and
/// staged_sweep_lowers(float* out): when sweep_bounds() is true, the sweep
/// stages each passing element (at most kBoundBatch at a time) and then
/// asks for the staged elements' lower bounds of distance(id) (from a
/// short code), in staging order, instead of their distances; it computes
/// the distance only of those whose bound comes up while the rounds emit
/// (see "Bounded sweep" above). Staging lets Access compute the bounds of
/// many codes in one go (one call of a batch kernel over codes copied
/// together, not a call per code while its cache lines arrive).
template <class A, class = void>
struct HasSweepLower : std::false_type {};
template <class A>
struct HasSweepLower<A, std::void_t<decltype(std::declval<A&>().stage_sweep_code(uint32_t{0})),
                                    decltype(std::declval<A&>().staged_sweep_lowers(std::declval<float*>())),
                                    decltype(std::declval<A&>().sweep_bounds())>> : std::true_type {};

/// The filter mode for a filter that `selectivity` (0..1) of the `n`
/// elements pass, for a walk at `ef`: an exact pass when few pass (at most
/// kExactRows, or 20 ef); kTraverse when nearly all do (kTraverseSelectivity),
/// where it and kTwoHop walk alike; else kTwoHop, except that under
/// kTwoHopSelectivity the exact pass is taken when it costs less.
///
/// Why kTwoHop so far up: traversing lost anti-correlated filters on
/// clustered data, its way to the passing elements nearest the query
/// leading through failing ones beyond its bound. 100,000 nm-monitor
/// events: a 4 % category 0.665 (two hops 1.0), the 26 % one 0.645 (0.966),
/// the 60 % one 0.786 (0.916). It costs at 50 %: fashion-mnist's time
/// windows 0.9-1.0 ms p95 against traverse's 0.6-0.9 (docs/filters.md).
///
/// The walk's cost is counted as traversing's, an upper bound: about
/// 1.6 ef / selectivity distances (measured at 1 % and 2 %), each kWalkCost
/// times what a distance of the exact pass costs (a walk's vectors lie
/// anywhere and come with neighbour lists, a visited set and heaps; the
/// exact pass reads vectors in id order: 200,000 x 384-d, the latest 1 %:
/// traverse 9.3 ms, the exact pass 0.65 ms, p50), the exact pass one per
/// passing element plus a filter check (kCheckCost of a distance) of every
/// element it looks at: all of them, or with page summaries (`zones`) the
/// `check_share` of them on pages whose summary may pass, plus kZoneCost an
/// element for reading every page's summary.
constexpr double kTraverseSelectivity = 0.9;
constexpr double kTwoHopSelectivity = 0.05;
constexpr double kExactRows = 2000;
constexpr double kCheckCost = 1.0 / 16;
constexpr double kZoneCost = 1.0 / 64;
constexpr double kWalkCost = 4;
/// With sweep bounds (`bounded`: HasSweepLower below), a passing element
/// costs the exact pass a 1-bit code's bound, not a distance (6,000 784-d
/// elements: ~0.1 ms of bounds against ~4 ms of distances), and distances
/// only for the few whose bound comes up.
constexpr double kBoundCost = 1.0 / 16;
inline double exact_pass_cost(double selectivity, double n, double check_share = 1.0, bool zones = false,
                              bool bounded = false) {
    return selectivity * n * (bounded ? kBoundCost : 1.0) +
           n * (kCheckCost * (zones ? check_share : 1.0) + (zones ? kZoneCost : 0.0));
}
/// What judging a page's zone costs an exact pass, an element, when the
/// backend keeps a copy of the zone (src/core/page_copies.h): a test of the
/// copy instead of a pin, a lock and a cache miss. 200,000 events, 4,082
/// node pages: a tenant of 250 rows (250 pages to read) took the exact pass
/// 0.87 ms p50 with zones read on their pages, 0.28 ms with copies.
constexpr double kKeptZoneCost = 1.0 / 256;
/// Of the passing elements a bounded exact pass meets, the share whose
/// bound comes up so that they get their distance too: 2-6 % for a time
/// window over 200,000 events, 75 % for the rarest category (its rows all
/// about equally far from the query); the planner counts a quarter.
constexpr double kSettledShare = 0.25;
/// The share of node pages of `per_page` elements holding at least one of
/// a `selectivity` share of passing elements spread at random: the pages
/// an exact pass with zones reads. A filter that follows the ids (a time
/// window over appended rows) leaves fewer; this is the upper bound.
inline double page_share(double selectivity, double per_page) {
    return 1.0 - std::pow(1.0 - std::clamp(selectivity, 0.0, 1.0), std::max(per_page, 1.0));
}
/// The exact pass's cost as the planner sees it (in the units above): a
/// bound (and for kSettledShare a distance) or a distance per passing
/// element, a filter check of every element on the pages it reads, and a
/// zone judged for every page, from a kept copy when the backend can keep
/// them all (`kept`). The pages it reads: page_share's, or where a range
/// condition passing `ordered` of the elements is on a column whose
/// values follow the ids (a time window over appended rows: the planner
/// takes the table's correlation, `csquared` its square), that range's
/// pages, weighted as PostgreSQL weighs an index scan's heap pages.
inline double planned_exact_cost(double selectivity, double n, double per_page, bool zones, bool bounded,
                                 bool kept, double ordered = 1.0, double csquared = 0.0) {
    const double rows = selectivity * n * (bounded ? kBoundCost + kSettledShare : 1.0);
    if (!zones) return rows + n * kCheckCost;
    const double random = page_share(selectivity, per_page);
    const double in_order = std::min(random, ordered + per_page / std::max(n, 1.0));
    const double c2 = std::clamp(csquared, 0.0, 1.0);
    const double share = c2 * in_order + (1.0 - c2) * random;
    return rows + n * (kCheckCost * share + (kept ? kKeptZoneCost : kZoneCost));
}
/// A walk's cost at `ef` through a filter `selectivity` pass, in the same
/// units (see above: an upper bound).
inline double walk_cost(double selectivity, size_t ef) {
    return kWalkCost * 1.6 * static_cast<double>(std::max<size_t>(ef, 1)) / selectivity;
}
inline FilterMode choose_filter_mode(double selectivity, double n, size_t ef, double check_share = 1.0,
                                     bool zones = false, bool bounded = false) {
    const double rows = selectivity * n, e = static_cast<double>(std::max<size_t>(ef, 1));
    if (rows <= kExactRows || rows <= 20.0 * e) return FilterMode::kExact;
    if (selectivity >= kTraverseSelectivity) return FilterMode::kTraverse;
    const bool walk_cheaper =
        walk_cost(selectivity, ef) <= exact_pass_cost(selectivity, n, check_share, zones, bounded);
    return selectivity >= kTwoHopSelectivity || walk_cheaper ? FilterMode::kTwoHop : FilterMode::kExact;
}
/// Whether a dry two-hop walk should take passing seeds (see "Passing
/// seeds") rather than sweep at once. The seeds cost about a walk, and
/// when the query then turns out crowded the sweep follows anyway. A walk
/// runs dry when the query's neighbourhood holds few passing elements, and
/// such a query is mostly crowded too: counting three in four, the seeds
/// are worth it only when the sweep costs more than four walks. Without
/// sweep bounds the sweep costs a distance per passing element and seeds
/// are always taken (what they were made for); with them, on fashion-mnist's
/// anti-correlated 10 % label (60,000 elements), sweeping at once took
/// 1.2-1.3 ms p50 and the seeds' way 1.7-2.1.
inline bool seeds_pay(double selectivity, double n, size_t ef, double check_share, bool zones, bool bounded) {
    return !bounded ||
           4.0 * walk_cost(selectivity, ef) < exact_pass_cost(selectivity, n, check_share, zones, true);
}

/// Passing seeds a dry two-hop walk takes (see above), and how many
/// candidate ids of its slice each seed's search checks.
constexpr uint32_t kDrySeeds = 64;
constexpr uint32_t kSeedChecks = 64;
/// Elements a two-hop walk samples for an entry point (see "Entry samples").
constexpr uint32_t kEntrySamples = 128;
/// After a dry two-hop walk has walked from its seeds: the elements whose
/// distance it samples, and how many of them closer to the query than the
/// walk's bound make it sweep after all.
constexpr uint32_t kCrowdSamples = 64;
constexpr uint32_t kCrowdLimit = 2;
/// How many places ahead an expansion hints the filter values, and the
/// neighbour lists, it reads next (see "Checks ahead" in expand()).
constexpr size_t kCheckAhead = 8;
constexpr size_t kLinksAhead = 4;
/// Elements the sweep prefetches together.
constexpr size_t kSweepBatch = 8;

/// The i-th of k ids spread evenly over [0, n): the middle of the i-th of
/// k equal slices (samples that stand for the whole index: the entry
/// samples, the crowd sample, a scan's selectivity sample).
inline uint32_t spread_id(uint32_t i, uint32_t k, uint32_t n) {
    return static_cast<uint32_t>((uint64_t{2} * i + 1) * n / (uint64_t{2} * k));
}

class IterativeSearch {
 public:
    struct Options {
        size_t ef = 40;
        bool strict_order = true;
        uint64_t max_visits = UINT64_MAX;
        FilterMode filter = FilterMode::kNone;
        /// Passing seeds a kTwoHop walk takes when it runs dry (0: none, the sweep at once).
        uint32_t seeds = kDrySeeds;
        /// Elements a kTwoHop walk samples for an entry point (0: none).
        uint32_t entry_samples = kEntrySamples;
        /// Whether a kTwoHop walk goes on from the samples closer than its
        /// first round's bound (see "Entry samples").
        bool revisit_samples = true;
    };

    /// Start over from `entry` (distances set) on level 0.
    void reset(const std::vector<Neighbor>& entry, const Options& opt) {
        opt_ = opt;
        candidates_.clear();
        deferred_.clear();
        pool_.clear();
        round_.clear();
        late_.clear();
        lazy_.clear();
        visited_.clear();
        failing_.clear();
        settled_ = 0;
        draining_ = false;
        drain_left_ = 0;
        visits_ = 0;
        seeded_ = 0;
        sweep_visits_ = 0;
        seeds_taken_ = false;
        check_crowd_ = false;
        crowd_visits_ = 0;
        entry_visits_ = 0;
        samples_.clear();
        revisited_ = false;
        revisits_ = 0;
        emitted_ = 0;
        out_of_order_ = 0;
        last_ = -std::numeric_limits<float>::infinity();
        ef_ = std::max<size_t>(1, opt.ef);
        capped_ = false;
        swept_ = false;
        tail_ = false;
        first_round_ = true;
        entry_.clear();
        if (opt.filter != FilterMode::kExact) entry_ = entry;
        need_round_ = true;
        started_ = false;
    }

    /// Next element in (non-decreasing, unless relaxed) distance order, the
    /// late finds of strict mode last; false when every element was emitted
    /// or the work cap was hit.
    template <class Access>
    bool next(Access& a, Neighbor* out) {
        if (!started_) start(a);
        for (;;) {
            if (need_round_) {
                if (!run_round(a) && !end_of_walk(a)) return false;
                need_round_ = false;
            }
            Neighbor n;
            while (take_next(a, &n)) {
                if (opt_.strict_order && !tail_ && n.dist < last_) {
                    late_.push_back(n);  // emitted at the end, not lost
                    continue;
                }
                if (!a.live(n.id)) continue;
                if (tail_)
                    ++out_of_order_;
                else
                    last_ = std::max(last_, n.dist);
                ++emitted_;
                *out = n;
                return true;
            }
            need_round_ = true;
            ef_ *= 2;
        }
    }

    uint64_t visits() const { return visits_; }
    /// Passing seeds the walk took when it ran dry (distances, in visits()).
    uint64_t seeded() const { return seeded_; }
    /// Distances the sweep computed (in visits()).
    uint64_t sweep_visits() const { return sweep_visits_; }
    /// Of the sweep's elements, those that a bound stood for (in
    /// sweep_visits()) and that got their distance later (not counted
    /// again in visits()).
    uint64_t settled() const { return settled_; }
    /// Distances crowded() computed (in visits()).
    uint64_t crowd_visits() const { return crowd_visits_; }
    /// Distances sample_entry() computed (in visits()).
    uint64_t entry_visits() const { return entry_visits_; }
    /// Entry samples a two-hop walk went on from after its first round
    /// (see "Entry samples"; their distances are in entry_visits()).
    uint64_t revisits() const { return revisits_; }
    uint64_t emitted() const { return emitted_; }
    /// Elements still queued in the round the last next() took its element
    /// from (0: the next call starts a new round, or ends). While draining
    /// (see "Draining" at the top): those the round may still take.
    size_t round_left() const { return round_.size() + drain_left_; }
    /// Late finds emitted after farther elements (strict mode's tail).
    uint64_t out_of_order() const { return out_of_order_; }
    /// Late finds held back so far: they come out once the walk has ended.
    size_t held_late() const { return late_.size(); }
    /// True when the last next() returned false because of max_visits.
    bool capped() const { return capped_; }
    VisitedSet& visited() { return visited_; }

 private:
    using MinHeap = std::greater<Neighbor>;

    void push_candidate(const Neighbor& n) {
        candidates_.push_back(n);
        std::push_heap(candidates_.begin(), candidates_.end(), MinHeap());
    }
    void push_pool(const Neighbor& n) {
        pool_.push_back(n);
        std::push_heap(pool_.begin(), pool_.end(), MinHeap());
    }

    bool filtering() const { return opt_.filter != FilterMode::kNone; }
    template <class Access>
    bool passes(Access& a, uint32_t id) {
        if constexpr (HasPasses<Access>::value) {
            return !filtering() || a.passes(id);
        } else {
            (void)a;
            (void)id;
            return true;
        }
    }

    /// Calls f(id) for each of ids in order, first hinting to Access the
    /// check (or the neighbour list, `links`) of the id `ahead` places on;
    /// without hints in Access, just the calls.
    template <class Access, class F>
    static void each_ahead(Access& a, const std::vector<uint32_t>& ids, size_t ahead, bool links, F&& f) {
        if constexpr (HasPrefetchFilter<Access>::value) {
            const auto hint = [&](uint32_t id) { links ? a.prefetch_links(id) : a.prefetch_filter(id); };
            for (size_t i = 0; i < std::min(ahead, ids.size()); ++i) hint(ids[i]);
            for (size_t i = 0; i < ids.size(); ++i) {
                if (i + ahead < ids.size()) hint(ids[i + ahead]);
                f(ids[i]);
            }
        } else {
            (void)a, (void)ahead, (void)links;
            for (uint32_t id : ids) f(id);
        }
    }

    /// Which of the ids from id on pass (bit i: id + i), and how many ids
    /// that says (at least 1): Access::passing_run's runs where it has
    /// them and filters, else one id by passes().
    template <class Access>
    uint32_t passing_run(Access& a, uint32_t id, uint64_t* mask) {
        if constexpr (HasPassingRun<Access>::value) {
            if (filtering()) return a.passing_run(id, mask);
        }
        *mask = passes(a, id) ? 1 : 0;
        return 1;
    }

    template <class Access>
    uint32_t next_candidate(Access& a, uint32_t id) {
        if constexpr (HasNextCandidate<Access>::value) {
            return filtering() ? a.next_candidate(id) : id;
        } else {
            (void)a;
            return id;
        }
    }

    /// The entry points (reset's, distances set) become candidates; those
    /// that pass the filter also go to the pool. A failing entry point is
    /// still where the walk starts from.
    template <class Access>
    void start(Access& a) {
        started_ = true;
        if (opt_.filter == FilterMode::kTwoHop) sample_entry(a);
        hop_.clear();
        for (const Neighbor& e : entry_) hop_.push_back(e.id);
        size_t at = 0;
        each_ahead(a, hop_, kCheckAhead, false, [&](uint32_t id) {
            const Neighbor& e = entry_[at++];
            if (!visited_.insert(id)) return;
            ++visits_;
            push_candidate(e);
            if (passes(a, id)) push_pool(e);
        });
    }

    /// batch_ = k ids spread evenly over [0, n) (spread_id: the entry
    /// samples and the crowd sample).
    void spread_ids(uint32_t n, uint32_t k) {
        batch_.clear();
        for (uint32_t i = 0; i < k; ++i) batch_.push_back(spread_id(i, k, n));
    }

    /// Entry samples (see the top of the file): the closest of
    /// opt_.entry_samples elements spread evenly over the ids joins entry_.
    template <class Access>
    void sample_entry(Access& a) {
        const uint32_t n = a.size(), k = std::min(n, opt_.entry_samples);
        if (k == 0) return;
        spread_ids(n, k);
        a.prefetch(batch_.data(), batch_.size());
        Neighbor best{std::numeric_limits<float>::infinity(), 0};
        for (uint32_t id : batch_) {
            ++visits_;
            ++entry_visits_;
            const Neighbor x{a.distance(id), id};
            best = std::min(best, x);
            if (opt_.revisit_samples) samples_.push_back(x);
        }
        if (best.dist < std::numeric_limits<float>::infinity()) entry_.push_back(best);
    }

    /// The entry samples closer than the settled round's bound (the
    /// `want`-th closest passing element) that the walk has not reached
    /// become candidates, the passing ones pool elements too, and the walk
    /// goes on from them (see "Entry samples"). Once per walk.
    template <class Access>
    void revisit_samples(Access& a, size_t want) {
        revisited_ = true;
        const float bound = best_.front().dist;
        size_t taken = 0;
        for (const Neighbor& s : samples_) {
            if (!(s.dist < bound) || !visited_.insert(s.id)) continue;
            ++taken;
            push_candidate(s);
            if (!failing_.contains(s.id) && passes(a, s.id)) {
                push_pool(s);
                join_best(s, want);
            }
        }
        samples_.clear();
        revisits_ += taken;
        if (taken > 0) expand(a, want);
    }

    /// No round has anything left: first sweep the ids the walk never reached
    /// into the pool (a further round emits them), then hand out strict
    /// mode's late finds. False when nothing at all is left.
    template <class Access>
    bool end_of_walk(Access& a) {
        if (!swept_ && !capped_) {
            sweep(a);
            if (run_round(a)) return true;
        }
        if (tail_ || late_.empty()) return false;
        tail_ = true;
        std::sort(late_.begin(), late_.end(), std::greater<Neighbor>());  // closest last
        round_.swap(late_);
        late_.clear();
        return true;
    }

    /// Counts a distance about to be computed (in visits(), and in *kind
    /// when given) against the work cap; false, with capped_ set, once the
    /// cap is reached after the first round (the first round completes:
    /// its walk, seeds, crowd sample and sweep alike).
    bool spend(uint64_t* kind) {
        if (visits_ >= opt_.max_visits && !first_round_) {
            capped_ = true;
            return false;
        }
        ++visits_;
        if (kind != nullptr) ++*kind;
        return true;
    }

    /// n joins best_, which then keeps its `want` closest.
    void join_best(const Neighbor& n, size_t want) {
        best_.push_back(n);
        std::push_heap(best_.begin(), best_.end());
        if (best_.size() > want) {
            std::pop_heap(best_.begin(), best_.end());
            best_.pop_back();
        }
    }

    /// best_: a max-heap of the `want` closest pool elements.
    void fill_best(size_t want) {
        best_.assign(pool_.begin(), pool_.end());
        if (best_.size() > want) {
            std::nth_element(best_.begin(), best_.begin() + (want - 1), best_.end());
            best_.resize(want);
        }
        std::make_heap(best_.begin(), best_.end());
    }

    /// A dry two-hop walk's passing seeds (see the top of the file): into
    /// the candidates and the pool. False when none was taken (not
    /// two-hop, taken before, or none found).
    template <class Access>
    bool take_seeds(Access& a) {
        if (opt_.filter != FilterMode::kTwoHop || seeds_taken_ || opt_.seeds == 0) return false;
        seeds_taken_ = true;
        const uint32_t n = a.size(), slices = std::min<uint32_t>(opt_.seeds, n);
        batch_.clear();
        // One pass up the ids: next_candidate skips pages the filter rules
        // out once, however many slices they cover.
        uint32_t id = 0;
        for (uint32_t i = 0; i < slices; ++i) {
            const uint32_t lo = static_cast<uint32_t>(uint64_t{i} * n / slices);
            const uint32_t hi = static_cast<uint32_t>(uint64_t{i + 1} * n / slices);
            if (id < lo) id = next_candidate(a, lo);
            for (uint32_t checks = 0; id < hi && checks < kSeedChecks;
                 ++checks, id = next_candidate(a, id + 1)) {
                if (visited_.contains(id) || !passes(a, id)) continue;
                visited_.insert(id);
                batch_.push_back(id);
                break;
            }
        }
        a.prefetch(batch_.data(), batch_.size());
        for (uint32_t sid : batch_) {
            if (!spend(&seeded_)) break;
            const Neighbor s{a.distance(sid), sid};
            push_candidate(s);
            push_pool(s);
        }
        check_crowd_ = seeded_ > 0;
        return seeded_ > 0;
    }

    /// Whether at least kCrowdLimit of kCrowdSamples elements spread over
    /// the ids, passing or not, are closer to the query than `bound`. A
    /// passing one the walk had not reached goes to the pool.
    template <class Access>
    bool crowded(Access& a, float bound) {
        const uint32_t n = a.size();
        if (n == 0) return false;
        spread_ids(n, kCrowdSamples);
        a.prefetch(batch_.data(), batch_.size());
        uint32_t closer = 0;
        for (uint32_t id : batch_) {
            if (!spend(&crowd_visits_)) break;
            const Neighbor x{a.distance(id), id};
            closer += x.dist < bound ? 1 : 0;
            if (!visited_.contains(id) && passes(a, id)) {
                visited_.insert(id);
                push_pool(x);
            }
        }
        return closer >= kCrowdLimit;
    }

    template <class Access>
    bool sweep_bounds(Access& a) {
        if constexpr (HasSweepLower<Access>::value) {
            return filtering() && a.sweep_bounds();
        } else {
            (void)a;
            return false;
        }
    }

    /// The ids the walk never reached, those that pass, into the pool (once).
    /// The ids go in batches of kSweepBatch, each prefetched before its
    /// distances (they lie anywhere: the hint hides the memory latency).
    /// With sweep bounds, each goes to lazy_ by its bound instead (see
    /// "Bounded sweep" at the top).
    template <class Access>
    void sweep(Access& a) {
        swept_ = true;
        batch_.clear();
        if constexpr (HasSweepLower<Access>::value) {
            if (sweep_bounds(a)) {
                // The bounds of lazy_[from, size()) are staged; heaped once
                // at the end (lazy_ is empty before the one sweep).
                size_t from = 0;
                float bounds[kBoundBatch];
                auto bound_staged = [&]() {
                    a.staged_sweep_lowers(bounds);
                    for (size_t i = from; i < lazy_.size(); ++i) lazy_[i].dist = bounds[i - from];
                    from = lazy_.size();
                };
                each_unreached_passing(a, [&](uint32_t id) {
                    if (!spend(&sweep_visits_)) return false;
                    a.stage_sweep_code(id);
                    lazy_.push_back({0.0f, id});
                    if (lazy_.size() - from == kBoundBatch) bound_staged();
                    return true;
                });
                if (lazy_.size() > from) bound_staged();
                std::make_heap(lazy_.begin(), lazy_.end(), MinHeap());
                return;
            }
        }
        // The distances of batch_'s ids into the pool; false once capped.
        auto flush = [&]() {
            a.prefetch(batch_.data(), batch_.size());
            for (uint32_t b : batch_) {
                if (!spend(&sweep_visits_)) return false;
                push_pool({a.distance(b), b});
            }
            batch_.clear();
            return true;
        };
        if (each_unreached_passing(a, [&](uint32_t id) {
                batch_.push_back(id);
                return batch_.size() < kSweepBatch || flush();
            }))
            flush();
    }

    /// Calls take(id) for each id, in order, that passes the filter and the
    /// walk never reached (marking it reached), until take returns false;
    /// false then.
    template <class Access, class F>
    bool each_unreached_passing(Access& a, F take) {
        const uint32_t n = a.size();
        for (uint32_t id = next_candidate(a, 0); id < n;) {
            uint64_t mask;
            const uint32_t run = passing_run(a, id, &mask);
            for (; mask != 0; mask &= mask - 1) {
                const uint32_t at = id + static_cast<uint32_t>(__builtin_ctzll(mask));
                if (visited_.insert(at) && !take(at)) return false;
            }
            id = next_candidate(a, id + run);
        }
        return true;
    }

    /// Lazy elements whose bound is below the pool's closest get their
    /// distance and join the pool, kSweepBatch at a time (prefetched), until
    /// the pool's closest is no farther than any lazy element's bound.
    template <class Access>
    void settle(Access& a) {
        while (!lazy_.empty() && (pool_.empty() || lazy_.front().dist < pool_.front().dist)) {
            const float limit = pool_.empty() ? std::numeric_limits<float>::infinity() : pool_.front().dist;
            batch_.clear();
            while (!lazy_.empty() && batch_.size() < kSweepBatch &&
                   (batch_.empty() || lazy_.front().dist < limit)) {
                batch_.push_back(lazy_.front().id);
                std::pop_heap(lazy_.begin(), lazy_.end(), MinHeap());
                lazy_.pop_back();
            }
            a.prefetch(batch_.data(), batch_.size());
            for (uint32_t id : batch_) push_pool({a.distance(id), id});
            settled_ += batch_.size();
        }
    }

    /// A round's bound: how many more elements it settles (at least 1).
    size_t want_now() const { return ef_ > emitted_ ? ef_ - emitted_ : 1; }

    /// A draining round: it may take up to `want` of what is left; false
    /// when nothing is.
    bool drain(size_t want) {
        drain_left_ = std::min(want, pool_.size() + lazy_.size());
        return drain_left_ > 0;
    }

    /// The round's next element, closest first: from round_, or while
    /// draining the pool's closest once settle() has given every lazy
    /// element that could come before it its distance. False when the
    /// round has none left.
    template <class Access>
    bool take_next(Access& a, Neighbor* out) {
        if (!round_.empty()) {
            *out = round_.back();
            round_.pop_back();
            return true;
        }
        if (drain_left_ == 0) return false;
        settle(a);
        if (pool_.empty()) {
            drain_left_ = 0;
            return false;
        }
        --drain_left_;
        *out = pool_.front();
        std::pop_heap(pool_.begin(), pool_.end(), MinHeap());
        pool_.pop_back();
        return true;
    }

    /// One round: expand until the ef_ closest of the pool are settled, then
    /// move them, closest last, into round_. False when nothing is left.
    template <class Access>
    bool run_round(Access& a) {
        if (draining_) return drain(want_now());
        // Nothing left to walk: a dry two-hop walk's seeds, or the end.
        if (pool_.empty() && lazy_.empty() && candidates_.empty() && deferred_.empty() && !take_seeds(a))
            return false;
        // The bound: the `want`-th closest not yet emitted.
        size_t want = want_now();
        // Deferred elements compete again under the wider bound.
        for (const Neighbor& d : deferred_) push_candidate(d);
        deferred_.clear();
        fill_best(want);
        for (;;) {
            expand(a, want);
            if (capped_ || !candidates_.empty() || best_.size() >= want) break;
            // Dry: no candidate left and the bound not filled (so nothing
            // was deferred either). A two-hop walk takes its seeds and goes
            // on; else, with a filter, the sweep comes now, before the round
            // emits: what it finds competes in this round instead of coming
            // out last as late finds (a filter few elements pass, all but a
            // few of them out of the walk's reach).
            if (take_seeds(a)) {
                fill_best(want);
                continue;
            }
            if (filtering() && !swept_) sweep(a);
            break;
        }
        // The walk from the seeds has settled: trust it only when few
        // elements lie closer to the query than its bound (see the top of
        // the file); else the sweep, now.
        if (check_crowd_ && !capped_ && !swept_ && best_.size() >= want) {
            check_crowd_ = false;
            if (crowded(a, best_.front().dist)) sweep(a);
        }
        // The round's walk has settled: the entry samples closer than its
        // bound, once (see "Entry samples" at the top).
        if (!revisited_ && !samples_.empty() && !capped_ && !swept_ && best_.size() >= want)
            revisit_samples(a, want);
        // Swept: the pool and lazy_ hold all that is left to emit; from now
        // on the rounds drain them (see the top of the file).
        if (swept_ && !capped_) {
            candidates_.clear();
            deferred_.clear();
            draining_ = true;
            first_round_ = false;
            return drain(want);
        }
        // Emit the `want` closest of the pool (after a capped round: whatever
        // is there, so what was found is not lost).
        size_t take = capped_ ? pool_.size() + lazy_.size() : std::min(want, pool_.size() + lazy_.size());
        round_.clear();
        for (size_t i = 0; i < take; ++i) {
            settle(a);
            round_.push_back(pool_.front());
            std::pop_heap(pool_.begin(), pool_.end(), MinHeap());
            pool_.pop_back();
        }
        std::reverse(round_.begin(), round_.end());  // closest last: pop_back order
        first_round_ = false;
        if (capped_) {
            candidates_.clear();
            deferred_.clear();
        }
        return !round_.empty();
    }

    /// Expands candidates, closest first, until the closest is farther than
    /// the `want`-th closest passing element found (best_), none is left, or
    /// the work cap is hit (capped_).
    template <class Access>
    void expand(Access& a, size_t want) {
        while (!candidates_.empty()) {
            Neighbor c = candidates_.front();
            if (best_.size() >= want && c.dist > best_.front().dist) break;
            std::pop_heap(candidates_.begin(), candidates_.end(), MinHeap());
            candidates_.pop_back();
            // Collect the unvisited neighbours first, so the accessor can
            // start fetching all their vectors before the first distance.
            batch_.clear();
            failed_.clear();
            if (!filtering()) {
                a.neighbors(c.id, 0, [&](uint32_t nid) {
                    if (visited_.insert(nid)) batch_.push_back(nid);
                });
            } else {
                // Checks ahead: each filter check reads another node page,
                // so the unvisited neighbours are listed first, and the
                // check kCheckAhead places on is hinted before each: the
                // checks wait for their cache lines together, not one
                // after another (each_ahead). Two hops do the same for the
                // failing neighbours' lists and for the checks they bring.
                hop_.clear();
                a.neighbors(c.id, 0, [&](uint32_t nid) {
                    if (visited_.insert(nid)) hop_.push_back(nid);
                });
                each_ahead(a, hop_, kCheckAhead, false, [&](uint32_t nid) {
                    if (!failing_.contains(nid) && passes(a, nid))
                        batch_.push_back(nid);
                    else
                        failed_.push_back(nid);
                });
            }
            // Failing neighbours: kTraverse walks through them (after the
            // passing ones in batch_); kTwoHop takes their passing
            // neighbours instead (a failing one of those is left unvisited:
            // a later path may reach it as a neighbour and expand it).
            if (opt_.filter == FilterMode::kTwoHop) {
                hop_.clear();
                each_ahead(a, failed_, kLinksAhead, true, [&](uint32_t f) {
                    a.neighbors(f, 0, [&](uint32_t nid) {
                        if (!visited_.contains(nid) && !failing_.contains(nid)) hop_.push_back(nid);
                    });
                });
                each_ahead(a, hop_, kCheckAhead, false, [&](uint32_t nid) {
                    // Listed twice when two failing neighbours share it:
                    // checked once (neighbourhoods overlap, and each check
                    // reads the filter values of another page).
                    if (visited_.contains(nid) || failing_.contains(nid)) return;
                    if (!passes(a, nid)) {
                        failing_.insert(nid);
                        return;
                    }
                    visited_.insert(nid);
                    batch_.push_back(nid);
                });
            }
            const size_t pooled = batch_.size();
            if (opt_.filter == FilterMode::kTraverse)
                batch_.insert(batch_.end(), failed_.begin(), failed_.end());
            a.prefetch(batch_.data(), batch_.size());
            for (size_t i = 0; i < batch_.size(); ++i) {
                const uint32_t nid = batch_[i];
                if (!spend(nullptr)) break;
                Neighbor n{a.distance(nid), nid};
                if (i >= pooled) {
                    // Failing, kTraverse: a way through, never emitted.
                    if (best_.size() < want || n.dist < best_.front().dist)
                        push_candidate(n);
                    else
                        deferred_.push_back(n);
                    continue;
                }
                push_pool(n);
                if (best_.size() < want || n.dist < best_.front().dist) {
                    push_candidate(n);
                    join_best(n, want);
                } else {
                    deferred_.push_back(n);
                }
            }
            if (capped_) break;
        }
    }

    Options opt_;
    std::vector<Neighbor> candidates_;  // min-heap: found, not yet expanded
    std::vector<Neighbor> deferred_;    // found, turned away by this round's bound
    std::vector<Neighbor> pool_;        // min-heap: found, not yet emitted
    std::vector<Neighbor> best_;        // max-heap: the round's bound
    std::vector<Neighbor> round_;       // to emit, closest last
    std::vector<Neighbor> late_;        // strict mode: found after a farther one was emitted
    std::vector<Neighbor> lazy_;        // min-heap by lower bound: swept, distance not yet computed
    std::vector<uint32_t> batch_;       // unvisited neighbours of the node being expanded
    std::vector<uint32_t> failed_;      // those of them that fail the filter
    std::vector<uint32_t> hop_;         // ids whose filter an expansion checks, in order
    std::vector<Neighbor> entry_;       // reset()'s entry points, until the first next()
    VisitedSet visited_;
    VisitedSet failing_;  // two-hop: second-hop ids whose filter failed (left unvisited)
    uint64_t visits_ = 0, emitted_ = 0, out_of_order_ = 0;
    uint64_t seeded_ = 0, sweep_visits_ = 0, settled_ = 0;
    bool seeds_taken_ = false;  // a dry two-hop walk took its seeds (once per walk)
    bool check_crowd_ = false;  // and the round they settle in is to check crowded()
    uint64_t crowd_visits_ = 0;
    uint64_t entry_visits_ = 0;
    std::vector<Neighbor> samples_;  // two-hop: the entry samples, until revisited
    bool revisited_ = false;         // revisit_samples ran (once per walk)
    uint64_t revisits_ = 0;          // samples it took
    float last_ = 0;
    size_t ef_ = 40;
    bool need_round_ = true;
    bool capped_ = false;
    bool swept_ = false;     // unreached ids added to the pool
    bool draining_ = false;  // swept, the rounds take from the pool one at a time
    size_t drain_left_ = 0;  // how many more the draining round may take
    bool tail_ = false;      // emitting the late finds
    bool first_round_ = true;
    bool started_ = false;
};

/// Exact re-ranking of an IterativeSearch that walks on approximate
/// distances (quantised codes, hnsw option `quantizer`). The walk's rounds
/// come out in approximate order; each round (the first: the ef_search
/// best by the codes) is re-ranked with exact distances and emitted closest
/// first. So a scan that stops within the first round returns the best of
/// ef_search candidates in exact order, and the exact distance of each.
///
/// An element of a later round whose exact distance is below one already
/// emitted (the codes ranked it lower than they should have) is a late find
/// of its own kind: strict mode holds it back and emits it, closest first,
/// once the walk has ended (the walk's own late finds come then too);
/// relaxed mode emits it in its round. So in strict mode the stream is in
/// non-decreasing exact distance up to where only late finds are left, as
/// without codes, and nothing is lost.
///
/// Bounded mode, for codes whose estimates are coarse (rabitq): a re-ranked
/// element is held until the walk's frontier shows nothing unseen can be
/// closer. The walk hands out elements in about non-decreasing estimate, so
/// an element not yet handed out has an estimate of at least the frontier
/// (the largest estimate handed out so far) and, with the estimate's error
/// bound, a distance of at least frontier - margin, where margin is the
/// largest error bound (Access::code_error(id), estimate minus its lower
/// bound) of the elements re-ranked so far: the ones near the frontier. An
/// element is emitted once its exact distance is within that, or when the
/// walk has ended; otherwise the next round runs first. With exact enough
/// codes (margin ~0) this emits what the plain mode does, one round at a
/// time; with coarse ones it re-ranks more rounds instead of emitting a
/// round's elements in an order that later rounds contradict.
///
/// Access: what IterativeSearch needs (its distance() is the approximate
/// one), plus exact_distance(id) and payload(): what the caller keeps of
/// the element the walk emitted last (for index pages: its heap TID,
/// which live() read); for bounded mode also code_error(id).
/// Whether Access has code_error(id) (bounded mode's margin; without it
/// the margin is 0).
template <class A, class = void>
struct HasCodeError : std::false_type {};
template <class A>
struct HasCodeError<A, std::void_t<decltype(std::declval<A&>().code_error(uint32_t{0}))>> : std::true_type {};

template <class Payload>
class Rerank {
 public:
    void reset(bool strict_order, bool bounded = false) {
        bounded_ = bounded;
        frontier_ = -std::numeric_limits<float>::infinity();
        margin_ = 0;
        strict_ = strict_order;
        ready_.clear();
        late_.clear();
        walk_done_ = false;
        tail_ = false;
        last_ = -std::numeric_limits<float>::infinity();
        reranked_ = 0;
    }

    /// The next element by exact distance (dist set to the exact distance)
    /// and its payload; false when the walk has nothing left.
    template <class Access>
    bool next(IterativeSearch& s, Access& a, Neighbor* out, Payload* payload) {
        for (;;) {
            while (can_take()) {
                const Item it = pop_closest();
                if (strict_ && !tail_ && it.n.dist < last_) {
                    late_.push_back(it);
                    continue;
                }
                if (!tail_) last_ = std::max(last_, it.n.dist);
                *out = it.n;
                *payload = it.p;
                return true;
            }
            if (walk_done_) {
                if (tail_ || late_.empty()) return false;
                tail_ = true;
                ready_.swap(late_);
                late_.clear();
                order_ready();
                continue;
            }
            run_round(s, a);
        }
    }

    /// Exact distances computed so far.
    uint64_t reranked() const { return reranked_; }

 private:
    struct Item {
        Neighbor n;
        Payload p;
    };
    static bool farther_first(const Item& x, const Item& y) { return y.n < x.n; }

    // Plain mode: ready_ sorted closest last; bounded mode: a heap, closest
    // at the front.
    bool can_take() const {
        if (ready_.empty()) return false;
        return !bounded_ || walk_done_ || ready_.front().n.dist <= frontier_ - margin_;
    }
    Item pop_closest() {
        if (bounded_) std::pop_heap(ready_.begin(), ready_.end(), farther_first);
        const Item it = ready_.back();
        ready_.pop_back();
        return it;
    }
    void order_ready() {
        if (bounded_)
            std::make_heap(ready_.begin(), ready_.end(), farther_first);
        else
            std::sort(ready_.begin(), ready_.end(), farther_first);
    }

    /// One round of the walk, re-ranked into ready_.
    template <class Access>
    void run_round(IterativeSearch& s, Access& a) {
        Neighbor n;
        do {
            if (!s.next(a, &n)) {
                walk_done_ = true;
                break;
            }
            if (bounded_) {
                frontier_ = std::max(frontier_, n.dist);
                // Without code_error the estimates count as exact (margin 0).
                if constexpr (HasCodeError<Access>::value) margin_ = std::max(margin_, a.code_error(n.id));
            }
            ready_.push_back({{a.exact_distance(n.id), n.id}, a.payload()});
            if (bounded_) std::push_heap(ready_.begin(), ready_.end(), farther_first);
            ++reranked_;
        } while (s.round_left() > 0);
        if (!bounded_) std::sort(ready_.begin(), ready_.end(), farther_first);
    }

    std::vector<Item> ready_;  // re-ranked, closest last (bounded mode: a heap, closest first)
    std::vector<Item> late_;   // strict mode: closer than one already emitted
    bool strict_ = true, walk_done_ = false, tail_ = false, bounded_ = false;
    float frontier_ = 0, margin_ = 0;  // bounded mode
    float last_ = 0;
    uint64_t reranked_ = 0;
};

}  // namespace nmvec::hnsw
