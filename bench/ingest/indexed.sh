#!/usr/bin/env bash
# bench/ingest/indexed.sh — COPY into a table with an hnsw index: the pending
# list (fastupdate) against the same COPY into the unindexed table, against
# synchronous inserts (fastupdate = off) and against pgvector 0.8.6 (built
# from ../shared/peers/), all in one throwaway cluster, one run. Also: the
# merge's rate against CREATE INDEX of the same rows, recall@10 after the
# load against a fresh build, and query latency against pending-list length.
#
#   bash bench/ingest/indexed.sh [BASE] [STREAM] [SLOW]
#       BASE    rows in the table when its index is built     (default 50000)
#       STREAM  rows then COPYed in one COPY                  (default 100000)
#       SLOW    rows COPYed with fastupdate = off / pgvector  (default 2000)
#
# 384-d nm-monitor events from nmvec-gen. Writes
# bench/results/ingest-indexed-<date>.md. About 15 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BASE=${1:-50000}
STREAM=${2:-100000}
SLOW=${3:-2000}
OUT=$ROOT/bench/results/ingest-indexed-$(date -u +%F).md
bash scripts/deps.sh python3 >/dev/null
bash scripts/build.sh >/dev/null
PGV=$(bash bench/peers.sh)
cmake -S . -B build >/dev/null && cmake --build build -j2 --target nmvec-gen nmvec-ingest >/dev/null
source scripts/pgcluster.sh
pgcluster_start "shared_buffers = 2GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" "jit = off" \
    "maintenance_work_mem = 2GB" >/dev/null
export PGHOST PGPORT PGUSER
WORK=$(mktemp -d /tmp/nmvec-indexed-bench.XXXXXX)
trap 'rm -rf "$WORK"; pgcluster_stop >/dev/null 2>&1 || true' EXIT
GEN=build/src/tools/nmvec-gen
$GEN --rows "$BASE" --seed 3 --format copy-binary --out "$WORK/base.pgcopy" \
    --queries 200 --queries-out "$WORK/queries.txt" 2>/dev/null
$GEN --rows "$STREAM" --seed 4 --format both --out "$WORK/stream.jsonl" --copy-out "$WORK/stream.pgcopy" 2>/dev/null
$GEN --rows "$SLOW" --seed 5 --format copy-binary --out "$WORK/slow.pgcopy" 2>/dev/null
chmod -R a+rX "$WORK"
psql -qX -d postgres -c "CREATE DATABASE nmv" -c "CREATE DATABASE pgv"
psql -qX -d nmv -c "CREATE EXTENSION nmvec"
psql -qX -d pgv -c "CREATE EXTENSION vector"
COLS='id bigint, ts timestamptz, tenant text, category text, action text, "user" text, pid integer, payload jsonb, hash text, embedding vector(384)'
R=$WORK/results
: >"$R"
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
q() { psql -qXAt -d "$1" -c "$2"; }
# copy DB TABLE FILE -> seconds
copy() {
    q "$1" "CHECKPOINT" >/dev/null
    local t0 t1
    t0=$(now)
    psql -qX -d "$1" -c "\\copy $2 FROM '$3' (FORMAT binary)"
    t1=$(now)
    el "$t0" "$t1"
}
# table DB NAME [WITH-clause]: the base rows and their index; prints build seconds
table() {
    q "$1" "CREATE TABLE $2 ($COLS)"
    psql -qX -d "$1" -c "\\copy $2 FROM '$WORK/base.pgcopy' (FORMAT binary)"
    psql -qX -d "$1" -c "VACUUM ANALYZE $2" -c "CHECKPOINT"
    local t0 t1
    t0=$(now)
    q "$1" "CREATE INDEX ${2}_h ON $2 USING hnsw (embedding vector_cosine_ops) ${3:-}"
    t1=$(now)
    el "$t0" "$t1"
}
rec() { echo "$1 $2" >>"$R"; echo "$1 $2" >&2; }

