// hnsw_am.cpp — the hnsw access method handler, its options and GUCs, cost
// estimation, and nmvec_index_stats().
#include "hnsw_am.h"

#include "am_common.h"
#include "filter_columns.h"

#include <cmath>

extern "C" {
#include "access/relation.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace nmvec::pg::hnsw {

int g_ef_search = 40;
int g_iterative_scan = kIterativeStrict;
int g_filter_mode = kFilterAuto;
int g_max_scan_tuples = 50000;
double g_scan_mem_multiplier = 1.0;
int g_pending_list_limit = 4096;
int g_merge_delay_ms = 0;
bool g_background_merge = true;
bool g_scan_stats = false;
int g_dry_seeds = nmvec::hnsw::kDrySeeds;

namespace {

relopt_kind g_relopt_kind;

// pgvector's names and values, so that applications written for it run
// unchanged. nmvec's scans always iterate: `off` keeps nmvec's default
// (strict order) instead of stopping at ef_search rows.
const struct config_enum_entry kIterativeScanValues[] = {
    {"off", kIterativeOff, false},
    {"relaxed_order", kIterativeRelaxed, false},
    {"strict_order", kIterativeStrict, false},
    {nullptr, 0, false},
};

const struct config_enum_entry kFilterModeValues[] = {
    {"auto", kFilterAuto, false},
    {"traverse", kFilterTraverse, false},
    {"two_hop", kFilterTwoHop, false},
    {"exact", kFilterExact, false},
    {nullptr, 0, false},
};

char* phase_name(int64 phase) {
    switch (phase) {
        case 1:
            return const_cast<char*>("loading tuples");
        case 2:
            return const_cast<char*>("building graph");
        case 3:
            return const_cast<char*>("writing pages");
        case 4:
            return const_cast<char*>("inserting overflow");
        default:
            return nullptr;
    }
}

const char* const kQuantizerDetail = "Valid values are \"none\", \"sq8\" and \"rabitq\".";

relopt_enum_elt_def kQuantizerValues[] = {
    {"none", kOptQuantNone},
    {"sq8", kOptQuantSq8},
    {"rabitq", kOptQuantRabitq},
    {nullptr, 0},
};

/// Parses the reloptions (defaults for those not given). With validate
/// (CREATE INDEX, and ALTER INDEX SET/RESET, which pass the merged set),
/// also checks them together: a build needs ef_construction >= 2 m, so a
/// combination that would make the next REINDEX fail is refused here.
bytea* options(Datum reloptions, bool validate) {
    static const relopt_parse_elt tab[] = {
        {"m", RELOPT_TYPE_INT, offsetof(Options, m)},
        {"ef_construction", RELOPT_TYPE_INT, offsetof(Options, ef_construction)},
        {"fastupdate", RELOPT_TYPE_BOOL, offsetof(Options, fastupdate)},
        {"pending_list_limit", RELOPT_TYPE_INT, offsetof(Options, pending_list_limit)},
        {"quantizer", RELOPT_TYPE_ENUM, offsetof(Options, quantizer)},
    };
    bytea* result =
        static_cast<bytea*>(build_reloptions(reloptions, validate, g_relopt_kind, sizeof(Options), tab, 5));
    const Options* opts = reinterpret_cast<const Options*>(result);
    if (validate && opts != nullptr && opts->ef_construction < 2 * opts->m)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("hnsw option ef_construction = %d is less than twice m = %d",
                               opts->ef_construction, opts->m),
                        errdetail("An hnsw graph with m = %d is built with ef_construction of at least %d.",
                                  opts->m, 2 * opts->m),
                        errhint("Options not given take their defaults: m = 16, ef_construction = 64.")));
    return result;
}

bool validate(Oid /*opclassoid*/) { return true; }

