#!/usr/bin/env bash
# Manual check (not part of ctest): load nmvec-gen's COPY BINARY output into a
# real PostgreSQL 15 with the nmvec extension, and compare it with the ledger.
#
#   bash src/tools/test/pg_copy_check.sh [BUILD_DIR] [ROWS] [DIMS]
#
# Needs the extension installed (bash scripts/build.sh) and nmvec-gen built in
# BUILD_DIR (default: build). Starts its own throwaway cluster
# (scripts/pgcluster.sh). Prints "pg_copy_check: OK" or fails loudly.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BUILD=${1:-$ROOT/build}
ROWS=${2:-20000}
DIMS=${3:-384}
GEN=$BUILD/src/tools/nmvec-gen
[ -x "$GEN" ] || { echo "no $GEN: build it first (cmake --build $BUILD --target nmvec-gen)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/nmvec-copycheck.XXXXXX)
chmod 755 "$WORK"
source "$ROOT/scripts/pgcluster.sh"
cleanup() { pgcluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

"$GEN" --rows "$ROWS" --dims "$DIMS" --hosts 50 --seed 11 --outlier-rate 0.005 \
    --format both --out "$WORK/ledger.jsonl" --copy-out "$WORK/events.pgcopy" --truth-out "$WORK/outliers.txt" \
    --queries 10 --queries-out "$WORK/queries.txt"
"$GEN" --verify "$WORK/ledger.jsonl" >/dev/null
pgcluster_start
trap cleanup EXIT

q() { psql -X -v ON_ERROR_STOP=1 -qAt "$@"; }
q <<SQL
CREATE EXTENSION nmvec;
CREATE TABLE events (id bigint, ts timestamptz, tenant text, category text, action text, "user" text,
                     pid integer, payload jsonb, hash text, embedding vector($DIMS));
\copy events FROM '$WORK/events.pgcopy' WITH (FORMAT binary)
-- The ledger as text, for comparison: one jsonb per line.
CREATE TABLE ledger (line jsonb);
\copy ledger FROM PROGRAM 'sed -e ''s/\\\\/\\\\\\\\/g'' $WORK/ledger.jsonl' WITH (FORMAT text, DELIMITER E'\x01')
CREATE TABLE outliers (id bigint);
\copy outliers FROM '$WORK/outliers.txt'
CREATE TABLE queries (q vector($DIMS));
\copy queries FROM '$WORK/queries.txt'
SQL

fail() { echo "pg_copy_check: FAILED: $*" >&2; exit 1; }
n=$(q -c "SELECT count(*) FROM events")
[ "$n" = "$ROWS" ] || fail "$n rows loaded, expected $ROWS"
# Every column equals the ledger's field (embedding compared in text form).
diff=$(q -c "
SELECT count(*) FROM events e JOIN ledger l ON e.id = (l.line->>'height')::bigint
WHERE e.ts <> to_timestamp((l.line->>'timestamp')::bigint)
   OR e.tenant <> l.line->>'hostname' OR e.category <> l.line->>'category' OR e.action <> l.line->>'action'
   OR e.\"user\" <> l.line->>'user' OR e.pid <> (l.line->>'pid')::int OR e.payload <> l.line->'data'
   OR e.hash <> l.line->>'hash' OR e.embedding::text <> (l.line->'embedding')::text::vector::text")
[ "$diff" = 0 ] || fail "$diff rows differ from the ledger"
j=$(q -c "SELECT count(*) FROM events e JOIN ledger l ON e.id = (l.line->>'height')::bigint")
[ "$j" = "$ROWS" ] || fail "only $j rows joined with the ledger"
nq=$(q -c "SELECT count(*) FROM queries WHERE abs(vector_norm(q) - 1) < 1e-5")
[ "$nq" = 10 ] || fail "$nq of 10 query vectors loaded with unit norm"
# Outliers: far from their nearest neighbour, normal events close to theirs.
read -r out_nn norm_nn < <(q -F ' ' -c "
WITH s AS (SELECT id, embedding FROM events WHERE id IN (SELECT id FROM outliers) OR id % 200 = 0),
     nn AS (SELECT s.id, (SELECT min(e.embedding <=> s.embedding) FROM events e WHERE e.id <> s.id) AS d FROM s)
SELECT round(min(d) FILTER (WHERE id IN (SELECT id FROM outliers))::numeric, 3),
       round(max(d) FILTER (WHERE id NOT IN (SELECT id FROM outliers))::numeric, 3) FROM nn")
echo "nearest-neighbour cosine distance: outliers >= $out_nn, sampled normal events <= $norm_nn"
awk -v a="$out_nn" -v b="$norm_nn" 'BEGIN { exit !(a > b) }' || fail "outliers are not farther from their neighbours"
echo "pg_copy_check: OK ($ROWS rows, $DIMS dims)"
