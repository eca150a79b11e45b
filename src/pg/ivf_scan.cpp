// ivf_scan.cpp — ordered ivf index scans: ORDER BY col <op> query.
//
// The first amgettuple computes the query's distance to every centroid and
// probes the nearest lists (ivf.probes, or ivfflat.probes for an index
// created USING ivfflat): every live record of them, with its exact
// distance, sorted. Rows come back in that order. When the executor keeps
// asking (a WHERE clause rejects rows, or LIMIT exceeds what the lists
// hold), the scan probes the next lists, as many again each round, up to
// every list (ivfflat.max_probes for ivfflat), so `WHERE ... ORDER BY ...
// LIMIT k` returns k rows whenever k rows match. Each round's rows are in
// order; a row of a later round may be closer than one returned before
// (relaxed order, as pgvector's iterative ivfflat scans).
//
// A NULL query (or a zero query under cosine) returns every indexed row,
// in no particular order.
#include <algorithm>
#include <numeric>

#include "ivf_am.h"

extern "C" {
#include "access/relscan.h"
}

namespace nmvec::pg::ivf {
namespace {

struct Hit {
    float dist;
    ItemPointerData tid;
};

struct IvfScanState {
    Layout layout;
    AlignedBytes query;          // element form (the records' codes)
    std::vector<float> query32;  // float32 form (the centroids)
    std::vector<float> cdist;
    std::vector<uint32> order;  // lists, nearest centroid first
    uint32 next_list = 0;       // next list of `order` to probe
    uint32 round = 0, max_lists = 0;
    std::vector<Hit> hits;  // the current round's rows, closest last
    std::unique_ptr<ListReader> reader;
    bool started = false;
    bool unordered = false;
};

IvfScanState* state_of(IndexScanDesc scan) { return static_cast<IvfScanState*>(scan->opaque); }

/// Probe the next lists of the order into s.hits (sorted closest last).
/// False when no list is left.
bool probe_round(IndexScanDesc scan, IvfScanState& s) {
    const uint32 end = std::min<uint32>(s.max_lists, s.next_list + s.round);
    if (s.next_list >= end) return false;
    Relation index = scan->indexRelation;
    const hnsw::ElemDistance dist{s.layout.metric, s.layout.elem_kind, s.layout.dims, &active_kernels()};
    const void* q = s.query.data();
    s.hits.clear();
    for (; s.next_list < end; ++s.next_list) {
        const ListEntry e = read_entry(index, s.layout, s.order[s.next_list]);
        s.reader->read(e, [&](const RecordHeader* h, const char* code) {
            if (h->flags & kRecordDead) return;
            s.hits.push_back({dist(code, q), h->heap_tid});
        });
    }
    std::sort(s.hits.begin(), s.hits.end(), [](const Hit& a, const Hit& b) {
        if (a.dist != b.dist) return a.dist > b.dist;
        return ItemPointerCompare(const_cast<ItemPointer>(&a.tid), const_cast<ItemPointer>(&b.tid)) > 0;
    });
    return true;
}

void start(IndexScanDesc scan, IvfScanState& s) {
    s.started = true;
    Relation index = scan->indexRelation;
    read_layout(index, &s.layout);
    s.reader = std::make_unique<ListReader>(index, s.layout);
    s.hits.clear();
    s.next_list = 0;
    s.unordered = true;
    uint32 first, max;
    probe_counts(index, s.layout.n_lists, &first, &max);
    s.round = first;
    s.max_lists = max;
    s.order.resize(s.layout.n_lists);
    std::iota(s.order.begin(), s.order.end(), 0u);
    if (s.layout.dims == 0) {  // nothing ever indexed
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
    centroid_distances(index, s.layout, s.query32.data(), s.cdist);
    std::sort(s.order.begin(), s.order.end(),
              [&](uint32 a, uint32 b) { return s.cdist[a] != s.cdist[b] ? s.cdist[a] < s.cdist[b] : a < b; });
}

bool next_tuple(IndexScanDesc scan, IvfScanState& s) {
    if (!s.started) start(scan, s);
    while (s.hits.empty()) {
        if (s.unordered) {
            // Every list, rows as stored.
            if (s.next_list >= s.max_lists) return false;
            const ListEntry e = read_entry(scan->indexRelation, s.layout, s.order[s.next_list++]);
            s.reader->read(e, [&](const RecordHeader* h, const char*) {
                if (!(h->flags & kRecordDead)) s.hits.push_back({0.0f, h->heap_tid});
            });
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
    scan->xs_recheck = false;
    scan->xs_recheckorderby = false;
    return found;
}

extern "C" void nmvec_ivf_endscan(IndexScanDesc scan) {
    if (scan->opaque) MemoryContextDelete(GetMemoryChunkContext(scan->opaque));
    scan->opaque = nullptr;
}
