#!/usr/bin/env bash
# Create the llama.cpp venv used by bench/generate.sh, OUTSIDE the repo.
#
#   bench/setup_llamacpp.sh         # venv at ${WORKBENCH_LLAMACPP_VENV:-$HOME/.cache/workbench/llamacpp-venv}
#
# Idempotent: if llama_cpp already imports in that venv, nothing is built.
#
# PyPI has llama-cpp-python only as a source distribution, so pip compiles llama.cpp
# (C/C++, CMake) into the venv: several minutes on two cores, hence the cache outside the
# repo. llama.cpp's CMake defaults build the CPU backend for this very CPU (GGML_NATIVE),
# which is what a speed comparison on this machine wants; CMAKE_ARGS is passed through if
# you need other flags. The build runs under `nice` so it does not starve other work.
# To pin another version or install a downloaded sdist:
#   WORKBENCH_LLAMACPP_SPEC=/path/to/llama_cpp_python-0.3.36.tar.gz bench/setup_llamacpp.sh
set -euo pipefail

VENV="${WORKBENCH_LLAMACPP_VENV:-$HOME/.cache/workbench/llamacpp-venv}"
SPEC="${WORKBENCH_LLAMACPP_SPEC:-llama-cpp-python==0.3.36}"

. "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
venv_prepare setup_llamacpp.sh "$VENV" WORKBENCH_LLAMACPP_VENV llama_cpp

echo "setup_llamacpp.sh: building '$SPEC' from source into $VENV (several minutes)"
# --no-binary: always compile here, even if some index offers a wheel built for another CPU.
# --no-cache-dir: a wheel built with -march=native must not be reused on another machine.
# numpy: the benchmark reads logits through it (llama-cpp-python also depends on it).
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  nice -n 19 "$VENV/bin/python" -m pip install --no-cache-dir --no-binary llama-cpp-python "$SPEC" numpy

"$VENV/bin/python" -c 'import llama_cpp, sys; print("setup_llamacpp.sh: llama-cpp-python", llama_cpp.__version__, "ready in", sys.prefix)'
