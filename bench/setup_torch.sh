#!/usr/bin/env bash
# Create the PyTorch venv used by bench/train_step.sh and bench/rollout.sh, OUTSIDE the repo.
#
#   bench/setup_torch.sh            # venv at ${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}
#
# Idempotent: if torch and transformers already import in that venv, nothing is installed.
#
# Only the default PyPI index is reachable here. PyPI's Linux x86_64 torch
# wheel is the CUDA build and pulls ~4-5 GB of nvidia-* wheels; its CPU
# kernels are the same ones the CPU-only build uses, so it is fine for a CPU
# benchmark, just big. There is no CPU-only torch on plain PyPI for x86_64.
# If a CPU wheel is on disk (pip's PIP_FIND_LINKS), you can pick it instead:
#   WORKBENCH_TORCH_SPEC='torch==2.13.0+cpu' bench/setup_torch.sh
# (note that the version then differs from the one bench/README.md quotes).
set -euo pipefail

VENV="${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}"
TORCH_SPEC="${WORKBENCH_TORCH_SPEC:-torch}"

. "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
venv_prepare setup_torch.sh "$VENV" WORKBENCH_BENCH_VENV "torch, transformers"

echo "setup_torch.sh: installing '$TORCH_SPEC' into $VENV (large download, be patient)"
# --no-cache-dir: do not keep a second multi-GB copy of the wheels in pip's cache.
# numpy only keeps torch from warning at import; transformers is bench/rollout.sh's peer.
"$VENV/bin/python" -m pip install --no-cache-dir "$TORCH_SPEC" numpy transformers

"$VENV/bin/python" -c 'import torch; print("setup_torch.sh: torch", torch.__version__, "ready in", __import__("sys").prefix)'
