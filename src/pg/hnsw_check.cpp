// hnsw_check.cpp — nmvec_index_check(regclass): read every node record and
// neighbour list of an hnsw index and count what should never be there.
// Used by the crash tests (kill -9 during a merge) and useful after any
// suspicion of corruption; reading is all it does.
#include "hnsw_am.h"

extern "C" {
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/index.h"
#include "catalog/pg_authid.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace nmvec::pg::hnsw {
namespace {

struct CheckCounts {
    int64 linked = 0, pending = 0, deleted = 0, unwritten = 0;
    int64 duplicate_links = 0, self_links = 0, links_to_unwritten = 0, pending_below_first = 0;
    int64 unreached = 0;  // linked, live, and named by no level-0 list (reached only by the sweep)
};

struct CheckState {
    Layout layout;
    std::unique_ptr<PageAccess> access;
    std::vector<uint8> written;  // by id: node record has a heap TID
    std::vector<uint32> list;
    CheckCounts c;
};

void check_index(Relation index, CheckState& s) {
    read_layout(index, &s.layout);
    s.access = std::make_unique<PageAccess>(index, &s.layout);
    const uint32 n = s.layout.n_elements;
    s.written.assign(n, 0);
    std::vector<uint8> levels(n, 0);
    NodeHeader h;
    for (uint32 id = 0; id < n; ++id) {
        CHECK_FOR_INTERRUPTS();
        read_node_header(index, s.layout, id, &h);
        if (!ItemPointerIsValid(&h.heap_tid)) {
            ++s.c.unwritten;
            continue;
        }
        s.written[id] = 1;
        levels[id] = h.level;
        if (h.flags & kNodeDeleted)
            ++s.c.deleted;
        else if (h.flags & kNodePending)
            ++s.c.pending;
        else
            ++s.c.linked;
        // A deleted element's pending flag no longer matters: nothing reads it.
        if ((h.flags & kNodePending) && !(h.flags & kNodeDeleted) && id < s.layout.first_pending)
            ++s.c.pending_below_first;
    }
    std::vector<uint8> named(n, 0);
    std::vector<uint8> linked_live(n, 0);
    for (uint32 id = 0; id < n; ++id) {
        if (!s.written[id]) continue;
        read_node_header(index, s.layout, id, &h);
        linked_live[id] = !(h.flags & (kNodeDeleted | kNodePending));
        for (int l = 0; l <= levels[id] && l <= nmvec::hnsw::kMaxLevel; ++l) {
            uint32 k = s.access->read_neighbors(id, l);  // ids checked against the elements
            s.list.assign(s.access->nbuf(), s.access->nbuf() + k);
            for (uint32 x : s.list) {
                if (l == 0 && x < n && x != id) named[x] = 1;
                if (x == id) ++s.c.self_links;
                if (x < n && !s.written[x]) ++s.c.links_to_unwritten;
            }
            std::sort(s.list.begin(), s.list.end());
            for (size_t i = 1; i < s.list.size(); ++i) s.c.duplicate_links += s.list[i] == s.list[i - 1];
        }
    }
    for (uint32 id = 0; id < n; ++id)
        s.c.unreached += linked_live[id] && !named[id] && id != s.layout.entry && s.layout.n_elements > 1;
}

}  // namespace
}  // namespace nmvec::pg::hnsw

using namespace nmvec::pg::hnsw;

/// nmvec_index_check(regclass): counts of an hnsw index's elements by state
/// and of neighbour-list faults (all zero in a sound index). Reads every
/// node, so it asks what nmvec_index_stats asks.
NMVEC_FUNCTION(nmvec_index_check) {
    Oid oid = PG_GETARG_OID(0);
    Oid heap = IndexGetRelation(oid, true);
    if (OidIsValid(heap) && !has_privs_of_role(GetUserId(), ROLE_PG_STAT_SCAN_TABLES) &&
        pg_class_aclcheck(heap, GetUserId(), ACL_SELECT) != ACLCHECK_OK) {
        const char* table_name = get_rel_name(heap);
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("permission denied to check an index on table \"%s\"", table_name ? table_name : "?"),
                 errdetail("Only roles with SELECT on the table or with the privileges of the "
                           "\"pg_stat_scan_tables\" role may check its indexes.")));
    }
    Relation rel = relation_open(oid, AccessShareLock);
    if (rel->rd_rel->relkind != RELKIND_INDEX || rel->rd_rel->relam != get_index_am_oid("hnsw", false)) {
        const char* name = pstrdup(RelationGetRelationName(rel));
        relation_close(rel, AccessShareLock);
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not an hnsw index", name)));
    }
    CheckState* s = nmvec::pg::new_in_context<CheckState>(CurrentMemoryContext, "nmvec hnsw check");
    check_index(rel, *s);
    const CheckCounts c = s->c;
    MemoryContextDelete(GetMemoryChunkContext(s));
    relation_close(rel, AccessShareLock);

    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "return type must be a row type");
    Datum values[9] = {Int64GetDatum(c.linked),
                       Int64GetDatum(c.pending),
                       Int64GetDatum(c.deleted),
                       Int64GetDatum(c.unwritten),
                       Int64GetDatum(c.duplicate_links),
                       Int64GetDatum(c.self_links),
                       Int64GetDatum(c.links_to_unwritten),
                       Int64GetDatum(c.pending_below_first),
                       Int64GetDatum(c.unreached)};
    bool nulls[9] = {false, false, false, false, false, false, false, false, false};
    return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}
