// ivf_am.cpp — the ivf access method handler (also as `ivfflat`), its
// options and GUCs, the cost estimate, and inserts.
#include <algorithm>
#include <cmath>

#include "am_common.h"
#include "ivf_am.h"

extern "C" {
#include "access/relation.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
}

namespace nmvec::pg::ivf {

int g_probes = 0;
int g_rerank = 0;
int g_ivfflat_probes = 1;
int g_ivfflat_iterative_scan = 0;
int g_ivfflat_max_probes = kMaxLists;

namespace {

relopt_kind g_relopt_kind;

// pgvector's values. nmvec's scans always probe further lists while rows
// are asked for (up to ivfflat.max_probes), so `off` does not stop them.
const struct config_enum_entry kIterativeScanValues[] = {
    {"off", 0, false},
    {"relaxed_order", 1, false},
    {nullptr, 0, false},
};

/// The quantizer named by an option value; false for an unknown name.
bool parse_quantizer(const char* value, Quantizer* q, uint32* bits) {
    static const struct {
        const char* name;
        Quantizer q;
        uint32 bits;
    } kNames[] = {{"flat", kFlat, 0},
                  {"rabitq", kRabitq, 1},
                  {"rabitq2", kRabitq, 2},
                  {"rabitq4", kRabitq, 4},
                  {"rabitq8", kRabitq, 8}};
    for (const auto& n : kNames)
        if (strcmp(value, n.name) == 0) {
            *q = n.q;
            *bits = n.bits;
            return true;
        }
    return false;
}

void validate_quantizer(const char* value) {
    Quantizer q;
    uint32 bits;
    if (value == nullptr || parse_quantizer(value, &q, &bits)) return;
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("invalid value for ivf option \"quantizer\": \"%s\"", value),
                    errdetail("Valid values: \"flat\" (the vectors themselves), \"rabitq\", \"rabitq4\", "
                              "\"rabitq8\" (RaBitQ codes of 1, 4 or 8 bits per dimension, re-ranked with the "
                              "table's vectors), \"rabitq2\" (1-bit codes with a second bit per dimension "
                              "read for the rows that may rank).")));
}

bytea* options(Datum reloptions, bool validate) {
    static const relopt_parse_elt tab[] = {
        {"lists", RELOPT_TYPE_INT, offsetof(Options, lists)},
        {"quantizer", RELOPT_TYPE_STRING, offsetof(Options, quantizer_offset)},
    };
    return static_cast<bytea*>(
        build_reloptions(reloptions, validate, g_relopt_kind, sizeof(Options), tab, 2));
}

bool validate(Oid /*opclassoid*/) { return true; }

char* phase_name(int64 phase) {
    switch (phase) {
        case 1:
            return const_cast<char*>("sampling");
        case 2:
            return const_cast<char*>("training centroids");
        case 3:
            return const_cast<char*>("assigning rows");
        case 4:
            return const_cast<char*>("writing pages");
        default:
            return nullptr;
    }
}

