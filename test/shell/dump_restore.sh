#!/usr/bin/env bash
# pg_dump / pg_restore of tables with vector and halfvec columns, in the
# custom (binary COPY inside) and plain (text COPY) formats. Needs a running
# server (PGHOST/PGPORT/PGUSER set, as scripts/test.sh does). Prints one
# "ok NAME" or "not ok NAME" line per check; exits non-zero on any failure.
set -uo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
TMP=$(mktemp -d /tmp/nmvec-dump.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
check() {  # check NAME CMD...
    local name=$1; shift
    if "$@" >"$TMP/out" 2>&1; then echo "ok $name"; else echo "not ok $name"; cat "$TMP/out"; status=1; fi
}
q() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

for db in nmvec_dump_src nmvec_dump_custom nmvec_dump_plain; do
    "$PGBIN/dropdb" --if-exists "$db" >/dev/null 2>&1
done
"$PGBIN/createdb" nmvec_dump_src

q -d nmvec_dump_src <<'SQL'
CREATE EXTENSION nmvec;
CREATE TABLE items (id int PRIMARY KEY, v vector(3), h halfvec(3), free vector);
INSERT INTO items
SELECT i, ARRAY[i, -i / 7.0, 1e-7 * i]::vector(3), ARRAY[i % 100, 0.1, -2]::halfvec(3),
       CASE WHEN i % 10 = 0 THEN NULL ELSE ARRAY[i, i, i, i]::vector END
FROM generate_series(1, 5000) i;
CREATE UNIQUE INDEX items_v ON items (v);
SQL

digest() { q -d "$1" -c "SELECT md5(string_agg(id || ':' || coalesce(v::text, '-') || ':' || coalesce(h::text, '-') || ':' || coalesce(free::text, '-'), ',' ORDER BY id)) FROM items"; }
want=$(digest nmvec_dump_src)

"$PGBIN/pg_dump" -Fc -f "$TMP/src.dump" nmvec_dump_src
"$PGBIN/createdb" nmvec_dump_custom
check pg_restore_custom_format "$PGBIN/pg_restore" --exit-on-error -d nmvec_dump_custom "$TMP/src.dump"
check custom_format_same_rows test "$(digest nmvec_dump_custom)" = "$want"
check custom_format_index_restored test "$(q -d nmvec_dump_custom -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_v'")" = 1

"$PGBIN/pg_dump" -Fp -f "$TMP/src.sql" nmvec_dump_src
"$PGBIN/createdb" nmvec_dump_plain
check psql_restore_plain_format q -d nmvec_dump_plain -f "$TMP/src.sql"
check plain_format_same_rows test "$(digest nmvec_dump_plain)" = "$want"

for db in nmvec_dump_src nmvec_dump_custom nmvec_dump_plain; do "$PGBIN/dropdb" "$db"; done
exit $status
