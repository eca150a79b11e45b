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

#include <thread>

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "access/relation.h"
#include "access/xlog.h"
#include "tcop/utility.h"
#include "commands/defrem.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "postmaster/autovacuum.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace nmvec::pg::hnsw {
namespace {

constexpr uint32 kAdvanceEvery = 1024;
constexpr uint32 kMinParallelMerge = 1024;  // a shorter list is merged by one process

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
        pending += is_pending(h);
    }
    return pending;
}

namespace {

/// Link the pending elements of share `share` of [first, end) cut in
/// `parts` consecutive runs (all of it with parts = 1): the processes of a
/// parallel merge link elements far apart in the stream at the same time,
/// so that elements inserted together (often alike) are linked one after
/// another and find each other. With `skipped`, records the ids whose node
/// was not written yet and moves first_pending every kAdvanceEvery
/// elements (only a merge that covers the whole range may).
int64 link_range(Relation index, MergeState* ms, uint32 first, uint32 end, uint32 share, uint32 parts,
                 std::vector<uint32>* skipped) {
    InsertState& st = ms->ins;
    Layout& layout = st.layout;
    int64 merged = 0;
    uint32 since_advance = 0;
    NodeHeader h;
    const uint64 len = end - first;
    const uint32 from = first + static_cast<uint32>(len * share / parts);
    const uint32 to = first + static_cast<uint32>(len * (share + 1) / parts);
    for (uint32 id = from; id < to; ++id) {
        CHECK_FOR_INTERRUPTS();
        read_node_header(index, layout, id, &h);
        if (!ItemPointerIsValid(&h.heap_tid)) {  // being written, or its insert failed
            if (skipped) skipped->push_back(id);
            continue;
        }
        if (!is_pending(h)) continue;
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
        if (skipped && ++since_advance == kAdvanceEvery) {
            since_advance = 0;
            advance_first_pending(index, layout, id + 1, *skipped);
        }
    }
    return merged;
}

/// Elements linked at the same time by different processes cannot find
/// each other, and one's back links may be pruned away by the other's (or,
/// less often, by a later element's): an element can end up named by no
/// level-0 list, reached by a scan only through its final sweep. After a
/// merge, every element of the
/// range that none of its own level-0 neighbours names is added to the
/// list of its first neighbour (the closest when its list was chosen):
/// appended, or in place of that list's last member (the farthest of the
/// heuristic's choice, or the latest back link). Returns how many.
int64 ensure_reached(Relation index, MergeState* ms, uint32 first, uint32 end) {
    InsertState& st = ms->ins;
    Layout& layout = st.layout;
    PageAccess& a = *st.access;
    read_layout(index, &layout);
    int64 added = 0;
    NodeHeader h;
    for (uint32 id = first; id < end; ++id) {
        CHECK_FOR_INTERRUPTS();
        read_node_header(index, layout, id, &h);
        if (!ItemPointerIsValid(&h.heap_tid) || (h.flags & (kNodePending | kNodeDeleted))) continue;
        const uint32 k = a.read_neighbors(id, 0);
        st.ids.assign(a.nbuf(), a.nbuf() + k);
        bool named = st.ids.empty();  // nothing to attach it to
        for (uint32 nb : st.ids) {
            const uint32 n = a.read_neighbors(nb, 0);
            if (std::find(a.nbuf(), a.nbuf() + n, id) != a.nbuf() + n) {
                named = true;
                break;
            }
        }
        if (named) continue;
        const uint32 nearest = st.ids[0];
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (try_append_neighbor(index, layout, nearest, 0, id)) break;
            const uint32 n = a.read_neighbors(nearest, 0);
            st.old_list.assign(a.nbuf(), a.nbuf() + n);
            st.linked.assign(st.old_list.begin(), st.old_list.end());
            st.linked.back() = id;
            if (replace_neighbors_if(index, layout, nearest, 0, st.old_list.data(),
                                     static_cast<uint32>(st.old_list.size()), st.linked.data(),
                                     static_cast<uint32>(st.linked.size())))
                break;
        }
        ++added;
    }
    return added;
}

MergeState* merge_state(Relation index) {
    MergeState* ms = new_in_context<MergeState>(CurrentMemoryContext, "nmvec hnsw merge");
    read_layout(index, &ms->ins.layout);
    ms->ins.access = std::make_unique<PageAccess>(index, &ms->ins.layout);
    ms->ins.access->hold_pins(true, 8);  // one merge per process at a time
    return ms;
}

void free_merge_state(MergeState* ms) {
    ms->ins.access->hold_pins(false);
    MemoryContextDelete(GetMemoryChunkContext(ms));
}

/// What the leader of a parallel merge shares with its workers.
struct MergeShared {
    Oid index;
    uint32 first, end, parts;
    pg_atomic_uint64 merged;
};
constexpr uint64 kMergeSharedKey = UINT64CONST(0x4E4D564800000001);

/// Processes a merge may use: the leader and max_parallel_maintenance_workers
/// workers, at most one per core (as CREATE INDEX's threads).
uint32 merge_participants(uint32 pending, bool parallel_ok) {
    if (!parallel_ok || pending < kMinParallelMerge || IsInParallelMode() || IsAutoVacuumWorkerProcess())
        return 1;
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return static_cast<uint32>(std::max(1, std::min(max_parallel_maintenance_workers + 1, cores)));
}

}  // namespace