/// Cost model: a scan computes the distance to every centroid, then to
/// every row of the lists it probes; the total is what probing every list
/// costs, so with a filter of selectivity s the planner's LIMIT
/// interpolation charges k / (s N) of it (as for hnsw, hnsw_am.cpp). With
/// conditions on the index's filter columns, a record that fails them costs
/// its read and check, no distance, and the first round reads lists until
/// it holds half as many passing rows as its first probes hold rows
/// (ivf_scan.cpp): a share 1/(2s) larger of the lists, but at most kMaxWiden
/// times its first lists when those hold enough passing rows to stop there
/// (s at least 1/(kWidenShare kMaxWiden^2), ~0.05 %). Without that cap a
/// 0.2 % filter over 10M rows was costed as reading 59 % of the index
/// (74,000) where the scan reads 8 % in 6.7 ms, and the planner took a
/// B-tree plan of cost 27,000 that ran 47 ms (docs/filters.md). A filter
/// anti-correlated with the query reads on past the cap (the share of
/// passing rows rises); nothing here can tell it from the rest.
void costestimate(PlannerInfo* root, IndexPath* path, double /*loop_count*/, Cost* startup, Cost* total,
                  Selectivity* selectivity, double* correlation, double* pages) {
    IndexOptInfo* index = path->indexinfo;
    *selectivity = path->indexclauses == NIL
                       ? 1.0
                       : clauselist_selectivity(root, get_quals_from_indexclauses(path->indexclauses),
                                                index->rel->relid, JOIN_INNER, nullptr);
    *correlation = 0.0;
    if (path->indexorderbys == NIL) {
        *startup = *total = get_float8_infinity();
        *pages = 0;
        return;
    }
    Relation rel = index_open(index->indexoid, NoLock);
    int32 typmod = TupleDescAttr(RelationGetDescr(rel), nmvec::pg::vector_column(rel))->atttypmod;
    uint32 first, max;
    const double tuples = std::max(index->tuples, 1.0);
    const int lists_opt = lists_option(rel);
    const uint32 lists = lists_opt > 0 ? static_cast<uint32>(lists_opt) : auto_lists(tuples);
    probe_counts(rel, lists, &first, &max);
    index_close(rel, NoLock);
    const double dims = typmod > 0 ? typmod : 384;
    const double per_dist = cpu_operator_cost * (1.0 + dims / 32.0);
    const double per_read = 0.01 * seq_page_cost;  // list pages are read in sequence
    const double per_check = path->indexclauses == NIL ? 0.0 : cpu_operator_cost;
    const double sel = std::clamp(static_cast<double>(*selectivity), 1e-9, 1.0);
    double share =
        std::min(1.0, static_cast<double>(first) / lists / (static_cast<double>(kWidenShare) * sel));
    if (sel * static_cast<double>(kWidenShare) * kMaxWiden * kMaxWiden >= 1.0)
        share = std::min(share, static_cast<double>(kMaxWiden) * first / lists);
    *startup = lists * per_dist + tuples * share * (per_read + per_check + sel * per_dist);
    *total = lists * per_dist + tuples * (per_read + per_check + sel * per_dist);
    *pages = std::max(1.0, index->pages * share);
}

}  // namespace

void quantizer_option(Relation index, bool column_key, Quantizer* q, uint32* bits) {
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    if (opts == nullptr || opts->quantizer_offset == 0) {
        // Not given: 1-bit RaBitQ for an ivf index on a column (the scan
        // re-ranks with the column); flat for ivfflat (pgvector's name says
        // what it stores) and for an index on an expression.
        static Oid ivfflat_oid = InvalidOid;
        if (!OidIsValid(ivfflat_oid)) ivfflat_oid = get_index_am_oid("ivfflat", true);
        const bool rabitq = column_key && index->rd_rel->relam != ivfflat_oid;
        *q = rabitq ? kRabitq : kFlat;
        *bits = rabitq ? 1 : 0;
        return;
    }
    const char* value = reinterpret_cast<const char*>(opts) + opts->quantizer_offset;
    if (!parse_quantizer(value, q, bits)) elog(ERROR, "ivf index has an unknown quantizer \"%s\"", value);
}

int lists_option(Relation index) {
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    return opts ? opts->lists : -1;
}

uint32 auto_lists(double n) {
    // pgvector's advice: rows / 1000 up to a million rows, their square
    // root beyond.
    double lists = n <= 1e6 ? n / 1000.0 : std::sqrt(n);
    return static_cast<uint32>(std::clamp(lists, 1.0, static_cast<double>(kMaxLists)));
}

uint32 auto_probes(uint32 n_lists) {
    // 8, or an eighth of the square root of the lists beyond 4,096 lists
    // (9 at 5,000, 13 at 10,000). Measured recall@10 at 8 probes: 0.99 on
    // fashion-mnist (245 lists), 0.98 on 1M nm-monitor events (1,000
    // lists), 0.978 / 0.996 / 0.990 in three builds over 10M (3,162 lists),
    // where 15 probes (the earlier rule, a quarter of the square root) gave
    // 0.997 for 1.9x the candidates and 0.69x the throughput.
    const auto p = static_cast<uint32>(std::ceil(std::sqrt(static_cast<double>(n_lists)) / 8.0));
    return std::min(n_lists, std::max(8u, p));
}

