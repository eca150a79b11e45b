#!/usr/bin/env bash
# bench/peers.sh — build and install the peer extension (pgvector, from
# ../shared/peers/) into this machine's PostgreSQL 15, so that benchmarks
# measure it beside nmvec in the same run. A yardstick only: nothing in the
# extension or its tests uses it. Does nothing when the same version is
# already installed. Prints the installed version.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
TARBALL=$(ls "$ROOT"/../shared/peers/pgvector-*.tar.gz 2>/dev/null | sort | tail -1)
[ -n "$TARBALL" ] || { echo "peers: no pgvector tarball in ../shared/peers" >&2; exit 1; }
VERSION=$(basename "$TARBALL" .tar.gz | sed 's/^pgvector-//')
SHARE=$("$PG_CONFIG" --sharedir)/extension
if [ -f "$SHARE/vector--$VERSION.sql" ] && [ -f "$("$PG_CONFIG" --pkglibdir)/vector.so" ]; then
    echo "$VERSION"
    exit 0
fi
TMP=$(mktemp -d /tmp/nmvec-peer.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
tar -C "$TMP" -xzf "$TARBALL"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
# OPTFLAGS="" : pgvector's default adds -march=native, which is what we want
# for a fair comparison on this machine; keep its own default.
make -C "$TMP"/pgvector-* PG_CONFIG="$PG_CONFIG" -j"$(nproc)" >"$TMP/build.log" 2>&1 \
    || { tail -30 "$TMP/build.log" >&2; exit 1; }
$SUDO make -C "$TMP"/pgvector-* PG_CONFIG="$PG_CONFIG" install >>"$TMP/build.log" 2>&1 \
    || { tail -30 "$TMP/build.log" >&2; exit 1; }
echo "$VERSION"