/// Of the scan's conditions, the ranges (<, <=, >, >=) on the filter
/// column whose values follow the table's physical order most closely
/// (pg_statistic's correlation; the index's ids follow the order rows were
/// added, as the table's pages do for an appended table): their
/// selectivity and the squared correlation (1 and 0 when there are none).
void ordered_range(PlannerInfo* root, IndexPath* path, double* selectivity, double* csquared) {
    *selectivity = 1.0;
    *csquared = 0.0;
    List* by_column[INDEX_MAX_KEYS] = {};
    ListCell* lc;
    foreach (lc, path->indexclauses) {
        IndexClause* ic = lfirst_node(IndexClause, lc);
        if (ic->indexcol < 0 || ic->indexcol >= INDEX_MAX_KEYS) continue;
        ListCell* qc;
        foreach (qc, ic->indexquals) {
            RestrictInfo* ri = lfirst_node(RestrictInfo, qc);
            if (!IsA(ri->clause, OpExpr) || list_length(castNode(OpExpr, ri->clause)->args) != 2) continue;
            const int strategy = get_op_opfamily_strategy(castNode(OpExpr, ri->clause)->opno,
                                                          path->indexinfo->opfamily[ic->indexcol]);
            if (strategy == kFilterLt || strategy == kFilterLe || strategy == kFilterGe ||
                strategy == kFilterGt)
                by_column[ic->indexcol] = lappend(by_column[ic->indexcol], ri);
        }
    }
    for (int col = 0; col < INDEX_MAX_KEYS; ++col) {
        if (by_column[col] == NIL) continue;
        RestrictInfo* first = static_cast<RestrictInfo*>(linitial(by_column[col]));
        VariableStatData vd;
        examine_variable(root, static_cast<Node*>(linitial(castNode(OpExpr, first->clause)->args)), 0, &vd);
        double c = 0.0;
        if (HeapTupleIsValid(vd.statsTuple)) {
            AttStatsSlot slot;
            if (get_attstatsslot(&slot, vd.statsTuple, STATISTIC_KIND_CORRELATION, InvalidOid,
                                 ATTSTATSSLOT_NUMBERS)) {
                if (slot.nnumbers == 1) c = slot.numbers[0];
                free_attstatsslot(&slot);
            }
        }
        ReleaseVariableStats(vd);
        if (c * c > *csquared) {
            *csquared = c * c;
            *selectivity = clauselist_selectivity(root, by_column[col], path->indexinfo->rel->relid,
                                                  JOIN_INNER, nullptr);
        }
    }
}

/// Cost model (see DESIGN.md, "query semantics"): starting a scan costs the
/// upper-level descent plus one ef_search-wide search; every further row
/// costs a share of an expansion. The total is what walking the whole index
/// would cost, so that with a filter of selectivity s the planner's LIMIT
/// interpolation charges k / (s N) of it: the index loses to an exact scan
/// exactly when the filter (through another index) leaves few rows. With
/// conditions on the index's own filter columns that the scan answers by
/// its exact pass (few rows pass: nmvec::hnsw::choose_filter_mode, or
/// hnsw.filter_mode = exact), the cost is that pass's, all before the first
/// row (nmvec::hnsw::planned_exact_cost: a bound or a distance per passing
/// row, a filter check of every element on the pages whose zone may pass,
/// a zone judged a page, from the backend's copy where it keeps them).
void costestimate(PlannerInfo* root, IndexPath* path, double /*loop_count*/, Cost* startup, Cost* total,
                  Selectivity* selectivity, double* correlation, double* pages) {
    IndexOptInfo* index = path->indexinfo;
    // Conditions on filter columns are checked by the scan: the rows it
    // returns are the table's share that passes them.
    *selectivity = path->indexclauses == NIL
                       ? 1.0
                       : clauselist_selectivity(root, get_quals_from_indexclauses(path->indexclauses),
                                                index->rel->relid, JOIN_INNER, nullptr);
    *correlation = 0.0;
    if (path->indexorderbys == NIL) {  // only ordered scans make sense
        *startup = *total = get_float8_infinity();
        *pages = 0;
        return;
    }
    Relation rel = index_open(index->indexoid, NoLock);
    const Options* opts = reinterpret_cast<const Options*>(rel->rd_options);
    int m = opts ? opts->m : 16;
    int32 typmod = TupleDescAttr(RelationGetDescr(rel), nmvec::pg::vector_column(rel))->atttypmod;
    index_close(rel, NoLock);
    double dims = typmod > 0 ? typmod : 384;
    double tuples = std::max(index->tuples, 1.0);
    // One visit: a distance (cost grows with dims) and a page touched in
    // shared buffers (cheaper than a sequential page read).
    double per_visit = 0.25 * seq_page_cost + cpu_operator_cost * (1.0 + dims / 32.0);
    double levels = std::max(1.0, std::log(tuples) / std::log(static_cast<double>(std::max(m, 2))));
    double first = (static_cast<double>(g_ef_search) * m + levels * m) * per_visit;
    double per_row = 0.5 * m * per_visit;
    if (path->indexclauses != NIL) {
        const double rows = *selectivity * tuples;
        const nmvec::hnsw::FilterMode mode =
            g_filter_mode == kFilterAuto
                ? nmvec::hnsw::choose_filter_mode(*selectivity, tuples, static_cast<size_t>(g_ef_search), 1.0,
                                                  true)
                : static_cast<nmvec::hnsw::FilterMode>(g_filter_mode);
        if (mode == nmvec::hnsw::FilterMode::kExact) {
            // Zones and sweep codes as the index has them (its meta page);
            // the backend keeps copies of the zones when all of them fit
            // (PageAccess).
            Meta meta;
            rel = index_open(index->indexoid, NoLock);
            const bool have_meta = RelationGetNumberOfBlocks(rel) > 0;
            if (have_meta) read_meta(rel, &meta);
            index_close(rel, NoLock);
            const uint32 zone_bytes = have_meta ? meta_zone_bytes(meta) : 0;
            const double per_page = have_meta ? meta_nodes_per_page(meta) : 1.0;
            const bool bounded = have_meta && meta_sweep_bytes(meta) > 0;
            // (The copies of filter values may take three quarters of the
            // budget: the zones are sure of a quarter.)
            const bool kept = tuples / per_page * zone_bytes <= static_cast<double>(kZoneCacheBytes) / 4;
            double ordered, csquared;
            ordered_range(root, path, &ordered, &csquared);
            *startup = nmvec::hnsw::planned_exact_cost(*selectivity, tuples, per_page, zone_bytes > 0,
                                                       bounded, kept, ordered, csquared) *
                       per_visit;
            *total = *startup + rows * cpu_operator_cost;
            *pages = std::max(1.0, static_cast<double>(index->pages));
            return;
        }
    }
    *startup = first;
    *total = first + tuples * per_row;
    *pages = std::max(1.0, index->pages * std::min(1.0, g_ef_search * m / tuples));
}

}  // namespace