void probe_counts(Relation index, uint32 n_lists, uint32* first, uint32* max) {
    static Oid ivfflat_oid = InvalidOid;
    if (!OidIsValid(ivfflat_oid)) ivfflat_oid = get_index_am_oid("ivfflat", true);
    if (index->rd_rel->relam == ivfflat_oid) {
        *max = std::min(n_lists, static_cast<uint32>(g_ivfflat_max_probes));
        *first = std::min(*max, static_cast<uint32>(g_ivfflat_probes));
    } else {
        *max = n_lists;
        *first = g_probes > 0 ? std::min(n_lists, static_cast<uint32>(g_probes)) : auto_probes(n_lists);
    }
    *first = std::max(*first, 1u);
    *max = std::max(*max, *first);
}

void opclass_info(Relation index, Metric* metric, ElemKind* kind) {
    FmgrInfo* proc =
        index_getprocinfo(index, static_cast<AttrNumber>(nmvec::pg::vector_column(index) + 1), 1);
    int32 code = DatumGetInt32(FunctionCall1(proc, PointerGetDatum(nullptr)));
    *metric = static_cast<Metric>(code & 0xF);
    *kind = static_cast<ElemKind>(code >> 4);
    if ((*metric != Metric::L2 && *metric != Metric::InnerProduct && *metric != Metric::Cosine) ||
        (*kind != kFloat32 && *kind != kFloat16))
        elog(ERROR, "ivf operator class support function returned an unsupported code %d", code);
}

