// hnsw_am.h — the hnsw index access method: shared declarations of the
// phase files (the bloom/pgvector split):
//   hnsw_am.cpp       handler, options, GUCs, cost estimate, validate, stats
//   hnsw_build.cpp    CREATE INDEX: heap scan, parallel in-memory graph, pages
//   hnsw_insert.cpp   one element at a time on disk (locking scheme there)
//   hnsw_scan.cpp     ordered, iterative scans
//   hnsw_vacuum.cpp   bulk delete and neighbour repair
//   hnsw_storage.cpp  page-level reads and writes (layout in hnsw_page.h)
#pragma once

#include "../core/attr_filter.h"

#include <memory>
#include <vector>

#include "../core/hnsw_iter.h"
#include "cxx_context.h"
#include "guard.h"
#include "hnsw_storage.h"
#include "vector_type.h"

extern "C" {
#include "access/amapi.h"
#include "access/reloptions.h"
#include "nodes/execnodes.h"
}

namespace nmvec::pg::hnsw {

/// Levels are drawn from a hash of (seed, element id), the same in CREATE
/// INDEX and in inserts.
constexpr uint64_t kLevelSeed = nmvec::hnsw::Params{}.seed;

/// reloptions of an hnsw index.
struct Options {
    int32 vl_len_;
    int m;
    int ef_construction;
    bool fastupdate;         // inserts go to the pending list
    int pending_list_limit;  // kB; -1: nmvec.pending_list_limit
    int quantizer;           // QuantizerOption
};
/// Values of the quantizer option (kQuantNone / kQuantSq8 in the meta
/// page); rabitq is accepted by the parser and refused as not supported yet.
enum QuantizerOption { kOptQuantNone = 0, kOptQuantSq8 = 1, kOptQuantRabitq = 2 };
/// The quantizer a build of this index uses (from its options); errors for
/// one not supported (yet, or for the operator class's metric).
uint8 quantizer_for_build(Relation index, nmvec::hnsw::Metric metric);
/// The index's fastupdate option (true when not set).
bool fastupdate_of(Relation index);
/// Bytes the pending list may hold before an insert merges it.
uint64 pending_limit_bytes(Relation index);

/// GUCs (hnsw_am.cpp). hnsw.iterative_scan takes pgvector's values.
enum IterativeScan { kIterativeOff = 0, kIterativeRelaxed = 1, kIterativeStrict = 2 };
extern int g_ef_search;
extern int g_iterative_scan;
/// hnsw.filter_mode: how a scan with conditions on filter columns walks
/// (auto: by their estimated selectivity; else nmvec::hnsw::FilterMode).
enum FilterModeSetting { kFilterAuto = 0, kFilterTraverse = 1, kFilterTwoHop = 2, kFilterExact = 3 };
extern int g_filter_mode;
extern int g_max_scan_tuples;
extern double g_scan_mem_multiplier;
extern int g_pending_list_limit;  // kB
extern int g_merge_delay_ms;      // test aid: sleep after each merged element
extern bool g_background_merge;   // nmvec.background_merge
extern int g_dry_seeds;           // nmvec.hnsw_dry_seeds (development: IterativeSearch::Options::seeds)
extern bool g_scan_stats;         // nmvec.hnsw_scan_stats: a NOTICE of each ordered scan's work
/// Bytes of search state a scan keeps per element it computed a distance
/// for (the found pool and the candidate lists): what
/// hnsw.scan_mem_multiplier x work_mem is divided by.
constexpr size_t kScanBytesPerVisit = 3 * sizeof(nmvec::hnsw::Neighbor);

/// What the operator class says: metric and element kind.
void opclass_info(Relation index, nmvec::hnsw::Metric* metric, ElemKind* kind);

/// Convert a vector/halfvec datum into the index's element record in `out`
/// (vec_bytes: its code when the index has a quantizer, then the vector in
/// the element kind, normalised under Cosine). False for a zero vector under Cosine (not
/// indexed). Errors when the dims differ from the index's. Without
/// with_code the code part is left zeroed (a scan's query needs none).
bool prepare_vector(const Layout& layout, Datum value, AlignedBytes& out, bool with_code = true);
/// The vector part of a record prepare_vector made, as float32.
void query_floats(const Layout& layout, const AlignedBytes& record, std::vector<float>* out);

/// Per-statement insert scratch, kept in IndexInfo::ii_AmCache.
struct InsertState {
    Layout layout;
    std::unique_ptr<PageAccess> access;
    uint32 access_vec_bytes = 0;
    nmvec::hnsw::VisitedSet visited;
    std::vector<nmvec::hnsw::Neighbor> entry, found, selected, cand, kept;
    std::vector<uint32> ids, old_list, linked;
    AlignedBytes vec;  // on a cache line, like the stored vectors (hnsw_page.h)
    // Filter columns: their layout (read once per statement) and this row's values.
    nmvec::filter::RecordLayout attrs;
    bool attrs_known = false;
    int vcol = 0;  // the vector column
    std::vector<uint8_t> attr_values;
    // fastupdate inserts of one statement take ids from a reserved run, in
    // runs of 1, 2, 4 ... 64: a COPY writes the meta page once per 64 rows,
    // a one-row INSERT reserves just its id.
    uint32 reserved_next = 0, reserved_end = 0, reserve_run = 1;
    // n_elements when this statement last started a background merge.
    uint32 background_merge_at = 0;
};
InsertState* insert_state(Relation index, IndexInfo* info);
/// Synchronous insert: allocate, write, link (steps 1-5 in hnsw_insert.cpp).
/// attrs: the row's filter-column values (layout.attr_bytes), or null without.
void insert_element(Relation index, ItemPointer heap_tid, const void* vec, const uint8_t* attrs,
                    InsertState& st);
/// fastupdate insert: allocate and write only, flagged pending (steps 1-2);
/// merges the list when it passes the limit and no other merge runs.
void insert_pending(Relation index, ItemPointer heap_tid, const void* vec, const uint8_t* attrs,
                    InsertState& st);
/// Link element `id` (vector `vec`, `level`) into the graph: steps 3-5.
/// Idempotent: linking an element again adds no link twice.
void link_element(Relation index, uint32 id, int level, const void* vec, InsertState& st);

/// Merge the pending list into the graph (hnsw_merge.cpp). With wait, waits
/// for a merge another backend is running, else returns 0 at once if there
/// is one. Returns the number of elements linked.
/// With parallel_ok, a long list is merged by several processes (the
/// backend and parallel workers, max_parallel_maintenance_workers).
int64 merge_pending(Relation index, bool wait, bool parallel_ok = false);
/// Start a background worker that merges the index's pending list in its
/// own transaction; false if none could be registered (no free slot).
bool start_background_merge(Relation index);
/// Elements flagged pending (reads the pending range's node records).
int64 count_pending(Relation index, const Layout& layout);

/// Record the dims of an index built empty without a typmod (first insert).
void ensure_dims(Relation index, Layout* layout, int dims);

/// Reloptions and GUCs; called from _PG_init.
void register_hnsw();

IndexBuildResult* build(Relation heap, Relation index, IndexInfo* info);
void buildempty(Relation index);
IndexBulkDeleteResult* bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                  IndexBulkDeleteCallback callback, void* cb_state);
IndexBulkDeleteResult* vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);

}  // namespace nmvec::pg::hnsw

// The callbacks, with C linkage for the handler.
extern "C" {
IndexBuildResult* nmvec_hnsw_build(Relation heap, Relation index, IndexInfo* info);
void nmvec_hnsw_buildempty(Relation index);
bool nmvec_hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                       IndexUniqueCheck check, bool unchanged, IndexInfo* info);
IndexBulkDeleteResult* nmvec_hnsw_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                             IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* nmvec_hnsw_vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
IndexScanDesc nmvec_hnsw_beginscan(Relation index, int nkeys, int norderbys);
void nmvec_hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool nmvec_hnsw_gettuple(IndexScanDesc scan, ScanDirection dir);
void nmvec_hnsw_endscan(IndexScanDesc scan);
}