void opclass_info(Relation index, nmvec::hnsw::Metric* metric, ElemKind* kind) {
    const AttrNumber att = static_cast<AttrNumber>(nmvec::pg::vector_column(index) + 1);
    FmgrInfo* proc = index_getprocinfo(index, att, 1);
    int32 code = DatumGetInt32(FunctionCall1(proc, PointerGetDatum(nullptr)));
    *metric = static_cast<nmvec::hnsw::Metric>(code & 0xF);
    *kind = static_cast<ElemKind>(code >> 4);
    if (*metric < nmvec::hnsw::Metric::L2 || *metric > nmvec::hnsw::Metric::L1 ||
        (*kind != kFloat32 && *kind != kFloat16))
        elog(ERROR, "hnsw operator class support function returned an unknown code %d", code);
}

uint8 quantizer_for_build(Relation index, nmvec::hnsw::Metric metric) {
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    const int q = opts ? opts->quantizer : kOptQuantNone;
    if (q == kOptQuantNone) return kQuantNone;
    const char* name = q == kOptQuantRabitq ? "rabitq" : "sq8";
    if (metric == nmvec::hnsw::Metric::L1)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("hnsw quantizer \"%s\" does not support the L1 distance", name),
                        errdetail("Its codes estimate L2 distances and inner products only."),
                        errhint("Use quantizer = 'none' with vector_l1_ops and halfvec_l1_ops.")));
    return q == kOptQuantRabitq ? kQuantRabitq : kQuantSq8;
}

bool fastupdate_of(Relation index) {
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    return opts == nullptr || opts->fastupdate;
}

uint64 pending_limit_bytes(Relation index) {
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    int kb = opts && opts->pending_list_limit >= 0 ? opts->pending_list_limit : g_pending_list_limit;
    return static_cast<uint64>(kb) * 1024u;
}

void ensure_dims(Relation index, Layout* layout, int dims) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Meta* meta = page_meta(GenericXLogRegisterBuffer(st, buf, 0));
    if (meta->dims == 0) {
        meta->dims = static_cast<uint32>(dims);
        GenericXLogFinish(st);
    } else {
        GenericXLogAbort(st);
    }
    UnlockReleaseBuffer(buf);
    read_layout(index, layout);
}

