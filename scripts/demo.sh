#!/usr/bin/env bash
# The README's first command: install missing Debian packages, build and
# install nmvec and its tools, start a throwaway PostgreSQL 15 cluster, and
# run the nm-monitor demo: a synthetic ledger (nmvec-gen) loaded by
# nmvec-ingest into an events table with an hnsw index, searched with SQL
# while a --follow ingest goes on loading the lines the "monitor" appends.
# The cluster is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/deps.sh
echo "== building and installing nmvec"
bash scripts/build.sh
echo "== building the tools (nmvec-gen, nmvec-ingest)"
cmake -S . -B build -DNMVEC_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target nmvec-gen nmvec-ingest >/dev/null
GEN=$ROOT/build/src/tools/nmvec-gen
ING=$ROOT/build/src/tools/nmvec-ingest
source scripts/pgcluster.sh
pgcluster_start
echo "== throwaway cluster on port $PGPORT (socket dir $PGHOST)"
W=$(mktemp -d /tmp/nmvec-demo.XXXXXX)
chmod 755 "$W"
FOLLOW=
cleanup() {
    [ -n "$FOLLOW" ] && kill "$FOLLOW" 2>/dev/null
    rm -rf "$W"
    pgcluster_stop
}
trap cleanup EXIT
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# 24,000 events of a fleet of 11 hosts; the ledger starts with 20,000 of them,
# the rest are appended later, as nm-monitor would.
"$GEN" --rows 24000 --dims 384 --hosts 11 --seed 42 --out "$W/all.jsonl" --truth-out "$W/outliers.txt"
head -n 20000 "$W/all.jsonl" >"$W/ledger.jsonl"
psql -c "CREATE EXTENSION nmvec" -c "SELECT nmvec_build_info() AS build" \
     -c 'CREATE TABLE events (id bigint, ts timestamptz NOT NULL, tenant text, category text, action text,
                              "user" text, pid integer, payload jsonb, hash text NOT NULL, embedding vector(384) NOT NULL)'
echo "== nmvec-ingest: the ledger's 20,000 lines (hash chain checked on the way)"
"$ING" --table events --dims 384 "$W/ledger.jsonl"
psql -c "CREATE INDEX events_hnsw ON events USING hnsw (embedding vector_cosine_ops)" \
     -c "CREATE INDEX events_tenant_ts ON events (tenant, ts)" -c "ANALYZE events"
echo "== nmvec-ingest --follow: loads what is appended to the ledger from now on"
"$ING" --table events --dims 384 --follow --poll-ms 100 "$W/ledger.jsonl" 2>"$W/follow.log" &
FOLLOW=$!
sed -n 20001,22000p "$W/all.jsonl" >>"$W/ledger.jsonl"
for _ in $(seq 300); do
    [ "$(psql -At -c "SELECT count(*) FROM events")" -ge 22000 ] && break
    sleep 0.1
done
echo "== the index while the ingest runs: new events wait in its pending list (fastupdate),"
echo "   searched exactly by every query, merged into the graph in the background"
psql -c "SELECT elements, pending, pg_size_pretty(bytes) AS size FROM nmvec_index_stats('events_hnsw')"
psql -v outlier="$(sed -n 3p "$W/outliers.txt")" -f scripts/demo.sql
sed -n 22001,24000p "$W/all.jsonl" >>"$W/ledger.jsonl"
for _ in $(seq 300); do
    [ "$(psql -At -c "SELECT count(*) FROM events")" -ge 24000 ] && break
    sleep 0.1
done
kill -TERM "$FOLLOW"
wait "$FOLLOW" || true
FOLLOW=
tail -n 1 "$W/follow.log"
psql -c "SELECT count(*) AS events, count(DISTINCT id) AS distinct_heights, max(id) AS last_height,
                pg_size_pretty(pg_total_relation_size('events')) AS size FROM events"
echo "== merge what is still pending (VACUUM does it too)"
psql -c "SELECT nmvec_flush('events_hnsw') AS linked" \
     -c "SELECT s.elements, s.pending, c.duplicate_links + c.self_links + c.links_to_unwritten AS faults
           FROM nmvec_index_stats('events_hnsw') s, nmvec_index_check('events_hnsw') c"
echo "== demo done; cluster removed"