void register_ivf() {
    g_relopt_kind = add_reloption_kind();
    add_int_reloption(g_relopt_kind, "lists",
                      "Number of inverted lists (default: derived from the row count)", -1, 1, kMaxLists,
                      AccessExclusiveLock);
    add_string_reloption(g_relopt_kind, "quantizer",
                         "How vectors are stored in the lists: flat, rabitq, rabitq2, rabitq4, rabitq8",
                         nullptr, validate_quantizer, AccessExclusiveLock);
    DefineCustomIntVariable("ivf.probes", "Lists an ivf index scan searches first.",
                            "0 (the default) chooses from the index's list count: 8, or an eighth of its "
                            "square root beyond 4,096 lists (never more than the lists). Scans probe "
                            "further lists while rows are asked for.",
                            &g_probes, 0, 0, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ivf.rerank",
                            "Rows a RaBitQ ivf index scan re-ranks with exact distances, at most, per round "
                            "of probes.",
                            "0 (the default) re-ranks as many as the codes' error bounds require for exact "
                            "order within the probed lists (typically the rows asked for plus a few dozen). "
                            "A positive value caps the table reads: rows past the cap come in the order of "
                            "their estimated distance. Flat indexes ignore it.",
                            &g_rerank, 0, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("ivf.insert_helper",
                             "Whether inserts into a RaBitQ ivf index hand the list choice and encoding "
                             "of full batches of rows to a helper thread of the backend.",
                             "On (the default) a COPY or multi-row INSERT computes its rows' lists and codes "
                             "on a second core while the backend stores the next rows; the index holds the "
                             "same records either way. No effect on a machine with one core.",
                             &g_insert_helper, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("ivf");
    DefineCustomIntVariable("ivfflat.probes", "Lists an ivfflat index scan searches first (pgvector's name).",
                            "Read by indexes created USING ivfflat.", &g_ivfflat_probes, 1, 1, kMaxLists,
                            PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("ivfflat.iterative_scan",
                             "Whether an ivfflat index scan probes more lists when asked for more rows "
                             "(pgvector's name).",
                             "nmvec's scans always probe further lists while rows are asked for (up to "
                             "ivfflat.max_probes); both values give rows in relaxed order after the first "
                             "probes.",
                             &g_ivfflat_iterative_scan, 0, kIterativeScanValues, PGC_USERSET, 0, nullptr,
                             nullptr, nullptr);
    DefineCustomIntVariable("ivfflat.max_probes",
                            "Most lists an ivfflat index scan searches (pgvector's name).",
                            "Read by indexes created USING ivfflat.", &g_ivfflat_max_probes, kMaxLists, 1,
                            kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("ivfflat");
    register_insert_buffers();
}

}  // namespace nmvec::pg::ivf

using namespace nmvec::pg::ivf;

namespace {

IndexAmRoutine* make_routine() {
    IndexAmRoutine* am = nmvec::pg::vector_am_routine();
    am->ambuild = nmvec_ivf_build;
    am->ambuildempty = nmvec_ivf_buildempty;
    am->aminsert = nmvec_ivf_insert;
    am->ambulkdelete = nmvec_ivf_bulkdelete;
    am->amvacuumcleanup = nmvec_ivf_vacuumcleanup;
    am->amcostestimate = costestimate;
    am->amoptions = options;
    am->ambuildphasename = phase_name;
    am->amvalidate = validate;
    am->ambeginscan = nmvec_ivf_beginscan;
    am->amrescan = nmvec_ivf_rescan;
    am->amgettuple = nmvec_ivf_gettuple;
    am->amendscan = nmvec_ivf_endscan;
    // Filter columns: key columns besides the vector (filter_columns.h),
    // their conditions (= ANY and IS [NOT] NULL included) checked by scans.
    am->amcanmulticol = true;
    am->amsearcharray = true;
    am->amsearchnulls = true;
    return am;
}

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(nmvec_ivf_handler);
PG_FUNCTION_INFO_V1(nmvec_ivfflat_handler);
}

extern "C" Datum nmvec_ivf_handler(PG_FUNCTION_ARGS) { PG_RETURN_POINTER(make_routine()); }
extern "C" Datum nmvec_ivfflat_handler(PG_FUNCTION_ARGS) { PG_RETURN_POINTER(make_routine()); }

extern "C" {
#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_authid.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
}

/// nmvec_ivf_stats(regclass): what an ivf index holds, list by list summed,
/// and how much of it was added since CREATE INDEX trained the centroids
/// (the drift measure: the centroids describe only the rows built with),
/// and how many lists a scan probes first under the current settings.
/// Privileges as nmvec_index_stats: SELECT on the table or
/// pg_stat_scan_tables, checked before anything is locked.
NMVEC_FUNCTION(nmvec_ivf_stats) {
    Oid oid = PG_GETARG_OID(0);
    nmvec::pg::require_stats_privilege(oid);
    Relation rel = relation_open(oid, AccessShareLock);
    const Oid am = rel->rd_rel->relam;
    if (rel->rd_rel->relkind != RELKIND_INDEX ||
        (am != get_index_am_oid("ivf", false) && am != get_index_am_oid("ivfflat", false))) {
        const char* name = pstrdup(RelationGetRelationName(rel));
        relation_close(rel, AccessShareLock);
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an ivf index", name)));
    }
    flush_buffered(rel);
    Layout l;
    read_layout(rel, &l);
    int64 live = 0, dead = 0, empty = 0, largest = 0;
    {
        ListReader reader(rel, l);
        for (uint32 list = 0; list < l.n_lists; ++list) {
            const ListEntry e = read_entry(rel, l, list);
            int64 n = 0;
            reader.read(e, [&](const RecordHeader* h, const char*) {
                if (h->flags & kRecordDead)
                    ++dead;
                else
                    ++n;
            });
            live += n;
            if (n == 0) ++empty;
            largest = std::max(largest, n);
        }
    }
    const int64 pages = RelationGetNumberOfBlocks(rel);
    uint32 first_probes = 0, max_probes = 0;
    if (l.trained) probe_counts(rel, l.n_lists, &first_probes, &max_probes);
    relation_close(rel, AccessShareLock);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    const int64 total = live + dead;
    const int64 added = std::max<int64>(0, total - static_cast<int64>(l.rows_built));
    Datum values[11];
    bool nulls[11] = {};
    values[0] = Int32GetDatum(static_cast<int32>(l.trained ? l.n_lists : 0));
    values[1] = Int64GetDatum(live);
    values[2] = Int64GetDatum(dead);
    values[3] = Int32GetDatum(static_cast<int32>(empty));
    values[4] = Int64GetDatum(largest);
    values[5] = Int64GetDatum(static_cast<int64>(l.rows_built));
    values[6] = Int64GetDatum(added);
    values[7] = Float8GetDatum(total > 0 ? static_cast<double>(added) / static_cast<double>(total) : 0.0);
    values[8] = Int64GetDatum(pages * BLCKSZ);
    values[9] = Int32GetDatum(static_cast<int32>(l.dims));
    values[10] = Int32GetDatum(static_cast<int32>(first_probes));
    PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