int64 merge_pending(Relation index, bool wait, bool parallel_ok) {
    if (wait)
        LockPage(index, kMetaBlock, ExclusiveLock);
    else if (!ConditionalLockPage(index, kMetaBlock, ExclusiveLock))
        return 0;
    MergeState* ms = merge_state(index);
    const uint32 first = ms->ins.layout.first_pending, end = ms->ins.layout.n_elements;
    const uint32 parts = merge_participants(end - first, parallel_ok);
    int64 merged = 0;
    if (parts == 1) {
        merged = link_range(index, ms, first, end, 0, 1, &ms->skipped);
    } else {
        // Workers link the ids of their share, the leader its own (share
        // 0), all at once as concurrent inserts do; then the leader sweeps
        // the range for what is left (the share of a worker that did not
        // start, an insert that finished meanwhile) and moves first_pending.
        EnterParallelMode();
        ParallelContext* pcxt = CreateParallelContext("nmvec", "nmvec_hnsw_merge_worker", parts - 1);
        shm_toc_estimate_chunk(&pcxt->estimator, sizeof(MergeShared));
        shm_toc_estimate_keys(&pcxt->estimator, 1);
        InitializeParallelDSM(pcxt);
        if (pcxt->seg != nullptr) {
            auto* shared = static_cast<MergeShared*>(shm_toc_allocate(pcxt->toc, sizeof(MergeShared)));
            shared->index = RelationGetRelid(index);
            shared->first = first;
            shared->end = end;
            shared->parts = parts;
            pg_atomic_init_u64(&shared->merged, 0);
            shm_toc_insert(pcxt->toc, kMergeSharedKey, shared);
            LaunchParallelWorkers(pcxt);
            merged = link_range(index, ms, first, end, 0, parts, nullptr);
            WaitForParallelWorkersToFinish(pcxt);
            merged += static_cast<int64>(pg_atomic_read_u64(&shared->merged));
        }
        DestroyParallelContext(pcxt);
        ExitParallelMode();
        merged += link_range(index, ms, first, end, 0, 1, &ms->skipped);
    }
    if (merged > 0) ensure_reached(index, ms, first, end);
    advance_first_pending(index, ms->ins.layout, end, ms->skipped);
    free_merge_state(ms);
    UnlockPage(index, kMetaBlock, ExclusiveLock);
    return merged;
}

bool start_background_merge(Relation index) {
    BackgroundWorker w;
    memset(&w, 0, sizeof(w));
    snprintf(w.bgw_name, BGW_MAXLEN, "nmvec merge of index %u", RelationGetRelid(index));
    snprintf(w.bgw_type, BGW_MAXLEN, "nmvec merge");
    w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    w.bgw_start_time = BgWorkerStart_RecoveryFinished;
    w.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(w.bgw_library_name, BGW_MAXLEN, "nmvec");
    snprintf(w.bgw_function_name, BGW_MAXLEN, "nmvec_merge_bgworker");
    w.bgw_main_arg = ObjectIdGetDatum(RelationGetRelid(index));
    const Oid db = MyDatabaseId;
    memcpy(w.bgw_extra, &db, sizeof(db));
    w.bgw_notify_pid = 0;
    return RegisterDynamicBackgroundWorker(&w, nullptr);
}

}  // namespace nmvec::pg::hnsw

using namespace nmvec::pg::hnsw;

/// The background merge: connects to the index's database, merges its
/// pending list in one transaction (waiting for a merge already running),
/// round after round while inserts add to it, and exits once a round finds
/// nothing to link. An index dropped meanwhile is skipped.
extern "C" PGDLLEXPORT void nmvec_merge_bgworker(Datum arg) {
    const Oid index_oid = DatumGetObjectId(arg);
    Oid db;
    memcpy(&db, MyBgworkerEntry->bgw_extra, sizeof(db));
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnectionByOid(db, InvalidOid, 0);
    pgstat_report_activity(STATE_RUNNING, "nmvec: merging an hnsw pending list");
    // Rows inserted while a round runs are left for the next one: go on
    // until a round finds nothing to link. One transaction per round, with
    // a snapshot (a parallel merge hands it to its workers; a long list is
    // merged on parallel workers too, as nmvec_flush does, so that while a
    // COPY waits at the hard limit both cores link); it is held for one
    // round only.
    for (int round = 0; round < 1000; ++round) {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
        int64 merged = 0;
        Relation rel = try_relation_open(index_oid, RowExclusiveLock);
        if (rel != nullptr) {
            if (rel->rd_rel->relkind == RELKIND_INDEX && rel->rd_rel->relam == get_index_am_oid("hnsw", true))
                nmvec::pg::guarded([&]() -> Datum {
                    merged = merge_pending(rel, true, true);
                    return 0;
                });
            relation_close(rel, RowExclusiveLock);
        }
        PopActiveSnapshot();
        CommitTransactionCommand();
        if (merged == 0) break;
    }
    pgstat_report_activity(STATE_IDLE, nullptr);
}

/// A parallel merge's worker: links its share of the pending range.
extern "C" PGDLLEXPORT void nmvec_hnsw_merge_worker(dsm_segment* /*seg*/, shm_toc* toc) {
    auto* shared = static_cast<MergeShared*>(shm_toc_lookup(toc, kMergeSharedKey, false));
    Relation index = index_open(shared->index, RowExclusiveLock);
    nmvec::pg::guarded([&]() -> Datum {
        MergeState* ms = merge_state(index);
        const int64 n = link_range(index, ms, shared->first, shared->end,
                                   static_cast<uint32>(ParallelWorkerNumber + 1), shared->parts, nullptr);
        pg_atomic_fetch_add_u64(&shared->merged, static_cast<uint64>(n));
        free_merge_state(ms);
        return 0;
    });
    index_close(index, RowExclusiveLock);
}

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
    int64 merged = merge_pending(rel, true, true);
    index_close(rel, RowExclusiveLock);
    relation_close(heap_rel, RowExclusiveLock);
    return Int64GetDatum(merged);
}
