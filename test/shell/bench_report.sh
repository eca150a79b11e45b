#!/usr/bin/env bash
# bench/report.py on a bench/run directory with figures missing: an empty
# index build time (what bench/run wrote on a minimal Debian without bc), an
# empty pgbench percentile, an empty baseline build time. The report must
# still be written, print "n/a" for exactly those figures, and keep the rest.
# Then a run with ivf kinds, a pgvector peer kind and FAISS IVF baselines: each
# build is set against its in-process peer (same lists and threads).
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
# columns: index, threads, seconds, size, bytes/vector (n/a: no row count recorded), peak memory,
# in-process peer, ratio
check build_time_missing_is_na row "| nmvec hnsw | 1 thread(s) (0 workers + leader) | n/a | 27.0 MB | n/a | n/a |  |  |"
check build_time_partial_keeps_figure row "| nmvec hnsw | 2 thread(s) (1 workers + leader) | 1.25 [1 of 2 n/a] | 27.0 MB | n/a | 50 MB | hnswlib hnsw (2 thr, 0.70 s) | 1.79× |"
check baseline_build_time_na row "| hnswlib hnsw (in-process) | 1 threads | n/a | n/a | n/a | | | |"
check baseline_build_time_kept row "| hnswlib hnsw (in-process) | 2 threads | 0.70 | n/a | n/a | | | |"
check ratio_only_with_both_figures row "nmvec hnsw with 2 thread(s): 1.25 s = **1.79×** hnswlib's 0.70 s."
check pgbench_percentile_na row "| hnsw | 40 | 1 | 1,234.5 | 0.7 | n/a | 1.5 |"
check recall_na row "| nmvec hnsw | | 80 | n/a | n/a |"
check copy_figures_kept row "| binary-unindexed | 6,000 | 13,500 (12,000–15,000) |"

# ivf kinds, a peer kind, FAISS IVF baselines
RUN2=$TMP/run2
mkdir -p "$RUN2"
cat >"$RUN2/meta.txt" <<'EOF'
command: bench/run quick --index all
base rows: 6000
EOF
cat >"$RUN2/kinds.csv" <<'EOF'
kind,system,am,database,lists,quantizer
ivf,nmvec,ivf,postgres,245,rabitq
ivf_rabitq8,nmvec,ivf,postgres,245,rabitq8
pgvector_ivfflat,pgvector,ivfflat,peer_vector,245,
EOF
cat >"$RUN2/build.csv" <<'EOF'
index,workers,seconds,size_bytes,peak_anon_kb
ivf,0,0.600,3000000,25000
ivf_rabitq8,1,0.540,7200000,26000
pgvector_ivfflat,0,0.800,26000000,49000
EOF
cat >"$RUN2/search.csv" <<'EOF'
label,filter,queries,recall10,rows_mean,short_frac,qps_median,qps_min,qps_max,p50_ms,p95_ms,p99_ms
pgvector_ivfflat:4,none,200,0.9115,10.00,0.0000,2564.0,2500.0,2600.0,0.400,0.500,0.600
EOF
cat >"$RUN2/baseline.csv" <<'EOF'
system,index,build_threads,m,efc,lists,param_name,param,recall10,qps_median,qps_min,qps_max,build_s
faiss,ivfflat,1,0,0,245,nprobe,4,0.8980,3894.0,3800.0,3900.0,0.400
faiss,ivfsq8,2,0,0,245,nprobe,4,0.8970,3441.0,3400.0,3500.0,0.600
faiss,ivfpq,1,98,0,245,nprobe,4,0.8220,2774.0,2700.0,2800.0,8.000
EOF
cat >"$RUN2/baseline.builds.csv" <<'EOF'
system,index,build_threads,m,efc,lists,build_s,train_s,build_cpu_s,rss_growth_mib,peak_rss_mib,busy_before,others_cores,attempts,index_bytes,rows
faiss,ivfflat,1,0,0,245,0.400,0.350,0.400,26.0,93.0,0.0,0.0,1,19634419,6000
faiss,ivfsq8,2,0,0,245,0.600,0.500,0.900,21.8,93.0,0.0,0.0,1,5528736,6000
faiss,ivfpq,1,98,0,245,8.000,7.000,8.000,49.1,93.0,0.0,0.0,1,2209276,6000
EOF
OUT2=$TMP/report/report2.md
check report2_written python3 bench/report.py "$RUN2" "$OUT2"
row2() { grep -F -- "$1" "$OUT2"; }
check ivf_against_ivfflat row2 "| nmvec ivf | 1 thread(s) (0 workers + leader) | 0.60 | 3.0 MB | 500 | 24 MB | faiss ivfflat (1 thr, 0.40 s) | 1.50× |"
check rabitq8_against_ivfsq8 row2 "| nmvec ivf_rabitq8 | 2 thread(s) (1 workers + leader) | 0.54 | 7.2 MB | 1,200 | 25 MB | faiss ivfsq8 (2 thr, 0.60 s) | 0.90× |"
check peer_named_by_system row2 "| pgvector ivfflat | 1 thread(s) (0 workers + leader) | 0.80 | 26.0 MB | 4,333 | 48 MB | faiss ivfflat (1 thr, 0.40 s) | 2.00× |"
check faiss_size_per_vector row2 "| faiss ivfsq8 (in-process, lists 245) | 2 threads | 0.60 | 5.5 MB | 921 | | | |"
check ivfpq_named_with_m row2 "| faiss ivfpq m=98 | 1 | 4 | 0.8220 | 2,774 |"
check peer_curve_named row2 "| pgvector ivfflat | | 4 | 0.9115 | 2,564 |"
check ivf_ratio_summary row2 "nmvec ivf_rabitq8 (rabitq8, 2 thr) 0.54 s = **0.90×** faiss ivfsq8's 0.60 s"
exit $status
