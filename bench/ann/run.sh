#!/usr/bin/env bash
# bench/ann/run.sh — data, exact ground truth and in-process baselines for fashion-mnist.
#
#   bash bench/ann/run.sh [quick|full|both]      (default: both)
#
# quick = 10 % sample into bench/data/fashion-mnist-quick, full = the whole set
# into bench/data/fashion-mnist. Each: ann_prep, ann_gt (skipped when cached),
# ann_baseline -> <dir>/baseline.csv (+ .builds.csv, .points.csv), ann_interp.
# Logs go to <dir>/*.log; each step's wall time is printed.
#
# Environment:
#   ANN_BIN=build/bench/ann   directory of the ann_* programs (cmake --build build --target ann_baseline ...)
#   DATA=bench/data           where the data directories go (git-ignored)
#   BASELINE_ARGS=""          extra ann_baseline options, e.g. "--wait-quiet 60 --lists 245"
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ANN_BIN=${ANN_BIN:-$ROOT/build/bench/ann}
DATA=${DATA:-$ROOT/bench/data}
BASELINE_ARGS=${BASELINE_ARGS:-}
WHAT=${1:-both}

for prog in ann_prep ann_gt ann_baseline ann_interp; do
    [ -x "$ANN_BIN/$prog" ] || { echo "missing $ANN_BIN/$prog (build it, or set ANN_BIN)" >&2; exit 1; }
done

step() {  # step NAME LOG COMMAND...: runs and times one step
    local name=$1 log=$2 t0 t1
    shift 2
    t0=$EPOCHREALTIME
    "$@" 2> >(tee -a "$log" >&2)
    t1=$EPOCHREALTIME
    awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-28s %8.1f s\n", n, b - a }' | tee -a "$DATA/timings.txt"
}

run_set() {  # run_set DIR SAMPLE
    local dir=$1 sample=$2
    mkdir -p "$dir"
    # shellcheck disable=SC2086  # BASELINE_ARGS is a list of options
    step "prep $(basename "$dir")" "$dir/prep.log" "$ANN_BIN/ann_prep" --set fashion-mnist --out "$dir" --sample "$sample"
    step "gt $(basename "$dir")" "$dir/gt.log" "$ANN_BIN/ann_gt" --dir "$dir"
    # shellcheck disable=SC2086
    step "baseline $(basename "$dir")" "$dir/baseline.log" \
        "$ANN_BIN/ann_baseline" --dir "$dir" --out "$dir/baseline.csv" $BASELINE_ARGS
    "$ANN_BIN/ann_interp" --csv "$dir/baseline.csv" --recall 0.90,0.95,0.99,0.995 | tee "$dir/interp.tsv"
}

mkdir -p "$DATA"
case $WHAT in
    quick) run_set "$DATA/fashion-mnist-quick" 0.1 ;;
    full) run_set "$DATA/fashion-mnist" 1 ;;
    both)
        run_set "$DATA/fashion-mnist-quick" 0.1
        run_set "$DATA/fashion-mnist" 1
        ;;
    *) echo "usage: $0 [quick|full|both]" >&2; exit 2 ;;
esac