void register_hnsw() {
    g_relopt_kind = add_reloption_kind();
    add_int_reloption(g_relopt_kind, "m",
                      "Neighbours per element on the upper levels (twice that on level 0)", 16,
                      nmvec::hnsw::kMinM, nmvec::hnsw::kMaxM, AccessExclusiveLock);
    add_int_reloption(g_relopt_kind, "ef_construction", "Candidate list size while building the graph", 64,
                      nmvec::hnsw::kMinEfConstruction, nmvec::hnsw::kMaxEfConstruction, AccessExclusiveLock);
    add_bool_reloption(
        g_relopt_kind, "fastupdate",
        "Inserts go to a pending list that scans search exactly and merges link into the graph", true,
        ShareUpdateExclusiveLock);
    add_int_reloption(g_relopt_kind, "pending_list_limit",
                      "Size in kB of the pending list at which an insert merges it (-1: "
                      "nmvec.pending_list_limit)",
                      -1, 64, MAX_KILOBYTES, ShareUpdateExclusiveLock);
    add_enum_reloption(g_relopt_kind, "quantizer",
                       "Codes the graph walk of a scan computes distances on (none: exact vectors); "
                       "rows are re-ranked with the exact vectors",
                       kQuantizerValues, kOptQuantNone, kQuantizerDetail, AccessExclusiveLock);
    DefineCustomIntVariable(
        "hnsw.ef_search", "Candidate list size of an hnsw index scan's first round.",
        "Higher finds more true neighbours, slower. Scans go on past it when asked for more rows.",
        &g_ef_search, 40, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable(
        "hnsw.iterative_scan", "Order of the rows an hnsw index scan returns after its first round.",
        "strict_order: non-decreasing distance; rows found only after farther ones were returned "
        "come at the end. relaxed_order: each row as soon as it is found. off: as strict_order "
        "(nmvec's scans always go on past ef_search while rows are asked for).",
        &g_iterative_scan, kIterativeStrict, kIterativeScanValues, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable(
        "hnsw.filter_mode",
        "How an hnsw index scan walks past elements that fail its filter-column conditions.",
        "auto: by the conditions' estimated selectivity. traverse: through them, computing their distances. "
        "two_hop: through their neighbours that pass. exact: no walk, every element that passes. "
        "See docs/filters.md.",
        &g_filter_mode, kFilterAuto, kFilterModeValues, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "hnsw.max_scan_tuples",
        "Most elements one hnsw index scan computes a distance for after its first round.",
        "Bounds the work behind a very selective filter; a scan that stops here says so with a "
        "NOTICE.",
        &g_max_scan_tuples, 50000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable(
        "hnsw.scan_mem_multiplier", "Multiple of work_mem an hnsw index scan's search state may use.",
        "The scan keeps 24 bytes per element it computed a distance for; one that reaches "
        "work_mem times this stops with a NOTICE, as at hnsw.max_scan_tuples.",
        &g_scan_mem_multiplier, 1.0, 1.0, 1000.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("hnsw");
    DefineCustomIntVariable(
        "nmvec.pending_list_limit", "Size of an hnsw index's pending list at which an insert merges it.",
        "Vectors and node records of elements inserted with fastupdate and not yet linked into the "
        "graph. Scans read the whole list, so a larger limit makes inserts cheaper and scans slower. "
        "The index option pending_list_limit overrides it.",
        &g_pending_list_limit, 4096, 64, MAX_KILOBYTES, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "nmvec.background_merge", "Whether an insert that fills the pending list starts a background merge.",
        "On: a background worker merges the list while inserts go on; an insert merges it itself only "
        "when the list reaches four times the limit. Off: the insert that passes the limit merges it.",
        &g_background_merge, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("nmvec.merge_delay", "Test aid: pause after each element an hnsw merge links.",
                            "For crash tests only; 0 (the default) disables it.", &g_merge_delay_ms, 0, 0,
                            10000, PGC_SUSET, GUC_UNIT_MS | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "nmvec.hnsw_scan_stats",
        "Measurement aid: each ordered hnsw index scan ends with a NOTICE of its work.",
        "The filter mode it walked in, the estimated selectivity, distances computed (of them: the passing "
        "seeds of a two-hop walk that ran dry, its crowd sample and the sweep), rows the graph walk returned "
        "and the time from the scan's start.",
        &g_scan_stats, false, PGC_USERSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("nmvec.hnsw_dry_seeds",
                            "Development aid: passing seeds a dry two-hop walk takes.",
                            "0: none, the sweep at once.", &g_dry_seeds, nmvec::hnsw::kDrySeeds, 0, 4096,
                            PGC_USERSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("nmvec");
}

}  // namespace nmvec::pg::hnsw

using namespace nmvec::pg::hnsw;

extern "C" {
PG_FUNCTION_INFO_V1(nmvec_hnsw_handler);
}

extern "C" Datum nmvec_hnsw_handler(PG_FUNCTION_ARGS) {
    IndexAmRoutine* am = nmvec::pg::vector_am_routine();
    // Filter columns besides the vector (filter_columns.h): scan keys with
    // = ANY (array) and IS [NOT] NULL reach the scan.
    am->amcanmulticol = true;
    am->amsearcharray = true;
    am->amsearchnulls = true;
    am->ambuild = nmvec_hnsw_build;
    am->ambuildempty = nmvec_hnsw_buildempty;
    am->aminsert = nmvec_hnsw_insert;
    am->ambulkdelete = nmvec_hnsw_bulkdelete;
    am->amvacuumcleanup = nmvec_hnsw_vacuumcleanup;
    am->amcostestimate = costestimate;
    am->amoptions = options;
    am->ambuildphasename = phase_name;
    am->amvalidate = validate;
    am->ambeginscan = nmvec_hnsw_beginscan;
    am->amrescan = nmvec_hnsw_rescan;
    am->amgettuple = nmvec_hnsw_gettuple;
    am->amendscan = nmvec_hnsw_endscan;
    PG_RETURN_POINTER(am);
}

// Operator-class support function 1: which metric and element kind.
#define NMVEC_HNSW_SUPPORT(name, metric, kind) \
    NMVEC_FUNCTION(name) { PG_RETURN_INT32(static_cast<int>(nmvec::hnsw::Metric::metric) | ((kind) << 4)); }
NMVEC_HNSW_SUPPORT(nmvec_hnsw_vector_l2, L2, kFloat32)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_vector_ip, InnerProduct, kFloat32)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_vector_cosine, Cosine, kFloat32)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_vector_l1, L1, kFloat32)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_halfvec_l2, L2, kFloat16)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_halfvec_ip, InnerProduct, kFloat16)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_halfvec_cosine, Cosine, kFloat16)
NMVEC_HNSW_SUPPORT(nmvec_hnsw_halfvec_l1, L1, kFloat16)

