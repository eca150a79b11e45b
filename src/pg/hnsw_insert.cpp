// hnsw_insert.cpp — inserting one element into an hnsw index on disk.
//
// Locking scheme for concurrent inserts, scans and vacuum (page kinds in
// hnsw_page.h):
//  1. Allocate an id: meta page exclusive (briefly), extending the node and
//     vector streams under the relation extension lock when needed.
//  2. Write the vector (its page(s) exclusive, in block order), then the
//     node record with no neighbours (its node page exclusive). From now on
//     the element can be reached, but nothing points to it yet.
//  3. Search the graph like a scan (share locks, one page at a time) and
//     choose neighbours per level.
//  4. Write our own lists, then add a back link to each chosen neighbour:
//     under the neighbour's page lock, append if there is room; if its list
//     is full, read it, recompute the best list without holding any lock,
//     and write it back only if the list did not change meanwhile
//     (compare-and-set), else retry.
//  5. If our level is above the top, make us the entry point (meta
//     exclusive, re-checked under the lock).
// A backend never holds two node/upper page locks at once, and never waits
// for a node lock while holding a vector page lock, so there is no lock
// cycle. Scans may see an element between 2 and 4 with few or no links; they
// only miss it, never fail. Every step is WAL-logged on its own; a crash
// between steps leaves an element that is less well linked but valid, and
// an uncommitted insert's heap row is invisible anyway.
//
// With fastupdate (the default) an insert does steps 1-2 only and flags the
// node pending; a merge (hnsw_merge.cpp) does steps 3-5 later, element by
// element, with the same code (link_element).
#include "filter_columns.h"
#include "hnsw_am.h"

extern "C" {
#include "storage/lmgr.h"
}

namespace nmvec::pg::hnsw {

/// An insert merges the pending list itself once it holds this many times
/// pending_list_limit (background merges do not keep up).
constexpr uint64 kHardLimitFactor = 4;

bool prepare_vector(const Layout& layout, Datum value, AlignedBytes& out, bool with_code) {
    struct varlena* raw = PG_DETOAST_DATUM(value);
    const auto* hdr = reinterpret_cast<const Vector*>(raw);  // dim at the same offset in both types
    if (static_cast<uint32>(hdr->dim) != layout.dims)
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION),
                 errmsg("expected %u dimensions, not %d", layout.dims, static_cast<int>(hdr->dim)),
                 errdetail("Every vector in an hnsw index has the dimensions of the first one indexed.")));
    out.assign(layout.vec_bytes, 0);
    size_t dims = layout.dims;
    char* vec = out.data() + layout.code_bytes;  // the record: code (if any), then the vector
    if (layout.elem_kind == kFloat32) {
        float* dst = reinterpret_cast<float*>(vec);
        memcpy(dst, reinterpret_cast<const Vector*>(raw)->x, dims * sizeof(float));
        if (!nmvec::hnsw::normalize_for(layout.metric, dst, dims)) return false;
        if (with_code)
            write_code(layout.quantizer, static_cast<int>(dims), layout.centre_or_null(), dst, out.data());
        return true;
    }
    const uint16_t* src = reinterpret_cast<const HalfVector*>(raw)->x;
    uint16_t* dst = reinterpret_cast<uint16_t*>(vec);
    if (layout.metric != nmvec::hnsw::Metric::Cosine && layout.quantizer == kQuantNone) {
        memcpy(dst, src, dims * sizeof(uint16_t));
        return true;
    }
    std::vector<float> tmp(dims);
    halfs_to_floats(src, tmp.data(), dims);
    if (!nmvec::hnsw::normalize_for(layout.metric, tmp.data(), dims)) return false;
    floats_to_halfs(tmp.data(), dst, dims);
    // The code approximates the vector as stored (rounded to binary16).
    halfs_to_floats(dst, tmp.data(), dims);
    if (with_code)
        write_code(layout.quantizer, static_cast<int>(dims), layout.centre_or_null(), tmp.data(), out.data());
    return true;
}

void query_floats(const Layout& layout, const AlignedBytes& record, std::vector<float>* out) {
    out->resize(layout.dims);
    stored_floats(layout.elem_kind, layout.dims, record.data() + layout.code_bytes, out->data());
}

