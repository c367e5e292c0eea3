#!/usr/bin/env bash
# Runs the whole test suite: unit tests, gradient checks, loader errors, checkpoint round trips
# and a short end-to-end SFT run. Release mode (with testability) because the numerical tests
# would take minutes in a debug build. Tests run one at a time: several set the process-wide
# thread count, and the determinism tests must not see another test change it mid-run.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in libopenblas-dev libffi-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || { echo "missing $pkg: run scripts/setup.sh --no-run (or apt-get install $pkg)" >&2; exit 1; }
done
exec swift test -c release -Xswiftc -enable-testing --no-parallel "$@"
