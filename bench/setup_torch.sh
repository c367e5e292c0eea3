#!/usr/bin/env bash
# Create the PyTorch venv used by bench/train_step.sh, OUTSIDE the repo.
#
#   bench/setup_torch.sh            # venv at ${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}
#
# Idempotent: if torch already imports in that venv, nothing is installed.
#
# Only the default PyPI index is reachable here. PyPI's Linux x86_64 torch
# wheel is the CUDA build and pulls ~4-5 GB of nvidia-* wheels; its CPU
# kernels are the same ones the CPU-only build uses, so it is fine for a CPU
# benchmark, just big. There is no CPU-only torch on plain PyPI for x86_64.
# If a CPU wheel is on disk (pip's PIP_FIND_LINKS), you can pick it instead:
#   WORKBENCH_TORCH_SPEC='torch==2.13.0+cpu' bench/setup_torch.sh
# (note that the version then differs from the one BENCHMARKS.md quotes).
set -euo pipefail

VENV="${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${WORKBENCH_TORCH_SPEC:-torch}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
venv_abs="$(realpath -m "$VENV")"
case "$venv_abs/" in
  "$repo_root"/*)
    echo "setup_torch.sh: refusing to create the venv inside the repo ($venv_abs);" \
         "set WORKBENCH_BENCH_VENV to a path outside $repo_root" >&2
    exit 2 ;;
esac

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "setup_torch.sh: torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)') already in $VENV; nothing to do"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup_torch.sh: creating venv $VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
fi

echo "setup_torch.sh: installing '$TORCH_SPEC' into $VENV (large download, be patient)"
# --no-cache-dir: do not keep a second multi-GB copy of the wheels in pip's cache.
# numpy only keeps torch from warning at import.
"$VENV/bin/python" -m pip install --no-cache-dir "$TORCH_SPEC" numpy

"$VENV/bin/python" -c 'import torch; print("setup_torch.sh: torch", torch.__version__, "ready in", __import__("sys").prefix)'
