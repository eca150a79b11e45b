#!/usr/bin/env bash
# bench/scale/ivf.sh — one scale run of the ivf index on nm-monitor events
# (384-d, from nmvec-gen), one throwaway cluster:
#
#   bash bench/scale/ivf.sh ROWS [options]
#       --quantizer Q        ivf quantizer (default rabitq)
#       --lists N            lists (default: the automatic count)
#       --shared-buffers S   (default 4GB)
#       --queries N          held-out queries for recall (default 100)
#       --seconds N          each pgbench run (default 30)
#       --clients "1 8 32"   pgbench client counts
#       --no-faiss           skip the in-process FAISS builds
#       --stream             generate straight into COPY through a pipe, no
#                            file (for ROWS whose events do not fit the disk
#                            twice: 25M is ~49 GiB of heap); the load is then
#                            timed with the generator running beside it
#       --bench-queries N    pgbench draws from N further held-out queries
#                            (default: the recall queries; many distinct
#                            queries keep re-ranked rows from all being cached)
#       --filters            the index carries filter columns, ivf (embedding,
#                            tenant, category, ts), and filtered queries are
#                            measured too (recall@10 against the exact filtered
#                            answer, rows returned, p50/p95): the largest and
#                            smallest tenant (Zipf), the rarest category, the
#                            latest 1 % and 0.1 %, the largest tenant's latest
#                            1 %. Two more passes over the table (the groups'
#                            sizes, the rows any filter passes).
#
# Measures: COPY BINARY (FREEZE) into the unindexed table (generated to a
# file first, outside the timing, unless --stream), CREATE INDEX (seconds, vectors/s per
# thread, the backend's peak anonymous memory), index size and bytes/vector
# against the raw float32 vectors, recall@10 against an exact scan at the
# default settings (ivf.probes = 0) and at probes 4 to 256 (the exact
# answer from one pass over the table: bench/ann/ann_pgcopy knn), pgbench
# latency, TPS and what it read from outside shared buffers and from the
# disk at each client count, COPY of the stream's last 200,000
# rows into the indexed table against an unindexed one (wall and CPU time), and FAISS's in-process IndexIVFFlat (and IVFSQ8/IVFPQ when
# bench/ann/ann_baseline has them) built with the same lists on the same
# vectors, in the same run. Writes bench/results/scale-ivf-<rows>-<date>.md
# (scale-ivf-<rows>-filters-<date>.md with --filters).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROWS=${1:?usage: bash bench/scale/ivf.sh ROWS [options]}
shift
CMDLINE="bash bench/scale/ivf.sh $ROWS $*"
QUANT=rabitq LISTS="" SB=4GB NQ=100 SECS=30 CLIENTS="1 8 32" FAISS=1 STREAM=0 BQ=0 FILT=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quantizer) QUANT=$2; shift 2 ;;
        --lists) LISTS=$2; shift 2 ;;
        --shared-buffers) SB=$2; shift 2 ;;
        --queries) NQ=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --no-faiss) FAISS=0; shift ;;
        --stream) STREAM=1; shift ;;
        --bench-queries) BQ=$2; shift 2 ;;
        --filters) FILT=1; shift ;;
        *) echo "bench/scale/ivf.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
DIMS=384
NAME=scale-ivf-$ROWS
# A run with --filters builds another index: its own results file.
SUFFIX=""
if [ "$FILT" = 1 ]; then SUFFIX=-filters; fi
OUT=$ROOT/bench/results/$NAME$SUFFIX-$(date -u +%F).md
RUN=$ROOT/bench/data/runs/$NAME-$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$RUN"
chmod a+rwx "$RUN"
chmod a+x "$ROOT/bench/data" "$ROOT/bench/data/runs" "$ROOT/bench" "$ROOT" 2>/dev/null || true
R=$RUN/results.txt
: >"$R"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
rec() { echo "$1 $2" >>"$R"; log "$1 $2"; }
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }

