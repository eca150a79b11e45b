#!/usr/bin/env bash
# bench/report.py on a bench/run directory with figures missing: an empty
# index build time (what bench/run wrote on a minimal Debian without bc), an
# empty pgbench percentile, an empty baseline build time. The report must
# still be written, print "n/a" for exactly those figures, and keep the rest.
# Needs no server. Prints one "ok NAME" or "not ok NAME" line per check;
# exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
TMP=$(mktemp -d /tmp/nmvec-report.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
check() {  # check NAME CMD...
    local name=$1; shift
    if "$@" >"$TMP/check.log" 2>&1; then echo "ok $name"; else echo "not ok $name"; cat "$TMP/check.log"; status=1; fi
}

RUN=$TMP/run
mkdir -p "$RUN"
cat >"$RUN/meta.txt" <<'EOF'
command: bench/run quick
machine: test, 2 cores, 24 GiB RAM
blas: /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
EOF
cat >"$RUN/copy.csv" <<'EOF'
variant,repeat,rows,seconds,rows_per_s
binary-unindexed,1,6000,0.500,12000.0
binary-unindexed,2,6000,0.400,15000.0
EOF
cat >"$RUN/build.csv" <<'EOF'
index,workers,seconds,size_bytes,peak_anon_kb
hnsw,0,,27000000,0
hnsw,0,,27000000,0
hnsw,1,1.250,27000000,51200
hnsw,1,,27000000,51200
EOF
cat >"$RUN/search.csv" <<'EOF'
label,filter,queries,recall10,rows_mean,short_frac,qps_median,qps_min,qps_max,p50_ms,p95_ms,p99_ms
exact-par0,none,50,1.0000,10.00,0.0000,20.0,19.0,21.0,50.000,55.000,60.000
hnsw:40,none,200,0.9500,10.00,0.0000,1500.0,1400.0,1600.0,0.600,0.900,1.200
hnsw:80,none,200,,10.00,0.0000,,,,0.800,1.100,1.400
EOF
cat >"$RUN/pgbench.csv" <<'EOF'
index,param,clients,tps,p50_ms,p95_ms,p99_ms
hnsw,40,1,1234.5,0.7,,1.5
EOF
cat >"$RUN/baseline.csv" <<'EOF'
system,index,build_threads,m,efc,lists,param_name,param,recall10,qps_median,qps_min,qps_max,build_s
hnswlib,hnsw,1,16,64,0,ef,40,0.9600,4000.0,3900.0,4100.0,
hnswlib,hnsw,2,16,64,0,ef,40,0.9600,4000.0,3900.0,4100.0,0.700
EOF

OUT=$TMP/report/report.md
mkdir -p "$TMP/report"
# gnuplot is optional here: without it the report says so on stderr and goes on.
check report_written python3 bench/report.py "$RUN" "$OUT"
row() { grep -F -- "$1" "$OUT"; }
check build_time_missing_is_na row "| nmvec hnsw | 1 thread(s) (0 workers + leader) | n/a | 27.0 MB | n/a |"
check build_time_partial_keeps_figure row "| nmvec hnsw | 2 thread(s) (1 workers + leader) | 1.25 [1 of 2 n/a] | 27.0 MB | 50 MB |"
check baseline_build_time_na row "| hnswlib hnsw (in-process) | 1 threads | n/a | | |"
check baseline_build_time_kept row "| hnswlib hnsw (in-process) | 2 threads | 0.70 | | |"
check ratio_only_with_both_figures row "nmvec hnsw with 2 thread(s): 1.25 s = **1.79×** hnswlib's 0.70 s."
check pgbench_percentile_na row "| hnsw | 40 | 1 | 1,234.5 | 0.7 | n/a | 1.5 |"
check recall_na row "| nmvec hnsw | | 80 | n/a | n/a |"
check copy_figures_kept row "| binary-unindexed | 6,000 | 13,500 (12,000–15,000) |"
exit $status
