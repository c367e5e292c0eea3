#!/usr/bin/env bash
# Builds and runs bf16_matmul.c: OpenBLAS float32 against oneDNN float32 and bf16 on SmolLM2's
# linear-map shapes. Needs libopenblas-dev (scripts/setup.sh installs it) and libdnnl-dev.
# Usage: bench/bf16_matmul.sh [threads]   (default 1; run it on an otherwise idle machine)
set -euo pipefail
[ -e /usr/include/oneapi/dnnl/dnnl.h ] || { echo "oneDNN's header is missing: apt-get install libdnnl-dev" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -march=native -o "$out/bf16_matmul" "$here/bf16_matmul.c" -I/usr/include/x86_64-linux-gnu/openblas-pthread \
   -lopenblas -ldnnl -lm
threads=${1:-1}
OMP_NUM_THREADS=$threads "$out/bf16_matmul" "$threads"
