#!/usr/bin/env bash
# bench/ingest/ivf.sh — COPY into a table with an ivf index against the same
# COPY into the unindexed table and into pgvector 0.8.6's ivfflat (built
# from ../shared/peers/), one throwaway cluster, one run; then recall@10 and
# latency of the loaded index against a fresh build of the same rows.
#
#   bash bench/ingest/ivf.sh [BASE] [STREAM] [REPEATS]
#       BASE     rows in the table when its index is built   (default 50000)
#       STREAM   rows then COPYed in one COPY                (default 100000)
#       REPEATS  times each COPY is measured (fresh table)   (default 5)
#
# 384-d nm-monitor events from nmvec-gen, cosine. Writes
# bench/results/ingest-ivf-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BASE=${1:-50000}
STREAM=${2:-100000}
REPEATS=${3:-5}
OUT=$ROOT/bench/results/ingest-ivf-$(date -u +%F).md
bash scripts/deps.sh python3 >/dev/null
bash scripts/build.sh >/dev/null
PGV=$(bash bench/peers.sh)
cmake -S . -B build >/dev/null && cmake --build build -j2 --target nmvec-gen >/dev/null
source scripts/pgcluster.sh
pgcluster_start "shared_buffers = 2GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" "jit = off" \
    "maintenance_work_mem = 1GB" "autovacuum = off" >/dev/null
export PGHOST PGPORT PGUSER
WORK=$(mktemp -d /tmp/nmvec-ivf-bench.XXXXXX)
trap 'rm -rf "$WORK"; pgcluster_stop >/dev/null 2>&1 || true' EXIT
GEN=build/src/tools/nmvec-gen
# One stream of events (one seed: one fleet), split into the rows present
# when the index is built and the later ones COPYed into it.
$GEN --rows "$((BASE + STREAM))" --seed 3 --format copy-binary --out "$WORK/all.pgcopy" \
    --queries 200 --queries-out "$WORK/queries.txt" 2>/dev/null
chmod -R a+rwX "$WORK"
chmod 777 "$WORK"
psql -qX -d postgres -c "CREATE DATABASE nmv" -c "CREATE DATABASE pgv"
psql -qX -d nmv -c "CREATE EXTENSION nmvec"
psql -qX -d pgv -c "CREATE EXTENSION vector"
COLS='id bigint, ts timestamptz, tenant text, category text, action text, "user" text, pid integer, payload jsonb, hash text, embedding vector(384)'
psql -qX -d nmv -c "CREATE TABLE staging ($COLS)" -c "COPY staging FROM '$WORK/all.pgcopy' (FORMAT binary)" \
    -c "COPY (SELECT * FROM staging WHERE id <= $BASE) TO '$WORK/base.pgcopy' (FORMAT binary)" \
    -c "COPY (SELECT * FROM staging WHERE id > $BASE) TO '$WORK/stream.pgcopy' (FORMAT binary)" \
    -c "DROP TABLE staging"
