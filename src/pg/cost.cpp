// cost.cpp — what a distance costs the planner (prosupport of the distance
// functions: SupportRequestCost).
//
// Postgres charges a C function cpu_operator_cost per call, whatever it
// does. A distance reads every element of both vectors, and a vector column
// value may first have to be fetched from its TOAST table (STORAGE external
// or extended, or main for rows that do not fit a page: an index probe and
// one heap fetch per ~2 kB chunk) or decompressed (pglz or lz4, when the
// column allows compression and the values compress: quantized or
// sparse-ish vectors, pixel data). Charged at cpu_operator_cost, an exact
// scan of a filtered table looks nearly free, and the planner sorts
// thousands of TOASTed or compressed rows rather than walking an ANN index.
//
// Per call we charge:
//   cpu_operator_cost * (1 + dims / 32)                     the arithmetic
//   + for an argument that is a table column whose values
//     go out of line: 0.1 * random_page_cost (TOAST index probe)
//     + chunks * (0.5 * seq_page_cost + cpu_tuple_cost)     the chunks
//   + for one whose values are compressed: raw bytes * the method's
//     per-byte cost (kPglzPerByte, kLz4PerByte)             the decompression
// How the values are stored comes from the column's statistics when ANALYZE
// has run: pg_statistic.stawidth is the average width *as stored*, so
// compressed values show up well under the raw size, and out-of-line ones
// as the 18-byte TOAST pointer. Without statistics the storage setting and
// the value size predict it (values assumed incompressible).
// The arithmetic term matches the per-visit distance term of the hnsw cost
// estimate (hnsw_am.cpp), so both paths are priced in the same currency. The
// TOAST terms were fitted to bench/results/storage-2026-11-23.md (at 784-d
// an exact scan of TOASTed vectors took 4.2x the time of inline ones, ~2.1 us
// a row, so one cost unit is ~1.5 us here); the decompression terms to
// bench/results/column-storage-2026-12-03.md (fashion-mnist 784-d: an exact
// scan paid 3.6 us a row more for pglz-compressed values than for plain
// ones, 1.3 us for lz4).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "pg.h"

#include "guard.h"
#include "vector_type.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "access/heaptoast.h"
#include "access/toast_compression.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace {

/// Cost units per raw byte to decompress (one unit ~ 1.5 us, see above):
/// pglz ~1.1 ns a byte, lz4 ~0.4 ns.
constexpr double kPglzPerByte = 0.00076;
constexpr double kLz4PerByte = 0.00027;

/// How the values of a table column are stored, as far as reading one costs.
struct ColumnStorage {
    char storage = 0;      // attstorage, 0 when not a plain table column
    char compression = 0;  // attcompression, or the default method
    int32 avg_width = 0;   // stawidth (as stored), 0 without statistics
};

ColumnStorage column_storage(PlannerInfo* root, const Var* var) {
    ColumnStorage cs;
    if (root == nullptr || var->varlevelsup != 0 || var->varattno <= 0 ||
        var->varno >= root->simple_rel_array_size)
        return cs;
    RangeTblEntry* rte = planner_rt_fetch(var->varno, root);
    if (rte == nullptr || rte->rtekind != RTE_RELATION) return cs;
    HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(var->varattno));
    if (!HeapTupleIsValid(tup)) return cs;
    auto* att = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tup));
    cs.storage = att->attstorage;
    cs.compression = att->attcompression;
    ReleaseSysCache(tup);
    if (cs.compression == InvalidCompressionMethod)
        cs.compression = default_toast_compression == TOAST_LZ4_COMPRESSION_ID ? TOAST_LZ4_COMPRESSION
                                                                               : TOAST_PGLZ_COMPRESSION;
    cs.avg_width = get_attavgwidth(rte->relid, var->varattno);
    return cs;
}

