#!/usr/bin/env bash
# Build and install the extension into PostgreSQL 15 (as root or via sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
make -j"$(nproc)" >/dev/null
if [ "$(id -u)" -eq 0 ]; then make install >/dev/null; else sudo make install >/dev/null; fi
