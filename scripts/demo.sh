#!/usr/bin/env bash
# The README's first command: install missing Debian packages, build and
# install nmvec, start a throwaway PostgreSQL 15 cluster, run a short demo on
# an events table (metadata + 384-d embeddings), and remove the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
echo "== building and installing nmvec"
bash scripts/build.sh
source scripts/pgcluster.sh
pgcluster_start
echo "== throwaway cluster on port $PGPORT (socket dir $PGHOST)"
psql -X -q -v ON_ERROR_STOP=1 -f scripts/demo.sql
echo "== demo done; cluster removed"