/// What getting one value of the column to the distance costs beyond the
/// arithmetic: TOAST fetches and decompression.
double read_cost(const ColumnStorage& cs, double value_bytes) {
    if (cs.storage == 0 || cs.storage == TYPSTORAGE_PLAIN) return 0.0;
    bool out_of_line, compressed;
    if (cs.avg_width > 0) {
        // Statistics: the width as stored.
        out_of_line = cs.avg_width <= 32;
        compressed = !out_of_line && cs.avg_width < 0.9 * value_bytes;
    } else {
        // MAIN keeps values inline unless the row cannot fit a page; EXTERNAL
        // and EXTENDED move them out above the TOAST threshold.
        out_of_line = (cs.storage == TYPSTORAGE_EXTERNAL || cs.storage == TYPSTORAGE_EXTENDED)
                          ? value_bytes > TOAST_TUPLE_THRESHOLD
                          : value_bytes > TOAST_TUPLE_THRESHOLD * 4;
        compressed = false;
    }
    double cost = 0.0;
    if (out_of_line) {
        double chunks = std::ceil(value_bytes / TOAST_MAX_CHUNK_SIZE);
        cost += 0.1 * random_page_cost + chunks * (0.5 * seq_page_cost + cpu_tuple_cost);
    }
    if (compressed)
        cost += value_bytes * (cs.compression == TOAST_LZ4_COMPRESSION ? kLz4PerByte : kPglzPerByte);
    return cost;
}

/// Dimensions of a vector-valued expression: its typmod, or the header of a
/// constant; 0 when unknown.
int expr_dims(Node* arg) {
    int32 typmod = exprTypmod(arg);
    if (typmod > 0) return typmod;
    if (IsA(arg, Const)) {
        const Const* c = reinterpret_cast<const Const*>(arg);
        if (!c->constisnull) {
            // vector and halfvec both start with int16 dim after the varlena header.
            struct varlena* v = PG_DETOAST_DATUM(c->constvalue);
            if (VARSIZE_ANY_EXHDR(v) < sizeof(int16)) return 0;  // not a vector header: unknown
            int dims = *reinterpret_cast<const int16*>(VARDATA(v));
            return dims >= 1 && dims <= nmvec::kMaxDims ? dims : 0;
        }
    }
    return 0;
}

/// Whether type is our halfvec (by name, whatever schema the extension is in).
bool is_halfvec(Oid type) {
    HeapTuple tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
    if (!HeapTupleIsValid(tup)) return false;
    bool yes = strcmp(NameStr(reinterpret_cast<Form_pg_type>(GETSTRUCT(tup))->typname),
                      nmvec::pg::HalfTraits::kName) == 0;
    ReleaseSysCache(tup);
    return yes;
}

}  // namespace

NMVEC_FUNCTION(nmvec_distance_support) {
    Node* raw = reinterpret_cast<Node*>(PG_GETARG_POINTER(0));
    if (!IsA(raw, SupportRequestCost)) PG_RETURN_POINTER(nullptr);
    auto* req = reinterpret_cast<SupportRequestCost*>(raw);
    List* args = NIL;
    if (req->node != nullptr && IsA(req->node, FuncExpr))
        args = reinterpret_cast<FuncExpr*>(req->node)->args;
    else if (req->node != nullptr && IsA(req->node, OpExpr))
        args = reinterpret_cast<OpExpr*>(req->node)->args;
    if (list_length(args) != 2) PG_RETURN_POINTER(nullptr);

    int dims = 0;
    double elem_bytes = 4;
    ListCell* lc;
    foreach (lc, args) {
        Node* arg = reinterpret_cast<Node*>(lfirst(lc));
        dims = std::max(dims, expr_dims(arg));
        if (is_halfvec(exprType(arg))) elem_bytes = 2;
    }
    if (dims <= 0) dims = 384;  // unknown: a typical embedding

    double cost = cpu_operator_cost * (1.0 + dims / 32.0);
    const double value_bytes = VARHDRSZ + 4 + dims * elem_bytes;
    foreach (lc, args) {
        Node* arg = reinterpret_cast<Node*>(lfirst(lc));
        if (IsA(arg, Var))
            cost += read_cost(column_storage(req->root, reinterpret_cast<Var*>(arg)), value_bytes);
    }
    req->startup = 0;
    req->per_tuple = cost;
    PG_RETURN_POINTER(req);
}
