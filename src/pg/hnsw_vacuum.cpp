// hnsw_vacuum.cpp — VACUUM for hnsw: remove dead elements, repair the graph.
//
// Pass 1 marks every element whose heap row is dead (the callback says so)
// as deleted. Pass 2 walks every live element and, where a neighbour list
// (any level) names a deleted element, recomputes it with the selection
// heuristic from the live neighbours plus the live neighbours of the deleted
// ones, so the graph stays navigable around the hole; the write is a
// compare-and-set, retried if a concurrent insert changed the list. If the
// entry point died, the live element with the highest level takes over.
// Deleted elements keep their ids (tombstones, never returned by scans);
// their space is reclaimed by REINDEX.
#include "hnsw_am.h"

extern "C" {
#include "commands/vacuum.h"
#include "postmaster/autovacuum.h"
}

namespace nmvec::pg::hnsw {
namespace {

struct VacuumState {
    Layout layout;
    std::unique_ptr<PageAccess> access;
    std::vector<bool> deleted;  // by id, as of pass 1
    std::vector<uint32> list, merged, ids;
    std::vector<nmvec::hnsw::Neighbor> cand, kept;
    std::vector<int> levels;
};

bool mark_deleted(Relation index, const Layout& layout, uint32 id, IndexBulkDeleteCallback callback,
                  void* cb_state) {
    uint32 off;
    BlockNumber blk = layout.node_block(id, &off);
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    NodeHeader* h = reinterpret_cast<NodeHeader*>(stream_data(BufferGetPage(buf)) + off);
    bool dead =
        ItemPointerIsValid(&h->heap_tid) && !(h->flags & kNodeDeleted) && callback(&h->heap_tid, cb_state);
    if (dead) {
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        reinterpret_cast<NodeHeader*>(stream_data(page) + off)->flags |= kNodeDeleted;
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
    return dead;
}

void repair(Relation index, VacuumState& v, uint32 id, int level) {
    PageAccess& a = *v.access;
    const uint32 cap = level == 0 ? 2u * v.layout.m : static_cast<uint32>(v.layout.m);
    for (int attempt = 0; attempt < 5; ++attempt) {
        uint32 n = a.read_neighbors(id, level);
        v.list.assign(a.nbuf(), a.nbuf() + n);
        bool hole = false;
        for (uint32 x : v.list) hole |= x < v.deleted.size() && v.deleted[x];
        if (!hole) return;
        v.merged.clear();
        for (uint32 x : v.list) {
            if (x >= v.deleted.size() || !v.deleted[x]) {
                v.merged.push_back(x);
                continue;
            }
            uint32 k = a.read_neighbors(x, level);  // the dead one's neighbours bridge the hole
            for (uint32 i = 0; i < k; ++i) {
                uint32 y = a.nbuf()[i];
                if (y != id && (y >= v.deleted.size() || !v.deleted[y])) v.merged.push_back(y);
            }
        }
        std::sort(v.merged.begin(), v.merged.end());
        v.merged.erase(std::unique(v.merged.begin(), v.merged.end()), v.merged.end());
        v.cand.clear();
        for (uint32 x : v.merged) v.cand.push_back({a.pair_distance(id, x), x});
        std::sort(v.cand.begin(), v.cand.end());
        nmvec::hnsw::select_neighbors(
            v.cand, cap, [&](uint32 x, uint32 y) { return a.pair_distance(x, y); }, v.kept);
        v.ids.clear();
        for (const auto& k : v.kept) v.ids.push_back(k.id);
        if (replace_neighbors_if(index, v.layout, id, level, v.list.data(),
                                 static_cast<uint32>(v.list.size()), v.ids.data(),
                                 static_cast<uint32>(v.ids.size())))
            return;
    }
}

/// Replace the entry point if it is still `dead` (an insert may have moved
/// it to a new live element meanwhile), and record the deleted count.
void set_entry(Relation index, uint32 dead, uint32 entry, int level, uint32 n_deleted) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Meta* meta = page_meta(GenericXLogRegisterBuffer(st, buf, 0));
    if (dead != kNoEntry && meta->entry == dead) {
        meta->entry = entry;
        meta->max_level = entry == kNoEntry ? -1 : level;
    }
    meta->n_deleted = n_deleted;
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
}

}  // namespace

IndexBulkDeleteResult* bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                  IndexBulkDeleteCallback callback, void* cb_state) {
    Relation index = info->index;
    if (stats == nullptr) stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    VacuumState* vp = new_in_context<VacuumState>(CurrentMemoryContext, "nmvec hnsw vacuum");
    VacuumState& v = *vp;
    read_layout(index, &v.layout);
    const uint32 n = v.layout.n_elements;
    v.deleted.assign(n, false);
    v.levels.assign(n, -1);
    uint32 removed = 0, live = 0, already = 0;
    NodeHeader h;
    // Pass 1: mark.
    for (uint32 id = 0; id < n; ++id) {
        vacuum_delay_point();
        read_node_header(index, v.layout, id, &h);
        if (!ItemPointerIsValid(&h.heap_tid)) continue;  // being written by an insert
        if (h.flags & kNodeDeleted) {
            v.deleted[id] = true;
            ++already;
            continue;
        }
        if (mark_deleted(index, v.layout, id, callback, cb_state)) {
            v.deleted[id] = true;
            ++removed;
        } else {
            if (h.level > nmvec::hnsw::kMaxLevel)  // pass 2 repairs every level up to it
                report_corrupt(index, "Element %u has level %u, above the highest, %d.", id, h.level,
                               nmvec::hnsw::kMaxLevel);
            v.levels[id] = h.level;
            ++live;
        }
    }
    // Pass 2: repair lists that name deleted elements.
    if (removed > 0) {
        v.access = std::make_unique<PageAccess>(index, &v.layout);
        for (uint32 id = 0; id < n; ++id) {
            if (v.levels[id] < 0) continue;
            vacuum_delay_point();
            for (int l = 0; l <= v.levels[id]; ++l) repair(index, v, id, l);
        }
        // A dead entry point gives way to the highest live element.
        Layout& now = v.layout;
        read_layout(index, &now);
        if (now.entry != kNoEntry && now.entry < n && v.deleted[now.entry]) {
            uint32 best = kNoEntry;
            int best_level = -1;
            for (uint32 id = 0; id < n; ++id)
                if (v.levels[id] > best_level) {
                    best_level = v.levels[id];
                    best = id;
                }
            set_entry(index, now.entry, best, best_level, removed + already);
        } else {
            set_entry(index, kNoEntry, kNoEntry, -1, removed + already);
        }
    }
    stats->tuples_removed += removed;
    stats->num_index_tuples = live;
    stats->num_pages = RelationGetNumberOfBlocks(index);
    MemoryContextDelete(GetMemoryChunkContext(vp));
    return stats;
}

