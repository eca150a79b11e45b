// ivf_scan.cpp — ordered ivf index scans: ORDER BY col <op> query.
//
// The first amgettuple computes the query's distance to every centroid and
// probes the nearest lists (ivf.probes, or ivfflat.probes for an index
// created USING ivfflat): every live record of them, with its exact
// distance, sorted. Rows come back in that order. When the executor keeps
// asking (a WHERE clause rejects rows, or LIMIT exceeds what the lists
// hold), the scan probes the next lists, twice as many each round, up to
// every list (ivfflat.max_probes for ivfflat), so `WHERE ... ORDER BY ...
// LIMIT k` returns k rows whenever k rows match. Each round's rows are in
// order; a row of a later round may be closer than one returned before
// (relaxed order, as pgvector's iterative ivfflat scans).
//
// With a RaBitQ quantizer the lists hold codes: a round estimates every
// code's distance with its error bound, and rows come back in order of
// their exact distance, computed from the table's vector (fetched with the
// scan's snapshot): the candidate of lowest lower bound is fetched next
// until the nearest fetched row is no farther than every remaining
// candidate's lower bound, so a round's order is exact whenever the bounds
// hold (with the probability of the codec's confidence parameter). Rows
// the snapshot cannot see are skipped (the executor would drop them).
// From a heap table the scan reads the rows through the buffer manager
// itself, kAhead candidates ahead: each buffer is looked up once
// (PrefetchBuffer, which starts the read of a page not in shared buffers),
// its page's lines prefetched, and pinned again by ReadRecentBuffer when
// its turn comes (read_ahead, heap_row_distance). Other table AMs go
// through table_index_fetch_tuple, with PrefetchBuffer ahead until 64
// prefetches in a row found their pages in shared buffers already. Without
// a filter, the next list page's records are prefetched while one page's
// codes are estimated.
// With two-stage codes (quantizer rabitq2) the records that may rank first
// are refined from their second bit plane as they are read (kRefineRows):
// bounds about half as wide, so fewer rows are read from the table.
//
// A NULL query (or a zero query under cosine) returns every indexed row,
// in no particular order.
//
// Filter columns. Conditions on the index's filter columns (its key
// columns besides the vector: filter_columns.h) come as scan keys; a
// record that fails them is skipped as it is read, before any distance
// or table read, so only rows that pass are returned. A filter moves the
// rows that pass away from the nearest lists (all the more when it is
// anti-correlated with the query), so a filtered round does not end after
// a fixed number of lists: it goes on, nearest list first, until it holds
// as many rows that pass as half the records its first `round` lists held
// (the rows an unfiltered round would rank; all of them made a 10 % filter
// on fashion-mnist rank 6,000 rows, p95 3.4x the unfiltered one, a quarter
// lost top-100 hits in sql/24), and at most kMaxWiden times as many lists,
// provided it holds 1/kMaxWiden of those rows by then. A selective filter
// thus reads more lists, each record at the cost of a check (or none, when
// its page's zone rules it out), and computes at most half as many
// distances as an unfiltered round.
//
// Why the proviso: rounds come in relaxed order, so what a round returns
// must be worth returning before the next. A filter anti-correlated with
// the query (nm-monitor events, the rarest category: its rows cluster in
// lists far from most queries) left the first kMaxWiden times the lists
// with a few strays, 4 rows in 256 of 300 lists; the round returned them
// first, the next round then found the rows nearer than all four in the
// 44 lists left: recall@10 0.72 at 300,000 rows. A round that holds that
// few rows at its limit goes on (to every list if need be). A filter that
// is not anti-correlated reaches the proviso at the limit whenever its
// selectivity is above 1 / (kWidenShare kMaxWiden^2), about 0.05 %.
//
// A list's built pages that cannot hold a passing row are not read at all
// (ivf_page.h: list summaries and zone maps): all of them when the list's
// summary rules the filter out, else those whose zone in the list's map
// does (built_pages).
//
// Nor does a round end, whether it holds its rows or is at its limit,
// while the share of passing rows still rises (rising(): the second half
// of the lists it read held more than kRiseFactor times the first half's
// share): the filter's rows lie farther out, and what the near lists gave
// is strays. Anti-correlated categories of 300,000 events went from
// recall@10 0.26-0.88 to 0.94-1.0 with it (docs/filters.md).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ivf_am.h"
#include "memory.h"
#include "select.h"

extern "C" {
#include "access/heapam.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "pgstat.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/datum.h"
#include "utils/memutils.h"
}