rm -f "$WORK/all.pgcopy"
R=$WORK/results
: >"$R"
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
q() { psql -qXAt -d "$1" -c "$2"; }
rec() { echo "$1 $2" >>"$R"; echo "$1 $2" >&2; }
# reccopy KEY "seconds cpu": KEY gets the seconds, cpu_KEY the CPU seconds
reccopy() { rec "$1" "${2% *}"; rec "cpu_$1" "${2#* }"; }
# copy DB TABLE FILE -> "seconds cpu_seconds": wall time, and the CPU time
# (user + system) the backend spent in the COPY, read from /proc/self/stat
# by the backend itself before and after (clock ticks of 10 ms). The CPU
# time leaves out waits on the disk, the most variable part on these VMs.
copy() {
    q "$1" "CHECKPOINT" >/dev/null
    local t0 out
    t0=$(now)
    out=$(psql -qXAt -d "$1" -c "${4:-SET client_min_messages = warning}" -c "SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::int" \
        -c "COPY $2 FROM '$3' (FORMAT binary)" \
        -c "SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 14)::int + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::int")
    echo "$(el "$t0" "$(now)") $(echo "$out" | awk -v hz="$(getconf CLK_TCK)" 'NR == 1 { a = $1 } END { printf "%.2f", ($1 - a) / hz }')"
}
# fresh DB NAME [INDEX-DDL]: the base rows and their index; prints the build seconds
fresh() {
    q "$1" "DROP TABLE IF EXISTS $2"
    q "$1" "CREATE TABLE $2 ($COLS)"
    psql -qX -d "$1" -c "COPY $2 FROM '$WORK/base.pgcopy' (FORMAT binary)" -c "VACUUM ANALYZE $2" -c "CHECKPOINT"
    local t0
    t0=$(now)
    [ -n "${3:-}" ] && q "$1" "$3"
    el "$t0" "$(now)"
}
LISTS=$(awk -v n="$BASE" 'BEGIN { l = int(n / 1000); if (l < 1) l = 1; print l }')
for r in $(seq 1 "$REPEATS"); do
    fresh nmv plain >/dev/null
    reccopy "plain_s_$r" "$(copy nmv plain "$WORK/stream.pgcopy")"
    rec "ivfr_build_s_$r" "$(fresh nmv ivr "CREATE INDEX ivr_i ON ivr USING ivf (embedding vector_cosine_ops) WITH (quantizer = 'rabitq')")"
    reccopy "ivfr_s_$r" "$(copy nmv ivr "$WORK/stream.pgcopy")"
    rec "ivf_build_s_$r" "$(fresh nmv iv "CREATE INDEX iv_i ON iv USING ivf (embedding vector_cosine_ops) WITH (quantizer = 'flat')")"
    reccopy "ivf_s_$r" "$(copy nmv iv "$WORK/stream.pgcopy")"
    rec "ivf1000_build_s_$r" "$(fresh nmv iv1000 "CREATE INDEX iv1000_i ON iv1000 USING ivf (embedding vector_cosine_ops) WITH (lists = 1000, quantizer = 'rabitq')")"
    reccopy "ivf1000_s_$r" "$(copy nmv iv1000 "$WORK/stream.pgcopy")"
    # The same two rabitq indexes with the insert helper off (the COPY's
    # own thread does all the work).
    rec "ivfrx_build_s_$r" "$(fresh nmv ivrx "CREATE INDEX ivrx_i ON ivrx USING ivf (embedding vector_cosine_ops) WITH (quantizer = 'rabitq')")"
    reccopy "ivfrx_s_$r" "$(copy nmv ivrx "$WORK/stream.pgcopy" "SET ivf.insert_helper = off")"
    rec "ivf1000x_build_s_$r" "$(fresh nmv iv1000x "CREATE INDEX iv1000x_i ON iv1000x USING ivf (embedding vector_cosine_ops) WITH (lists = 1000, quantizer = 'rabitq')")"
    reccopy "ivf1000x_s_$r" "$(copy nmv iv1000x "$WORK/stream.pgcopy" "SET ivf.insert_helper = off")"
    fresh pgv pgplain >/dev/null
    reccopy "pgplain_s_$r" "$(copy pgv pgplain "$WORK/stream.pgcopy")"
    rec "pgv_build_s_$r" "$(fresh pgv pg "CREATE INDEX pg_i ON pg USING ivfflat (embedding vector_cosine_ops) WITH (lists = $LISTS)")"
    reccopy "pgv_s_$r" "$(copy pgv pg "$WORK/stream.pgcopy")"
done
rec lists "$LISTS"
rec ivf_stats "$(q nmv "SELECT lists || ' ' || records || ' ' || round(added_share::numeric, 3) FROM nmvec_ivf_stats('iv_i')")"

# Recall@10 and latency (200 queries) of the loaded index and of a fresh
# build of the same rows, at the automatic probes and at 2x and 4x them.
cat >"$WORK/qv.sql" <<SQL
CREATE TEMP TABLE qv AS SELECT row_number() OVER () AS i, v::vector(384) AS v
  FROM (SELECT unnest(string_to_array(pg_read_file('$WORK/queries.txt'), E'\n')) AS v) s WHERE v <> '';
