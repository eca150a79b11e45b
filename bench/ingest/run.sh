#!/usr/bin/env bash
# bench/ingest/run.sh — nmvec-ingest's load rate: a synthetic ledger of 384-d
# events (nmvec-gen) into an unindexed events table, beside the same rows
# COPYed by psql from nmvec-gen's own COPY BINARY file (the server's side of
# the work alone), in one throwaway cluster, rounds interleaved.
#
#   bash bench/ingest/run.sh [ROWS] [ROUNDS]     (defaults 200000, 5)
#
# Five rounds by default: the first one or two of a new cluster are often
# slower for both loads, and the median should not be one of them.
#
# Writes bench/results/ingest-<date>.md. A few minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ROWS=${1:-200000}
ROUNDS=${2:-5}
OUT=$ROOT/bench/results/ingest-$(date -u +%F).md
bash scripts/deps.sh python3 >/dev/null
bash scripts/build.sh
cmake -S . -B build >/dev/null && cmake --build build -j2 --target nmvec-ingest nmvec-gen >/dev/null
source scripts/pgcluster.sh
pgcluster_start "shared_buffers = 2GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" >/dev/null
export PGHOST PGPORT PGUSER
WORK=$(mktemp -d /tmp/nmvec-ingest-bench.XXXXXX)
trap 'rm -rf "$WORK"; pgcluster_stop >/dev/null 2>&1 || true' EXIT
build/src/tools/nmvec-gen --rows "$ROWS" --dims 384 --seed 3 --out "$WORK/ledger.jsonl" \
    --format both --copy-out "$WORK/events.pgcopy" 2>/dev/null
psql -qX -d postgres -c "CREATE DATABASE ing"
psql -qX -d ing -c "CREATE EXTENSION nmvec"
COLS='id bigint, ts timestamptz, tenant text, category text, action text, "user" text, pid integer, payload jsonb, hash text, embedding vector(384)'
now() { date +%s.%N; }
: >"$WORK/times"
for ((r = 1; r <= ROUNDS; r++)); do
    psql -qX -d ing -c "DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS nmvec_ingest_progress; CREATE TABLE events ($COLS); CHECKPOINT"
    sync
    t0=$(now)
    build/src/tools/nmvec-ingest --dsn dbname=ing --dims 384 "$WORK/ledger.jsonl" 2>/dev/null
    t1=$(now)
    n=$(psql -qXAt -d ing -c "SELECT count(*) FROM events")
    [ "$n" = "$ROWS" ] || { echo "ingest loaded $n of $ROWS rows" >&2; exit 1; }
    psql -qX -d ing -c "DROP TABLE events; CREATE TABLE events ($COLS); CHECKPOINT"
    sync
    t2=$(now)
    psql -qX -d ing -c "\\copy events FROM '$WORK/events.pgcopy' (FORMAT binary)"
    t3=$(now)
    echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') $(awk -v a="$t2" -v b="$t3" 'BEGIN{print b-a}')" >>"$WORK/times"
    echo "round $r: $(tail -1 "$WORK/times")" >&2
done
python3 - "$WORK/times" "$OUT" "$ROWS" "bash bench/ingest/run.sh $*" "$(stat -c %s "$WORK/ledger.jsonl")" <<'PY'
import statistics, subprocess, sys, platform, datetime
times, out, rows, cmd, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
ing, cp = zip(*[tuple(map(float, l.split())) for l in open(times)])
def rate(ts):
    r = sorted(rows / t for t in ts)
    return f"{statistics.median(r):,.0f} rows/s ({r[0]:,.0f}–{r[-1]:,.0f})"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
with open(out, "w") as f:
    f.write(f"# nmvec-ingest load rate ({datetime.date.today()})\n\n")
    f.write(f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, {platform.release()}; git {git}.\n\n")
    f.write(f"Command: `{cmd}`\n\n")
    f.write(f"{rows:,} nm-monitor v2 ledger lines with 384-d embeddings ({size / 1e6:,.0f} MB, nmvec-gen --seed 3) into an "
            f"unindexed events table; median (min–max) of {len(ing)} rounds, each on a new table.\n\n")
    f.write("| | rate | ratio to the baseline |\n|---|---|---|\n")
    f.write(f"| nmvec-ingest (parse, chain check, COPY BINARY, progress row) | {rate(ing)} | {statistics.median(cp) / statistics.median(ing):.2f}× |\n")
    f.write(f"| baseline: psql `\\copy` of nmvec-gen's COPY BINARY file of the same rows (the server's work alone) | {rate(cp)} | 1.00× |\n")
print(open(out).read())
PY