IndexBulkDeleteResult* vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats) {
    // Merge the pending list: this is how PostgreSQL's insert-triggered
    // autovacuum links what fastupdate inserts left (an autoanalyze too, as
    // GIN does; a manual ANALYZE leaves it).
    if (!info->analyze_only || IsAutoVacuumWorkerProcess()) merge_pending(info->index, true, true);
    if (info->analyze_only) return stats;
    if (stats == nullptr) {
        // No bulkdelete ran: count live elements for the statistics.
        stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
        VacuumState* vp = new_in_context<VacuumState>(CurrentMemoryContext, "nmvec hnsw vacuum");
        Layout& layout = vp->layout;
        read_layout(info->index, &layout);
        NodeHeader h;
        double live = 0;
        for (uint32 id = 0; id < layout.n_elements; ++id) {
            read_node_header(info->index, layout, id, &h);
            live += ItemPointerIsValid(&h.heap_tid) && !(h.flags & kNodeDeleted);
        }
        stats->num_index_tuples = live;
        MemoryContextDelete(GetMemoryChunkContext(vp));
    }
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace nmvec::pg::hnsw

extern "C" IndexBulkDeleteResult* nmvec_hnsw_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                                        IndexBulkDeleteCallback callback, void* cb_state) {
    IndexBulkDeleteResult* r = nullptr;
    nmvec::pg::guarded([&]() -> Datum {
        r = nmvec::pg::hnsw::bulkdelete(info, stats, callback, cb_state);
        return 0;
    });
    return r;
}

extern "C" IndexBulkDeleteResult* nmvec_hnsw_vacuumcleanup(IndexVacuumInfo* info,
                                                           IndexBulkDeleteResult* stats) {
    IndexBulkDeleteResult* r = nullptr;
    nmvec::pg::guarded([&]() -> Datum {
        r = nmvec::pg::hnsw::vacuumcleanup(info, stats);
        return 0;
    });
    return r;
}
