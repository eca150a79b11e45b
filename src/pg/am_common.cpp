// am_common.cpp — see am_common.h.
#include "am_common.h"

extern "C" {
#include "catalog/index.h"
#include "catalog/pg_authid.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace nmvec::pg {

IndexAmRoutine* vector_am_routine() {
    IndexAmRoutine* am = makeNode(IndexAmRoutine);
    am->amstrategies = 0;
    am->amsupport = 1;
    am->amoptsprocnum = 0;
    am->amcanorder = false;
    am->amcanorderbyop = true;
    am->amcanbackward = false;
    am->amcanunique = false;
    am->amcanmulticol = false;
    am->amoptionalkey = true;
    am->amsearcharray = false;
    am->amsearchnulls = false;
    am->amstorage = false;
    am->amclusterable = false;
    am->ampredlocks = false;
    am->amcanparallel = false;
    am->amcaninclude = false;
    am->amusemaintenanceworkmem = false;
    am->amparallelvacuumoptions = VACUUM_OPTION_NO_PARALLEL;
    am->amkeytype = InvalidOid;
    am->amcanreturn = nullptr;
    am->amproperty = nullptr;
    am->amadjustmembers = nullptr;
    am->amgetbitmap = nullptr;
    am->ammarkpos = nullptr;
    am->amrestrpos = nullptr;
    am->amestimateparallelscan = nullptr;
    am->aminitparallelscan = nullptr;
    am->amparallelrescan = nullptr;
    return am;
}

void require_stats_privilege(Oid index) {
    const Oid heap = IndexGetRelation(index, true);  // InvalidOid when not an index
    if (!OidIsValid(heap) || has_privs_of_role(GetUserId(), ROLE_PG_STAT_SCAN_TABLES) ||
        pg_class_aclcheck(heap, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
        return;
    const char* index_name = get_rel_name(index);
    const char* table_name = get_rel_name(heap);
    ereport(
        ERROR,
        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
         errmsg("permission denied to read the statistics of index \"%s\"", index_name ? index_name : "?"),
         errdetail("Only roles with SELECT on table \"%s\" or with the privileges of the "
                   "\"pg_stat_scan_tables\" role may read them, since they count the table's rows.",
                   table_name ? table_name : "?")));
}

}  // namespace nmvec::pg
