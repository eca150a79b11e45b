// ivf_vacuum.cpp — VACUUM for ivf: dead rows' records are marked dead in
// place (list by list, page by page); scans skip them. Their space is kept
// until REINDEX (inserts append at the lists' ends).
#include "ivf_am.h"

extern "C" {
#include "commands/vacuum.h"
}

namespace nmvec::pg::ivf {

IndexBulkDeleteResult* bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                  IndexBulkDeleteCallback callback, void* cb_state) {
    Relation index = info->index;
    if (stats == nullptr) stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    flush_buffered(index);
    Layout layout;
    read_layout(index, &layout);
    uint64 live = 0, removed = 0;
    for (uint32 list = 0; list < layout.n_lists; ++list) {
        const ListEntry e = read_entry(index, layout, list);
        if (e.head == InvalidBlockNumber) continue;
        removed += mark_dead(index, layout, e, callback, cb_state, &live);
    }
    stats->tuples_removed += static_cast<double>(removed);
    stats->num_index_tuples = static_cast<double>(live);
    stats->num_pages = RelationGetNumberOfBlocks(index);
    return stats;
}

IndexBulkDeleteResult* vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats) {
    if (info->analyze_only) return stats;
    if (stats == nullptr) return nullptr;  // no bulkdelete ran: nothing changed
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
}

}  // namespace nmvec::pg::ivf

extern "C" IndexBulkDeleteResult* nmvec_ivf_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                                       IndexBulkDeleteCallback callback,
                                                       void* callback_state) {
    IndexBulkDeleteResult* result = nullptr;
    nmvec::pg::guarded([&]() -> Datum {
        result = nmvec::pg::ivf::bulkdelete(info, stats, callback, callback_state);
        return 0;
    });
    return result;
}

extern "C" IndexBulkDeleteResult* nmvec_ivf_vacuumcleanup(IndexVacuumInfo* info,
                                                          IndexBulkDeleteResult* stats) {
    IndexBulkDeleteResult* result = nullptr;
    nmvec::pg::guarded([&]() -> Datum {
        result = nmvec::pg::ivf::vacuumcleanup(info, stats);
        return 0;
    });
    return result;
}