bash scripts/deps.sh python3 >/dev/null
bash scripts/build.sh >/dev/null
cmake -S . -B build -DNMVEC_BENCH=ON >/dev/null
cmake --build build -j2 --target nmvec-gen ann_pgcopy >/dev/null
[ "$FAISS" = 1 ] && cmake --build build -j2 --target ann_baseline ann_gt >/dev/null
B=$ROOT/build
source scripts/pgcluster.sh
source bench/scale/cluster.sh
# Disk: the heap takes ~2,100 bytes a row, the index ~100, and WAL up to
# max_wal_size (smaller when streaming: the disk is what limits the scale).
MAXWAL=16GB
[ "$STREAM" = 1 ] && MAXWAL=4GB
need_gib=$(( (ROWS * 2200 + (STREAM == 1 ? 0 : ROWS * 2000)) / 1073741824 + ${MAXWAL%GB} + 2 ))
free_gib=$(df -BG --output=avail /tmp | tail -1 | tr -dc 0-9)
[ "$free_gib" -ge "$need_gib" ] || { echo "bench/scale/ivf.sh: needs ~$need_gib GiB free on /tmp, $free_gib GiB are" >&2; exit 1; }
scale_cluster_start "$SB" "maintenance_work_mem = 4GB" "max_parallel_maintenance_workers = 1" \
    "max_parallel_workers = 2" "max_wal_size = $MAXWAL" "checkpoint_timeout = 30min" "jit = off" \
    "autovacuum = off" "fsync = on" "max_connections = 100" || exit 1
