// hnsw_scan.cpp — ordered index scans: ORDER BY col <op> query.
//
// The first amgettuple descends the upper levels greedily and starts an
// IterativeSearch (src/core/hnsw_iter.h) with ef = hnsw.ef_search; every
// call returns the next element. When the executor keeps asking (a WHERE
// clause rejects rows, or LIMIT exceeds ef_search), the search goes on with
// doubled ef instead of ending, and once the graph walk is done it sweeps
// the elements no link led to: `WHERE ... ORDER BY ... LIMIT k` returns k
// rows whenever k rows match. Order follows hnsw.iterative_scan (strict:
// non-decreasing distance, with the rare row found only after farther ones
// were returned coming at the very end; relaxed: as found). The work one
// scan may do after its first round is capped by hnsw.max_scan_tuples
// (elements whose distance was computed) and by hnsw.scan_mem_multiplier x
// work_mem; hitting either ends the scan with a NOTICE.
//
// With a quantizer (index option `quantizer`) the walk, upper levels
// included, computes distances on the elements' codes; each round of it
// (the first: the ef_search best by the codes) is re-ranked with the exact
// vectors (nmvec::hnsw::Rerank), so rows come out in exact distance order
// with their exact distances, and the exact pass over the pending list is
// exact as always.
//
// A NULL query (or a zero query under cosine, whose distances are all
// undefined) returns every indexed row, in no particular order.
//
// Filter columns (the index's columns besides the vector): the scan keys of
// a WHERE clause on them are compiled into one nmvec::filter::Filter and
// checked on each element's stored filter values, in the walk (an element that
// fails is never returned, and costs no heap visit), in the exact pass over
// the pending list and in the unordered walk. How the walk gets past
// failing elements (nmvec::hnsw::FilterMode) follows the filter's
// selectivity, estimated from the filter values of kSelectivitySample
// elements spread evenly over the ids.
#include "filter_columns.h"
#include "hnsw_am.h"

#include <chrono>

extern "C" {
#include "access/relscan.h"
}

