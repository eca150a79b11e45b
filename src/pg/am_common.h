// am_common.h — what nmvec's index access methods (hnsw, ivf) share.
#pragma once

#include "pg.h"

extern "C" {
#include "access/amapi.h"
}

namespace nmvec::pg {

/// A new IndexAmRoutine with the capabilities every nmvec vector index has:
/// ordered by an operator (ORDER BY col <op> q), one key column, no unique,
/// backward, bitmap or parallel scans, no predicate locks. The caller sets
/// the callbacks.
IndexAmRoutine* vector_am_routine();

/// Raise 42501 unless the current user may read counts of the index's
/// table (as pgstattuple asks: the privileges of pg_stat_scan_tables, or
/// SELECT on the table). Checked before anything is locked; an OID that is
/// not an index passes (the caller's own checks reject it).
void require_stats_privilege(Oid index);

}  // namespace nmvec::pg