q() { psql -qXAt -v ON_ERROR_STOP=1 -c "$1"; }
{
    echo "command: $CMDLINE"
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(awk '/^MemTotal:/{printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB RAM"
    echo "git: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (modified)')"
    echo "server: $(q 'SELECT version()')"
    echo "settings: shared_buffers $SB, huge_pages try ($HP_USED huge pages of 2 MiB in use after start; vm.nr_hugepages ${HP_WANT} for the run), maintenance_work_mem 4GB, max_parallel_maintenance_workers 1 (2 build threads), fsync on, autovacuum off"
} >"$RUN/meta.txt"
q "CREATE EXTENSION nmvec"
q "CREATE EXTENSION pg_prewarm"
COLS='id bigint, ts timestamptz, tenant text, category text, action text, "user" text, pid integer, payload jsonb, hash text, embedding vector(384)'
q "CREATE TABLE events ($COLS)"

# --- load --------------------------------------------------------------------------------
# One nmvec-gen stream (one seed: one fleet of hosts and topics) of ROWS +
# 200,000 events, split by ann_pgcopy: the first ROWS are COPYed (the COPY
# rate), the last 200,000 kept in a file: the rows streamed into the indexed
# table at the end (same fleet, later events, as a live stream would be).
# COPY FREEZE in the transaction that truncates the table: the rows are
# written frozen and all-visible, so no later pass rewrites the whole heap
# to set hint bits.
GEN=$B/src/tools/nmvec-gen
PGC=$B/bench/ann/ann_pgcopy
TAIL=200000
gen() {
    "$GEN" --rows $((ROWS + TAIL)) --dims $DIMS --seed 100 --format copy-binary --out - \
        --queries $((NQ + BQ)) --queries-out "$RUN/all_queries.txt" 2>/dev/null |
        "$PGC" split --rows "$ROWS" --tail-out "$RUN/tail.pgcopy" 2>>"$RUN/split.log"
}
copy_in() { psql -qXAt -v ON_ERROR_STOP=1 -1 -c "TRUNCATE events" -c "COPY events FROM $1 (FORMAT binary, FREEZE)"; }
if [ "$STREAM" = 1 ]; then
    log "generating $((ROWS + TAIL)) events into COPY"
    t0=$(now)
    gen | copy_in STDIN
    copy_s=$(el "$t0" "$(now)")
    rec load_mode stream
else
    CH=$RUN/all.pgcopy
    log "generating $((ROWS + TAIL)) events"
    gen >"$CH"
    chmod a+r "$CH"
    t0=$(now)
    copy_in "'$CH'"
    copy_s=$(el "$t0" "$(now)")
    rm -f "$CH"
    rec load_mode file
fi
chmod a+r "$RUN/tail.pgcopy"
head -n "$NQ" "$RUN/all_queries.txt" >"$RUN/queries.txt"
tail -n +"$((NQ + 1))" "$RUN/all_queries.txt" >"$RUN/bench_queries.txt"
rec copy_rows "$ROWS"
rec copy_s "$copy_s"
loaded=$(q "SELECT count(*) FROM events")
rec rows "$loaded"
q "VACUUM ANALYZE events"
q "CHECKPOINT"
rec heap_bytes "$(q "SELECT pg_table_size('events')")"
q "CREATE TABLE queries (qid int GENERATED BY DEFAULT AS IDENTITY (MINVALUE 0 START WITH 0), embedding vector($DIMS))"
q "COPY queries (embedding) FROM '$RUN/queries.txt'"
PGB_QUERIES=queries
if [ "$BQ" -gt 0 ]; then
    PGB_QUERIES=bench_queries
    q "CREATE TABLE bench_queries (qid int GENERATED BY DEFAULT AS IDENTITY (MINVALUE 0 START WITH 0), embedding vector($DIMS))"
    q "COPY bench_queries (embedding) FROM '$RUN/bench_queries.txt'"
fi

# --- build ---------------------------------------------------------------------------------
WITH="quantizer = '$QUANT'"; [ -n "$LISTS" ] && WITH="lists = $LISTS, $WITH"
KEYS="embedding vector_l2_ops"
[ "$FILT" = 1 ] && KEYS="$KEYS, tenant, category, ts"
DDL="CREATE INDEX events_ivf ON events USING ivf ($KEYS) WITH ($WITH)"
log "$DDL"
endf=$RUN/.build_end
rm -f "$endf"
t0=$(now)
( psql -qXAt -v ON_ERROR_STOP=1 -c "SET application_name = 'nmvec_scale_build'" -c "$DDL" && now >"$endf" ) &
bg=$! pid="" peak=0
while kill -0 "$bg" 2>/dev/null; do
    [ -n "$pid" ] || pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'nmvec_scale_build'" 2>/dev/null || true)
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
        kb=$(awk '/^RssAnon/{print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$kb" ] && [ "$kb" -gt "$peak" ] && peak=$kb
    fi
    sleep 0.5
done
wait "$bg"
rec build_s "$(el "$t0" "$(cat "$endf")")"
rec build_peak_anon_kb "$peak"
rec index_bytes "$(q "SELECT pg_relation_size('events_ivf')")"
rec stats "$(q "SELECT lists || ' ' || records || ' ' || largest_list FROM nmvec_ivf_stats('events_ivf')")"
LISTS_USED=$(q "SELECT lists FROM nmvec_ivf_stats('events_ivf')")
AUTO=$(q "SELECT probes FROM nmvec_ivf_stats('events_ivf')")  # the automatic probes (ivf.probes = 0)
rec auto_probes "$AUTO"

# --- recall@10 against the exact scan --------------------------------------------------------
# A returned row counts when its distance is within the exact 10th nearest's
# (events repeat vectors: ties are common; the exact one is computed in
# double, the server's in float, hence the 1e-6 relative slack).
log "exact 10th nearest of $NQ queries (one pass over the table)"
psql -qXAt -v ON_ERROR_STOP=1 -c "COPY (SELECT embedding FROM events) TO STDOUT (FORMAT binary)" |
    "$PGC" knn --queries "$RUN/queries.txt" --k 10 --out "$RUN/kth.txt" 2>>"$RUN/knn.log"
q "CREATE TABLE kth (qid int, d float8)"
q "COPY kth FROM '$RUN/kth.txt' (DELIMITER ' ')"
# Each measurement runs the queries once untimed in its own session first:
# the backend's caches (the centroids, where list pages are in shared
# buffers) are per backend, as they are for a pooled connection.
measure() {  # PROBES -> "recall p50 p95"
    psql -qXAt <<SQL 2>&1 | sed -n 's/.*RES //p'
SET ivf.probes = $1;
DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}'; hits int := 0; r record; got float8[];
BEGIN
  FOR r IN SELECT q.embedding AS v FROM queries q LOOP
    PERFORM (SELECT count(*) FROM (SELECT 1 FROM events ORDER BY embedding <-> r.v LIMIT 10) s);
  END LOOP;
  FOR r IN SELECT q.qid, q.embedding AS v, kth.d FROM queries q JOIN kth USING (qid) LOOP
    t0 := clock_timestamp();
    SELECT array_agg(d) INTO got FROM (SELECT embedding <-> r.v AS d FROM events ORDER BY embedding <-> r.v LIMIT 10) s;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
    hits := hits + (SELECT count(*) FROM unnest(got) x WHERE x <= r.d * (1 + 1e-6) + 1e-6);
  END LOOP;
  RAISE NOTICE 'RES % % %', round(hits / (10.0 * (SELECT count(*) FROM queries)), 4),
    round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3),
    round((SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3);
END \$\$;
SQL
}
# The exact pass above read the heap through the OS cache (and a small ring
# of shared buffers); the index is warmed so the first queries do not
# measure its reads.
q "SELECT pg_prewarm('events_ivf')" >/dev/null
q "EXPLAIN (COSTS OFF) SELECT id FROM events ORDER BY embedding <-> (SELECT embedding FROM queries LIMIT 1) LIMIT 10" >"$RUN/plan.txt"
rec "recall_default" "$(measure 0)"
# What the re-ranking reads: candidates estimated and rows read from the
# table per query at the automatic probes (the scan's DEBUG1 line), means.
rerank_counts() {
    psql -qXAt <<SQL 2>&1 | awk '/ivf scan:/ { n++; c += $4; r += $7 } END { if (n) printf "%.0f %.1f", c / n, r / n }'
SET client_min_messages = debug1;
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT embedding AS v FROM queries LOOP
    PERFORM (SELECT count(*) FROM (SELECT 1 FROM events ORDER BY embedding <-> r.v LIMIT 10) s);
  END LOOP;
END \$\$;
SQL
}
rec rerank_default "$(rerank_counts)"
for p in 4 8 16 32 64 128 256; do
    [ "$p" -le "$LISTS_USED" ] && rec "recall_$p" "$(measure "$p")"
done

# --- filtered queries (--filters) --------------------------------------------------------------
# The index is the table's only one, so a filtered query is either a seq
# scan + sort or the ivf scan with the conditions checked on each list
# record (Index Cond); the planner's choice is recorded (EXPLAIN), then the
# scan is measured with enable_seqscan = off. A returned row counts as in
# the unfiltered recall; "short": queries that got fewer than 10 rows.
measure_where() {  # WHERE-condition KTH-table -> "recall p50 p95 short"
    psql -qXAt <<SQL 2>&1 | sed -n 's/.*RES //p'
SET enable_seqscan = off;
DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}'; hits int := 0; short int := 0; r record; got float8[];
BEGIN
  FOR r IN SELECT q.embedding AS v FROM queries q LOOP
    PERFORM (SELECT count(*) FROM (SELECT 1 FROM events WHERE $1 ORDER BY embedding <-> r.v LIMIT 10) s);
  END LOOP;
  FOR r IN SELECT q.qid, q.embedding AS v, k.d FROM queries q JOIN $2 k USING (qid) LOOP
    t0 := clock_timestamp();
    SELECT array_agg(d) INTO got FROM (SELECT embedding <-> r.v AS d FROM events WHERE $1 ORDER BY embedding <-> r.v LIMIT 10) s;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
    hits := hits + (SELECT count(*) FROM unnest(got) x WHERE x <= r.d * (1 + 1e-6) + 1e-6);
    short := short + CASE WHEN coalesce(array_length(got, 1), 0) < 10 THEN 1 ELSE 0 END;
  END LOOP;
  RAISE NOTICE 'RES % % % %', round(hits / (10.0 * (SELECT count(*) FROM queries)), 4),
    round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3),
    round((SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3), short;
END \$\$;
SQL
}
if [ "$FILT" = 1 ]; then
    log "filter parameters"
    # One pass for the tenants' and categories' sizes; the time bounds from
    # the table's last pages (COPY wrote the rows in time order).
    q "COPY (SELECT coalesce(tenant, ''), coalesce(category, ''), count(*) FROM events GROUP BY GROUPING SETS ((tenant), (category))) TO '$RUN/groups.tsv'"
    sq() { sed "s/'/''/g"; }  # a value as the inside of an SQL literal
    TBIG=$(awk -F'\t' '$1 != "" { print $3 "\t" $1 }' "$RUN/groups.tsv" | sort -k1,1nr -k2 | head -1 | cut -f2 | sq)
    TSMALL=$(awk -F'\t' '$1 != "" { print $3 "\t" $1 }' "$RUN/groups.tsv" | sort -k1,1n -k2 | head -1 | cut -f2 | sq)
    CRARE=$(awk -F'\t' '$2 != "" { print $3 "\t" $2 }' "$RUN/groups.tsv" | sort -k1,1n -k2 | head -1 | cut -f2 | sq)
    pages=$(q "SELECT pg_relation_size('events') / 8192")
    ts_latest() {  # SHARE -> the ts bound of the latest SHARE of the rows
        q "SELECT ts FROM events WHERE ctid >= '($((pages - pages * 3 / 100)),0)'::tid ORDER BY ts DESC OFFSET ceil($loaded * $1) - 1 LIMIT 1"
    }
    TS1=$(ts_latest 0.01) TS01=$(ts_latest 0.001)
    {
        echo "tenant_big|tenant = '$TBIG'|the largest tenant (Zipf)"
        echo "tenant_small|tenant = '$TSMALL'|the smallest tenant"
        echo "category_rare|category = '$CRARE'|the rarest category: anti-correlated for most queries"
        echo "recent_1|ts >= '$TS1'|the latest 1 % of the rows"
        echo "recent_01|ts >= '$TS01'|the latest 0.1 %"
        echo "tenant_big_recent_1|tenant = '$TBIG' AND ts >= '$TS1'|the largest tenant's latest 1 %"
    } >"$RUN/filters.txt"
    # The rows any filter passes, in one pass over the table: each filter's
    # exact answer then reads only them.
    log "the rows the filters pass (one pass over the table)"
    q "CREATE UNLOGGED TABLE fsub AS SELECT tenant, category, ts, embedding FROM events WHERE $(cut -d'|' -f2 "$RUN/filters.txt" | sed 's/.*/(&)/' | paste -sd'|' | sed 's/|/ OR /g')"
    while IFS='|' read -r name where what; do
        log "filter $name: exact answers"
        psql -qXAt -v ON_ERROR_STOP=1 -c "COPY (SELECT embedding FROM fsub WHERE $where) TO STDOUT (FORMAT binary)" |
            "$PGC" knn --queries "$RUN/queries.txt" --k 10 --out "$RUN/kth_$name.txt" 2>"$RUN/knn_$name.log"
        # the matching rows: knn's count of the vectors it read
        rec "filter_rows_$name" "$(grep -oE '[0-9]+ vectors, [0-9]+ queries' "$RUN/knn_$name.log" | tail -1 | cut -d' ' -f1)"
        q "CREATE TABLE kth_$name (qid int, d float8)"
        q "COPY kth_$name FROM '$RUN/kth_$name.txt' (DELIMITER ' ')"
        psql -qXAt -c "EXPLAIN (COSTS OFF) SELECT id FROM events WHERE $where ORDER BY embedding <-> (SELECT embedding FROM queries LIMIT 1) LIMIT 10" \
            >"$RUN/plan_$name.txt"
        q "SELECT pg_prewarm('events_ivf')" >/dev/null
        rec "filter_$name" "$(measure_where "$where" "kth_$name")"
    done <"$RUN/filters.txt"
    q "DROP TABLE fsub"