SQL
measure() {  # DB TABLE PROBES-SETTING -> "recall p50_ms p95_ms"
    # Recall counts a returned row whose exact distance is within the 10th
    # nearest's (the events repeat vectors: ties are common).
    psql -qXAt -d "$1" <<SQL 2>&1 | sed -n 's/.*RES //p'
\i $WORK/qv.sql
CREATE TEMP TABLE kth AS SELECT qv.i,
  (SELECT embedding <=> qv.v FROM $2 ORDER BY embedding <=> qv.v OFFSET 9 LIMIT 1) AS d FROM qv;
SET enable_seqscan = off;
SET $3;
DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}'; hits int := 0; r record; got float8[];
BEGIN
  FOR r IN SELECT qv.i, qv.v, kth.d FROM qv JOIN kth USING (i) LOOP
    t0 := clock_timestamp();
    SELECT array_agg(d) INTO got FROM (SELECT embedding <=> r.v AS d FROM $2 ORDER BY embedding <=> r.v LIMIT 10) s;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
    hits := hits + (SELECT count(*) FROM unnest(got) x WHERE x <= r.d + 1e-6);
  END LOOP;
  RAISE NOTICE 'RES % % %', round(hits / (10.0 * (SELECT count(*) FROM qv)), 4),
    round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3),
    round((SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x)::numeric, 3);
END \$\$;
SQL
}
AUTO=$(q nmv "SELECT probes FROM nmvec_ivf_stats('iv_i')")  # the automatic probes (ivf.probes = 0)
q nmv "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
q nmv "SELECT pg_prewarm('iv'), pg_prewarm('iv_i')" >/dev/null
for p in "$AUTO" $((AUTO * 2)) $((AUTO * 4)); do
    rec "loaded_$p" "$(measure nmv iv "ivf.probes = $p")"
done
q nmv "SELECT pg_prewarm('ivr'), pg_prewarm('ivr_i')" >/dev/null
for p in "$AUTO" $((AUTO * 2)) $((AUTO * 4)); do
    rec "loadedr_$p" "$(measure nmv ivr "ivf.probes = $p")"
done
rec ivfr_bytes "$(q nmv "SELECT pg_relation_size('ivr_i')")"
rec ivf_bytes "$(q nmv "SELECT pg_relation_size('iv_i')")"
q nmv "CREATE TABLE ivall AS SELECT * FROM iv" >/dev/null
q nmv "VACUUM ANALYZE ivall" >/dev/null
t0=$(now); q nmv "CREATE INDEX ivall_i ON ivall USING ivf (embedding vector_cosine_ops) WITH (lists = $LISTS, quantizer = 'flat')"; rec fresh_build_s "$(el "$t0" "$(now)")"
q nmv "SELECT pg_prewarm('ivall'), pg_prewarm('ivall_i')" >/dev/null
for p in "$AUTO" $((AUTO * 2)) $((AUTO * 4)); do
    rec "fresh_$p" "$(measure nmv ivall "ivf.probes = $p")"
done
q pgv "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
q pgv "SELECT pg_prewarm('pg'), pg_prewarm('pg_i')" >/dev/null
for p in "$AUTO" $((AUTO * 2)) $((AUTO * 4)); do
    rec "pgv_$p" "$(measure pgv pg "ivfflat.probes = $p")"
done
rec auto_probes "$AUTO"

python3 - "$R" "$OUT" "$BASE" "$STREAM" "$REPEATS" "$PGV" "bash bench/ingest/ivf.sh $*" <<'PY'
import datetime, platform, statistics, subprocess, sys
r, out, base, stream, repeats, pgv, cmd = sys.argv[1:8]
base, stream, repeats = int(base), int(stream), int(repeats)
v = {}
for line in open(r):
    k, _, rest = line.strip().partition(" ")
    v[k] = rest
def rates(key, rows):
    xs = [rows / float(v[f"{key}_{i}"]) for i in range(1, repeats + 1)]
    return statistics.median(xs), min(xs), max(xs)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lists = int(v["lists"])
plain = rates("plain_s", stream)
o = [f"# COPY into an ivf-indexed table ({datetime.date.today()})\n",
     f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, {platform.release()}; git {git}; pgvector {pgv} built from ../shared/peers in the same cluster.\n",
     f"Command: `{cmd}`; each COPY {repeats} times into a fresh table (median, min-max).\n",
     f"Data: 384-d nm-monitor events from nmvec-gen, one stream (one seed): its first {base:,} rows in the table when its index (cosine) is built, then the next {stream:,} rows in one `COPY ... (FORMAT binary)` (server-side). shared_buffers 2 GB, autovacuum off, one cluster.\n",
     "## COPY rate\n",
     "Each repeat COPYs into the unindexed table, then at once into the rabitq-indexed one, then the others. Besides the wall time, the backend's CPU time (user + system, from /proc/self/stat, all its threads: the insert helper's included) of each COPY: it leaves out the waits on the disk, which vary most on these VMs.\n",
     "| COPY of the stream into | rows/s (median) | min–max | vs unindexed nmvec (medians) | per repeat: wall ratio (median, range) | per repeat: CPU-time ratio (median, range) |", "|---|---|---|---|---|---|"]
