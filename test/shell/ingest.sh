#!/usr/bin/env bash
# nmvec-ingest against a real server: a ledger loads into the same rows as
# nmvec-gen's own COPY file of it; a second run loads nothing twice; lines
# appended later load on the next run; a kill -9 in the middle of a load
# loses nothing and duplicates nothing; bad lines go to the rejects file with
# their line numbers while the rest loads; chain breaks are reported with
# theirs; a replaced ledger is refused. Needs a running server (PGHOST,
# PGPORT, PGUSER, as scripts/test.sh sets) and the CMake build in build/.
# Prints one "ok NAME" / "not ok NAME" line per check.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
GEN=$ROOT/build/src/tools/nmvec-gen
gen() { "$GEN" "$@" 2>/dev/null; }
ING=$ROOT/build/src/tools/nmvec-ingest
TMP=$(mktemp -d /tmp/nmvec-ingest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
ok() { echo "ok $1"; }
notok() { echo "not ok $1"; shift; [ $# -gt 0 ] && echo "  $*"; status=1; }
check() {  # check NAME CMD...
    local name=$1; shift
    if "$@" >"$TMP/out" 2>&1; then ok "$name"; else notok "$name"; cat "$TMP/out"; fi
}
same() {  # same NAME GOT WANT
    if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got '$2', want '$3'"; fi
}
DB=nmvec_ingest
q() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d $DB "$@"; }
for f in "$GEN" "$ING"; do [ -x "$f" ] || { notok "built $(basename "$f")" "missing: $f"; exit 1; }; done

"$PGBIN/dropdb" --if-exists $DB >/dev/null 2>&1
"$PGBIN/createdb" $DB
q -c "CREATE EXTENSION nmvec"
DSN="dbname=$DB"
COLS='id bigint, ts timestamptz, tenant text, category text, action text, "user" text, pid integer, payload jsonb, hash text, embedding vector(16)'
# the same digest for any table of events
digest() { q -c "SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', id, extract(epoch FROM ts), tenant, category, action, \"user\", pid, payload::text, hash, embedding::text), ',' ORDER BY id)) FROM $1"; }
reference() {  # reference TABLE ROWS: nmvec-gen's own COPY file of the first ROWS events
    gen --rows "$2" --dims 16 --seed 5 --hosts 7 --format copy-binary --out "$TMP/ref.pgcopy"
    q -c "CREATE TABLE $1 ($COLS)" -c "\\copy $1 FROM '$TMP/ref.pgcopy' (FORMAT binary)"
}

# --- a ledger loads into nmvec-gen's rows, exactly once ---------------------
gen --rows 3000 --dims 16 --seed 5 --hosts 7 --out "$TMP/ledger.jsonl"
reference ref3000 3000
"$ING" --dsn "$DSN" --create-table --dims 16 --batch 400 "$TMP/ledger.jsonl" 2>"$TMP/run1.err"
same "first load exits 0" "$?" 0
same "first load: the rows of nmvec-gen's COPY file" "$(digest events)" "$(digest ref3000)"
same "the table has its hnsw index" "$(q -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'events' AND indexdef LIKE '%USING hnsw%'")" 1
"$ING" --dsn "$DSN" --dims 16 "$TMP/ledger.jsonl" 2>"$TMP/run2.err"
same "second run exits 0" "$?" 0
same "second run loads nothing again" "$(digest events)" "$(digest ref3000)"
grep -q " 0 rows loaded" "$TMP/run2.err" && ok "second run says 0 rows" || notok "second run says 0 rows" "$(cat "$TMP/run2.err")"

# --- lines appended later load on the next run -------------------------------
gen --rows 4000 --dims 16 --seed 5 --hosts 7 --out "$TMP/ledger4000.jsonl"
check "a longer run starts with the same lines" cmp -n "$(stat -c %s "$TMP/ledger.jsonl")" "$TMP/ledger.jsonl" "$TMP/ledger4000.jsonl"
tail -n +3001 "$TMP/ledger4000.jsonl" >>"$TMP/ledger.jsonl"
"$ING" --dsn "$DSN" --dims 16 "$TMP/ledger.jsonl" 2>"$TMP/run3.err"
same "appended lines: exit 0" "$?" 0
reference ref4000 4000
same "appended lines load, once" "$(digest events)" "$(digest ref4000)"

# --- kill -9 in the middle of a load, then a restart -------------------------
gen --rows 20000 --dims 16 --seed 5 --hosts 7 --out "$TMP/big.jsonl"
q -c "CREATE TABLE big ($COLS)"
# a row trigger that sleeps keeps the load running until the kill lands (an
# unthrottled load of 20,000 rows can finish between two polls)
q -c "CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END\$\$" \
  -c "CREATE TRIGGER slow BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION slow_row()"
"$ING" --dsn "$DSN" --table big --batch 100 --source big "$TMP/big.jsonl" 2>"$TMP/kill.err" &
pid=$!
for _ in $(seq 600); do
    n=$(q -c "SELECT count(*) FROM big")
    [ "$n" -ge 2000 ] && break
    sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n_killed=$(q -c "SELECT count(*) FROM big")
q -c "DROP TRIGGER slow ON big"
if [ "$n_killed" -gt 0 ] && [ "$n_killed" -lt 20000 ]; then ok "killed mid-load ($n_killed of 20000 rows in)"; else notok "killed mid-load" "$n_killed rows in"; fi
"$ING" --dsn "$DSN" --table big --batch 100 --source big "$TMP/big.jsonl" 2>"$TMP/resume.err"
same "restart after kill -9 exits 0" "$?" 0
reference ref20000 20000
same "after kill -9 and restart: every row once" "$(digest big)" "$(digest ref20000)"

# --- the server restarts under a load: it reconnects and resumes -------------
PGDATA_DIR=$(q -c "SHOW data_directory")
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$(stat -c %U "$PGDATA_DIR")" -- "$@"; else "$@"; fi; }
gen --rows 60000 --dims 16 --seed 5 --hosts 7 --out "$TMP/big60.jsonl"  # long enough to be running when the server goes
q -c "CREATE TABLE big2 ($COLS)" \
  -c "CREATE TRIGGER slow BEFORE INSERT ON big2 FOR EACH ROW EXECUTE FUNCTION slow_row()"  # until the restart is done
"$ING" --dsn "$DSN" --table big2 --batch 100 --source big2 --retry-seconds 60 "$TMP/big60.jsonl" 2>"$TMP/restart.err" &
pid=$!
wait_n() { for _ in $(seq 600); do [ "$(q -c "SELECT count(*) FROM $1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
wait_n big2 2000
check "server restarted during a load" as_owner "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/../server.log" -m fast -w restart
q -c "DROP TRIGGER slow ON big2"
wait $pid
same "after the server restart: exit 0" "$?" 0
reference ref60000 60000
same "after the server restart: every row once" "$(digest big2)" "$(digest ref60000)"
grep -q "reconnecting" "$TMP/restart.err" && ok "after the server restart: it says it reconnected" \
    || notok "after the server restart: it says it reconnected" "$(cat "$TMP/restart.err")"
grep -q ": 60000 lines read, 60000 rows loaded into big2, 0 rejected" "$TMP/restart.err" \
    && ok "after the server restart: the counts count each line once" \
    || notok "after the server restart: the counts count each line once" "$(tail -1 "$TMP/restart.err")"

# --- bad lines are rejected with their line numbers; the rest loads ---------
head -n 100 "$TMP/ledger4000.jsonl" >"$TMP/bad.jsonl"
awk 'NR == 20 { print "{not json" } NR == 40 { print "{\"timestamp\": 1}" } { print }' "$TMP/bad.jsonl" >"$TMP/bad2.jsonl"
# line 60 of bad2: an embedding element out of float32's range (a copy of a good line)
sed -n 58p "$TMP/bad2.jsonl" | sed -E 's/"embedding":\[[^,]*,/"embedding":[1e39,/' >"$TMP/line"
sed -i '58r '"$TMP/line" "$TMP/bad2.jsonl"
q -c "CREATE TABLE bad ($COLS)"
"$ING" --dsn "$DSN" --table bad --source bad --rejects "$TMP/bad.rejects" "$TMP/bad2.jsonl" 2>"$TMP/bad.err"
same "rejected lines: exit 1" "$?" 1
same "rejected lines: the 100 good lines load" "$(q -c "SELECT count(*), count(DISTINCT id) FROM bad")" "100|100"
same "rejects file: three lines, by line number" "$(cut -d: -f2 "$TMP/bad.rejects" | paste -sd,)" "20,41,59"
grep -q ":59: .*embedding" "$TMP/bad.rejects" && ok "rejects file says why" || notok "rejects file says why" "$(cat "$TMP/bad.rejects")"

# --- a row the server refuses (a CHECK constraint) is rejected alone ---------
q -c "CREATE TABLE chk ($COLS, CHECK (id <> 37))"
"$ING" --dsn "$DSN" --table chk --source chk --batch 50 --rejects "$TMP/chk.rejects" "$TMP/bad.jsonl" 2>"$TMP/chk.err"
same "server-refused row: exit 1" "$?" 1
same "server-refused row: the other 99 load" "$(q -c "SELECT count(*), count(*) FILTER (WHERE id = 37) FROM chk")" "99|0"
grep -q ":37: the server refused the row: .*chk_id_check" "$TMP/chk.rejects" && ok "server-refused row: in the rejects file with the server's reason" \
    || notok "server-refused row: in the rejects file with the server's reason" "$(cat "$TMP/chk.rejects")"

# --- chain breaks: reported with their line, the rest loads; --strict stops ---
sed 50d "$TMP/bad.jsonl" >"$TMP/gap.jsonl"
q -c "CREATE TABLE gap ($COLS); CREATE TABLE gapstrict ($COLS)"
"$ING" --dsn "$DSN" --table gap --source gap "$TMP/gap.jsonl" 2>"$TMP/gap.err"
same "chain gap: exit 1" "$?" 1
grep -q "gap.jsonl:50: chain gap" "$TMP/gap.err" && ok "chain gap reported at line 50" || notok "chain gap reported at line 50" "$(cat "$TMP/gap.err")"
same "chain gap: one break reported, not one per later line" "$(grep -c ': chain ' "$TMP/gap.err")" 1
same "chain gap: the 99 lines load" "$(q -c "SELECT count(*) FROM gap")" 99
"$ING" --dsn "$DSN" --table gapstrict --source gapstrict --strict "$TMP/gap.jsonl" 2>"$TMP/strict.err"
same "--strict: exit 4" "$?" 4
same "--strict: the 49 lines before the break load" "$(q -c "SELECT count(*) FROM gapstrict")" 49

# --- a replaced ledger is refused ------------------------------------------
gen --rows 99 --dims 16 --seed 6 --hosts 7 --out "$TMP/other.jsonl"
cp "$TMP/other.jsonl" "$TMP/gap.jsonl"
"$ING" --dsn "$DSN" --table gap --source gap "$TMP/gap.jsonl" 2>"$TMP/replaced.err"
same "replaced ledger: exit 3" "$?" 3
grep -q "replaced" "$TMP/replaced.err" && ok "replaced ledger: says so" || notok "replaced ledger: says so" "$(cat "$TMP/replaced.err")"
same "replaced ledger: nothing loaded" "$(q -c "SELECT count(*) FROM gap")" 99

# --- --follow: new lines, a half-written line, rotation, truncation, SIGTERM --
wait_rows() {  # wait_rows TABLE N: until TABLE has N rows (30 s at most)
    for _ in $(seq 300); do
        [ "$(q -c "SELECT count(*) FROM $1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
L=$TMP/ledger4000.jsonl
F=$TMP/follow.jsonl
sed -n 1,1000p "$L" >"$F"
q -c "CREATE TABLE fol ($COLS)"
"$ING" --dsn "$DSN" --table fol --source fol --follow --poll-ms 50 --batch 300 "$F" 2>"$TMP/follow.err" &
fpid=$!
check "--follow: the first 1000 lines load" wait_rows fol 1000
sed -n 1001p "$L" | head -c 100 >>"$F"  # a writer half-way through a line
sleep 0.5
same "--follow: a half-written line waits for its end" "$(q -c "SELECT count(*) FROM fol")|$(cat "$F.rejects" 2>/dev/null | wc -l)" "1000|0"
sed -n 1001p "$L" | tail -c +101 >>"$F"
sed -n 1002,2000p "$L" >>"$F"
check "--follow: appended lines load" wait_rows fol 2000
mv "$F" "$F.1"
sed -n 2001,3000p "$L" >"$F"
check "--follow: the new file after a rotation loads" wait_rows fol 3000
: >"$F"
sleep 0.5
sed -n 3001,3100p "$L" >>"$F"
check "--follow: a truncated file is followed from its start" wait_rows fol 3100
sed -n 3101,4000p "$L" >>"$F"
check "--follow: and goes on" wait_rows fol 4000
kill -TERM $fpid
wait $fpid
same "--follow: SIGTERM ends it with status 0" "$?" 0
same "--follow: every line once, in the chain" "$(digest fol)" "$(digest ref4000)"
grep -q "rotated" "$TMP/follow.err" && grep -q "truncated" "$TMP/follow.err" && ok "--follow: says it followed a rotation and a truncation" \
    || notok "--follow: says it followed a rotation and a truncation" "$(cat "$TMP/follow.err")"
same "--follow: no chain break across the rotation and truncation" "$(grep -c ': chain ' "$TMP/follow.err")" 0

# --- embeddings from sidecar files (vectors/<hash>.vec) -----------------------
# Every other line's embedding moves to DIR/<hash>.vec, as nm-monitor's
# streaming writer keeps them; one sidecar is then removed and one names
# another hash: those two lines are rejected, the rest land as if inline.
mkdir -p "$TMP/vectors"
python3 - "$TMP/ledger.jsonl" "$TMP/side.jsonl" "$TMP/vectors" <<'PY'
import re, sys, json
src, dst, vdir = sys.argv[1:4]
out = open(dst, "w")
for i, line in enumerate(open(src)):
    if i >= 3000:
        break
    if i % 2 == 0:
        m = re.search(r',"embedding":(\[[^\]]*\])', line)
        h = json.loads(line)["hash"]
        with open(f"{vdir}/{h}.vec", "w") as f:
            f.write('{"hash":"%s","vector":%s,"metadata":{"action":"x","category":"y"}}' % (h, m.group(1)))
        line = line[:m.start()] + line[m.end():]
    out.write(line)
PY
side_missing=$(sed -n 11p "$TMP/side.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["hash"])')
side_wrong=$(sed -n 13p "$TMP/side.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["hash"])')
rm "$TMP/vectors/$side_missing.vec"
sed -i "s/\"hash\":\"$side_wrong\"/\"hash\":\"$side_missing\"/" "$TMP/vectors/$side_wrong.vec"
q -c "CREATE TABLE side ($COLS)"
"$ING" --dsn "$DSN" --table side --source side --dims 16 --vectors "$TMP/vectors" "$TMP/side.jsonl" 2>"$TMP/side.err"
same "sidecars: exit 1 (some lines rejected)" "$?" 1
same "sidecars: 1,500 embeddings read from them" "$(grep -c 'embedding' "$TMP/side.jsonl")" 1500
same "sidecars: the two lines without a usable sidecar are rejected" \
    "$(cut -d: -f2 "$TMP/side.jsonl.rejects" 2>/dev/null | paste -sd,)" "11,13"
grep -q "no sidecar $side_missing.vec" "$TMP/side.jsonl.rejects" && grep -q "is for another hash" "$TMP/side.jsonl.rejects" \
    && ok "sidecars: the rejects say why" || notok "sidecars: the rejects say why" "$(cat "$TMP/side.jsonl.rejects")"
same "sidecars: the other rows equal the inline load's" \
    "$(q -c "SELECT md5(string_agg(concat_ws('|', id, hash, embedding::text), ',' ORDER BY id)) FROM side")" \
    "$(q -c "SELECT md5(string_agg(concat_ws('|', id, hash, embedding::text), ',' ORDER BY id)) FROM ref3000 WHERE id NOT IN (11, 13)")"
# the hashes of the sidecar lines verify: the only breaks are the gaps the
# two rejected lines leave
same "sidecars: the hash chain verifies, but for the two rejected lines' gaps" \
    "$(grep ': chain ' "$TMP/side.err" | sed 's/.*: chain //' | paste -sd,)" "gap: height 12 after 10,gap: height 14 after 12"

# --- the command line ---------------------------------------------------------
"$ING" --batch 0 "$TMP/gap.jsonl" 2>"$TMP/usage.err"
same "bad option value: exit 2" "$?" 2
"$ING" --dsn "$DSN" "$TMP/does-not-exist.jsonl" 2>"$TMP/missing.err"
same "missing ledger: exit 3" "$?" 3
"$ING" --dsn "$DSN" --table no_such_table --source nst "$TMP/other.jsonl" 2>"$TMP/notable.err"
same "missing table: exit 3, no line rejected" "$?|$(cat "$TMP/other.jsonl.rejects" 2>/dev/null | wc -l)" "3|0"

"$PGBIN/dropdb" $DB
exit $status