namespace {

/// Make `id` a neighbour of `nb` on `level`, pruning nb's list with the
/// heuristic when it is full.
void add_back_link(Relation index, PageAccess& a, uint32 nb, int level, uint32 id, InsertState& st) {
    const uint32 cap = level == 0 ? 2u * a.layout().m : static_cast<uint32>(a.layout().m);
    for (int attempt = 0; attempt < 10; ++attempt) {
        if (try_append_neighbor(index, a.layout(), nb, level, id)) return;
        uint32 n = a.read_neighbors(nb, level);
        st.old_list.assign(a.nbuf(), a.nbuf() + n);
        st.cand.clear();
        st.cand.push_back({a.pair_distance(nb, id), id});
        for (uint32 x : st.old_list)
            if (x != id) st.cand.push_back({a.pair_distance(nb, x), x});
        std::sort(st.cand.begin(), st.cand.end());
        nmvec::hnsw::select_neighbors(
            st.cand, cap, [&](uint32 x, uint32 y) { return a.pair_distance(x, y); }, st.kept);
        st.ids.clear();
        for (const auto& k : st.kept) st.ids.push_back(k.id);
        if (replace_neighbors_if(index, a.layout(), nb, level, st.old_list.data(),
                                 static_cast<uint32>(st.old_list.size()), st.ids.data(),
                                 static_cast<uint32>(st.ids.size())))
            return;
    }
    // Heavy contention on one element: leave this back link out (the new
    // element still links to nb; recall is unaffected in practice).
}

}  // namespace

void link_element(Relation index, uint32 id, int level, const void* vec, InsertState& st) {
    Layout& layout = st.layout;
    const int m = layout.m;
    if (layout.entry == kNoEntry) {
        maybe_set_entry(index, &layout, id, level);
        if (layout.entry == id) return;
    }
    PageAccess& a = *st.access;
    const bool held = a.holding();  // a merge holds pins across its elements
    if (!held) a.hold_pins(true, 32);
    a.clear_cache();
    a.enable_cache(true);
    a.set_query(static_cast<const char*>(vec) + layout.code_bytes);  // the vector after the code
    int top = layout.max_level;
    st.entry.assign(1, nmvec::hnsw::descend_levels(a, layout.entry, top, level));
    auto pair = [&](uint32 x, uint32 y) { return a.pair_distance(x, y); };
    for (int l = std::min(level, top); l >= 0; --l) {
        st.visited.clear();
        st.visited.insert(id);
        nmvec::hnsw::search_layer(a, st.entry, static_cast<size_t>(layout.ef_construction), l, st.visited,
                                  st.found);
        // Re-linking after a crash: the element may already be the entry point.
        st.found.erase(std::remove_if(st.found.begin(), st.found.end(),
                                      [id](const nmvec::hnsw::Neighbor& n) { return n.id == id; }),
                       st.found.end());
        nmvec::hnsw::select_neighbors(st.found, static_cast<size_t>(m), pair, st.selected);
        st.ids.clear();
        for (const auto& n : st.selected) st.ids.push_back(n.id);
        set_neighbors(index, layout, id, l, st.ids.data(), static_cast<uint32>(st.ids.size()));
        st.linked.assign(st.ids.begin(), st.ids.end());
        for (uint32 nb : st.linked) add_back_link(index, a, nb, l, id, st);
        st.entry.swap(st.found);
        CHECK_FOR_INTERRUPTS();  // state lives in a memory context: safe to leave here
    }
    a.enable_cache(false);
    a.clear_cache();
    if (!held) a.hold_pins(false);
    if (level > top) maybe_set_entry(index, &layout, id, level);
}

void insert_element(Relation index, ItemPointer heap_tid, const void* vec, const uint8_t* attrs,
                    InsertState& st) {
    Layout& layout = st.layout;
    read_layout(index, &layout);
    uint32 id = allocate_element(index, &layout);
    const int level = nmvec::hnsw::random_level(kLevelSeed, id, layout.m);
    write_vector(index, layout, id, vec);
    write_new_node(index, &layout, id, heap_tid, level, 0, attrs, vec);
    link_element(index, id, level, vec, st);
}