# The unindexed baseline, and the same COPY with the pending list (default
# limit; merges by the inserting backend and by autovacuum, as they come).
q nmv "CREATE TABLE plain ($COLS)"
rec plain_stream_s "$(copy nmv plain "$WORK/stream.pgcopy")"
rec plain_slow_s "$(copy nmv plain "$WORK/slow.pgcopy")"
rec build_base_s "$(table nmv fast)"
rec fast_stream_s "$(copy nmv fast "$WORK/stream.pgcopy")"
rec fast_pending_after "$(q nmv "SELECT pending FROM nmvec_index_stats('fast_h')")"
t0=$(now); q nmv "SELECT nmvec_flush('fast_h')" >/dev/null; rec fast_flush_s "$(el "$t0" "$(now)")"
# nmvec-ingest of the same events as ledger lines into the indexed table.
rec build_base6_s "$(table nmv ing)"
q nmv "CHECKPOINT" >/dev/null
t0=$(now)
build/src/tools/nmvec-ingest --dsn dbname=nmv --table ing --source ing --dims 384 "$WORK/stream.jsonl" 2>/dev/null
rec ing_stream_s "$(el "$t0" "$(now)")"
rec ing_rows "$(q nmv "SELECT count(*) - $BASE FROM ing")"
q nmv "DROP TABLE ing"
# The same with merges by the inserting backend (nmvec.background_merge off).
rec build_base4_s "$(table nmv inl)"
psql -qX -d nmv -c "ALTER DATABASE nmv SET nmvec.background_merge = off"
rec inl_stream_s "$(copy nmv inl "$WORK/stream.pgcopy")"
psql -qX -d nmv -c "ALTER DATABASE nmv RESET nmvec.background_merge"
rec inl_pending_after "$(q nmv "SELECT pending FROM nmvec_index_stats('inl_h')")"
t0=$(now); q nmv "SELECT nmvec_flush('inl_h')" >/dev/null; rec inl_flush_s "$(el "$t0" "$(now)")"

# Merges left to the end: a limit the load never reaches, autovacuum off for
# the table; then one nmvec_flush merges the whole stream (the merge's rate).
rec build_base2_s "$(table nmv lazy "WITH (pending_list_limit = 4000000)")"
q nmv "ALTER TABLE lazy SET (autovacuum_enabled = off)"
rec lazy_stream_s "$(copy nmv lazy "$WORK/stream.pgcopy")"
rec lazy_pending "$(q nmv "SELECT pending FROM nmvec_index_stats('lazy_h')")"
# Query latency against the pending list's length (100 queries each).
lat() {
    psql -qXAt -d nmv <<SQL
CREATE TEMP TABLE qv AS SELECT row_number() OVER () AS i, v::vector(384) AS v FROM (SELECT unnest(string_to_array(pg_read_file('$WORK/queries.txt'), E'\n')) AS v) s WHERE v <> '';
SET enable_seqscan = off;
DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}'; r record; dummy bigint;
BEGIN
  FOR r IN SELECT v FROM qv WHERE i <= 100 LOOP
    t0 := clock_timestamp();
    SELECT count(*) INTO dummy FROM (SELECT id FROM $1 ORDER BY embedding <=> r.v LIMIT 10) s;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RAISE NOTICE 'LAT % %', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x),
                          (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END \$\$;
SQL
}
latrec() {
    local out
    out=$(lat "$1" 2>&1 | sed -n 's/.*LAT //p')
    rec "lat_$2" "$out"
}
latrec lazy "${STREAM}"
# The merge on one process (per core), then on the backend and its parallel
# workers (nmvec_flush's default) for a second table loaded the same way.
t0=$(now); psql -qXAt -d nmv -c "SET max_parallel_maintenance_workers = 0" -c "SELECT nmvec_flush('lazy_h')" >/dev/null
rec lazy_flush_s "$(el "$t0" "$(now)")"
rec build_base5_s "$(table nmv lazy2 "WITH (pending_list_limit = 4000000)")"
q nmv "ALTER TABLE lazy2 SET (autovacuum_enabled = off)"
copy nmv lazy2 "$WORK/stream.pgcopy" >/dev/null
t0=$(now); q nmv "SELECT nmvec_flush('lazy2_h')" >/dev/null; rec par_flush_s "$(el "$t0" "$(now)")"
rec par_processes "$(q nmv "SELECT least(current_setting('max_parallel_maintenance_workers')::int + 1, $(nproc))")"
q nmv "DROP TABLE lazy2"
latrec lazy 0
for n in 1000 5000 20000; do
    q nmv "INSERT INTO lazy SELECT * FROM plain LIMIT $n"
    latrec lazy "$n"
    q nmv "SELECT nmvec_flush('lazy_h')" >/dev/null