def pair(key, base_key, prefix=""):
    xs = [float(v[f"{prefix}{base_key}_{i}"]) / float(v[f"{prefix}{key}_{i}"]) for i in range(1, repeats + 1)]
    return f"{statistics.median(xs):.2f}× ({min(xs):.2f}–{max(xs):.2f})"
def row(label, m, base_m, key=None, base_key="plain_s"):
    extra = " | | "
    if key is not None:
        extra = f" | {pair(key, base_key)} | {pair(key, base_key, 'cpu_')} | "
    o.append(f"| {label} | {m[0]:,.0f} | {m[1]:,.0f}–{m[2]:,.0f} | {m[0] / base_m:.2f}×{extra}".rstrip() )
row("unindexed table (nmvec)", plain, plain[0])
row(f"ivf, automatic lists ({lists}), quantizer rabitq", rates("ivfr_s", stream), plain[0], "ivfr_s")
row(f"ivf, automatic lists ({lists}), quantizer flat", rates("ivf_s", stream), plain[0], "ivf_s")
row("ivf, lists = 1000, quantizer rabitq", rates("ivf1000_s", stream), plain[0], "ivf1000_s")
row(f"ivf, automatic lists ({lists}), rabitq, `ivf.insert_helper = off`", rates("ivfrx_s", stream), plain[0], "ivfrx_s")
row("ivf, lists = 1000, rabitq, `ivf.insert_helper = off`", rates("ivf1000x_s", stream), plain[0], "ivf1000x_s")
pgplain = rates("pgplain_s", stream)
row("unindexed table (pgvector's database)", pgplain, plain[0])
row(f"pgvector ivfflat, lists = {lists}", rates("pgv_s", stream), plain[0], "pgv_s", "pgplain_s")
o.append("")
b = lambda k: statistics.median(float(v[f"{k}_{i}"]) for i in range(1, repeats + 1))
o.append(f"Index sizes after the load ({base + stream:,} rows): flat {int(v['ivf_bytes']) / 2**20:.1f} MiB, rabitq {int(v['ivfr_bytes']) / 2**20:.1f} MiB ({int(v['ivfr_bytes']) / (base + stream):.0f} bytes a row; the raw float32 vectors are 1,536).\n")
o.append(f"Builds of the {base:,} base rows: nmvec ivf ({lists} lists) flat {b('ivf_build_s'):.2f} s, rabitq {b('ivfr_build_s'):.2f} s, lists = 1000 {b('ivf1000_build_s'):.2f} s, pgvector ivfflat ({lists} lists) {b('pgv_build_s'):.2f} s (medians).\n")
o.append(f"After the load, `nmvec_ivf_stats`: lists, records, share added since training = {v['ivf_stats']}.\n")
o.append("## Recall@10 and latency after the load\n")
o.append(f"200 held-out queries, recall@10 against the exact answer (a row counts when its distance is within the exact 10th nearest's: the events repeat vectors), latency of one `ORDER BY embedding <=> q LIMIT 10` in PL/pgSQL (p50 / p95 ms), table and index prewarmed. The loaded index was trained on the first {base:,} rows; the fresh one on all {base + stream:,}, both with {lists} lists. Automatic probes for {lists} lists: {v['auto_probes']}.\n")
o.append("| probes | loaded nmvec ivf (flat): recall / p50 / p95 | loaded nmvec ivf (rabitq) | fresh nmvec ivf (flat) | pgvector ivfflat (loaded) |")
o.append("|---|---|---|---|---|")
auto = int(v["auto_probes"])
for p in (auto, auto * 2, auto * 4):
    f = lambda k: " / ".join(v.get(f"{k}_{p}", "? ? ?").split())
    o.append(f"| {p} | {f('loaded')} | {f('loadedr')} | {f('fresh')} | {f('pgv')} |")
open(out, "w").write("\n".join(o) + "\n")
print(out)
PY
