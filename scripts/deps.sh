#!/usr/bin/env bash
# Install the Debian 12 packages nmvec needs, if missing: everything the
# README's two commands use (scripts/demo.sh, and scripts/test.sh with its
# bench/run quick smoke run), on a minimal Debian with nothing else added.
# Runs apt as root, or through sudo.
#
#   scripts/deps.sh [--no-bench] [extra packages]
#
# --no-bench leaves out the packages only the benchmarks use (BENCH below);
# the extension, the unit tests and every test suite build and run without
# them, and CMake skips the benchmark programs it cannot build.
set -euo pipefail

# Build the extension, the core library, the tools and the unit tests; run the
# pg_regress, isolation, shell and TAP suites (perl's prove, IPC::Run; python3
# for test/shell/bench_report.sh and bench/report.py, standard library only).
CORE=(g++ make cmake pkg-config
      postgresql-15 postgresql-server-dev-15 libpq-dev
      libfaiss-dev libopenblas0
      libgtest-dev libsimdjson-dev
      perl libipc-run-perl python3)
# bench/run and its programs: hnswlib baseline headers, Google Benchmark (micro
# benchmarks), the data set, pg_prewarm (postgresql-contrib), the report's
# plots (gnuplot).
BENCH=(libhnswlib-dev libbenchmark-dev dataset-fashion-mnist postgresql-contrib gnuplot-nox)

PKGS=("${CORE[@]}")
if [ "${1:-}" = --no-bench ]; then
    shift
else
    PKGS+=("${BENCH[@]}")
fi
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
# A fresh machine may have stale or no package lists.
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
