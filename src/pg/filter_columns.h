// filter_columns.h — an index's filter columns (its key columns besides the
// vector): their stored layout, their values from a row, and the scan keys
// of a WHERE clause on them (src/core/attr_filter.h holds the pure part).
//
// Types: int2, int4, int8, bool, date, timestamp, timestamptz (values kept
// as the integers the types are made of, in their order), and text,
// varchar, uuid, kept as a 64-bit hash of their bytes (hash_any_extended,
// seed 0): = and IN rule rows out by it, other comparisons only NULLs, and
// the executor rechecks the rows a scan with such a condition returns.
// Text columns must have a deterministic collation (equal strings, equal
// bytes). The operator
// classes (sql: hnsw's integer_ops, bool_ops, date_ops, timestamp_ops,
// timestamptz_ops) give strategies 1 <, 2 <=, 3 =, 4 >=, 5 >, 6 <>; the
// integer family also holds the cross-type operators (int4 column = int8
// value).
#pragma once

#include "../core/attr_filter.h"
#include "pg.h"

extern "C" {
#include "access/skey.h"
#include "utils/rel.h"
}

namespace nmvec::pg {

/// Strategy numbers of the filter operator classes.
constexpr StrategyNumber kFilterLt = 1, kFilterLe = 2, kFilterEq = 3, kFilterGe = 4, kFilterGt = 5,
                         kFilterNe = 6;

/// The index's vector column (0-based): the one key column whose operator
/// class has support function 1 (the vector opclasses). Raises 0A000 when
/// there is none or more than one. Every other key column is a filter
/// column, before or after it.
int vector_column(Relation index);

/// Whether values of type `type` can be a filter column, and their width.
bool filter_type_width(Oid type, uint8_t* width);
/// Whether a filter column of this type is stored as a hash.
bool filter_type_hashed(Oid type);

/// The layout of the index's filter columns (its key columns but the
/// vector, in order); empty (no columns) for a one-column index. Raises
/// 0A000 for a column of a type that cannot be one.
nmvec::filter::RecordLayout filter_layout(Relation index);

/// Write the filter-column values of one row (values/isnull of all the
/// index's columns, as ambuild and aminsert get them; vcol: vector_column's
/// answer, taken once by the caller) into out (layout.bytes).
void encode_filter_columns(const nmvec::filter::RecordLayout& layout, Relation index, int vcol,
                           const Datum* values, const bool* isnull, uint8_t* out);

/// The scan keys as a Filter over the layout's columns (not compiled);
/// *recheck: the executor must check the rows returned (a condition on a
/// hashed column).
void filter_from_keys(Relation index, const ScanKeyData* keys, int nkeys, nmvec::filter::Filter* out,
                      bool* recheck);

}  // namespace nmvec::pg
