// hnsw_merge.cpp — merging the pending list (fastupdate) into the graph.
//
// A fastupdate insert writes an element's vector and node record, flagged
// kNodePending, and links nothing (hnsw_insert.cpp). Its id is at or above
// the meta page's first_pending. A merge walks [first_pending, n_elements)
// in id order and, for each pending element, runs the insert's linking
// steps (link_element), then clears the flag; at the end (and every
// kAdvanceEvery elements) it moves first_pending past what it linked.
//
// One merge at a time per index: the merger holds the heavyweight page lock
// on the meta block (as GIN's pending-list cleanup does). Inserters over the
// limit try it conditionally and just go on when a merge is running; VACUUM
// and nmvec_flush wait for it. The lock goes away with the transaction if
// the merge fails or is cancelled, and nothing needs undoing: every element
// is either linked and unflagged, or still flagged (perhaps with some links
// already written, which linking it again does not duplicate: back links are
// appended only when absent, and its own lists are overwritten).
//
// Scans never return an element twice while this runs: a scan decides at
// its start which elements it serves by its exact pass (those flagged then)
// and its graph walk skips exactly those (hnsw_scan.cpp).
#include "hnsw_am.h"

extern "C" {
#include "access/relation.h"
#include "access/xlog.h"
#include "tcop/utility.h"
#include "commands/defrem.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace nmvec::pg::hnsw {
namespace {

constexpr uint32 kAdvanceEvery = 1024;

struct MergeState {
    InsertState ins;
    std::vector<uint32> skipped;  // ids whose node had no heap TID when passed
};

}  // namespace

int64 count_pending(Relation index, const Layout& layout) {
    int64 pending = 0;
    NodeHeader h;
    for (uint32 id = layout.first_pending; id < layout.n_elements; ++id) {
        read_node_header(index, layout, id, &h);
        pending += ItemPointerIsValid(&h.heap_tid) && (h.flags & kNodePending) && !(h.flags & kNodeDeleted);
    }
    return pending;
}

int64 merge_pending(Relation index, bool wait) {
    if (wait)
        LockPage(index, kMetaBlock, ExclusiveLock);
    else if (!ConditionalLockPage(index, kMetaBlock, ExclusiveLock))
        return 0;
    MergeState* ms = new_in_context<MergeState>(CurrentMemoryContext, "nmvec hnsw merge");
    InsertState& st = ms->ins;
    Layout& layout = st.layout;
    read_layout(index, &layout);
    st.access = std::make_unique<PageAccess>(index, &layout);
    st.access->hold_pins(true, 8);  // one merge per backend at a time
    const uint32 first = layout.first_pending, end = layout.n_elements;
    int64 merged = 0;
    uint32 since_advance = 0;
    NodeHeader h;
    for (uint32 id = first; id < end; ++id) {
        CHECK_FOR_INTERRUPTS();
        read_node_header(index, layout, id, &h);
        if (!ItemPointerIsValid(&h.heap_tid)) {  // being written, or its insert failed
            ms->skipped.push_back(id);
            continue;
        }
        if (!(h.flags & kNodePending) || (h.flags & kNodeDeleted)) continue;
        if (h.level > nmvec::hnsw::kMaxLevel)
            report_corrupt(index, "Element %u has level %u, above the highest, %d.", id, h.level,
                           nmvec::hnsw::kMaxLevel);
        read_layout(index, &layout);  // entry point and streams as of now
        st.vec.resize(layout.vec_bytes);
        st.access->read_vector(id, st.vec.data());
        link_element(index, id, h.level, st.vec.data(), st);
        clear_pending(index, layout, id);
        ++merged;
        if (g_merge_delay_ms > 0) pg_usleep(1000L * g_merge_delay_ms);
        if (++since_advance == kAdvanceEvery) {
            since_advance = 0;
            advance_first_pending(index, layout, id + 1, ms->skipped);
        }
    }
    advance_first_pending(index, layout, end, ms->skipped);
    st.access->hold_pins(false);
    UnlockPage(index, kMetaBlock, ExclusiveLock);
    MemoryContextDelete(GetMemoryChunkContext(ms));
    return merged;
}

}  // namespace nmvec::pg::hnsw

using namespace nmvec::pg::hnsw;

/// nmvec_flush(regclass): merge an hnsw index's pending list into its graph
/// now; returns the number of elements linked. Anyone who may insert into
/// the table may do what an insert may trigger.
NMVEC_FUNCTION(nmvec_flush) {
    Oid oid = PG_GETARG_OID(0);
    Oid heap = IndexGetRelation(oid, true);
    if (!OidIsValid(heap)) {
        const char* name = get_rel_name(oid);
        if (name == nullptr)
            ereport(ERROR,
                    (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", oid)));
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an index", name)));
    }
    if (pg_class_aclcheck(heap, GetUserId(), ACL_INSERT) != ACLCHECK_OK &&
        !pg_class_ownercheck(heap, GetUserId())) {
        const char* table_name = get_rel_name(heap);
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("permission denied to flush the pending list of an index on table \"%s\"",
                        table_name ? table_name : "?"),
                 errdetail("Only roles that may insert into the table may merge its index's pending list.")));
    }
    if (RecoveryInProgress())
        ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                        errmsg("cannot flush an hnsw pending list during recovery"),
                        errdetail("A standby's index changes only through the primary's WAL."),
                        errhint("Run nmvec_flush on the primary.")));
    PreventCommandIfReadOnly("nmvec_flush()");
    Relation heap_rel = relation_open(heap, RowExclusiveLock);
    Relation rel = index_open(oid, RowExclusiveLock);
    if (rel->rd_rel->relam != get_index_am_oid("hnsw", false)) {
        const char* name = pstrdup(RelationGetRelationName(rel));
        index_close(rel, RowExclusiveLock);
        relation_close(heap_rel, RowExclusiveLock);
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an hnsw index", name)));
    }
    if (RELATION_IS_OTHER_TEMP(rel))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot flush the pending list of another session's temporary index")));
    int64 merged = merge_pending(rel, true);
    index_close(rel, RowExclusiveLock);
    relation_close(heap_rel, RowExclusiveLock);
    return Int64GetDatum(merged);
}
