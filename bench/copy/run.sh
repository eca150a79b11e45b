#!/usr/bin/env bash
# bench/copy/run.sh — COPY ingest throughput of `vector` (vs. Postgres's own
# real[]) and the measurements behind the type's default column storage.
#
#   bash bench/copy/run.sh                 # own throwaway cluster (scripts/pgcluster.sh)
#   bash bench/copy/run.sh 'host=... dbname=...'   # an existing local server (or set PGHOST)
#
# Writes bench/results/copy-<date>.md and bench/results/storage-<date>.md.
#
# Everything that is timed runs inside the server: COPY reads server-side
# files, so the client (psql) only sends one statement and waits; psql's
# \timing is the clock (one Unix-socket round trip, well under 1 ms, is
# included). Data files are generated once, deterministically (setseed +
# random()), with COPY TO, so every variant loads exactly the same numbers;
# generation is never timed.
#
# Requirements: the extension installed (bash scripts/build.sh). With an
# existing server: a superuser (COPY to/from server files, CHECKPOINT), the
# server on this machine and able to read/write BENCH_DIR (default: a fresh
# directory under /tmp). Tables go to schema nmvec_copybench, dropped at the end.
#
# Knobs (environment; defaults suit a 2-core / 24 GiB machine: ~7 minutes when
# the machine is otherwise idle, ~9.5 when other work competes for the CPUs):
#   PARTS="copy storage"   which reports to produce
#   COPY_ROWS=100000 COPY_DIM=384 COPY_REPEATS=5
#   ST_ROWS=60000 ST_DIMS="784 384 1536" ST_REPEATS=5 ST_WARMUP=0 QUERY_RUNS=7 QUERY_WARMUP=1
#   SHARED_BUFFERS=4GB     only for the cluster this script starts
#   OUT_DIR=bench/results  BENCH_DIR=<dir the server can write>  SEED=0.42
#   QUIET_LOAD=1.0 QUIET_WAIT=0    wait up to QUIET_WAIT s (e.g. 120) for the 1-minute
#                                  load average to fall below QUIET_LOAD before measuring
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Remember which knobs the caller set, so the report can print the exact command.
KNOBS=(PARTS COPY_ROWS COPY_DIM COPY_REPEATS ST_ROWS ST_DIMS ST_REPEATS ST_WARMUP QUERY_RUNS QUERY_WARMUP
       SHARED_BUFFERS OUT_DIR BENCH_DIR SEED QUIET_LOAD QUIET_WAIT)
OVERRIDES=""
for k in "${KNOBS[@]}"; do
    if [ -n "${!k+x}" ]; then OVERRIDES+="$k=$(printf '%q' "${!k}") "; fi
done

PARTS=${PARTS:-"copy storage"}
COPY_ROWS=${COPY_ROWS:-100000}
COPY_DIM=${COPY_DIM:-384}
COPY_REPEATS=${COPY_REPEATS:-5}
ST_ROWS=${ST_ROWS:-60000}
ST_DIMS=${ST_DIMS:-"784 384 1536"}
ST_REPEATS=${ST_REPEATS:-5}
QUERY_RUNS=${QUERY_RUNS:-7}
QUERY_WARMUP=${QUERY_WARMUP:-1}
ST_WARMUP=${ST_WARMUP:-0}   # discarded COPY rounds in the storage part
SHARED_BUFFERS=${SHARED_BUFFERS:-4GB}
OUT_DIR=${OUT_DIR:-$ROOT/bench/results}
SEED=${SEED:-0.42}
QUIET_LOAD=${QUIET_LOAD:-1.0}
QUIET_WAIT=${QUIET_WAIT:-0}
DSN=${1:-}
DATE=$(date +%F)
SCHEMA=nmvec_copybench
# Storage variants: the four column storages, plus MAIN on a table whose
# toast_tuple_target is the maximum (8160), which keeps MAIN's fallback but
# skips the compression attempt for rows that fit in a page.
STORAGES=(plain main external extended main8160)
storage_of() { case $1 in main8160) echo main ;; *) echo "$1" ;; esac; }
storage_label() { case $1 in main8160) echo "main, toast_tuple_target = 8160" ;; *) echo "$1" ;; esac; }
storage_reloptions() { case $1 in main8160) echo ", toast_tuple_target = 8160" ;; esac; }

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

case " $PARTS " in *" copy "*|*" storage "*) ;; *) die "PARTS must name copy and/or storage" ;; esac
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

# ---------------------------------------------------------------------------
# server, scratch directory, cleanup
# ---------------------------------------------------------------------------
OWN_CLUSTER=0
FILES=""
FILES_OURS=0
TMP_REPORT=$(mktemp -d /tmp/nmvec-copyreport.XXXXXX)

