// filter_columns.cpp — see filter_columns.h.
#include "filter_columns.h"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace nmvec::pg {
namespace {

int64_t datum_to_int64(Oid type, Datum d) {
    switch (type) {
        case INT2OID:
            return DatumGetInt16(d);
        case INT4OID:
            return DatumGetInt32(d);
        case INT8OID:
            return DatumGetInt64(d);
        case BOOLOID:
            return DatumGetBool(d) ? 1 : 0;
        case DATEOID:
            return DatumGetDateADT(d);
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
            return DatumGetTimestamp(d);
        case TEXTOID:
        case VARCHAROID: {  // hashed: its bytes (deterministic collations only)
            struct varlena* t = PG_DETOAST_DATUM_PACKED(d);
            const uint64 h =
                DatumGetUInt64(hash_any_extended(reinterpret_cast<const unsigned char*>(VARDATA_ANY(t)),
                                                 static_cast<int>(VARSIZE_ANY_EXHDR(t)), 0));
            if (reinterpret_cast<Pointer>(t) != DatumGetPointer(d)) pfree(t);
            return static_cast<int64_t>(h);
        }
        case UUIDOID:
            return static_cast<int64_t>(
                DatumGetUInt64(hash_any_extended(DatumGetUUIDP(d)->data, UUID_LEN, 0)));
        default:
            elog(ERROR, "nmvec: no filter-column conversion for type %u", type);
    }
    pg_unreachable();
}

nmvec::filter::Op op_of(StrategyNumber s) {
    switch (s) {
        case kFilterLt:
            return nmvec::filter::Op::kLt;
        case kFilterLe:
            return nmvec::filter::Op::kLe;
        case kFilterEq:
            return nmvec::filter::Op::kEq;
        case kFilterGe:
            return nmvec::filter::Op::kGe;
        case kFilterGt:
            return nmvec::filter::Op::kGt;
        case kFilterNe:
            return nmvec::filter::Op::kNe;
        default:
            elog(ERROR, "nmvec: unknown filter strategy %d", s);
    }
    pg_unreachable();
}

}  // namespace

bool filter_type_width(Oid type, uint8_t* width) {
    switch (type) {
        case BOOLOID:
            *width = 1;
            return true;
        case INT2OID:
            *width = 2;
            return true;
        case INT4OID:
        case DATEOID:
            *width = 4;
            return true;
        case INT8OID:
        case TIMESTAMPOID:
        case TIMESTAMPTZOID:
        case TEXTOID:
        case VARCHAROID:
        case UUIDOID:
            *width = 8;
            return true;
        default:
            return false;
    }
}

bool filter_type_hashed(Oid type) { return type == TEXTOID || type == VARCHAROID || type == UUIDOID; }

int vector_column(Relation index) {
    const int natts = IndexRelationGetNumberOfKeyAttributes(index);
    int found = -1, count = 0;
    for (int i = 0; i < natts; ++i) {
        if (!OidIsValid(index_getprocid(index, static_cast<AttrNumber>(i + 1), 1))) continue;
        if (found < 0) found = i;
        ++count;
    }
    if (count != 1) {
        const char* am = get_am_name(index->rd_rel->relam);
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                 errmsg("%s index \"%s\" has %d vector columns", am, RelationGetRelationName(index), count),
                 errdetail("An %s index orders by one vector or halfvec column; its other columns are "
                           "filter columns.",
                           am),
                 errhint("Index one vector column, with the columns the queries filter on.")));
    }
    return found;
}

nmvec::filter::RecordLayout filter_layout(Relation index) {
    TupleDesc desc = RelationGetDescr(index);
    const int natts = IndexRelationGetNumberOfKeyAttributes(index);
    const int vcol = vector_column(index);
    std::vector<uint8_t> widths;
    for (int i = 0; i < natts; ++i) {
        if (i == vcol) continue;
        const Oid type = TupleDescAttr(desc, i)->atttypid;
        uint8_t w = 0;
        if (!filter_type_width(type, &w))
            ereport(ERROR,
                    (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                     errmsg("column %d of index \"%s\" has type %s, which cannot be a filter column", i + 1,
                            RelationGetRelationName(index), format_type_be(type)),
                     errdetail("Besides its vector, an %s index's columns are filter columns, of type "
                               "smallint, integer, bigint, boolean, date, timestamp, timestamptz, text, "
                               "varchar or uuid.",
                               get_am_name(index->rd_rel->relam))));
        const Oid coll = TupleDescAttr(desc, i)->attcollation;
        if (filter_type_hashed(type) && OidIsValid(coll) && !get_collation_isdeterministic(coll))
            ereport(
                ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                 errmsg("column %d of index \"%s\" has a nondeterministic collation", i + 1,
                        RelationGetRelationName(index)),
                 errdetail("Text filter columns are kept as a hash of their bytes, which strings "
                           "equal under a nondeterministic collation do not share."),
                 errhint("Index the column with a deterministic collation, e.g. (tenant COLLATE \"C\").")));
        widths.push_back(w);
    }
    if (widths.size() > 32)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("index \"%s\" has %zu filter columns, more than 32",
                               RelationGetRelationName(index), widths.size())));
    return nmvec::filter::RecordLayout::of(widths);
}