void insert_pending(Relation index, ItemPointer heap_tid, const void* vec, const uint8_t* attrs,
                    InsertState& st) {
    Layout& layout = st.layout;  // covers the reserved ids (it was loaded when they were)
    if (st.reserved_next >= st.reserved_end) {
        const uint32 run = st.reserve_run;
        st.reserve_run = std::min<uint32>(run * 2, 64);
        st.reserved_next = allocate_elements(index, &layout, run);
        st.reserved_end = st.reserved_next + run;
    }
    const uint32 id = st.reserved_next++;
    const int level = nmvec::hnsw::random_level(kLevelSeed, id, layout.m);
    write_vector(index, layout, id, vec);
    write_new_node(index, &layout, id, heap_tid, level, kNodePending, attrs, vec);
    // A merge that passed this id before its node was written (it saw no
    // heap TID) may have moved first_pending beyond it: then no scan's
    // exact pass reads it any more, so link it now (advance_first_pending).
    uint32 n = 0;
    const uint32 fp = read_first_pending(index, &n);
    if (fp > id) {
        read_layout(index, &layout);  // extents only grow: still covers the reserved ids
        link_element(index, id, level, vec, st);
        clear_pending(index, layout, id);
        return;
    }
    const uint64 per_element = uint64{layout.vec_bytes} + layout.node_bytes + layout.attr_bytes;
    const uint64 bytes = uint64{n - fp} * per_element, limit = pending_limit_bytes(index);
    if (bytes <= limit) return;
    // Over the limit: a background worker merges while inserts go on. Over
    // kHardLimitFactor times the limit (merges do not keep up), the insert
    // waits for a running merge and merges what is left itself.
    if (bytes > kHardLimitFactor * limit) {
        merge_pending(index, true);
        return;
    }
    if (!g_background_merge) {
        merge_pending(index, false);
        return;
    }
    // One start per limit's worth of inserts of this statement: the worker
    // takes a moment to take the merge lock.
    const uint64 limit_elements = std::max<uint64>(limit / per_element, 1);
    if (st.background_merge_at != 0 && n < st.background_merge_at + limit_elements) return;
    if (!ConditionalLockPage(index, kMetaBlock, ExclusiveLock)) return;  // a merge is running
    UnlockPage(index, kMetaBlock, ExclusiveLock);
    st.background_merge_at = n;
    if (!start_background_merge(index)) merge_pending(index, false);
}

InsertState* insert_state(Relation /*index*/, IndexInfo* info) {
    if (info && info->ii_AmCache) return static_cast<InsertState*>(info->ii_AmCache);
    MemoryContext parent = info ? info->ii_Context : CurrentMemoryContext;
    InsertState* st = new_in_context<InsertState>(parent, "nmvec hnsw insert");
    if (info) info->ii_AmCache = st;
    return st;
}

}  // namespace nmvec::pg::hnsw

using namespace nmvec::pg::hnsw;

extern "C" bool nmvec_hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                                  Relation /*heap*/, IndexUniqueCheck /*check*/, bool /*unchanged*/,
                                  IndexInfo* info) {
    bool inserted = false;
    nmvec::pg::guarded([&]() -> Datum {
        InsertState* st = insert_state(index, info);
        if (!st->attrs_known) {  // once per statement
            st->attrs = nmvec::pg::filter_layout(index);
            st->vcol = nmvec::pg::vector_column(index);
            st->attrs_known = true;
            st->attr_values.assign(st->attrs.bytes, 0);
        }
        if (isnull[st->vcol]) return 0;  // NULL vectors are not indexed
        const Datum vec = values[st->vcol];
        // Dims and element kind never change once set: a statement's later
        // inserts keep the layout (inserts that need it fresh re-read it).
        if (st->layout.dims == 0) read_layout(index, &st->layout);
        if (st->layout.dims == 0) {  // built empty, no typmod: the first vector decides
            int dim = reinterpret_cast<const nmvec::pg::Vector*>(PG_DETOAST_DATUM(vec))->dim;
            ensure_dims(index, &st->layout, dim);
        }
        if (!prepare_vector(st->layout, vec, st->vec)) return 0;            // zero vector under cosine
        if (!st->access || st->access_vec_bytes != st->layout.vec_bytes) {  // once per statement
            st->access = std::make_unique<PageAccess>(index, &st->layout);
            st->access_vec_bytes = st->layout.vec_bytes;
        }
        const uint8_t* attrs = nullptr;
        if (st->attrs.bytes > 0) {
            nmvec::pg::encode_filter_columns(st->attrs, index, st->vcol, values, isnull,
                                             st->attr_values.data());
            attrs = st->attr_values.data();
        }
        if (fastupdate_of(index))
            insert_pending(index, heap_tid, st->vec.data(), attrs, *st);
        else
            insert_element(index, heap_tid, st->vec.data(), attrs, *st);
        inserted = true;
        return 0;
    });
    return inserted;
}
