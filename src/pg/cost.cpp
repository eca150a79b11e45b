// cost.cpp — what a distance costs the planner (prosupport of the distance
// functions: SupportRequestCost).
//
// Postgres charges a C function cpu_operator_cost per call, whatever it
// does. A distance reads every element of both vectors, and a vector column
// stored out of line (STORAGE external or extended, or main for rows that do
// not fit a page) must first be fetched from its TOAST table: an index probe
// and one heap fetch per ~2 kB chunk. Charged at cpu_operator_cost, an exact
// scan of a filtered table looks nearly free, and the planner sorts
// thousands of TOASTed rows rather than walking an ANN index.
//
// Per call we charge:
//   cpu_operator_cost * (1 + dims / 32)                     the arithmetic
//   + for an argument that is a table column whose values
//     go out of line: 0.1 * random_page_cost (TOAST index probe)
//     + chunks * (0.5 * seq_page_cost + cpu_tuple_cost)     the chunks
// The arithmetic term matches the per-visit distance term of the hnsw cost
// estimate (hnsw_am.cpp), so both paths are priced in the same currency. The
// TOAST terms were fitted to bench/results/storage-2026-11-23.md: at 784-d an
// exact scan of TOASTed vectors took 4.2x the time of inline ones.
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
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

namespace {

/// Storage of column var, or 0 when var is not a plain table column.
char column_storage(PlannerInfo* root, const Var* var) {
    if (root == nullptr || var->varlevelsup != 0 || var->varattno <= 0 ||
        var->varno >= root->simple_rel_array_size)
        return 0;
    RangeTblEntry* rte = planner_rt_fetch(var->varno, root);
    if (rte == nullptr || rte->rtekind != RTE_RELATION) return 0;
    HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(var->varattno));
    if (!HeapTupleIsValid(tup)) return 0;
    char storage = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tup))->attstorage;
    ReleaseSysCache(tup);
    return storage;
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
            int dims = *reinterpret_cast<const int16*>(VARDATA(v));
            return dims;
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
        if (!IsA(arg, Var)) continue;
        char storage = column_storage(req->root, reinterpret_cast<Var*>(arg));
        // MAIN keeps values inline unless the row cannot fit a page; PLAIN always.
        bool out_of_line = (storage == TYPSTORAGE_EXTERNAL || storage == TYPSTORAGE_EXTENDED)
                               ? value_bytes > TOAST_TUPLE_THRESHOLD
                               : storage == TYPSTORAGE_MAIN && value_bytes > TOAST_TUPLE_THRESHOLD * 4;
        if (!out_of_line) continue;
        double chunks = std::ceil(value_bytes / TOAST_MAX_CHUNK_SIZE);
        cost += 0.1 * random_page_cost + chunks * (0.5 * seq_page_cost + cpu_tuple_cost);
    }
    req->startup = 0;
    req->per_tuple = cost;
    PG_RETURN_POINTER(req);
}
