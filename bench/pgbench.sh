#!/usr/bin/env bash
# pgbench with a custom script: each transaction draws a query vector from the
# `queries` table and asks for its 10 nearest neighbours. Prints one CSV line:
# index,param,clients,tps,p50_ms,p95_ms,p99_ms (percentiles from pgbench's
# per-transaction log).
# Usage: bench/pgbench.sh RUN_DIR INDEX "GUC=VALUE" CLIENTS SECONDS TABLE [WHERE-CLAUSE]
# The query vectors come from the table PGBENCH_QUERIES (default queries;
# columns qid from 0, embedding).
set -euo pipefail
RUN=$1 KIND=$2 SETTING=$3 CLIENTS=$4 SECONDS_=$5 TABLE=$6
DIR=$(mktemp -d /tmp/nmvec-pgb.XXXXXX)
chmod 777 "$DIR"
WHERE=${7:-}  # optional filter, e.g. "WHERE tenant = 'host-0001'"
QT=${PGBENCH_QUERIES:-queries}
NQ=$(psql -X -At -c "SELECT count(*) FROM $QT")
cat >"$DIR/q.sql" <<SQL
\set qid random(0, $((NQ - 1)))
SELECT id FROM $TABLE $WHERE ORDER BY embedding <-> (SELECT embedding FROM $QT WHERE qid = :qid) LIMIT 10;
SQL
guc=${SETTING%%=*} val=${SETTING#*=}
(cd "$DIR" && PGOPTIONS="-c $guc=$val" /usr/lib/postgresql/15/bin/pgbench -n -M prepared -f q.sql -c "$CLIENTS" \
    -j "$CLIENTS" -T "$SECONDS_" -l --log-prefix=pgb >"$DIR/out.txt" 2>&1) || { cat "$DIR/out.txt" >&2; exit 1; }
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$DIR/out.txt" | head -1)
# per-transaction log: client_id transaction_no time_us script_no time_epoch time_us_frac
cat "$DIR"/pgb.* | awk '{print $3 / 1000.0}' | sort -n >"$DIR/lat.txt"
n=$(wc -l <"$DIR/lat.txt")
pct() { sed -n "$(( (n * $1 + 99) / 100 ))p" "$DIR/lat.txt"; }
echo "$KIND,$val,$CLIENTS,$tps,$(pct 50),$(pct 95),$(pct 99)"
rm -rf "$DIR"