done
# Recall@10 (200 held-out queries) of the merged index against a fresh build
# of the same rows, both against the exact answer.
recall() {
    psql -qXAt -d nmv <<SQL
CREATE TEMP TABLE qv AS SELECT row_number() OVER () AS i, v::vector(384) AS v FROM (SELECT unnest(string_to_array(pg_read_file('$WORK/queries.txt'), E'\n')) AS v) s WHERE v <> '';
-- ids repeat across the generated files: rows are told apart by ctid
CREATE TEMP TABLE exact AS SELECT qv.i, n.ctid AS id FROM qv, LATERAL (SELECT ctid FROM $1 ORDER BY embedding <=> qv.v LIMIT 10) n;
SET enable_seqscan = off;
SELECT round(avg(hit)::numeric, 4) FROM (
  SELECT qv.i, (SELECT count(*) FROM (SELECT ctid AS id FROM $1 ORDER BY embedding <=> qv.v LIMIT 10) n
                 WHERE n.id IN (SELECT id FROM exact e WHERE e.i = qv.i)) / 10.0 AS hit FROM qv) s;
SQL
}
rec recall_merged "$(recall lazy)"
psql -qX -d nmv -c "CREATE TABLE fresh AS SELECT * FROM lazy" -c "VACUUM ANALYZE fresh" -c "CHECKPOINT"
t0=$(now); q nmv "CREATE INDEX fresh_h ON fresh USING hnsw (embedding vector_cosine_ops)"; rec build_all_s "$(el "$t0" "$(now)")"
rec rows_all "$(q nmv "SELECT count(*) FROM fresh")"
rec recall_fresh "$(recall fresh)"
rec build_threads "$(q nmv "SELECT least(current_setting('max_parallel_maintenance_workers')::int + 1, $(nproc))")"

# Synchronous inserts, and pgvector, on a smaller slice (they are slow).
rec build_base3_s "$(table nmv sync "WITH (fastupdate = off)")"
rec sync_slow_s "$(copy nmv sync "$WORK/slow.pgcopy")"
q pgv "SET maintenance_work_mem = '2GB'" >/dev/null
rec pgv_build_base_s "$(table pgv pg)"
rec pgv_slow_s "$(copy pgv pg "$WORK/slow.pgcopy")"
q pgv "CREATE TABLE pgplain ($COLS)"
rec pgv_plain_stream_s "$(copy pgv pgplain "$WORK/stream.pgcopy")"

python3 - "$R" "$OUT" "$BASE" "$STREAM" "$SLOW" "$PGV" "bash bench/ingest/indexed.sh $*" <<'PY'
import datetime, platform, subprocess, sys
r, out, base, stream, slow, pgv, cmd = sys.argv[1:8]
base, stream, slow = int(base), int(stream), int(slow)
v = {}
for line in open(r):
    k, _, rest = line.strip().partition(" ")
    v[k] = rest