/// nmvec_index_stats(regclass): what an hnsw index holds. Its exact live
/// and deleted counts are the table's, so it asks what pgstattuple asks
/// (the privileges of pg_stat_scan_tables) or SELECT on the indexed table,
/// before it locks anything.
NMVEC_FUNCTION(nmvec_index_stats) {
    Oid oid = PG_GETARG_OID(0);
    nmvec::pg::require_stats_privilege(oid);
    Relation rel = relation_open(oid, AccessShareLock);
    if (rel->rd_rel->relkind != RELKIND_INDEX || rel->rd_rel->relam != get_index_am_oid("hnsw", false)) {
        const char* name = pstrdup(RelationGetRelationName(rel));
        relation_close(rel, AccessShareLock);
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an hnsw index", name)));
    }
    // The meta page checked (magic, format version, the fields used below:
    // m, n_elements and the node extents within the relation).
    Meta meta;
    read_meta(rel, &meta);
    // Count from the node records themselves: an id allocated by an insert
    // that crashed before writing its node is neither live nor deleted.
    int64 live = 0, deleted = 0;
    if (meta.n_elements > 0) {
        const NodePageGeometry geo = meta_node_geometry(meta);
        const uint32 npp = geo.nodes_per_page, nb = node_bytes(meta.m), records_at = geo.records_at;
        uint32 id = 0;
        for (uint32 e = 0; e < meta.n_node_extents && id < meta.n_elements; ++e) {
            for (uint32 p = 0; p < meta.node_extents[e].pages && id < meta.n_elements; ++p) {
                Buffer nbuf = ReadBuffer(rel, meta.node_extents[e].start + p);
                LockBuffer(nbuf, BUFFER_LOCK_SHARE);
                const char* data = stream_data(BufferGetPage(nbuf)) + records_at;
                for (uint32 i = 0; i < npp && id < meta.n_elements; ++i, ++id) {
                    const NodeHeader* h = reinterpret_cast<const NodeHeader*>(data + i * nb);
                    if (!ItemPointerIsValid(&h->heap_tid)) continue;
                    if (h->flags & kNodeDeleted)
                        ++deleted;
                    else
                        ++live;
                }
                UnlockReleaseBuffer(nbuf);
            }
        }
    }
    Layout layout;
    layout.load(&meta);
    const int64 pending = count_pending(rel, layout);
    int64 pages = RelationGetNumberOfBlocks(rel);
    relation_close(rel, AccessShareLock);

    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    Datum values[7];
    bool nulls[7] = {false, false, false, false, false, false, false};
    values[0] = Int64GetDatum(live);
    values[1] = Int32GetDatum(meta.max_level + 1);
    values[2] = Int64GetDatum(pages);
    values[3] = Int64GetDatum(deleted);
    values[4] = Int64GetDatum(pending);  // live elements not linked yet (also counted in live)
    values[5] = Int64GetDatum(pages * BLCKSZ);
    values[6] = Int32GetDatum(static_cast<int32>(meta.dims));
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