fi

# --- pgbench ----------------------------------------------------------------------------------
# Per run, besides latency: heap blocks the clients read from outside shared
# buffers (pg_statio_user_tables) and KiB read from the disk (/proc/diskstats),
# per transaction: what re-ranking costs when the rows are not in memory.
DISK=$(basename "$(df --output=source /tmp | tail -1)")
disk_kib() { awk -v d="$DISK" '$3 == d { print $6 / 2 }' /proc/diskstats; }
heap_read() { q "SELECT heap_blks_read FROM pg_statio_user_tables WHERE relname = 'events'"; }
rec pgbench_seconds "$SECS"
for c in $CLIENTS; do
    h0=$(heap_read) d0=$(disk_kib)
    line=$(PGBENCH_QUERIES=$PGB_QUERIES bash bench/pgbench.sh "$RUN" ivf "ivf.probes=0" "$c" "$SECS" events)
    sleep 1  # the clients' statistics reach the view when they exit
    h1=$(heap_read) d1=$(disk_kib)
    rec "pgbench_$c" "$line"
    rec "pgbench_io_$c" "$((h1 - h0)) $(awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.0f", b - a }')"
done

# --- COPY of the stream's last 200,000 rows into the indexed table, against an unindexed table ---
CH=$RUN/tail.pgcopy
q "CREATE TABLE plain ($COLS)"
cpu_ticks() { echo "split_part(pg_read_file('/proc/self/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::int"; }
copy_cpu() {  # TABLE -> "seconds cpu_seconds" (the backend's user + system time)
    local t0 out
    t0=$(now)
    out=$(psql -qXAt -v ON_ERROR_STOP=1 -c "SELECT $(cpu_ticks)" -c "COPY $1 FROM '$CH' (FORMAT binary)" -c "SELECT $(cpu_ticks)")
    echo "$(el "$t0" "$(now)") $(echo "$out" | awk -v hz="$(getconf CLK_TCK)" 'NR == 1 { a = $1 } END { printf "%.2f", ($1 - a) / hz }')"
}
for r in 1 2 3; do
    q "TRUNCATE plain"; q "CHECKPOINT"
    rec "tail_plain_$r" "$(copy_cpu plain)"
    q "CHECKPOINT"
    rec "tail_indexed_$r" "$(copy_cpu events)"