namespace nmvec::pg::hnsw {
namespace {

// Search states (visited set sized to the index, heaps) are kept between
// scans of this backend: allocating and faulting in a fresh visited set for
// every query cost more than the search. A scan takes one from the pool and
// gives it back when its memory context goes away (end of scan or error).
std::vector<std::unique_ptr<nmvec::hnsw::IterativeSearch>> g_search_pool;

std::unique_ptr<nmvec::hnsw::IterativeSearch> take_search() {
    if (g_search_pool.empty()) return std::make_unique<nmvec::hnsw::IterativeSearch>();
    auto s = std::move(g_search_pool.back());
    g_search_pool.pop_back();
    return s;
}

struct PooledSearch {
    std::unique_ptr<nmvec::hnsw::IterativeSearch> p = take_search();
    ~PooledSearch() {
        try {
            if (g_search_pool.size() < 4) g_search_pool.push_back(std::move(p));
        } catch (...) {  // out of memory: just free it
        }
    }
    nmvec::hnsw::IterativeSearch* operator->() { return p.get(); }
};

/// A pending element the exact pass found.
struct PendingHit {
    float dist;
    uint32 id;
    ItemPointerData tid;
};

struct HnswScanState {
    Layout layout;
    // The exact pass over the pending list: hits closest last, and which ids
    // it serves (so the graph walk skips them even once merged).
    std::vector<PendingHit> pending;
    std::vector<bool> pending_ids;
    std::vector<NodeHeader> headers;  // scratch of the exact pass
    std::vector<uint32> ids;
    // The graph walk's next row, held while pending rows closer to the
    // query go first.
    bool graph_done = false, have_graph_head = false;
    nmvec::hnsw::Neighbor graph_head;
    ItemPointerData graph_tid;
    std::unique_ptr<PageAccess> access;
    PooledSearch search;
    AlignedBytes query;  // on a cache line, like the stored vectors (hnsw_page.h)
    // With a quantizer: the walk is on codes, re-ranked with exact distances.
    bool quantized = false;
    std::vector<float> query_f32;
    nmvec::hnsw::Rerank<ItemPointerData> rerank;
    bool started = false;
    bool unordered = false;  // NULL or zero query: walk all ids
    uint32 next_id = 0;
    bool notified = false;
    bool mem_capped = false;  // the cap came from hnsw.scan_mem_multiplier
    // A WHERE clause on the filter columns (filtered), compiled against layout.attrs.
    bool filtered = false;
    bool recheck = false;  // a condition on a hashed (text, uuid) column: the executor checks
    nmvec::filter::Filter filter;
    double selectivity = 1.0;  // estimated share of elements that pass
    // The graph walk was set up (nmvec.hnsw_scan_stats reports it), and how.
    bool walked = false;
    nmvec::hnsw::FilterMode mode = nmvec::hnsw::FilterMode::kNone;
    std::chrono::steady_clock::time_point t0;  // start()
};

/// Elements whose filter-column values estimate a filter's selectivity
/// (PageAccess::estimate_selectivity: ids spread evenly, so a filter on a
/// column that follows insertion order, such as a time window, is sampled
/// over the whole range).
constexpr uint32 kSelectivitySample = 256;

HnswScanState* state_of(IndexScanDesc scan) { return static_cast<HnswScanState*>(scan->opaque); }

/// The exact pass: every element flagged pending now, with its distance,
/// sorted closest last; the graph walk is told to skip them.
void scan_pending(IndexScanDesc scan, HnswScanState& s) {
    PageAccess& a = *s.access;
    const uint32 first = s.layout.first_pending, end = s.layout.n_elements;
    s.pending.clear();
    s.pending_ids.assign(end - first, false);
    read_node_headers(scan->indexRelation, s.layout, first, end, &s.headers);
    s.ids.clear();
    for (uint32 id = first; id < end; ++id) {
        const NodeHeader& h = s.headers[id - first];
        if (!is_pending(h)) continue;
        s.pending_ids[id - first] = true;  // served here, passing or not
        if (s.filtered && !a.passes(id)) continue;
        s.ids.push_back(id);
    }
    // Distances, the vectors of the next few fetched ahead into the cache.
    constexpr size_t kAhead = 8;
    s.pending.reserve(s.ids.size());
    for (size_t i = 0; i < s.ids.size(); ++i) {
        if (i % kAhead == 0) a.prefetch(s.ids.data() + i, std::min(kAhead, s.ids.size() - i));
        const uint32 id = s.ids[i];
        s.pending.push_back({a.exact_distance(id), id, s.headers[id - first].heap_tid});
        if ((i & 1023) == 1023) CHECK_FOR_INTERRUPTS();
    }
    std::sort(s.pending.begin(), s.pending.end(), [](const PendingHit& x, const PendingHit& y) {
        return x.dist != y.dist ? x.dist > y.dist : x.id > y.id;
    });
    a.exclude_pending(first, &s.pending_ids);
}

void start(IndexScanDesc scan, HnswScanState& s) {
    s.started = true;
    if (g_scan_stats) s.t0 = std::chrono::steady_clock::now();  // only the NOTICE reads it
    read_layout(scan->indexRelation, &s.layout);
    s.access = std::make_unique<PageAccess>(scan->indexRelation, &s.layout);
    s.unordered = true;
    s.next_id = 0;
    s.pending.clear();
    s.have_graph_head = false;
    s.graph_done = false;
    s.filtered = false;
    s.recheck = false;
    s.walked = false;
    s.selectivity = 1.0;
    if (scan->numberOfKeys > 0) {
        s.filter = nmvec::filter::Filter();
        filter_from_keys(scan->indexRelation, scan->keyData, scan->numberOfKeys, &s.filter, &s.recheck);
        s.filter.compile(s.layout.attrs);  // read by read_layout, once per Layout
        // No condition left (`embedding IS NOT NULL`: rows without a vector
        // are not in the index): an unfiltered scan.
        s.filtered = !s.filter.empty();
        if (s.filtered) s.access->set_filter(&s.filter);
        if (s.filter.impossible()) {  // nothing can match: no walk at all
            s.unordered = false;
            s.graph_done = true;
            return;
        }
    }
    if (scan->numberOfOrderBys == 0 || (scan->orderByData[0].sk_flags & SK_ISNULL)) return;
    if (s.layout.n_elements == 0) {
        s.unordered = false;
        s.graph_done = true;
        return;
    }
    // (The query's own code is not needed: use_codes prepares it.)
    if (!prepare_vector(s.layout, scan->orderByData[0].sk_argument, s.query, false))
        return;  // zero under cosine
    s.unordered = false;
    PageAccess& a = *s.access;
    a.set_query(s.query.data() + s.layout.code_bytes);
    s.quantized = s.layout.quantizer != kQuantNone;
    if (s.quantized) {
        query_floats(s.layout, s.query, &s.query_f32);
        a.use_codes(s.query_f32.data());
        // rabitq's 4-bit estimates are coarser than sq8's: emit a re-ranked
        // row only once the walk shows nothing unseen can be closer.
        s.rerank.reset(g_iterative_scan != kIterativeRelaxed, s.layout.quantizer == kQuantRabitq);
    }
    // A filtered scan's passes over every element bound distances from the
    // sweep codes, and read the vectors of the closest only.
    if (s.filtered && s.layout.sweep_bytes > 0) {
        if (!s.quantized) query_floats(s.layout, s.query, &s.query_f32);
        a.use_sweep_codes(s.query_f32.data());
    }
    scan_pending(scan, s);
    if (s.layout.entry == kNoEntry) {  // nothing linked yet
        s.graph_done = true;
        return;
    }
    nmvec::hnsw::IterativeSearch::Options opt;
    opt.ef = static_cast<size_t>(g_ef_search);
    uint32_t seeds = static_cast<uint32_t>(g_dry_seeds);
    if (s.filtered) {
        double pages;
        s.selectivity = a.estimate_selectivity(kSelectivitySample, &pages);
        const bool zones = s.layout.zone_bytes > 0, bounded = a.sweep_bounds();
        opt.filter = g_filter_mode == kFilterAuto
                         ? nmvec::hnsw::choose_filter_mode(s.selectivity, s.layout.n_elements, opt.ef, pages,
                                                           zones, bounded)
                         : static_cast<nmvec::hnsw::FilterMode>(g_filter_mode);
        if (!nmvec::hnsw::seeds_pay(s.selectivity, s.layout.n_elements, opt.ef, pages, zones, bounded))
            seeds = 0;
        // (No held pins: the exact pass keeps the node page it reads pinned
        // in filter_page(); holding every page cost more, and a walk is 2x
        // slower with them.)
        // A two-hop walk sees fewer of the passing elements near the query
        // than an unfiltered walk sees elements (it skips the failing ones'
        // distances, and their links lead on only two hops): half again the
        // bound. On fashion-mnist's latest 10 %, ef 40 gave recall 0.949-0.954,
        // ef 60 0.970 with fewer distances than an unfiltered walk.
        if (opt.filter == nmvec::hnsw::FilterMode::kTwoHop) opt.ef += opt.ef / 2;
    }
    const nmvec::hnsw::Neighbor start =
        opt.filter == nmvec::hnsw::FilterMode::kExact
            ? nmvec::hnsw::Neighbor{0.0f, s.layout.entry}
            : nmvec::hnsw::descend_levels(a, s.layout.entry, s.layout.max_level, 0);
    opt.strict_order = g_iterative_scan != kIterativeRelaxed;
    opt.seeds = seeds;
    // work_mem is in kB; the search state grows by kScanBytesPerVisit per visit.
    double mem_visits = static_cast<double>(work_mem) * 1024.0 * g_scan_mem_multiplier / kScanBytesPerVisit;
    opt.max_visits = static_cast<uint64_t>(g_max_scan_tuples);
    if (mem_visits < static_cast<double>(opt.max_visits)) {
        opt.max_visits = static_cast<uint64_t>(mem_visits);
        s.mem_capped = true;
    }
    s.search->reset({start}, opt);
    s.walked = true;
    s.mode = opt.filter;
}

/// nmvec.hnsw_scan_stats: the NOTICE of what the graph walk of an ordered
/// scan did (no C++ object lives here: ereport may leave).
void report_stats(HnswScanState& s) {
    if (!g_scan_stats || !s.started || !s.walked) return;
    static const char* const kModes[] = {"none", "traverse", "two_hop", "exact"};
    const auto& it = *s.search.p;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s.t0).count();
    ereport(
        NOTICE,
        (errmsg("hnsw scan: filter %s, selectivity %.4f, %llu distances, %llu entry samples (%llu walked "
                "from), %llu seeds, %llu sampled, %llu swept, %llu settled from codes, %llu rows, %.3f ms",
                kModes[static_cast<int>(s.mode)], s.selectivity, static_cast<unsigned long long>(it.visits()),
                static_cast<unsigned long long>(it.entry_visits()),
                static_cast<unsigned long long>(it.revisits()), static_cast<unsigned long long>(it.seeded()),
                static_cast<unsigned long long>(it.crowd_visits()),
                static_cast<unsigned long long>(it.sweep_visits()),
                static_cast<unsigned long long>(it.settled()), static_cast<unsigned long long>(it.emitted()),
                ms)));
}

bool graph_next(HnswScanState& s, PageAccess& a, nmvec::hnsw::Neighbor* out);

bool next_tuple(IndexScanDesc scan, HnswScanState& s) {
    if (!s.started) start(scan, s);
    PageAccess& a = *s.access;
    if (s.unordered) {
        while (s.next_id < s.layout.n_elements) {
            if (s.filtered) s.next_id = a.next_candidate(s.next_id);  // skips pages no element passes
            if (s.next_id >= s.layout.n_elements) break;
            uint32 id = s.next_id++;
            if (a.live(id) && (!s.filtered || a.passes(id))) {
                scan->xs_heaptid = a.last_tid();
                if (scan->numberOfOrderBys > 0) {
                    scan->xs_orderbyvals[0] = (Datum)0;
                    scan->xs_orderbynulls[0] = true;
                }
                return true;
            }
        }
        return false;
    }
    if (!s.graph_done && !s.have_graph_head) {
        if (graph_next(s, a, &s.graph_head))
            s.have_graph_head = true;
        else
            s.graph_done = true;
    }
    // The closer of the graph walk's next row and the exact pass's.
    const bool take_pending =
        !s.pending.empty() && (!s.have_graph_head || s.pending.back().dist <= s.graph_head.dist);
    float dist;
    if (take_pending) {
        dist = s.pending.back().dist;
        scan->xs_heaptid = s.pending.back().tid;
        s.pending.pop_back();
    } else if (s.have_graph_head) {
        dist = s.graph_head.dist;
        scan->xs_heaptid = s.graph_tid;
        s.have_graph_head = false;
    } else {
        return false;
    }
    scan->xs_orderbyvals[0] = Float8GetDatum(sql_distance(s.layout.metric, dist));
    scan->xs_orderbynulls[0] = false;
    return true;
}

/// The graph walk's next row into *nb (and its heap TID into s.graph_tid).
bool graph_next(HnswScanState& s, PageAccess& a, nmvec::hnsw::Neighbor* out) {
    nmvec::hnsw::Neighbor nb;
    ItemPointerData tid;
    if (s.quantized ? !s.rerank.next(*s.search.p, a, &nb, &tid) : !s.search->next(a, &nb)) {
        if (s.search->capped() && !s.notified) {
            s.notified = true;
            if (s.mem_capped)
                ereport(NOTICE,
                        (errmsg("hnsw index scan stopped after %llu elements (work_mem x "
                                "hnsw.scan_mem_multiplier)",
                                static_cast<unsigned long long>(s.search->visits())),
                         errdetail("Rows that match further away were not returned."),
                         errhint("Raise work_mem or hnsw.scan_mem_multiplier, or let the filter use another "
                                 "index.")));
            else
                ereport(NOTICE,
                        (errmsg("hnsw index scan stopped after %llu elements (hnsw.max_scan_tuples)",
                                static_cast<unsigned long long>(s.search->visits())),
                         errdetail("Rows that match further away were not returned."),
                         errhint("Raise hnsw.max_scan_tuples, or let the filter use another index.")));
        }
        return false;
    }
    s.graph_tid = s.quantized ? tid : a.last_tid();  // set by live() inside next()
    *out = nb;
    return true;
}

}  // namespace
}  // namespace nmvec::pg::hnsw

