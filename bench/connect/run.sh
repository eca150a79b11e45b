#!/usr/bin/env bash
# bench/connect/run.sh — what loading the extension costs a new connection:
# the time of the first vector query of a fresh session (it loads the shared
# library), nmvec beside pgvector (built from ../shared/peers) in one
# throwaway cluster, sessions alternating between the two. A second query in
# the same session is timed too (the library is loaded by then).
#
#   bash bench/connect/run.sh [SESSIONS]      (default 60 per extension)
#
# Writes bench/results/connect-<date>.md. About a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
N=${1:-60}
OUT=$ROOT/bench/results/connect-$(date -u +%F).md
bash scripts/deps.sh python3
bash scripts/build.sh
PGV=$(bash bench/peers.sh)
source scripts/pgcluster.sh
pgcluster_start "jit = off" >/dev/null
export PGHOST PGPORT PGUSER
psql -qX -d postgres -c "CREATE DATABASE pgv" -c "CREATE DATABASE nmv"
psql -qX -d pgv -c "CREATE EXTENSION vector"
psql -qX -d nmv -c "CREATE EXTENSION nmvec"
RAW=$(mktemp)
for ((i = 0; i < N; i++)); do
    for db in pgv nmv; do
        # SELECT 1 first: the session's own start-up is not in the timing
        t=$(psql -qXAt -d $db -c '\timing on' -c "SELECT 1" -c "SELECT '[1,2]'::vector <-> '[3,4]'" \
            -c "SELECT '[1,2]'::vector <-> '[3,5]'" | awk '/^Time:/ {print $2}' | tail -2 | paste -sd' ')
        echo "$db $t" >>"$RAW"
    done
done
python3 - "$RAW" "$OUT" "$N" "$PGV" "bash bench/connect/run.sh $*" <<'PY'
import statistics, subprocess, sys, platform, datetime
raw, out, n, pgv, cmd = sys.argv[1:]
rows = {"pgv": ([], []), "nmv": ([], [])}
for line in open(raw):
    db, first, second = line.split()
    rows[db][0].append(float(first)); rows[db][1].append(float(second))
def fmt(x):
    x = sorted(x); return f"{statistics.median(x):.2f} ms ({x[len(x)//10]:.2f}–{x[-1 - len(x)//10]:.2f})"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
with open(out, "w") as f:
    f.write(f"# First vector query of a new connection ({datetime.date.today()})\n\n")
    f.write(f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, "
            f"{platform.release()}; pgvector {pgv} built from ../shared/peers in this run; nmvec git {git}.\n\n")
    f.write(f"Command: `{cmd}`\n\n")
    f.write(f"{n} sessions per extension, alternating. Each runs `SELECT 1` (not timed), then two distance "
            "queries: the first loads the extension's library, the second runs with it loaded. "
            "Median (10th–90th percentile), psql's `\\timing`.\n\n")
    f.write("| | first vector query (loads the library) | second query |\n|---|---|---|\n")
    f.write(f"| pgvector {pgv} | {fmt(rows['pgv'][0])} | {fmt(rows['pgv'][1])} |\n")
    f.write(f"| nmvec | {fmt(rows['nmv'][0])} | {fmt(rows['nmv'][1])} |\n\n")
    r = statistics.median(rows['pgv'][0]) / statistics.median(rows['nmv'][0])
    f.write(f"nmvec's first query at {r:.2f}× pgvector's speed (above 1: faster).\n")
print(open(out).read())
PY
rm -f "$RAW"