void encode_filter_columns(const nmvec::filter::RecordLayout& layout, Relation index, int vcol,
                           const Datum* values, const bool* isnull, uint8_t* out) {
    TupleDesc desc = RelationGetDescr(index);
    memset(out, 0, layout.bytes);
    for (size_t c = 0; c < layout.columns(); ++c) {
        const int att = static_cast<int>(c) + (static_cast<int>(c) >= vcol ? 1 : 0);
        const bool null = isnull[att];
        layout.set(out, c, null, null ? 0 : datum_to_int64(TupleDescAttr(desc, att)->atttypid, values[att]));
    }
}

void filter_from_keys(Relation index, const ScanKeyData* keys, int nkeys, nmvec::filter::Filter* out,
                      bool* recheck) {
    TupleDesc desc = RelationGetDescr(index);
    *recheck = false;
    const int vatt = vector_column(index) + 1;
    for (int i = 0; i < nkeys; ++i) {
        const ScanKeyData& k = keys[i];
        if (k.sk_attno == vatt) {
            // The vector column: only IS [NOT] NULL reaches the scan. Rows
            // with a NULL vector are not in the index.
            if (!(k.sk_flags & SK_SEARCHNOTNULL)) out->add_false();
            continue;
        }
        if (k.sk_attno < 1) elog(ERROR, "nmvec: a scan key on attribute %d", k.sk_attno);
        const size_t col = static_cast<size_t>(k.sk_attno - (k.sk_attno > vatt ? 2 : 1));
        if (k.sk_flags & SK_ISNULL) {
            if (k.sk_flags & SK_SEARCHNULL)
                out->add_null_test(col, true);
            else if (k.sk_flags & SK_SEARCHNOTNULL)
                out->add_null_test(col, false);
            else
                out->add_false();  // a comparison with NULL is never true
            continue;
        }
        // The value's type: the operator's right-hand type (cross-type
        // integer operators), else the column's.
        const Oid type =
            OidIsValid(k.sk_subtype) ? k.sk_subtype : TupleDescAttr(desc, k.sk_attno - 1)->atttypid;
        const nmvec::filter::Op op = op_of(k.sk_strategy);
        if (filter_type_hashed(TupleDescAttr(desc, k.sk_attno - 1)->atttypid)) {
            // Stored as a hash: = and IN rule out a row whose hash differs,
            // anything else only rules out NULL; the executor checks the
            // rows returned (a hash can collide).
            *recheck = true;
            if (op != nmvec::filter::Op::kEq) {
                out->add_null_test(col, false);
                continue;
            }
        }
        if (!(k.sk_flags & SK_SEARCHARRAY)) {
            out->add(col, op, datum_to_int64(type, k.sk_argument));
            continue;
        }
        // col op ANY (array): true when it holds for one non-NULL element.
        ArrayType* arr = DatumGetArrayTypeP(k.sk_argument);
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
        Datum* elems;
        bool* nulls;
        int n;
        deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, &elems, &nulls, &n);
        std::vector<int64_t> vals;
        for (int j = 0; j < n; ++j)
            if (!nulls[j]) vals.push_back(datum_to_int64(ARR_ELEMTYPE(arr), elems[j]));
        if (vals.empty()) {
            out->add_false();
            continue;
        }
        const auto [lo, hi] = std::minmax_element(vals.begin(), vals.end());
        switch (op) {
            case nmvec::filter::Op::kEq:
                out->add_in(col, vals);
                break;
            case nmvec::filter::Op::kLt:
            case nmvec::filter::Op::kLe:
                out->add(col, op, *hi);  // below some element: below the largest
                break;
            case nmvec::filter::Op::kGt:
            case nmvec::filter::Op::kGe:
                out->add(col, op, *lo);
                break;
            default:  // <> ANY: any value but the one, when there is only one
                if (*lo == *hi)
                    out->add(col, op, *lo);
                else
                    out->add_null_test(col, false);
                break;
        }
    }
}

}  // namespace nmvec::pg
