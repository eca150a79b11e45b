#!/usr/bin/env bash
# bench/storage/run.sh — what each way of storing a vector column costs COPY
# and exact scans, nmvec beside pgvector (built from ../shared/peers) in one
# throwaway cluster, on compressible (Fashion-MNIST pixels) and incompressible
# (random) data at 384, 784, 1536 and 4000 dims (jit = off, as bench/run). The measurements behind the
# type's storage default (README, "Storage").
#
#   bash bench/storage/run.sh [--dims 384,784] [--rows N] [--repeats R] [--kinds fashion,random]
#                             [--variants pgvector,nmvec,...] [--out FILE]
#
# Writes bench/results/column-storage-<date>.md (or --out). About 40 minutes with
# the defaults on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ARGS=("$@")
OUT=$ROOT/bench/results/column-storage-$(date -u +%F).md
for ((i = 0; i < ${#ARGS[@]}; i++)); do [ "${ARGS[$i]}" = --out ] && OUT=${ARGS[$((i + 1))]}; done

bash scripts/deps.sh python3 dataset-fashion-mnist postgresql-contrib
bash scripts/build.sh
bash bench/peers.sh >/dev/null
source scripts/pgcluster.sh
pgcluster_start "shared_buffers = 4GB" "max_wal_size = 8GB" "checkpoint_timeout = 30min" "jit = off"
FILES=$PGC_DIR/files
_pg_as mkdir "$FILES"
chmod 777 "$FILES"
python3 bench/storage/run.py --files "$FILES" --command "bash bench/storage/run.sh $*" "${ARGS[@]}" \
    $(printf '%s\n' "${ARGS[@]}" | grep -q -- '^--out$' || echo "--out $OUT")
