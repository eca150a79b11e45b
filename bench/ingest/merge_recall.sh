#!/usr/bin/env bash
# bench/ingest/merge_recall.sh — does a graph grown by the pending list's
# merges answer as well as a fresh CREATE INDEX? fashion-mnist (784-d, L2,
# Debian's dataset-fashion-mnist): half the training images are in the table
# when the hnsw index is built, the other half arrive through fastupdate
# inserts and are merged by nmvec_flush, on one process and on the backend
# with its parallel workers; recall@10 of each against the exact answer for
# the first QUERIES test images, beside a fresh build of all 60,000, in one
# throwaway cluster.
#
#   bash bench/ingest/merge_recall.sh [QUERIES]     (default 200)
#
# Writes bench/results/merge-recall-<date>.md. About 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
NQ=${1:-200}
OUT=$ROOT/bench/results/merge-recall-$(date -u +%F).md
FASHION=/usr/share/datasets/fashion-mnist
[ -f "$FASHION/train-images-idx3-ubyte.gz" ] || { echo "merge_recall: needs dataset-fashion-mnist (scripts/deps.sh)" >&2; exit 1; }
bash scripts/build.sh >/dev/null
source scripts/pgcluster.sh
pgcluster_start "shared_buffers = 2GB" "autovacuum = off" "maintenance_work_mem = 2GB" "max_wal_size = 8GB" \
    "jit = off" >/dev/null
export PGHOST PGPORT PGUSER
WORK=$(mktemp -d /tmp/nmvec-merge-recall.XXXXXX)
trap 'rm -rf "$WORK"; pgcluster_stop >/dev/null 2>&1 || true' EXIT
python3 - "$FASHION" "$WORK" <<'PY'
import gzip, os, sys
src, work = sys.argv[1:3]
for name, out in (("train-images-idx3-ubyte.gz", "train.txt"), ("t10k-images-idx3-ubyte.gz", "test.txt")):
    with gzip.open(os.path.join(src, name)) as f:
        data = f.read()
    n, px = int.from_bytes(data[4:8], "big"), 784
    with open(os.path.join(work, out), "w") as o:
        for i in range(n):
            o.write(f"{i}\t[{','.join(map(str, data[16 + i * px:16 + (i + 1) * px]))}]\n")
PY
P() { psql -qX -v ON_ERROR_STOP=1 "$@"; }
P -c "CREATE EXTENSION nmvec" -c "CREATE TABLE tr (id int, v vector(784))" -c "\\copy tr FROM '$WORK/train.txt'" \
  -c "CREATE TABLE te (id int, v vector(784))" -c "\\copy te FROM '$WORK/test.txt'" -c "DELETE FROM te WHERE id >= $NQ"
P -c "CREATE TABLE ex AS SELECT te.id AS q, n.id FROM te, LATERAL (SELECT id FROM tr ORDER BY v <-> te.v LIMIT 10) n"
recall() {
    P -At -c "SET enable_seqscan = off" -c "SELECT round(avg(h)::numeric, 4) FROM (SELECT (SELECT count(*) FROM (
        SELECT id FROM $1 ORDER BY v <-> te.v LIMIT 10) n WHERE n.id IN (SELECT id FROM ex WHERE ex.q = te.id)) / 10.0 AS h FROM te) s"
}
now() { date +%s.%N; }
: >"$WORK/r"
for mode in fresh serial parallel; do
    P -c "DROP TABLE IF EXISTS t" -c "CREATE TABLE t (id int, v vector(784))"
    if [ $mode = fresh ]; then
        P -c "INSERT INTO t SELECT * FROM tr" -c "CHECKPOINT"
        t0=$(now); P -c "CREATE INDEX t_h ON t USING hnsw (v)"; t1=$(now)
    else
        P -c "INSERT INTO t SELECT * FROM tr WHERE id < 30000" \
          -c "CREATE INDEX t_h ON t USING hnsw (v) WITH (pending_list_limit = 4000000)" \
          -c "INSERT INTO t SELECT * FROM tr WHERE id >= 30000" -c "CHECKPOINT"
        w=1; [ $mode = serial ] && w=0
        t0=$(now); P -c "SET max_parallel_maintenance_workers = $w" -c "SELECT nmvec_flush('t_h')" >/dev/null; t1=$(now)
    fi
    echo "$mode $(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}') $(recall t)" | tee -a "$WORK/r" >&2
done
python3 - "$WORK/r" "$OUT" "$NQ" "bash bench/ingest/merge_recall.sh $*" <<'PY'
import datetime, platform, subprocess, sys
r, out, nq, cmd = sys.argv[1:5]
rows = {l.split()[0]: l.split()[1:] for l in open(r)}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
o = [f"# Recall of a graph grown by pending-list merges ({datetime.date.today()})\n",
     f"Machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, {platform.release()}; git {git}.\n",
     f"Command: `{cmd}` — one run.\n",
     f"fashion-mnist 784-d, L2, hnsw m 16, ef_construction 64, ef_search 40; recall@10 against the exact answer for {nq} test images.\n",
     "| index | time | vectors/s | recall@10 |", "|---|---|---|---|"]
names = {"fresh": "fresh CREATE INDEX of the 60,000 (2 build threads)",
         "serial": "30,000 built, 30,000 inserted pending, nmvec_flush on one process",
         "parallel": "the same, nmvec_flush on the backend and a parallel worker"}
for k in ("fresh", "serial", "parallel"):
    t, rec = float(rows[k][0]), rows[k][1]
    n = 60000 if k == "fresh" else 30000
    o.append(f"| {names[k]} | {t:.1f} s | {n / t:,.0f} | {rec} |")
o.append("")
open(out, "w").write("\n".join(o) + "\n")
print("\n".join(o))
PY
