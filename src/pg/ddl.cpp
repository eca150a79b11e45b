// ddl.cpp — what the column-storage event trigger
// (src/sql/50_column_compression.sql) needs to know about a DDL command that
// PL/pgSQL cannot see: which columns it added.
#include "guard.h"

extern "C" {
#include "catalog/pg_class.h"
#include "tcop/deparse_utility.h"
#include "utils/array.h"
}

/// nmvec_new_columns(pg_ddl_command): NULL when every column of the command's
/// relation is new (CREATE TABLE, CREATE TABLE AS, SELECT INTO, CREATE
/// MATERIALIZED VIEW), else the attribute numbers the command added: those
/// of ALTER TABLE ... ADD COLUMN, none for any other command (a rename, say). A pg_ddl_command comes only
/// from pg_event_trigger_ddl_commands() inside an event trigger: the type has no input function, so no other
/// caller can make one.
NMVEC_FUNCTION(nmvec_new_columns) {
    const auto* cmd = reinterpret_cast<const CollectedCommand*>(PG_GETARG_POINTER(0));
    if (cmd == nullptr) PG_RETURN_NULL();
    Datum attnums[MaxHeapAttributeNumber];
    int n = 0;
    if (cmd->type == SCT_Simple && cmd->parsetree != nullptr &&
        (IsA(cmd->parsetree, CreateStmt) || IsA(cmd->parsetree, CreateTableAsStmt)))
        PG_RETURN_NULL();
    const List* subcmds = cmd->type == SCT_AlterTable ? cmd->d.alterTable.subcmds : NIL;
    ListCell* lc;
    foreach (lc, subcmds) {
        const auto* sub = static_cast<const CollectedATSubcmd*>(lfirst(lc));
        const auto* at = reinterpret_cast<const AlterTableCmd*>(sub->parsetree);
        if (at == nullptr || !IsA(at, AlterTableCmd)) continue;
        if ((at->subtype == AT_AddColumn || at->subtype == AT_AddColumnRecurse) &&
            sub->address.classId == RelationRelationId && sub->address.objectSubId > 0 &&
            n < MaxHeapAttributeNumber)
            attnums[n++] = Int16GetDatum(static_cast<int16>(sub->address.objectSubId));
    }
    PG_RETURN_ARRAYTYPE_P(construct_array(attnums, n, INT2OID, sizeof(int16), true, TYPALIGN_SHORT));
}
