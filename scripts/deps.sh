#!/usr/bin/env bash
# Install the Debian packages nmvec needs to build and test, if missing.
# Runs apt as root, or through sudo. Usage: scripts/deps.sh [extra packages]
set -euo pipefail

PKGS=(g++ make cmake pkg-config
      postgresql-15 postgresql-server-dev-15 libpq-dev
      libfaiss-dev libopenblas0
      libgtest-dev libbenchmark-dev libsimdjson-dev libipc-run-perl
      "$@")

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