f = lambda k: float(v[k])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
plain = stream / f("plain_stream_s")
plain_slow = slow / f("plain_slow_s")
fast = stream / f("fast_stream_s")
fast_total = stream / (f("fast_stream_s") + f("fast_flush_s"))
inl = stream / f("inl_stream_s")
inl_total = stream / (f("inl_stream_s") + f("inl_flush_s"))
par = int(v["lazy_pending"]) / f("par_flush_s")
parp = int(v["par_processes"])
lazy = stream / f("lazy_stream_s")
merge = int(v["lazy_pending"]) / f("lazy_flush_s")
thr = int(v["build_threads"])
build_all = int(v["rows_all"]) / f("build_all_s")
sync = slow / f("sync_slow_s")
pg = slow / f("pgv_slow_s")
o = []
o.append(f"# COPY into an hnsw-indexed table: the pending list ({datetime.date.today()})\n")
o.append(f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, {platform.release()}; git {git}; pgvector {pgv} built from ../shared/peers in the same cluster.\n")
o.append(f"Command: `{cmd}` — one run; each figure is one timed COPY (no spread: each costs minutes; rerun to see the variation).\n")
o.append(f"Data: 384-d nm-monitor events from nmvec-gen: {base:,} rows in the table when its hnsw (cosine, m 16, ef_construction 64) index is built, then {stream:,} more rows in one `\\copy ... (FORMAT binary)`; {slow:,} rows for the slow paths. shared_buffers 2 GB, maintenance_work_mem 2 GB, autovacuum on unless said.\n")
o.append("## COPY rate\n")
o.append("| COPY of the stream into | rows/s | vs unindexed |\n|---|---|---|")
o.append(f"| unindexed table (baseline) | {plain:,.0f} | 1.00× |")
o.append(f"| hnsw, fastupdate (default): background merges from the 4 MB limit, the inserter merges past 16 MB, autovacuum | {fast:,.0f} | {fast/plain:.2f}× |")
o.append(f"| the same, counting the final nmvec_flush of the {int(v['fast_pending_after']):,} elements still pending ({f('fast_flush_s'):.1f} s) | {fast_total:,.0f} | {fast_total/plain:.2f}× |")
o.append(f"| nmvec-ingest of the same events as ledger lines (parse, chain check, COPY BINARY) into the hnsw-indexed table, fastupdate (default) | {int(v['ing_rows']) / f('ing_stream_s'):,.0f} | {int(v['ing_rows']) / f('ing_stream_s')/plain:.2f}× |")
o.append(f"| hnsw, fastupdate, `nmvec.background_merge = off`: the inserter merges at the 4 MB limit | {inl:,.0f} | {inl/plain:.2f}× |")
o.append(f"| the same, counting the final nmvec_flush of the {int(v['inl_pending_after']):,} elements still pending ({f('inl_flush_s'):.1f} s) | {inl_total:,.0f} | {inl_total/plain:.2f}× |")
o.append(f"| hnsw, fastupdate, no merge during the load (limit not reached, autovacuum off) | {lazy:,.0f} | {lazy/plain:.2f}× |")
o.append(f"| hnsw, fastupdate = off ({slow:,} rows) | {sync:,.0f} | {sync/plain_slow:.3f}× of {plain_slow:,.0f} |")
o.append(f"| pgvector {pgv} hnsw ({slow:,} rows) | {pg:,.0f} | {pg/plain_slow:.3f}× of {plain_slow:,.0f} |")
o.append(f"| pgvector's own unindexed table (stream) | {stream / f('pgv_plain_stream_s'):,.0f} | |\n")
o.append("## Merge rate against CREATE INDEX\n")
o.append(f"| | vectors/s | per core |\n|---|---|---|")
o.append(f"| nmvec_flush of {int(v['lazy_pending']):,} pending elements into the {base:,}-element graph, one process | {merge:,.0f} | {merge:,.0f} |")
o.append(f"| the same on {parp} processes (the backend and parallel workers, nmvec_flush's default) | {par:,.0f} | {par/parp:,.0f} |")
o.append(f"| CREATE INDEX of all {int(v['rows_all']):,} rows ({thr} build threads) | {build_all:,.0f} | {build_all/thr:,.0f} |")
o.append(f"| CREATE INDEX of the {base:,} base rows | {base/f('build_base_s'):,.0f} | {base/f('build_base_s')/thr:,.0f} |\n")
o.append(f"Merge per core / CREATE INDEX per core: **{merge/(build_all/thr):.2f}×**.\n")
o.append("## Recall@10 after the load (200 held-out queries, ef_search 40)\n")
o.append(f"| index | recall@10 |\n|---|---|\n| loaded with fastupdate, merged by nmvec_flush | {v['recall_merged']} |\n| fresh CREATE INDEX of the same rows | {v['recall_fresh']} |\n")
o.append("## Query latency against the pending list's length (100 queries, LIMIT 10, ms)\n")
o.append("| pending elements | p50 | p95 |\n|---|---|---|")
for k in sorted((k for k in v if k.startswith("lat_")), key=lambda k: int(k[4:])):
    p50, p95 = v[k].split()
    o.append(f"| {int(k[4:]):,} | {float(p50):.2f} | {float(p95):.2f} |")
o.append("")
open(out, "w").write("\n".join(o) + "\n")
print("\n".join(o))
PY
