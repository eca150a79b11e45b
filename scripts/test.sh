#!/usr/bin/env bash
# Run every test suite: unit tests (ctest), then the pg_regress suite against
# a throwaway cluster. Ends with one line over all suites: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/deps.sh || exit 1
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
LOG=$(mktemp -d /tmp/nmvec-test.XXXXXX)

# --- unit tests ----------------------------------------------------------------
echo "== unit tests (ctest)"
if cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$LOG/cmake.log" 2>&1 &&
   cmake --build build -j"$(nproc)" >>"$LOG/cmake.log" 2>&1; then
    (cd build && ctest --output-on-failure -j"$(nproc)") | tee "$LOG/ctest.log"
    p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed' "$LOG/ctest.log")
    f=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|\*\*\*Not Run)' "$LOG/ctest.log")
    s=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$LOG/ctest.log")
    skipped=$((skipped + s))
    [ "$p" -gt 0 ] || f=$((f + 1))  # a unit run that ran nothing is a failure
    passed=$((passed + p)); failed=$((failed + f))
else
    tail -50 "$LOG/cmake.log"
    echo "unit build failed"
    failed=$((failed + 1))
fi

# --- regression tests (pg_regress) --------------------------------------------------
echo "== regression tests (pg_regress)"
source scripts/pgcluster.sh
if pgcluster_start; then
    PGXS_DIR=$(dirname "$(/usr/lib/postgresql/15/bin/pg_config --pgxs)")/..
    REGRESS=$(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//')
    mkdir -p "$LOG/regress"
    "$PGXS_DIR/test/regress/pg_regress" --inputdir="$ROOT" --outputdir="$LOG/regress" \
        --bindir=/usr/lib/postgresql/15/bin --host="$PGHOST" --port="$PGPORT" --user="$PGUSER" \
        --dbname=nmvec_regression $REGRESS | tee "$LOG/regress.log"
    p=$(grep -cE '^(test|     ) *[a-z0-9_]+ +\.\.\. ok' "$LOG/regress.log")
    f=$(grep -cE '\.\.\. FAILED' "$LOG/regress.log")
    [ "$p" -gt 0 ] || f=$((f + 1))
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ] && [ -f "$LOG/regress/regression.diffs" ]; then
        head -200 "$LOG/regress/regression.diffs"
    fi
    echo "== shell tests (test/shell)"
    for t in test/shell/*.sh; do
        bash "$t" | tee "$LOG/shell.log"
        rc=${PIPESTATUS[0]}
        p=$(grep -c '^ok ' "$LOG/shell.log")
        f=$(grep -c '^not ok ' "$LOG/shell.log")
        [ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1  # died before reporting
        passed=$((passed + p)); failed=$((failed + f))
    done
    pgcluster_stop
else
    failed=$((failed + 1))
fi

[ -n "${KEEP_TEST_LOG:-}" ] && echo "logs kept in $LOG" || rm -rf "$LOG"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