using namespace nmvec::pg::hnsw;

extern "C" IndexScanDesc nmvec_hnsw_beginscan(Relation index, int nkeys, int norderbys) {
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    if (norderbys > 0) {  // the AM provides these (as GiST does)
        scan->xs_orderbyvals = static_cast<Datum*>(palloc0(sizeof(Datum) * norderbys));
        scan->xs_orderbynulls = static_cast<bool*>(palloc(sizeof(bool) * norderbys));
        memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
    }
    nmvec::pg::guarded([&]() -> Datum {
        scan->opaque = nmvec::pg::new_in_context<nmvec::pg::hnsw::HnswScanState>(CurrentMemoryContext,
                                                                                 "nmvec hnsw scan");
        return 0;
    });
    return scan;
}

extern "C" void nmvec_hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
                                  int norderbys) {
    if (keys && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
    if (orderbys && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
    (void)nkeys;
    (void)norderbys;
    HnswScanState* s = state_of(scan);
    report_stats(*s);
    if (s->access) s->access->hold_pins(false);
    s->started = false;
    s->notified = false;
    s->mem_capped = false;
    s->access.reset();
}

extern "C" bool nmvec_hnsw_gettuple(IndexScanDesc scan, ScanDirection dir) {
    if (dir != ForwardScanDirection) elog(ERROR, "hnsw index scans only go forward");
    bool found = false;
    nmvec::pg::guarded([&]() -> Datum {
        found = next_tuple(scan, *state_of(scan));
        return 0;
    });
    scan->xs_recheck = state_of(scan)->recheck;
    scan->xs_recheckorderby = false;
    return found;
}

extern "C" void nmvec_hnsw_endscan(IndexScanDesc scan) {
    if (scan->opaque) report_stats(*state_of(scan));
    if (scan->opaque && state_of(scan)->access) state_of(scan)->access->hold_pins(false);
    if (scan->opaque) MemoryContextDelete(GetMemoryChunkContext(scan->opaque));
    scan->opaque = nullptr;
}
