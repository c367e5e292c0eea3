#!/usr/bin/env bash
# Installs the system libraries, builds workbench in release mode and runs the default job:
# SFT of a small transformer on the built-in arithmetic task for 1,200 steps (about 6 minutes on
# 2 cores) on this machine's cores, printing the accuracy curve. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# slurm-wlm and munge: the tests bring up a one-node Slurm cluster for `compare --launcher slurm`.
for pkg in libopenblas-dev libffi-dev libdnnl-dev slurm-wlm munge; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The tests' references (scripts/setup-reference.sh) need a Python that can make a venv.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need+=(python3 python3-venv); fi
if [ ${#need[@]} -gt 0 ]; then
    echo "==> installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

command -v swift >/dev/null || { echo "swift not found on PATH: install Swift 6 (https://swift.org/install) first" >&2; exit 1; }

echo "==> building (release)"
swift build -c release --product workbench

if [ "${1:-}" = "--no-run" ]; then exit 0; fi
echo "==> default job: workbench sft --out runs/default --overwrite"
exec .build/release/workbench sft --out runs/default --overwrite