cleanup() {
    local rc=$?
    set +e
    if [ "$OWN_CLUSTER" -eq 0 ] && [ -n "${PSQL_READY:-}" ]; then
        psql -X -q ${DSN:+-d "$DSN"} -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
    fi
    [ "$FILES_OURS" -eq 1 ] && [ -n "$FILES" ] && rm -rf "$FILES"
    [ "$OWN_CLUSTER" -eq 1 ] && pgcluster_stop
    rm -rf "$TMP_REPORT"
    [ $rc -ne 0 ] && log "failed (exit $rc); cluster and scratch files removed"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$DSN" ] && [ -z "${PGHOST:-}" ]; then
    # shellcheck source=../../scripts/pgcluster.sh
    source "$ROOT/scripts/pgcluster.sh"
    log "starting a throwaway PostgreSQL 15 cluster (shared_buffers = $SHARED_BUFFERS)"
    OWN_CLUSTER=1       # before starting: cleanup must remove a half-made cluster too
    pgcluster_start "shared_buffers = $SHARED_BUFFERS"
    trap cleanup EXIT   # pgcluster_start installs its own EXIT trap; ours also stops the cluster
    FILES="$PGC_DIR/files"
    _pg_as mkdir "$FILES"
else
    log "using the existing server ${DSN:-at PGHOST=$PGHOST}"
    if [ -n "${BENCH_DIR:-}" ]; then
        FILES=$BENCH_DIR
    else
        FILES=$(mktemp -d /tmp/nmvec-copybench.XXXXXX)
        chmod 777 "$FILES"
        FILES_OURS=1
    fi
fi

PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
[ -n "$DSN" ] && PSQL+=(-d "$DSN")

sql() { "${PSQL[@]}" "$@"; }   # SQL from -c or stdin; unaligned tuples on stdout

# Runs a psql script from stdin and prints the milliseconds of every statement
# after its `\timing on` line, one per line. Nothing else is printed.
timed() { "${PSQL[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }

sql <<SQL >/dev/null
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS $SCHEMA CASCADE;
CREATE EXTENSION IF NOT EXISTS nmvec;
CREATE SCHEMA $SCHEMA;
SQL
PSQL_READY=1
export PGOPTIONS="${PGOPTIONS:-} -c search_path=$SCHEMA,public"
[ "$(sql -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] \
    || die "needs a superuser (server-side COPY, CHECKPOINT)"

# ---------------------------------------------------------------------------
# helpers: statistics and formatting
# ---------------------------------------------------------------------------
stats() {  # numbers on stdin -> "median min max"
    sort -g | awk '{a[NR] = $1}
        END { if (NR == 0) exit 1
              m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
              print m, a[1], a[NR] }'
}
rates() {  # $1 = rows; milliseconds on stdin -> rows/s, one per line
    awk -v rows="$1" '{ printf "%.0f\n", rows * 1000 / $1 }'
}
commas() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
f1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }
msrange() {  # milliseconds on stdin -> "median (min–max)" in ms
    local s; s=$(stats)
    set -- $s
    printf '%s (%s–%s)' "$(f1 "$1")" "$(f1 "$2")" "$(f1 "$3")"
}
raterange() {  # $1 = rows; milliseconds on stdin -> "median (min–max)" rows/s
    local s; s=$(rates "$1" | stats)
    set -- $s
    printf '%s (%s–%s)' "$(commas "$1")" "$(commas "$2")" "$(commas "$3")"
}
median_rate() { rates "$1" | stats | cut -d' ' -f1; }
median_of() { stats | cut -d' ' -f1; }

# One timed COPY into an emptied table: TRUNCATE and CHECKPOINT first (not
# timed) so every run starts from the same state and no checkpoint triggered
# by the previous run's WAL lands inside this one. Prints milliseconds.
timed_copy() {  # table file options
    timed <<SQL
SELECT vector_dims('[1]'::vector);
TRUNCATE $1;
CHECKPOINT;
\\timing on
COPY $1 FROM '$2' $3;
SQL
}

# ---------------------------------------------------------------------------
# environment facts for both reports
# ---------------------------------------------------------------------------
CPU_MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
CPU_COUNT=$(nproc)
CPU_TPC=$(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1)
HYPERVISOR=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
KERNEL=$(uname -r)
PG_VERSION=$(sql -c "SELECT version()")
BUILD_INFO=$(sql -c "SELECT nmvec_build_info()")
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
SO_FILE="$(pg_config --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)/nmvec.so"
SO_DATE=$(date -r "$SO_FILE" "+%F %T" 2>/dev/null || echo unknown)
SETTINGS=$(sql -F ' = ' -c "SELECT name, current_setting(name) FROM pg_settings
    WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers',
                   'max_wal_size', 'checkpoint_timeout', 'max_parallel_workers_per_gather',
                   'max_parallel_workers', 'jit', 'work_mem', 'default_toast_compression')
    ORDER BY name")
FSYNC=$(sql -c "SHOW fsync")
SYNC_COMMIT=$(sql -c "SHOW synchronous_commit")
SB=$(sql -c "SHOW shared_buffers")
DEFAULT_PWG=$(sql -c "SHOW max_parallel_workers_per_gather")
COMMAND="${OVERRIDES}bash bench/copy/run.sh${DSN:+ '<dsn>'}"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

environment_md() {
    cat <<EOF
## Environment

| | |
|---|---|
| date | $DATE |
| machine | $CPU_MODEL, $CPU_COUNT CPUs ($CPU_TPC thread(s) per core)${HYPERVISOR:+, virtualised ($HYPERVISOR)}, $MEM_GIB GiB RAM, Linux $KERNEL |
| PostgreSQL | $PG_VERSION |
| \`nmvec_build_info()\` | $BUILD_INFO |
| source | repository HEAD $GIT_REV; installed nmvec.so built $SO_DATE (\`bash scripts/build.sh\` installs the working tree) |
| load average (1/5/15 min) | $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) when this report was written; other work on the machine shows up as noise |
| server | $([ "$OWN_CLUSTER" -eq 1 ] && echo "throwaway cluster from scripts/pgcluster.sh, started with shared_buffers = $SHARED_BUFFERS" || echo "existing server") |

Server settings in effect:

\`\`\`
$SETTINGS
\`\`\`

$(if [ "$OWN_CLUSTER" -eq 1 ]; then cat <<TXT
fsync = $FSYNC and synchronous_commit = $SYNC_COMMIT, as \`scripts/pgcluster.sh\` sets up its
clusters (fsync off; everything else at the PostgreSQL defaults apart from
shared_buffers and max_wal_size). WAL is still generated and written, only never
flushed to disk, so absolute rates are higher than on a durable server.
TXT
else echo "fsync = $FSYNC, synchronous_commit = $SYNC_COMMIT (the existing server's settings)."; fi)

Reproduce (from the repository root, after \`bash scripts/build.sh\`):

\`\`\`
$COMMAND
\`\`\`
EOF
}

# ===========================================================================
# part 1: COPY ingest, vector vs real[]
# ===========================================================================
run_copy() {
    local rows=$COPY_ROWS dim=$COPY_DIM reps=$COPY_REPEATS
    local f_rt="$FILES/copy_real.txt" f_vt="$FILES/copy_vector.txt"
    local f_rb="$FILES/copy_real.bin" f_vb="$FILES/copy_vector.bin"

    log "copy: generating $rows x $dim random floats (setseed($SEED)), not timed"
    sql <<SQL >/dev/null
SET max_parallel_workers_per_gather = 0;
SELECT setseed($SEED);
-- The inner SELECT refers to i so it runs once per row (an uncorrelated
-- sub-select would be evaluated once and give every row the same vector).
CREATE TABLE cb_src WITH (autovacuum_enabled = off) AS
    SELECT i AS id, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, $dim + 0 * i)) AS v
    FROM generate_series(1, $rows) AS i;
CREATE TABLE cb_src_vec WITH (autovacuum_enabled = off) AS SELECT id, v::vector($dim) AS v FROM cb_src;
COPY cb_src TO '$f_rt';
COPY (SELECT id, translate(v::text, '{}', '[]') FROM cb_src ORDER BY id) TO '$f_vt';
COPY cb_src TO '$f_rb' (FORMAT binary);
COPY cb_src_vec TO '$f_vb' (FORMAT binary);
DROP TABLE cb_src_vec;
CREATE TABLE cb_text_vector   (id integer, v vector($dim)) WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
CREATE TABLE cb_binary_vector (id integer, v vector($dim)) WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
CREATE TABLE cb_text_real     (id integer, v real[])       WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
CREATE TABLE cb_binary_real   (id integer, v real[])       WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off);
SQL
    local sample
    sample=$(sql -c "SELECT array_to_string(v[1:4], ', ') FROM cb_src WHERE id = 1")

    local variants=(text_vector text_real binary_vector binary_real)
    declare -A file opts label times
    file=([text_vector]=$f_vt [text_real]=$f_rt [binary_vector]=$f_vb [binary_real]=$f_rb)
    opts=([text_vector]="" [text_real]="" [binary_vector]="(FORMAT binary)" [binary_real]="(FORMAT binary)")
    label=([text_vector]="text → vector($dim)" [text_real]="text → real[]"
           [binary_vector]="binary → vector($dim)" [binary_real]="binary → real[]")
    declare -A fsize
    for v in "${variants[@]}"; do
        fsize[$v]=$(sql -c "SELECT size FROM pg_stat_file('${file[$v]}')")
        times[$v]=""
    done

    # Round 0 warms up (page cache, relation extension) and is discarded; the
    # variants are interleaved within each round so drift hits all alike.
    for ((r = 0; r <= reps; r++)); do
        for v in "${variants[@]}"; do
            local ms
            ms=$(timed_copy "cb_$v" "${file[$v]}" "${opts[$v]}")
            [ -n "$ms" ] || die "no timing for COPY cb_$v"
            if [ "$r" -eq 0 ]; then
                log "copy: warm-up        $(printf '%-22s' "${label[$v]}") $(f1 "$ms") ms (discarded)"
            else
                times[$v]+="$ms"$'\n'
                log "copy: round $r/$reps  $(printf '%-22s' "${label[$v]}") $(f1 "$ms") ms = $(commas "$(awk -v r="$rows" -v m="$ms" 'BEGIN { print r * 1000 / m }')") rows/s"
            fi
        done
    done

    log "copy: verifying that all four tables hold the generated numbers"
    local check
    check=$(sql <<SQL
SELECT (SELECT count(*) FROM cb_text_vector   a JOIN cb_src s USING (id) WHERE a.v::real[] = s.v) || ' ' ||
       (SELECT count(*) FROM cb_binary_vector a JOIN cb_src s USING (id) WHERE a.v::real[] = s.v) || ' ' ||
       (SELECT count(*) FROM cb_text_real     a JOIN cb_src s USING (id) WHERE a.v = s.v) || ' ' ||
       (SELECT count(*) FROM cb_binary_real   a JOIN cb_src s USING (id) WHERE a.v = s.v);
SQL
)
    [ "$check" = "$rows $rows $rows $rows" ] || die "loaded tables differ from the source data: $check (expected $rows each)"
    declare -A tsize
    for v in "${variants[@]}"; do
        tsize[$v]=$(sql -c "SELECT pg_total_relation_size('cb_$v')")
    done
    sql -c "DROP TABLE cb_src, cb_text_vector, cb_binary_vector, cb_text_real, cb_binary_real" >/dev/null
    rm -f "$f_rt" "$f_vt" "$f_rb" "$f_vb" 2>/dev/null || true

    # ---- figures ----
    declare -A med
    for v in "${variants[@]}"; do
        med[$v]=$(printf '%s' "${times[$v]}" | median_rate "$rows")
    done
    local r_text r_bin r_vec_bt r_real_bt
    r_text=$(ratio "${med[text_vector]}" "${med[text_real]}")
    r_bin=$(ratio "${med[binary_vector]}" "${med[binary_real]}")
    r_vec_bt=$(ratio "${med[binary_vector]}" "${med[text_vector]}")
    r_real_bt=$(ratio "${med[binary_real]}" "${med[text_real]}")
    local verdict
    if awk -v x="$r_text" 'BEGIN { exit !(x >= 2) }'; then
        verdict="meets the target of ≥ 2×"
    else
        verdict="**misses** the target of ≥ 2×"
    fi

    local out="$TMP_REPORT/copy-$DATE.md"
    {
        echo "# COPY ingest: vector vs real[] ($DATE)"
        echo
        echo "$rows rows of ($dim-d vector, integer id) loaded with COPY FROM a server-side"
        echo "file into an unindexed table; median of $reps runs (min–max in brackets)."
        echo
        echo "**Text COPY into vector($dim) runs at ${r_text}× the rate of text COPY into real[]** — $verdict."
        echo "Binary COPY: vector is ${r_bin}× real[]; for vector, binary is ${r_vec_bt}× text."
        echo
        echo "| variant | rows/s, median (min–max) | MB/s of input | seconds, median | input file | table after load |"
        echo "|---|---|---|---|---|---|"
        for v in "${variants[@]}"; do
            local mms
            mms=$(printf '%s' "${times[$v]}" | median_of)
            echo "| ${label[$v]} | $(printf '%s' "${times[$v]}" | raterange "$rows") | $(awk -v b="${fsize[$v]}" -v m="$mms" 'BEGIN { printf "%.0f", b / 1048576 / (m / 1000) }') | $(awk -v m="$mms" 'BEGIN { printf "%.2f", m / 1000 }') | $(mb "${fsize[$v]}") MB | $(mb "${tsize[$v]}") MB |"
        done
        echo
        echo "| ratio (of medians) | value |"
        echo "|---|---|"
        echo "| text: vector / real[] | **${r_text}×** |"
        echo "| binary: vector / real[] | ${r_bin}× |"
        echo "| vector: binary / text | ${r_vec_bt}× |"
        echo "| real[]: binary / text | ${r_real_bt}× |"
        echo
        echo "## What was measured"
        echo
        echo "* Data: \`setseed($SEED)\`, then \`(random() * 2 - 1)::real\` for each of the $rows × $dim"
        echo "  numbers — full-precision floats such as an embedding model emits (row 1 starts"
        echo "  $sample). Written once with COPY TO: real[] text (\`{…}\`), the vector text file"
        echo "  derived from it by turning \`{}\` into \`[]\`, and the two binary files from a real[]"
        echo "  and a vector table. Every variant therefore loads the same numbers; after the last"
        echo "  run all four tables were checked equal to the source, element for element ($rows of $rows rows each)."
        echo "* Each run: \`TRUNCATE\`, \`CHECKPOINT\` (neither timed), then"
        echo "  \`COPY t FROM '<file>' [(FORMAT binary)]\` timed with psql's \`\\timing\`; the"
        echo "  statement runs entirely in the server and autocommits, so the time includes the commit."
        echo "  Tables: \`(id integer, v vector($dim))\` or \`(id integer, v real[])\`, no indexes,"
        echo "  autovacuum off for them. One discarded warm-up round, then $reps rounds with the"
        echo "  four variants interleaved."
        echo "* text → real[] is Postgres's own float parsing (array_in + float4in, i.e. strtof);"
        echo "  text → vector is nmvec's parser. Binary formats skip float parsing entirely:"
        echo "  vector_recv byte-swaps a length-prefixed block, array_recv calls float4recv per element."
        echo
        echo "Per-run times (ms):"
        echo
        echo "| variant | runs |"
        echo "|---|---|"
        for v in "${variants[@]}"; do
            echo "| ${label[$v]} | $(printf '%s' "${times[$v]}" | awk 'NF { printf "%s%.1f", (n++ ? ", " : ""), $1 }') |"
        done
        echo
        environment_md
    } >"$out"
    COPY_SUMMARY="text vector/real[] = ${r_text}x; binary vector/real[] = ${r_bin}x; rows/s: text vector $(commas "${med[text_vector]}"), text real[] $(commas "${med[text_real]}"), binary vector $(commas "${med[binary_vector]}"), binary real[] $(commas "${med[binary_real]}")"
    log "copy: $COPY_SUMMARY"
}

# ===========================================================================
# part 2: column storage (PLAIN / MAIN / EXTERNAL / EXTENDED)
# ===========================================================================
declare -A ST_COPY ST_HEAP ST_TOAST ST_TOTAL ST_OOL ST_COMP ST_Q0 ST_QD ST_PLAND ST_TOP

# One round of exact-scan timings: a session with the given
# max_parallel_workers_per_gather ('default' leaves the server's value) that,
# for each storage variant of dimension d in turn, runs the prepared query
# QUERY_WARMUP times untimed and once timed. Prints one millisecond figure
# per variant, in STORAGES order. Rounds are repeated QUERY_RUNS times, so the
# variants are interleaved and background noise is spread over all of them.
query_round() {  # dim workers
    local d=$1 s i
    {
        [ "$2" = default ] || echo "SET max_parallel_workers_per_gather = $2;"
        echo "SELECT v AS qv FROM st_query WHERE dim = $d \\gset"
        for s in "${STORAGES[@]}"; do
            echo "PREPARE q_$s(vector) AS SELECT id FROM st_${s}_$d ORDER BY v <-> \$1 LIMIT 10;"
        done
        for s in "${STORAGES[@]}"; do
            for ((i = 0; i < QUERY_WARMUP; i++)); do echo "EXECUTE q_$s(:'qv');"; done
            echo '\timing on'
            echo "EXECUTE q_$s(:'qv');"
            echo '\timing off'
        done
    } | timed
}

plan_of() {  # table dim workers -> short plan description
    local setpw=""
    [ "$3" = default ] || setpw="SET max_parallel_workers_per_gather = $3;"
    sql <<SQL | awk '/Workers Planned/ { w = $NF } /^JIT:/ { j = 1 }
                    END { printf "%s%s", (w ? w " workers" : "serial"), (j ? ", JIT" : "") }'
$setpw
SELECT v AS qv FROM st_query WHERE dim = $2 \\gset
EXPLAIN (COSTS OFF) SELECT id FROM $1 ORDER BY v <-> :'qv' LIMIT 10;
SQL
}

run_storage_dim() {
    local d=$1
    local rows=$ST_ROWS reps=$ST_REPEATS f="$FILES/st_$d.bin"
    log "storage: ${d}-d: writing the binary COPY file (not timed)"
    sql <<SQL >/dev/null
INSERT INTO st_query SELECT $d, v[1:$d]::vector FROM st_base WHERE id = 0;
COPY (SELECT id, v[1:$d]::vector($d) FROM st_base WHERE id > 0 ORDER BY id) TO '$f' (FORMAT binary);
SQL
    local s
    for s in "${STORAGES[@]}"; do
        sql <<SQL >/dev/null
CREATE TABLE st_${s}_$d (id integer, v vector($d))
    WITH (autovacuum_enabled = off, toast.autovacuum_enabled = off$(storage_reloptions "$s"));
ALTER TABLE st_${s}_$d ALTER COLUMN v SET STORAGE $(storage_of "$s");
SQL
        ST_COPY[$s,$d]=""
    done
    for ((r = 1 - ST_WARMUP; r <= reps; r++)); do
        for s in "${STORAGES[@]}"; do
            local ms
            ms=$(timed_copy "st_${s}_$d" "$f" "(FORMAT binary)")
            [ -n "$ms" ] || die "no timing for COPY st_${s}_$d"
            if [ "$r" -le 0 ]; then
                log "storage: ${d}-d warm-up       $(printf '%-9s' "$s") COPY $(f1 "$ms") ms (discarded)"
            else
                ST_COPY[$s,$d]+="$ms"$'\n'
                log "storage: ${d}-d round $r/$reps   $(printf '%-9s' "$s") COPY $(f1 "$ms") ms = $(commas "$(awk -v r="$rows" -v m="$ms" 'BEGIN { print r * 1000 / m }')") rows/s"
            fi
        done
    done
    rm -f "$f" 2>/dev/null || true
    for s in "${STORAGES[@]}"; do
        local t="st_${s}_$d" toast facts
        sql -c "VACUUM (ANALYZE) $t" >/dev/null
        toast=$(sql -c "SELECT reltoastrelid::regclass FROM pg_class WHERE oid = '$t'::regclass")
        facts=$(sql -F ' ' <<SQL
SELECT pg_relation_size('$t'),
       coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0),
       pg_total_relation_size('$t'),
       (SELECT count(DISTINCT chunk_id) FROM $toast),
       (SELECT count(*) FROM $t WHERE pg_column_compression(v) IS NOT NULL)
FROM pg_class WHERE oid = '$t'::regclass;
SQL
)
        read -r "ST_HEAP[$s,$d]" "ST_TOAST[$s,$d]" "ST_TOTAL[$s,$d]" "ST_OOL[$s,$d]" "ST_COMP[$s,$d]" <<<"$facts"
        ST_PLAND[$s,$d]=$(plan_of "$t" "$d" default)
        ST_TOP[$s,$d]=$(sql <<SQL
SELECT v AS qv FROM st_query WHERE dim = $d \\gset
SELECT string_agg(id::text, ',') FROM (SELECT id FROM $t ORDER BY v <-> :'qv' LIMIT 10) a;
SQL
)
        ST_Q0[$s,$d]=""
        ST_QD[$s,$d]=""
    done
    # VACUUM dirtied every page (hint bits, visibility map): write them now, so
    # that no checkpoint writes them in the background while queries are timed.
    sql -c "CHECKPOINT" >/dev/null
    log "storage: ${d}-d: $QUERY_RUNS rounds of exact-scan queries"
    local w r
    for ((r = 1; r <= QUERY_RUNS; r++)); do
        for w in 0 default; do
            local -a ms
            mapfile -t ms < <(query_round "$d" "$w")
            [ "${#ms[@]}" -eq "${#STORAGES[@]}" ] || die "query round returned ${#ms[@]} timings"
            local k
            for k in "${!STORAGES[@]}"; do
                s=${STORAGES[$k]}
                if [ "$w" = 0 ]; then ST_Q0[$s,$d]+="${ms[$k]}"$'\n'; else ST_QD[$s,$d]+="${ms[$k]}"$'\n'; fi
            done
        done
    done
    for s in "${STORAGES[@]}"; do
        log "storage: ${d}-d $(printf '%-9s' "$s") heap $(mb "${ST_HEAP[$s,$d]}") MB, toast $(mb "${ST_TOAST[$s,$d]}") MB, out-of-line ${ST_OOL[$s,$d]}, compressed ${ST_COMP[$s,$d]}; scan $(printf '%s' "${ST_Q0[$s,$d]}" | msrange) ms serial, $(printf '%s' "${ST_QD[$s,$d]}" | msrange) ms default (${ST_PLAND[$s,$d]})"
    done
    local top=${ST_TOP[main,$d]}
    for s in "${STORAGES[@]}"; do
        [ "${ST_TOP[$s,$d]}" = "$top" ] || die "${d}-d: $s returned a different top 10 (${ST_TOP[$s,$d]} vs $top)"
    done
    for s in "${STORAGES[@]}"; do sql -c "DROP TABLE st_${s}_$d" >/dev/null; done
}

# What happens to a vector that does not fit in a heap page: PLAIN has no way
# out; MAIN moves it out of line as a last resort.
storage_limits() {
    local d ok_max=0 err=""
    sql -c "CREATE TABLE st_lim (id integer, v vector) WITH (autovacuum_enabled = off); ALTER TABLE st_lim ALTER COLUMN v SET STORAGE plain" >/dev/null
    for d in 2020 2024 2028 2029 2030 2031 2032 2033 2034 2036 2040 2048; do
        local msg
        if msg=$(sql -c "INSERT INTO st_lim SELECT 1, ARRAY(SELECT random()::real FROM generate_series(1, $d))::vector" 2>&1); then
            ok_max=$d
        else
            [ -n "$err" ] || err="vector($d) under PLAIN: $(printf '%s' "$msg" | sed -n 's/^.*ERROR: *//p' | head -1)"
        fi
    done
    LIM_PLAIN_MAX=$ok_max
    LIM_PLAIN_ERR=$err
    LIM_PLAIN_16000=$( (sql -c "INSERT INTO st_lim SELECT 1, ARRAY(SELECT random()::real FROM generate_series(1, 16000))::vector" 2>&1 || true) \
        | sed -n 's/^.*ERROR: *//p' | head -1)
    sql -c "ALTER TABLE st_lim ALTER COLUMN v SET STORAGE main; TRUNCATE st_lim" >/dev/null
    sql -c "INSERT INTO st_lim SELECT 1, ARRAY(SELECT random()::real FROM generate_series(1, 16000))::vector" >/dev/null
    LIM_MAIN_16000=$(sql -F ' ' -c "SELECT vector_dims(v), pg_column_size(v), pg_relation_size('st_lim'),
        (SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'st_lim'::regclass) FROM st_lim")
    sql -c "DROP TABLE st_lim" >/dev/null
}

# Is parallel query worth it on this machine at all, nmvec aside? A parallel
# and a serial count(*) over 3M integers, for comparison with the vector scans.
parallel_check() {
    sql <<SQL >/dev/null
CREATE TABLE st_par WITH (autovacuum_enabled = off) AS SELECT i FROM generate_series(1, 3000000) AS i;
VACUUM (ANALYZE) st_par;
SQL
    PAR_WORKERS=$(sql -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM st_par" | awk '/Workers Planned/ { print $NF }')
    local w
    for w in 0 default; do
        local ms
        ms=$({
            [ "$w" = default ] || echo "SET max_parallel_workers_per_gather = $w;"
            echo "SELECT count(*) FROM st_par;"
            echo '\timing on'
            for ((i = 0; i < QUERY_RUNS; i++)); do echo "SELECT count(*) FROM st_par;"; done
        } | timed)
        if [ "$w" = 0 ]; then PAR_SERIAL=$ms; else PAR_DEFAULT=$ms; fi
    done
    sql -c "DROP TABLE st_par" >/dev/null
    log "storage: count(*) over 3M ints: serial $(printf '%s' "$PAR_SERIAL" | msrange) ms, default (${PAR_WORKERS:-0} workers) $(printf '%s' "$PAR_DEFAULT" | msrange) ms"
}

run_storage() {
    sql -c "CREATE TABLE st_query (dim integer PRIMARY KEY, v vector)" >/dev/null
    # One set of random numbers for all dimensions: the d-d vectors are the
    # first d elements of the widest ones; row 0 is the query vector.
    local dmax
    dmax=$(for x in $ST_DIMS; do echo "$x"; done | sort -n | tail -1)
    log "storage: generating $ST_ROWS x $dmax random floats (setseed($SEED)), not timed"
    sql <<SQL >/dev/null
SET max_parallel_workers_per_gather = 0;
SELECT setseed($SEED);
CREATE TABLE st_base WITH (autovacuum_enabled = off) AS
    SELECT i AS id, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, $dmax + 0 * i)) AS v
    FROM generate_series(0, $ST_ROWS) AS i;
SQL
    log "storage: limits of PLAIN and MAIN"
    storage_limits
    local d
    for d in $ST_DIMS; do run_storage_dim "$d"; done
    sql -c "DROP TABLE st_base" >/dev/null
    parallel_check

    local out="$TMP_REPORT/storage-$DATE.md" s
    {
        echo "# Default column storage of vector: PLAIN, MAIN, EXTERNAL or EXTENDED? ($DATE)"
        echo
        echo "$ST_ROWS random vectors (plus an integer id) per table; the column's storage set with"
        echo "\`ALTER TABLE t ALTER COLUMN v SET STORAGE …\` before loading. Median of $ST_REPEATS binary"
        echo "COPY loads and of $QUERY_RUNS exact-scan queries (min–max in brackets). A fifth variant,"
        echo "MAIN on a table created \`WITH (toast_tuple_target = 8160)\`, shows what MAIN costs"
        echo "when its compression attempt is switched off."
        echo
        echo "## Recommendation"
        echo
        storage_conclusion
        echo
        for d in $ST_DIMS; do
            local bytes=$((8 + 4 * d))
            echo "## ${d}-d (vector datum $bytes bytes)"
            echo
            echo "| storage | binary COPY rows/s | heap MB | TOAST MB | total MB | values out of line | values compressed | exact scan ms, 0 workers | exact scan ms, default ($DEFAULT_PWG) | plan with default |"
            echo "|---|---|---|---|---|---|---|---|---|---|"
            for s in "${STORAGES[@]}"; do
                echo "| $(storage_label "$s") | $(printf '%s' "${ST_COPY[$s,$d]}" | raterange "$ST_ROWS") | $(mb "${ST_HEAP[$s,$d]}") | $(mb "${ST_TOAST[$s,$d]}") | $(mb "${ST_TOTAL[$s,$d]}") | ${ST_OOL[$s,$d]} | ${ST_COMP[$s,$d]} | $(printf '%s' "${ST_Q0[$s,$d]}" | msrange) | $(printf '%s' "${ST_QD[$s,$d]}" | msrange) | ${ST_PLAND[$s,$d]} |"
            done
            echo
            echo "Every variant returned the same 10 ids (${ST_TOP[main,$d]})."
            if [ "$bytes" -le 2000 ]; then
                echo "Rows this small stay under the TOAST threshold (~2 kB), so every storage keeps them"
                echo "inline and uncompressed: this table is the control, and its differences are noise."
            fi
            echo
        done
        echo "## Rows that do not fit in a page"
        echo
        echo "* PLAIN never moves a value out of the heap tuple, and a heap tuple must fit in one"
        echo "  8 kB page: with an integer id, the largest vector PLAIN accepted here has"
        echo "  **$LIM_PLAIN_MAX dimensions**; the next size tried fails with"
        echo "  \`${LIM_PLAIN_ERR#*: }\`. vector(16000), the type's maximum, fails the same way"
        echo "  (\`$LIM_PLAIN_16000\`). A PLAIN default would make every vector wider than ~2,030"
        echo "  dimensions unstorable (halfvec: ~4,060)."
        echo "* MAIN stores the same 16000-d random vector: it is first offered to compression (which"
        echo "  fails on random floats) and then moved out of line as the last resort ($(set -- $LIM_MAIN_16000; echo "dims $1, datum $2 bytes, heap $3 bytes, TOAST $4 bytes"))."
        echo
        echo "## Parallel query on this machine"
        echo
        parallel_note
        echo
        echo "## What was measured"
        echo
        echo "* Data: \`setseed($SEED)\`, \`(random() * 2 - 1)::real\` per element (embedding-like floats,"
        echo "  which pglz cannot compress; real MNIST pixels, mostly zeros, would compress), generated"
        echo "  once at the widest dimension; the d-d vectors are their first d elements. One binary"
        echo "  file per dimension, written with COPY TO; the query vector is one more random vector"
        echo "  (row 0, not loaded)."
        echo "* COPY: \`TRUNCATE\` + \`CHECKPOINT\` (not timed), then \`COPY t FROM '<file>' (FORMAT binary)\`"
        echo "  timed with psql's \`\\timing\`; $ST_WARMUP discarded warm-up round(s), then $ST_REPEATS rounds with the"
        echo "  variants interleaved (the file was just written, so it is read from the page cache)."
        echo "* Sizes after \`VACUUM (ANALYZE)\`: heap = main fork; TOAST = toast table + its index;"
        echo "  total = \`pg_total_relation_size\`. Out of line = distinct TOAST chunk ids; compressed ="
        echo "  rows with \`pg_column_compression(v)\` not null."
        echo "* Query: \`PREPARE q(vector) AS SELECT id FROM t ORDER BY v <-> \$1 LIMIT 10\` with a fixed"
        echo "  query vector, after \`VACUUM (ANALYZE)\` and a \`CHECKPOINT\`; warm cache (shared_buffers ="
        echo "  $SB holds every table). $QUERY_RUNS rounds; each round is one session that, for each"
        echo "  variant in turn, runs the query $QUERY_WARMUP× untimed and 1× timed with psql's \`\\timing\`,"
        echo "  so the variants are interleaved; each round runs once with \`max_parallel_workers_per_gather = 0\`"
        echo "  and once with the server's default ($DEFAULT_PWG). \"plan with default\" is what EXPLAIN chose then."
        echo
        echo "Per-run times (ms):"
        echo
        echo "| dims | storage | COPY | scan, 0 workers | scan, default |"
        echo "|---|---|---|---|---|"
        for d in $ST_DIMS; do
            for s in "${STORAGES[@]}"; do
                echo "| $d | $(storage_label "$s") | $(printf '%s' "${ST_COPY[$s,$d]}" | awk 'NF { printf "%s%.0f", (n++ ? ", " : ""), $1 }') | $(printf '%s' "${ST_Q0[$s,$d]}" | awk 'NF { printf "%s%.1f", (n++ ? ", " : ""), $1 }') | $(printf '%s' "${ST_QD[$s,$d]}" | awk 'NF { printf "%s%.1f", (n++ ? ", " : ""), $1 }') |"
            done
        done
        echo
        environment_md
    } >"$out"
}

parallel_note() {
    local d s list=""
    for d in $ST_DIMS; do
        for s in "${STORAGES[@]}"; do
            case ${ST_PLAND[$s,$d]} in
                serial*) ;;
                *) list+="${list:+; }${d}-d $(storage_label "$s"): $(f1 "$(printf '%s' "${ST_QD[$s,$d]}" | median_of)") ms vs $(f1 "$(printf '%s' "${ST_Q0[$s,$d]}" | median_of)") ms serial" ;;
            esac
        done
    done
    if [ -n "$list" ]; then
        echo "With the default max_parallel_workers_per_gather = $DEFAULT_PWG the planner chose a parallel"
        echo "exact scan for: $list."
    else
        echo "With the default max_parallel_workers_per_gather = $DEFAULT_PWG the planner kept every exact scan serial."
    fi
    echo "For comparison, without nmvec: \`SELECT count(*)\` over a 3,000,000-row integer table takes"
    echo "$(printf '%s' "$PAR_SERIAL" | msrange) ms serial and $(printf '%s' "$PAR_DEFAULT" | msrange) ms with"
    echo "the default (${PAR_WORKERS:-0} workers planned). On this $CPU_COUNT-CPU machine a parallel plan's"
    echo "workers compete with the leader for the same cores, so whatever the parallel column"
    echo "shows is a property of the machine and the planner's parallel costs, not of the storage."
}

# The recommendation, written from the measured numbers (3–5 sentences).
storage_conclusion() {
    local d=${ST_DIMS%% *} dl
    dl=$(for x in $ST_DIMS; do echo "$x"; done | sort -n | tail -1)
    local q_main q_ext q_extd q_plain c_main c_ext c_plain c_extd c_m8160
    q_main=$(printf '%s' "${ST_Q0[main,$d]}" | median_of)
    q_plain=$(printf '%s' "${ST_Q0[plain,$d]}" | median_of)
    q_ext=$(printf '%s' "${ST_Q0[external,$d]}" | median_of)
    q_extd=$(printf '%s' "${ST_Q0[extended,$d]}" | median_of)
    c_main=$(printf '%s' "${ST_COPY[main,$d]}" | median_rate "$ST_ROWS")
    c_plain=$(printf '%s' "${ST_COPY[plain,$d]}" | median_rate "$ST_ROWS")
    c_ext=$(printf '%s' "${ST_COPY[external,$d]}" | median_rate "$ST_ROWS")
    c_extd=$(printf '%s' "${ST_COPY[extended,$d]}" | median_rate "$ST_ROWS")
    c_m8160=$(printf '%s' "${ST_COPY[main8160,$d]}" | median_rate "$ST_ROWS")
    local scan_x copy_x
    scan_x=$(ratio "$q_ext" "$q_main")
    copy_x=$(ratio "$c_ext" "$c_main")
    local s1 s2 s3 s4 s5
    s1="At ${d}-d an exact scan over inline vectors takes $(f1 "$q_main") ms with MAIN ($(f1 "$q_plain") ms PLAIN) against $(f1 "$q_ext") ms when they are TOASTed (EXTERNAL; EXTENDED $(f1 "$q_extd") ms): out-of-line storage makes the scan ${scan_x}× slower, because every row costs a TOAST index lookup, chunk fetches and a copy before the distance is computed."
    if awk -v x="$copy_x" 'BEGIN { exit !(x > 1.05) }'; then
        s2="Binary COPY is faster with TOAST ($(commas "$c_ext") rows/s EXTERNAL vs $(commas "$c_main") MAIN, ${copy_x}×), but that is paid once per row while the scan cost is paid by every query the index does not answer (filters the planner sends to an exact scan, re-ranking, index builds)."
    elif awk -v x="$copy_x" 'BEGIN { exit !(x < 0.95) }'; then
        s2="Binary COPY does not favour TOAST either: $(commas "$c_ext") rows/s EXTERNAL and $(commas "$c_extd") EXTENDED against $(commas "$c_main") MAIN and $(commas "$c_plain") PLAIN, since TOAST writes every value as chunks plus an index entry per chunk."
    else
        s2="Binary COPY runs at about the same rate with TOAST ($(commas "$c_ext") rows/s EXTERNAL vs $(commas "$c_main") MAIN), so ingest does not argue for it."
    fi
    local main_vs_plain
    main_vs_plain=$(ratio "$c_main" "$c_plain")
    if awk -v x="$main_vs_plain" 'BEGIN { exit !(x < 0.95) }'; then
        s3="MAIN's one cost is that Postgres tries to compress every row over ~2 kB: pglz compressed ${ST_COMP[main,$d]} of $ST_ROWS random vectors (EXTENDED: ${ST_COMP[extended,$d]}), yet the attempt holds COPY into MAIN to $(commas "$c_main") rows/s against $(commas "$c_plain") for PLAIN"
        if awk -v a="$c_m8160" -v b="$c_main" 'BEGIN { exit !(a > 1.05 * b) }'; then
            s3+=", and a table created WITH (toast_tuple_target = 8160), which skips the compression attempt (though not the toaster's pass over each row), loads $(commas "$c_m8160") rows/s while keeping MAIN's fallback."
        else
            s3+="; toast_tuple_target = 8160 on the table did not win it back here ($(commas "$c_m8160") rows/s)."
        fi
    else
        s3="MAIN costs nothing measurable against PLAIN on ingest ($(commas "$c_main") vs $(commas "$c_plain") rows/s), although Postgres offers each row over ~2 kB to pglz, which compressed ${ST_COMP[main,$d]} of $ST_ROWS random vectors."
    fi
    local tm te
    tm=${ST_TOTAL[main,$dl]}
    te=${ST_TOTAL[external,$dl]}
    if awk -v a="$tm" -v b="$te" 'BEGIN { exit !(a < 1.1 * b) }'; then
        s4="Space does not argue for TOAST: even at ${dl}-d, where only $(awk -v r="$ST_ROWS" -v h="${ST_HEAP[main,$dl]}" 'BEGIN { printf "%.0f", r * 8192 / h }') row(s) fit in a heap page, MAIN takes $(mb "$tm") MB and EXTERNAL $(mb "$te") MB, because TOAST chunks leave similar gaps."
    else
        s4="Inline storage does cost space at ${dl}-d, where only $(awk -v r="$ST_ROWS" -v h="${ST_HEAP[main,$dl]}" 'BEGIN { printf "%.0f", r * 8192 / h }') row(s) fit in a heap page: $(mb "$tm") MB MAIN vs $(mb "$te") MB EXTERNAL."
    fi
    if awk -v x="$scan_x" 'BEGIN { exit !(x < 1.15) }'; then
        s5="Inline and out-of-line scans are within 15% of each other here, so the scan does not decide the question; MAIN stays the safer default because it behaves like PLAIN for every row that fits in a page and still stores vector(16000), which PLAIN cannot (largest PLAIN vector: $LIM_PLAIN_MAX dimensions)."
    else
        s5="PLAIN scans like MAIN but cannot store a vector wider than $LIM_PLAIN_MAX dimensions at all, while MAIN moves a value out of line only when the row would not fit in a page, so the numbers support keeping **STORAGE = main** for vector and halfvec (EXTERNAL, pgvector's default since 0.6.0, gives up the fast scan and gains nothing measured here), with \`toast_tuple_target = 8160\` as the tuning to document for ingest-heavy tables."
    fi
    echo "$s1 $s2 $s3 $s4 $s5"
}

# Other work on a 2-CPU machine is the largest source of noise: give it a
# chance to finish before the first measurement.
wait_quiet() {
    local waited=0 load
    while :; do
        load=$(cut -d' ' -f1 /proc/loadavg)
        awk -v l="$load" -v m="$QUIET_LOAD" 'BEGIN { exit !(l >= m) }' || return 0
        if [ "$waited" -ge "$QUIET_WAIT" ]; then
            log "1-minute load average still $load after ${QUIET_WAIT} s; measuring anyway"
            return 0
        fi
        [ "$waited" -eq 0 ] && log "1-minute load average is $load; waiting up to ${QUIET_WAIT} s for it to fall below $QUIET_LOAD"
        sleep 5
        waited=$((waited + 5))
    done
}

# ---------------------------------------------------------------------------
start=$(date +%s)
wait_quiet
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
case " $PARTS " in *" copy "*) run_copy ;; esac
case " $PARTS " in *" storage "*) run_storage ;; esac
for f in "$TMP_REPORT"/*.md; do
    cp "$f" "$OUT_DIR/"
    log "wrote ${OUT_DIR#"$ROOT"/}/$(basename "$f")"
done
log "done in $(( $(date +%s) - start )) s"