namespace nmvec::pg::ivf {
namespace {

/// A filtered round goes on while the second half of the lists it read
/// held more than kRiseFactor times the first half's share of passing
/// rows, and at least kRiseRows of them (rising()).
constexpr double kRiseFactor = 1.5;
constexpr uint64 kRiseRows = 20;

struct Hit {
    float dist;
    ItemPointerData tid;
};

/// A RaBitQ candidate's estimate and row; its lower bound is in its key.
struct Cand {
    float est;
    ItemPointerData tid;
};

/// A float as an unsigned integer of the same order, NaN after everything
/// (as PostgreSQL orders float8). The codec's estimates are finite, but a
/// distance may overflow, and an inner product of huge elements can be NaN:
/// compared as floats it would break the sorts' ordering rules.
inline uint32 ordered_bits(float f) {
    if (std::isnan(f)) return UINT32_MAX;
    uint32 u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/// A candidate's sort key: the ordered bits of its lower bound (or of its
/// estimate, past the ivf.rerank cap) above its index in `cands`, so keys
/// compare as integers and ties go in the order the lists were read.
inline uint64 cand_key(float v, uint32 index) { return (static_cast<uint64>(ordered_bits(v)) << 32) | index; }
inline uint32 key_index(uint64 key) { return static_cast<uint32>(key); }
inline float key_value(uint64 key) {
    const uint32 b = static_cast<uint32>(key >> 32);
    const uint32 u = (b & 0x80000000u) ? (b & 0x7fffffffu) : ~b;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/// Two-stage codes: records of a round are refined (RabitqCodec::refine,
/// both bit planes) while their 1-bit lower bound is below the
/// kRefineRows-th smallest refined upper bound seen so far, so the rows a
/// round returns first, up to kRefineRows of them, are fetched in the
/// refined bounds' order. A record not refined keeps its 1-bit bounds,
/// which are valid too: rows past the kRefineRows-th are fetched on those,
/// as with 1-bit codes. Refining costs two 1-bit kernel passes; a table
/// read saved is a heap page's visit.
constexpr size_t kRefineRows = 40;

/// Lists whose centroid distance a scan computes exactly at least (the
/// nearest; CentroidSearch::distances_ranked), besides four times its first
/// round's; with a filter, as many as its first round may widen to
/// (kMaxWiden times its first lists).
constexpr size_t kExactLists = 64;

/// Heap re-ranking reads ahead: the buffer of the candidate kAhead positions
/// on is looked up (PrefetchBuffer: a read is started if it is not in
/// shared buffers) and its page header, line pointer and descriptor
/// prefetched; kAhead / 2 on, its tuple's lines.
constexpr size_t kAhead = 8;

/// A filtered scan prefetches the last built page of the list kListsAhead
/// lists on when its summary rules the list's built pages out.
constexpr uint32 kListsAhead = 4;

/// A filtered round's totals after one of its lists: records read (pages
/// a zone ruled out included) and rows that passed.
struct WidenMark {
    uint64 records, passed;
};

/// Candidate storage the backend keeps between scans. A round holds every
/// record of its lists (~47,000 at 10M rows and 15 probes): memory of that
/// size, allocated anew per query, came from mmap and was faulted in page
/// by page, and zeroed by resize() besides, which together took about a
/// third of a 10M query's time (perf, on these VMs). One spare pair: a scan
/// takes it as it starts, and gives it back at its end unless it grew past
/// kKeepCands (a scan nested in another's loop just allocates its own).
constexpr size_t kKeepCands = 256 * 1024;  // 5 MiB of candidates and keys
nmvec::UninitVector<Cand> g_spare_cands;
nmvec::UninitVector<uint64> g_spare_keys;

struct IvfScanState {
    IvfScanState() {
        cands.swap(g_spare_cands);
        keys.swap(g_spare_keys);
    }
    ~IvfScanState() {
        if (cands.capacity() <= kKeepCands && keys.capacity() <= kKeepCands &&
            cands.capacity() >= g_spare_cands.capacity()) {
            cands.clear();
            keys.clear();
            cands.swap(g_spare_cands);
            keys.swap(g_spare_keys);
        }
    }
    IvfScanState(const IvfScanState&) = delete;
    IvfScanState& operator=(const IvfScanState&) = delete;
    /// The heap fetch state (Postgres resources), dropped by endscan before
    /// the memory. After an error the resource owner has released its pins
    /// already: the memory just goes.
    void release() {
        if (slot != nullptr) ExecDropSingleTupleTableSlot(slot);
        if (fetch != nullptr) table_index_fetch_end(fetch);
        slot = nullptr;
        fetch = nullptr;
    }
    Layout layout;
    // RaBitQ: the round's candidates, their keys (see cand_key), the next
    // key to fetch, and the fetched rows by exact distance (a min-heap).
    // keys[0, sorted_end) is in order and holds the smallest: a round sorts
    // only as far as the fetching gets (see sort_ahead).
    nmvec::UninitVector<Cand> cands;
    nmvec::UninitVector<uint64> keys;
    size_t cand_next = 0, sorted_end = 0;
    // ivf.rerank as the scan started (0: no cap); rows read from the table
    // this round; totals for the DEBUG1 line at the end of the scan.
    uint64 rerank_cap = 0, fetched_round = 0;
    uint64 total_cands = 0, total_fetched = 0, total_records = 0, total_refined = 0;
    // Two-stage codes (rabitq2): the round's kRefineRows smallest refined
    // upper bounds (a max-heap, in the distance's order); a record whose
    // 1-bit lower bound is below the largest of them is refined.
    std::vector<float> refine_bar;
    // Heap prefetching (PrefetchBuffer) of the next candidates' pages, and
    // how many of the prefetched pages were in shared buffers already.
    bool prefetch = true;
    uint64 prefetched = 0, prefetch_hits = 0;
    // A heap table: rows are read through the buffer manager directly
    // (heap_row_distance). ahead_end: candidates (by key position) whose
    // buffer was looked up (PrefetchBuffer) already, their buffers in
    // `ahead` by position modulo kAhead (InvalidBuffer: not in shared
    // buffers then).
    bool heap = false;
    size_t ahead_end = 0;
    Buffer ahead[kAhead] = {};
    std::vector<Hit> pool;
    nmvec::RabitqQuery rq;
    std::vector<nmvec::RabitqEstimate> est;  // one run's estimates
    std::vector<uint32> sel;                 // the run's records that become candidates
    std::vector<float> centroid, exact;
    std::vector<WidenMark> widen;  // the filtered round's marks (probe_round)
    // The index's list summaries (filtered scans of an index with them);
    // the zones of the list being read (its zone map) and which of its
    // built pages may pass (BuiltPages); lists whose summary ruled them
    // out and built pages left unread, for the DEBUG1 line.
    std::shared_ptr<const Summaries> summaries;
    std::vector<uint8_t> zone_map, page_pass;
    uint64 lists_skipped = 0, pages_skipped = 0;
    // The index's centroids kept by this backend (null when too big: then
    // read from the pages per query).
    std::shared_ptr<const nmvec::CentroidSearch> centroids;
    IndexFetchTableData* fetch = nullptr;
    TupleTableSlot* slot = nullptr;
    AttrNumber attno = 0;
    MemoryContext fetch_cxt = nullptr;
    AlignedBytes query;          // element form (the records' codes)
    std::vector<float> query32;  // float32 form (the centroids)
    std::vector<float> cdist;
    // The lists as keys (cand_key of their centroid distance and number),
    // nearest first as far as order[0, ordered_end); the number alone when
    // the scan is unordered.
    std::vector<uint64> order;
    size_t ordered_end = 0;
    uint32 next_list = 0;  // next list of `order` to probe
    uint32 round = 0, max_lists = 0;
    std::vector<Hit> hits;  // the current round's rows, closest last
    std::unique_ptr<ListReader> reader;
    bool started = false;
    bool unordered = false;
    // Conditions on the filter columns (scan keys), compiled against
    // layout.attrs; recheck: the executor checks the rows (hashed columns).
    nmvec::filter::Filter filter;
    bool filtered = false, recheck = false;
};

/// Whether the record passes the scan's filter-column conditions.
inline bool record_passes(const IvfScanState& s, const char* rec) {
    return !s.filtered || s.filter.passes(reinterpret_cast<const uint8_t*>(rec) + s.layout.attr_offset());
}
/// Whether a record of a list page with this zone may pass them.
inline bool zone_passes(const IvfScanState& s, const uint8_t* zone) {
    return !s.filtered || s.filter.zone_may_pass(zone);
}

IvfScanState* state_of(IndexScanDesc scan) { return static_cast<IvfScanState*>(scan->opaque); }

/// The candidates' keys in order as far as `upto` (a sampled pivot, one
/// pass, a sort of what is below it: see select.h).
void sort_ahead(IvfScanState& s, size_t upto) {
    if (s.sorted_end < std::min(upto, s.keys.size()))
        s.sorted_end = nmvec::extend_sorted_prefix(s.keys.data(), s.keys.size(), s.sorted_end, upto);
}

/// Whether the second half of the lists a filtered round read held a
/// share of passing rows above kRiseFactor times the first half's (and
/// at least kRiseRows of them): the filter's rows lie farther out.
bool rising(const std::vector<WidenMark>& marks) {
    if (marks.size() < 2) return false;
    const WidenMark& mid = marks[marks.size() / 2 - 1];
    const WidenMark& end = marks.back();
    const uint64 rows2 = end.passed - mid.passed, recs2 = end.records - mid.records;
    if (rows2 < kRiseRows || recs2 == 0) return false;
    // rows2 / recs2 > kRiseFactor * mid.passed / mid.records, without division
    return static_cast<double>(rows2) * static_cast<double>(mid.records) >
           kRiseFactor * static_cast<double>(mid.passed) * static_cast<double>(recs2);
}

/// The lists nearest centroid first (ties: lower list) as far as `upto`.
void order_ahead(IvfScanState& s, size_t upto) {
    if (s.ordered_end < std::min(upto, s.order.size()))
        s.ordered_end = nmvec::extend_sorted_prefix(s.order.data(), s.order.size(), s.ordered_end, upto);
}

/// Probe the next lists of the order into s.hits (sorted closest last), or
/// for RaBitQ into s.cands (ordered by lower bound by sort_ahead, as far
/// as the fetching needs). False when no list is left.
bool probe_round(IndexScanDesc scan, IvfScanState& s) {
    const uint32 want = s.round;  // lists an unfiltered round probes
    if (s.next_list >= std::min<uint32>(s.max_lists, s.next_list + want)) return false;
    // Each further round probes twice as many lists: a filter that rejects
    // the nearest lists' rows then meets its matches in fewer, larger
    // rounds, each sorted in itself.
    s.round = std::min<uint32>(s.max_lists, s.round * 2);
    // Where the round ends: after `want` lists, or with a filter, once it
    // holds passing rows as many as 1/kWidenShare of those lists' records,
    // or at its limit (kMaxWiden times the lists, doubled each time it goes
    // on) unless it holds too few rows or the lists' share of passing rows
    // still rises (see the top of the file). probed: lists read; base:
    // records of the first `want` of them; passed: rows that passed;
    // s.widen: records and passing rows read, after each list.
    const uint32 round_start = s.next_list;
    const uint32 last = s.filtered ? s.max_lists : std::min<uint32>(s.max_lists, round_start + want);
    uint64 base = 0, passed = 0, limit = uint64{want} * kMaxWiden, all_records = 0;
    s.widen.clear();
    auto more = [&]() {
        if (s.next_list >= last) return false;
        const uint32 probed = s.next_list - round_start;
        if (probed >= want) {
            if (!s.filtered) return false;
            if (passed * kWidenShare >= base && !rising(s.widen)) return false;
            if (probed >= limit) {
                if (passed * kWidenShare * kMaxWiden >= base && !rising(s.widen)) return false;
                limit *= 2;
            }
        }
        if (!s.unordered && s.next_list >= s.ordered_end) order_ahead(s, std::min(last, s.next_list + want));
        return true;
    };
    // With a filter, pages whose zone no record of can pass are skipped.
    // With list summaries, a list's built pages are skipped unread: all of
    // them when its summary rules the filter out, else those whose zone in
    // its zone map does (built_pages).
    auto zone_pass = [&](const uint8_t* zone) { return zone_passes(s, zone); };
    const Summaries* sums = s.filtered ? s.summaries.get() : nullptr;
    BuiltPages built;
    // Whether list's summary rules the filter out (its built pages skipped).
    auto ruled_out = [&](uint32 list) {
        return sums->lists[list].covered > 0 && !zone_passes(s, sums->zone(list));
    };
    auto built_pages = [&](uint32 list, const ListEntry& e) -> const BuiltPages* {
        if (sums == nullptr || e.head == InvalidBlockNumber || sums->lists[list].covered == 0) return nullptr;
        const ListSummary& sum = sums->lists[list];
        if (sum.resume != e.head + sum.covered)
            ereport(ERROR,
                    (errcode(ERRCODE_INDEX_CORRUPTED),
                     errmsg("ivf index \"%s\" is corrupted", RelationGetRelationName(scan->indexRelation)),
                     errdetail_internal("List %u's summary does not match its directory entry.", list),
                     errhint("REINDEX the index.")));
        s.page_pass.assign(sum.covered, 0);
        if (ruled_out(list)) {
            ++s.lists_skipped;
            s.pages_skipped += sum.covered;
        } else {
            const uint32 zb = s.layout.zone_bytes;
            s.zone_map.resize(static_cast<size_t>(sum.covered) * zb);
            read_zone_map(scan->indexRelation, s.layout, sum, s.zone_map.data());
            for (uint32 i = 0; i < sum.covered; ++i) {
                s.page_pass[i] = zone_passes(s, s.zone_map.data() + static_cast<size_t>(i) * zb) ? 1 : 0;
                s.pages_skipped += 1 - s.page_pass[i];
            }
        }
        built.covered = sum.covered;
        built.pass = s.page_pass.data();
        return &built;
    };
    // kListsAhead lists on (as far as the order is sorted), a list the scan
    // will skip to its last built page: that page's first lines and zone
    // are prefetched (a first touch of a page cost as much as the rest of
    // the skip; the rarest category of 10M events skips 3,133 lists).
    auto look_ahead = [&]() {
        if (sums == nullptr || s.unordered || s.next_list + kListsAhead >= s.ordered_end) return;
        const uint32 list = key_index(s.order[s.next_list + kListsAhead]);
        if (ruled_out(list))
            prefetch_list_page(scan->indexRelation, sums->lists[list].resume, s.layout.zone_bytes);
    };
    auto counted = [&](uint64 records) {
        if (s.next_list - round_start < want) base += records;
        all_records += records;
        s.total_records += records;
        if (s.filtered) s.widen.push_back({all_records, passed});
    };
    Relation index = scan->indexRelation;
    if (s.layout.quantizer == kRabitq) {
        const nmvec::RabitqCodec& codec = *s.layout.codec;
        const bool l2 = s.layout.metric == Metric::L2;
        const nmvec::RabitqMetric m = l2 ? nmvec::RabitqMetric::L2Squared : nmvec::RabitqMetric::InnerProduct;
        // Distances as the graph code uses them: L2 squared, -<q,x>, 1 - <q,x>.
        const float base = s.layout.metric == Metric::Cosine ? 1.0f : 0.0f;
        s.cands.clear();
        s.keys.clear();
        s.cand_next = s.ahead_end = 0;
        s.fetched_round = 0;
        s.refine_bar.clear();
        const bool two_stage = s.layout.bits == 2;
        // Whether a record with this 1-bit lower bound is to be refined; a
        // refined upper bound joins the kRefineRows smallest.
        auto below_bar = [&](float lower) {
            return s.refine_bar.size() < kRefineRows || lower < s.refine_bar.front();
        };
        auto add_to_bar = [&](float upper) {
            if (s.refine_bar.size() < kRefineRows) {
                s.refine_bar.push_back(upper);
                std::push_heap(s.refine_bar.begin(), s.refine_bar.end());
            } else if (upper < s.refine_bar.front()) {
                std::pop_heap(s.refine_bar.begin(), s.refine_bar.end());
                s.refine_bar.back() = upper;
                std::push_heap(s.refine_bar.begin(), s.refine_bar.end());
            }
        };
        s.centroid.resize(s.layout.dims);
        for (; more(); ++s.next_list) {
            const uint32 list = key_index(s.order[s.next_list]);
            const ListEntry e = read_entry(index, s.layout, list);
            if (e.head == InvalidBlockNumber) continue;
            look_ahead();
            const BuiltPages* bp = built_pages(list, e);
            // The query is prepared for the list's centroid once a record
            // of it is to be estimated (a filter may rule out every one).
            bool prepared = false;
            auto prepare = [&]() {
                if (prepared) return;
                prepared = true;
                const float* c = nullptr;
                if (s.centroids) {
                    c = s.centroids->centroid(list);
                } else if (s.layout.trained) {
                    read_centroid(index, s.layout, list, s.centroid.data());
                    c = s.centroid.data();
                }
                codec.prepare(s.query32.data(), c, s.rq, nmvec::kRabitqScanEpsilon);
            };
            // A page's codes at once: one kernel pass over the run.
            const size_t rb = s.layout.rec_bytes;
            const uint64 records = s.reader->read_runs(
                e,
                [&](const char* recs, uint32 n) {
                    if (s.est.size() < n) s.est.resize(n);
                    const auto* codes = reinterpret_cast<const uint8_t*>(recs + sizeof(RecordHeader));
                    // Which records to estimate: with a filter, the live ones
                    // that pass (checked first: a record that fails costs no
                    // estimate), each run of neighbours in one kernel call;
                    // without, the page's codes at once.
                    s.sel.clear();
                    if (s.filtered) {
                        for (uint32 i = 0; i < n; ++i)
                            if (!(reinterpret_cast<const RecordHeader*>(recs + i * rb)->flags &
                                  kRecordDead) &&
                                record_passes(s, recs + i * rb))
                                s.sel.push_back(i);
                        if (!s.sel.empty()) prepare();
                        for (size_t a = 0, b; a < s.sel.size(); a = b) {
                            for (b = a + 1; b < s.sel.size() && s.sel[b] == s.sel[b - 1] + 1;) ++b;
                            codec.estimate_batch(s.rq, codes + static_cast<size_t>(s.sel[a]) * rb, b - a, rb,
                                                 m, s.est.data() + s.sel[a]);
                        }
                    } else {
                        prepare();
                        codec.estimate_batch(s.rq, codes, n, rb, m, s.est.data());
                        for (uint32 i = 0; i < n; ++i)
                            if (!(reinterpret_cast<const RecordHeader*>(recs + i * rb)->flags & kRecordDead))
                                s.sel.push_back(i);
                    }
                    passed += s.sel.size();
                    // Room for the run's candidates first, so the loop below
                    // stores without growth checks (keys hold a candidate's
                    // index in 32 bits).
                    if (s.cands.size() + s.sel.size() > UINT32_MAX)
                        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                                        errmsg("ivf scan round holds more than %u candidates", UINT32_MAX),
                                        errhint("Lower ivf.probes, or use more lists.")));
                    auto at = static_cast<uint32>(s.cands.size());
                    s.cands.resize(at + s.sel.size());
                    s.keys.resize(at + s.sel.size());
                    Cand* cands = s.cands.data();
                    uint64* keys = s.keys.data();
                    for (const uint32 i : s.sel) {
                        nmvec::RabitqEstimate est = s.est[i];
                        if (two_stage && below_bar(l2 ? est.lower : base - est.upper)) {
                            est = codec.refine(s.rq, codes + static_cast<size_t>(i) * rb, m);
                            add_to_bar(l2 ? est.upper : base - est.lower);
                            ++s.total_refined;
                        }
                        const float value = l2 ? est.value : base - est.value;
                        const float lower = l2 ? est.lower : base - est.upper;
                        cands[at] = {value, reinterpret_cast<const RecordHeader*>(recs + i * rb)->heap_tid};
                        keys[at] = cand_key(lower, at);
                        ++at;
                    }
                },
                zone_pass, bp);
            counted(records);
        }
        s.sorted_end = 0;
        s.total_cands += s.keys.size();
        return true;
    }
    const hnsw::ElemDistance dist{s.layout.metric, s.layout.elem_kind, s.layout.dims, &active_kernels()};
    const void* q = s.query.data();
    s.hits.clear();
    for (; more(); ++s.next_list) {
        const uint32 list = key_index(s.order[s.next_list]);
        const ListEntry e = read_entry(index, s.layout, list);
        look_ahead();
        const BuiltPages* bp = built_pages(list, e);
        const uint64 records = s.reader->read(
            e,
            [&](const RecordHeader* h, const char* code) {
                if ((h->flags & kRecordDead) || !record_passes(s, reinterpret_cast<const char*>(h))) return;
                ++passed;
                s.hits.push_back({dist(code, q), h->heap_tid});
            },
            zone_pass, bp);
        counted(records);
    }
    std::sort(s.hits.begin(), s.hits.end(), [](const Hit& a, const Hit& b) {
        const uint32 ka = ordered_bits(a.dist), kb = ordered_bits(b.dist);
        if (ka != kb) return ka > kb;
        return ItemPointerCompare(const_cast<ItemPointer>(&a.tid), const_cast<ItemPointer>(&b.tid)) > 0;
    });
    return true;
}

/// The table-fetch state: the vector's column, a memory context reset per
/// row, and for a table that is not a heap, the table AM's fetch and slot.
void begin_fetch(IndexScanDesc scan, IvfScanState& s) {
    if (s.fetch_cxt != nullptr) return;
    if (scan->heapRelation == nullptr) elog(ERROR, "ivf RaBitQ scans need the table to re-rank");
    s.attno = scan->indexRelation->rd_index->indkey.values[s.layout.vcol];
    if (s.attno <= 0) elog(ERROR, "ivf RaBitQ index is not on a table column");
    MemoryContext parent = GetMemoryChunkContext(&s);
    s.fetch_cxt = AllocSetContextCreate(parent, "nmvec ivf fetch", ALLOCSET_SMALL_SIZES);
    if (!s.heap) {
        MemoryContext old = MemoryContextSwitchTo(parent);
        s.slot = table_slot_create(scan->heapRelation, nullptr);
        s.fetch = table_index_fetch_begin(scan->heapRelation);
        MemoryContextSwitchTo(old);
    }
}

/// The distance of a row's vector (a plain varlena of the index's element
/// type) to the query; false when it cannot be placed (wrong dimension, a
/// zero vector under cosine).
bool vector_distance(IvfScanState& s, const struct varlena* raw, float* out) {
    const auto* hdr = reinterpret_cast<const Vector*>(raw);
    if (static_cast<uint32>(hdr->dim) != s.layout.dims) return false;
    // float32 not under cosine: the tuple's own bytes; otherwise a float32
    // copy, converted and normalised.
    const float* x = hdr->x;
    if (s.layout.elem_kind != kFloat32 || s.layout.metric == Metric::Cosine) {
        s.exact.resize(s.layout.dims);
        if (s.layout.elem_kind == kFloat32)
            memcpy(s.exact.data(), hdr->x, sizeof(float) * s.layout.dims);
        else
            halfs_to_floats(reinterpret_cast<const HalfVector*>(raw)->x, s.exact.data(), s.layout.dims);
        if (!nmvec::hnsw::normalize_for(s.layout.metric, s.exact.data(), s.layout.dims)) return false;
        x = s.exact.data();
    }
    const nmvec::hnsw::Distance dist(s.layout.metric, s.layout.dims);
    *out = dist(x, s.query32.data());
    return true;
}

/// The exact distance of the row at tid, read from the table with the
/// scan's snapshot through the table AM; false when the snapshot does not
/// see it (or its vector is NULL or cannot be placed).
bool exact_distance(IndexScanDesc scan, IvfScanState& s, ItemPointerData tid, float* out) {
    begin_fetch(scan, s);
    MemoryContext old = MemoryContextSwitchTo(s.fetch_cxt);
    bool call_again = false, all_dead = false, ok = false;
    if (table_index_fetch_tuple(s.fetch, &tid, scan->xs_snapshot, s.slot, &call_again, &all_dead)) {
        bool isnull;
        Datum d = slot_getattr(s.slot, s.attno, &isnull);
        if (!isnull) ok = vector_distance(s, PG_DETOAST_DATUM(d), out);
    }
    ExecClearTuple(s.slot);
    MemoryContextSwitchTo(old);
    MemoryContextReset(s.fetch_cxt);
    return ok;
}

/// The same from a heap table, through the buffer manager: the buffer
/// looked up ahead (`hint`, pinned again only if it still holds the page:
/// no second lookup), the visible member of the row's HOT chain, and the
/// distance computed on the page under its share lock (a compressed or
/// external vector is copied out and detoasted after the lock is let go).
/// heapam's own fetch does the same, plus an opportunistic prune of the
/// page, which is left to the executor's fetch of the rows returned.
bool heap_row_distance(IndexScanDesc scan, IvfScanState& s, ItemPointerData tid, Buffer hint, float* out) {
    begin_fetch(scan, s);
    Relation heap = scan->heapRelation;
    const BlockNumber blk = ItemPointerGetBlockNumber(&tid);
    Buffer buf = hnsw::read_buffer_hinted(heap, blk, hint);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    HeapTupleData tuple;
    bool all_dead = false, ok = false, copied = false;
    Datum copy = 0;
    if (heap_hot_search_buffer(&tid, heap, buf, scan->xs_snapshot, &tuple, &all_dead, true)) {
        bool isnull;
        const Datum d = heap_getattr(&tuple, s.attno, RelationGetDescr(heap), &isnull);
        if (!isnull) {
            const auto* v = reinterpret_cast<const struct varlena*>(DatumGetPointer(d));
            if (!VARATT_IS_EXTENDED(v)) {
                ok = vector_distance(s, v, out);
            } else {
                MemoryContext old = MemoryContextSwitchTo(s.fetch_cxt);
                copy = datumCopy(d, false, -1);
                MemoryContextSwitchTo(old);
                copied = true;
            }
        }
    }
    LockBuffer(buf, BUFFER_LOCK_UNLOCK);
    ReleaseBuffer(buf);
    if (copied) {
        MemoryContext old = MemoryContextSwitchTo(s.fetch_cxt);
        ok = vector_distance(s, PG_DETOAST_DATUM(copy), out);
        MemoryContextSwitchTo(old);
        MemoryContextReset(s.fetch_cxt);
    }
    return ok;
}

/// Heap tables: looks up the buffers of the candidates up to kAhead
/// positions past cand_next (PrefetchBuffer, which starts a read of a page
/// not in shared buffers), prefetching each found page's header, the row's
/// line pointer and the buffer's descriptor; and prefetches the tuple of
/// the candidate kAhead / 2 on, as its line pointer reads then. The page
/// memory is read without a pin, only to pick what to prefetch: a buffer
/// reused meanwhile costs a wasted prefetch, never a wrong row.
void read_ahead(IndexScanDesc scan, IvfScanState& s) {
    const size_t end = std::min(s.keys.size(), s.cand_next + kAhead);
    sort_ahead(s, end);
    s.ahead_end = std::max(s.ahead_end, s.cand_next);
    for (; s.ahead_end < end; ++s.ahead_end) {
        const ItemPointerData& tid = s.cands[key_index(s.keys[s.ahead_end])].tid;
        const PrefetchBufferResult r =
            PrefetchBuffer(scan->heapRelation, MAIN_FORKNUM, ItemPointerGetBlockNumber(&tid));
        s.ahead[s.ahead_end % kAhead] = r.recent_buffer;
        if (!BufferIsValid(r.recent_buffer)) continue;
        if (!BufferIsLocal(r.recent_buffer))
            __builtin_prefetch(GetBufferDescriptor(r.recent_buffer - 1), 1);  // ReadRecentBuffer pins it
        const char* page = static_cast<const char*>(BufferGetBlock(r.recent_buffer));
        __builtin_prefetch(page);
        const OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(&tid);
        if (off >= FirstOffsetNumber && off <= MaxHeapTuplesPerPage)
            __builtin_prefetch(page + SizeOfPageHeaderData + (off - 1) * sizeof(ItemIdData));
    }
    const size_t mid = s.cand_next + kAhead / 2;
    if (mid >= s.ahead_end) return;
    const Buffer b = s.ahead[mid % kAhead];
    if (!BufferIsValid(b)) return;
    const ItemPointerData& tid = s.cands[key_index(s.keys[mid])].tid;
    const OffsetNumber off = ItemPointerGetOffsetNumberNoCheck(&tid);
    if (off < FirstOffsetNumber || off > MaxHeapTuplesPerPage) return;
    const char* page = static_cast<const char*>(BufferGetBlock(b));
    const uint32 raw = __atomic_load_n(
        reinterpret_cast<const uint32*>(page + SizeOfPageHeaderData + (off - 1) * sizeof(ItemIdData)),
        __ATOMIC_RELAXED);
    ItemIdData lp;
    memcpy(&lp, &raw, sizeof lp);
    const uint32 from = lp.lp_off, to = from + lp.lp_len;
    if (!ItemIdIsNormal(&lp) || to > uint32{BLCKSZ}) return;
    for (uint32 at = from & ~63u; at < to; at += 64) __builtin_prefetch(page + at);
}

/// RaBitQ: the next row in exact order (see the file comment). With
/// ivf.rerank > 0, once that many rows of the round were read from the
/// table, the round's fetched rows come first (exact order), then the rest
/// by estimated distance, unread.
bool next_rabitq(IndexScanDesc scan, IvfScanState& s, Hit* out) {
    auto later = [](const Hit& a, const Hit& b) { return ordered_bits(a.dist) > ordered_bits(b.dist); };
    for (;;) {
        const bool capped = s.rerank_cap > 0 && s.fetched_round >= s.rerank_cap;
        while (!capped && s.cand_next < s.keys.size() &&
               (sort_ahead(s, s.cand_next + 16),
                s.pool.empty() || key_value(s.keys[s.cand_next]) < s.pool.front().dist)) {
            Buffer hint = InvalidBuffer;
            if (s.heap) {
                read_ahead(scan, s);
                hint = s.ahead[s.cand_next % kAhead];
            } else if (s.cand_next % 8 == 0 && s.prefetch) {  // the heap pages of the next candidates
                const size_t to = std::min(s.keys.size(), s.cand_next + 16);
                for (size_t i = s.cand_next + 8; i < to; ++i) {
                    const PrefetchBufferResult r =
                        PrefetchBuffer(scan->heapRelation, MAIN_FORKNUM,
                                       ItemPointerGetBlockNumber(&s.cands[key_index(s.keys[i])].tid));
                    ++s.prefetched;
                    if (BufferIsValid(r.recent_buffer)) ++s.prefetch_hits;
                }
                // A prefetch of a page in shared buffers only costs a
                // buffer-table lookup (the fetch repeats it): when the first
                // 64 all found their pages there, the table is cached.
                if (s.prefetched >= 64 && s.prefetch_hits == s.prefetched) s.prefetch = false;
            }
            const Cand c = s.cands[key_index(s.keys[s.cand_next++])];
            float d;
            ++s.fetched_round;
            ++s.total_fetched;
            if (s.heap ? heap_row_distance(scan, s, c.tid, hint, &d) : exact_distance(scan, s, c.tid, &d)) {
                s.pool.push_back({d, c.tid});
                std::push_heap(s.pool.begin(), s.pool.end(), later);
            }
            if (s.rerank_cap > 0 && s.fetched_round >= s.rerank_cap) {
                // The cap is reached: the rest of the round by estimate.
                for (size_t i = s.cand_next; i < s.keys.size(); ++i) {
                    const uint32 index = key_index(s.keys[i]);
                    s.keys[i] = cand_key(s.cands[index].est, index);
                }
                s.sorted_end = s.cand_next;  // re-keyed: sorted again as far as read
                s.ahead_end = s.cand_next;   // the buffers looked up were for other keys
                break;
            }
        }
        if (!s.pool.empty()) {
            std::pop_heap(s.pool.begin(), s.pool.end(), later);
            *out = s.pool.back();
            s.pool.pop_back();
            return true;
        }
        if (capped && s.cand_next < s.keys.size()) {
            sort_ahead(s, s.cand_next + 1);
            const Cand c = s.cands[key_index(s.keys[s.cand_next++])];
            // An estimate, not a distance: kept non-negative where distances are.
            const float d = s.layout.metric == Metric::L2 ? std::max(c.est, 0.0f) : c.est;
            *out = {d, c.tid};
            return true;
        }
        if (!probe_round(scan, s)) return false;
    }
}

void start(IndexScanDesc scan, IvfScanState& s) {
    s.started = true;
    Relation index = scan->indexRelation;
    flush_buffered(index);  // this backend's own inserts first
    read_layout(index, &s.layout);
    s.reader = std::make_unique<ListReader>(index, s.layout);
    s.hits.clear();
    s.cands.clear();
    s.keys.clear();
    s.cand_next = s.sorted_end = s.ahead_end = 0;
    s.pool.clear();
    s.heap = scan->heapRelation != nullptr && scan->heapRelation->rd_tableam == GetHeapamTableAmRoutine();
    s.rerank_cap = static_cast<uint64>(g_rerank);
    s.fetched_round = s.total_cands = s.total_fetched = s.total_records = 0;
    s.prefetch = true;
    s.prefetched = s.prefetch_hits = 0;
    s.next_list = 0;
    s.unordered = true;
    uint32 first, max;
    probe_counts(index, s.layout.n_lists, &first, &max);
    s.round = first;
    s.max_lists = max;
    s.order.resize(s.layout.n_lists);
    std::iota(s.order.begin(), s.order.end(), uint64{0});
    s.filter = nmvec::filter::Filter();
    s.filtered = s.recheck = false;
    if (scan->numberOfKeys > 0) {
        filter_from_keys(index, scan->keyData, scan->numberOfKeys, &s.filter, &s.recheck);
        s.filter.compile(s.layout.attrs);
        s.filtered = !s.filter.empty();
    }
    s.reader->set_prefetch_records(!s.filtered);
    s.summaries = s.filtered ? cached_summaries(index, s.layout) : nullptr;
    if (s.layout.dims == 0 || (s.filtered && s.filter.impossible())) {  // nothing indexed, or nothing passes
        s.unordered = false;
        s.max_lists = 0;
        return;
    }
    if (scan->numberOfOrderBys == 0 || (scan->orderByData[0].sk_flags & SK_ISNULL)) {
        s.round = s.max_lists = s.layout.n_lists;  // every row, unordered
        return;
    }
    if (!prepare_vector(s.layout, scan->orderByData[0].sk_argument, s.query, s.query32)) {
        s.round = s.max_lists = s.layout.n_lists;  // zero query under cosine
        return;
    }
    s.unordered = false;
    s.centroids = s.layout.trained ? cached_centroids(index, s.layout, s.centroid) : nullptr;
    // The lists the first rounds read in exact order; the farther ones by
    // their centroids' 8-bit codes, which read a quarter of the memory (at
    // 10M rows, 4.9 MB of float32 centroids a query, a twelfth of its time).
    if (s.centroids)
        s.centroids->distances_ranked(
            s.query32.data(), std::max<size_t>(kExactLists, size_t{s.round} * (s.filtered ? kMaxWiden : 4)),
            s.cdist);
    else
        centroid_distances(index, s.layout, s.query32.data(), s.cdist);
    for (uint32 i = 0; i < s.layout.n_lists; ++i) s.order[i] = cand_key(s.cdist[i], i);
    s.ordered_end = 0;  // probe_round orders as far as it needs
}

bool next_tuple(IndexScanDesc scan, IvfScanState& s) {
    if (!s.started) start(scan, s);
    if (!s.unordered && s.layout.quantizer == kRabitq) {
        Hit h;
        if (!next_rabitq(scan, s, &h)) return false;
        scan->xs_heaptid = h.tid;
        scan->xs_orderbyvals[0] = Float8GetDatum(hnsw::sql_distance(s.layout.metric, h.dist));
        scan->xs_orderbynulls[0] = false;
        return true;
    }
    while (s.hits.empty()) {
        if (s.unordered) {
            // Every list, rows as stored.
            if (s.next_list >= s.max_lists) return false;
            const ListEntry e = read_entry(scan->indexRelation, s.layout, key_index(s.order[s.next_list++]));
            s.reader->read(
                e,
                [&](const RecordHeader* h, const char*) {
                    if (!(h->flags & kRecordDead) && record_passes(s, reinterpret_cast<const char*>(h)))
                        s.hits.push_back({0.0f, h->heap_tid});
                },
                [&](const uint8_t* zone) { return zone_passes(s, zone); });
            std::reverse(s.hits.begin(), s.hits.end());
            continue;
        }
        if (!probe_round(scan, s)) return false;
    }
    const Hit h = s.hits.back();
    s.hits.pop_back();
    scan->xs_heaptid = h.tid;
    if (scan->numberOfOrderBys > 0) {
        if (s.unordered) {
            scan->xs_orderbyvals[0] = (Datum)0;
            scan->xs_orderbynulls[0] = true;
        } else {
            scan->xs_orderbyvals[0] = Float8GetDatum(hnsw::sql_distance(s.layout.metric, h.dist));
            scan->xs_orderbynulls[0] = false;
        }
    }
    return true;
}

}  // namespace
}  // namespace nmvec::pg::ivf