done
rm -f "$CH"

# --- FAISS in-process, same vectors, same lists ----------------------------------------------------
if [ "$FAISS" = 1 ]; then
    FD=$RUN/faiss
    mkdir -p "$FD"
    log "exporting the vectors for FAISS"
    # The rows the build had (the tail COPYs added more).
    psql -qXAt -c "COPY (SELECT embedding FROM events WHERE id <= $ROWS) TO STDOUT (FORMAT binary)" \
        | "$PGC" fvecs --out "$FD/base.fvecs" --labels "$FD/base_labels.i32" 2>>"$RUN/faiss.log"
    psql -qXAt -c "COPY (SELECT embedding FROM queries ORDER BY qid) TO STDOUT (FORMAT binary)" \
        | "$PGC" fvecs --out "$FD/query.fvecs" --labels "$FD/query_labels.i32" 2>>"$RUN/faiss.log"
    "$B/bench/ann/ann_gt" --dir "$FD" --k 10 --threads "$(nproc)" >"$RUN/ann_gt.log" 2>&1
    systems=faiss-ivf
    "$B/bench/ann/ann_baseline" --help 2>&1 | grep -q faiss-ivfsq8 && systems=faiss-ivf,faiss-ivfsq8
    "$B/bench/ann/ann_baseline" --help 2>&1 | grep -q faiss-ivfpq && systems=$systems,faiss-ivfpq
    "$B/bench/ann/ann_baseline" --dir "$FD" --out "$RUN/faiss.csv" --systems "$systems" --threads 2 \
        --lists "$LISTS_USED" --probes "$AUTO,$((AUTO * 2)),$((AUTO * 4))" --queries "$NQ" --repeats 1 \
        >"$RUN/faiss.log" 2>&1 || log "FAISS baseline failed (see $RUN/faiss.log)"
    rm -f "$FD"/*.fvecs
fi

pgcluster_stop >/dev/null
hugepages_restore
python3 bench/scale/report.py "$RUN" "$OUT" "$ROWS"
log "wrote $OUT"