using namespace nmvec::pg::ivf;

extern "C" IndexScanDesc nmvec_ivf_beginscan(Relation index, int nkeys, int norderbys) {
    IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
    if (norderbys > 0) {  // the AM provides these (as GiST does)
        scan->xs_orderbyvals = static_cast<Datum*>(palloc0(sizeof(Datum) * norderbys));
        scan->xs_orderbynulls = static_cast<bool*>(palloc(sizeof(bool) * norderbys));
        memset(scan->xs_orderbynulls, true, sizeof(bool) * norderbys);
    }
    nmvec::pg::guarded([&]() -> Datum {
        scan->opaque = nmvec::pg::new_in_context<IvfScanState>(CurrentMemoryContext, "nmvec ivf scan");
        return 0;
    });
    return scan;
}

extern "C" void nmvec_ivf_rescan(IndexScanDesc scan, ScanKey keys, int /*nkeys*/, ScanKey orderbys,
                                 int /*norderbys*/) {
    if (keys && scan->numberOfKeys > 0)
        memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
    if (orderbys && scan->numberOfOrderBys > 0)
        memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
    state_of(scan)->started = false;
}

extern "C" bool nmvec_ivf_gettuple(IndexScanDesc scan, ScanDirection dir) {
    if (dir != ForwardScanDirection) elog(ERROR, "ivf index scans only go forward");
    bool found = false;
    nmvec::pg::guarded([&]() -> Datum {
        found = next_tuple(scan, *state_of(scan));
        return 0;
    });
    scan->xs_recheck = state_of(scan)->recheck;
    scan->xs_recheckorderby = false;
    return found;
}

extern "C" void nmvec_ivf_endscan(IndexScanDesc scan) {
    if (scan->opaque && state_of(scan)->total_cands > 0)
        elog(DEBUG1,
             "ivf scan: %llu candidates estimated, %llu read from the table, %u lists, %llu records, %llu "
             "refined, %llu lists skipped by their summary, %llu built pages left unread",
             static_cast<unsigned long long>(state_of(scan)->total_cands),
             static_cast<unsigned long long>(state_of(scan)->total_fetched), state_of(scan)->next_list,
             static_cast<unsigned long long>(state_of(scan)->total_records),
             static_cast<unsigned long long>(state_of(scan)->total_refined),
             static_cast<unsigned long long>(state_of(scan)->lists_skipped),
             static_cast<unsigned long long>(state_of(scan)->pages_skipped));
    if (scan->opaque) state_of(scan)->release();
    if (scan->opaque) MemoryContextDelete(GetMemoryChunkContext(scan->opaque));
    scan->opaque = nullptr;
}
