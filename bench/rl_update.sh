#!/usr/bin/env bash
# Whole RL updates on the tiny model: workbench's Dr.GRPO update against TRL's GRPOTrainer on the
# same shape and threads, and workbench's carft update against its reft update.
# Run by hand on an idle machine, never in CI. Prints a Markdown table.
#
#   bench/rl_update.sh [--threads N] [--updates N] [--rounds N] [--no-build] [--no-peer]
#
# One update, every engine: 32 questions × 2 samples (Dr.GRPO) or 64 questions × 1 sample (reft,
# carft), each row exactly 64 new tokens (--min-new-tokens = --max-new-tokens in workbench,
# min_new_tokens in TRL), scored, then one epoch as one optimiser step over all 64 rows (reft and
# carft: one PPO epoch, one mini-batch of 64; Dr.GRPO and TRL: loss "dr_grpo", no KL term).
# The model is the tiny preset (4 layers × 128, 4 heads, FFN 352, 258-token byte vocabulary,
# 0.84M parameters): workbench samples from a checkpoint trained for a few SFT steps on the
# built-in task (so its questions and annotated CoTs are real), TRL from a fresh model of the
# same shape (the cost per token does not depend on the weights) on random prompts as long as
# workbench's mean prompt. Each figure is the median of --updates updates after one untimed.
# Every engine runs once per round, in turn, --rounds times (a shared machine drifts by more
# than carft's extra cost between two runs, and TRL's pace by a third from hour to hour); each
# figure is the median of the rounds, and each round's TRL / Dr.GRPO and carft / reft are printed.
#   --threads N   threads for every engine (default 2)
#   --updates N   timed updates per engine (default 5)
#   --rounds N    rounds of one run per engine (default 3)
#   --no-build    use the existing .build/release/workbench
#   --no-peer     skip TRL (it needs the venv of bench/setup_torch.sh plus `pip install trl`)
# Environment: WORKBENCH_BENCH_VENV (default $HOME/.cache/workbench/bench-venv).
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
bench_dir="$repo_root/bench"
VENV="${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}"
threads=2 updates=5 rounds=3 build=1 peer=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="${2:?--threads needs a value}"; shift ;;
    --updates) updates="${2:?--updates needs a value}"; shift ;;
    --rounds) rounds="${2:?--rounds needs a value}"; shift ;;
    --no-build) build=0 ;;
    --no-peer) peer=0 ;;
    -h|--help) sed -n '2,/^# Environment/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rl_update.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for n in "$threads" "$updates" "$rounds"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "rl_update.sh: --threads, --updates and --rounds take a whole number ≥ 1 (got '$n')" >&2; exit 2; }
done
. "$repo_root/bench/release.sh"
wb="$(workbench_release rl_update.sh "$build")" || exit 1
out="$(mktemp -d "${TMPDIR:-/tmp}/workbench-rl-update.XXXXXX")"
trap 'rm -rf "$out"' EXIT

echo "rl_update.sh: tiny SFT checkpoint (50 steps)" >&2
"$wb" sft --out "$out/sft" --steps 50 --eval-every 1000 --eval-examples 0 --train-size 2000 --threads "$threads" >"$out/sft.log" 2>&1 \
  || { echo "rl_update.sh: sft failed: $(tail -n 1 "$out/sft.log")" >&2; exit 1; }

# Median seconds of the updates after the first (whole, and of the scoring forwards) and the mean
# prompt length, from metrics.jsonl (every response is --max-new-tokens long).
summary() {
  python3 - "$1" <<'EOF'
import json, statistics, sys
u = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "update"]
print(f"{statistics.median(x['seconds'] for x in u[1:]):.3f} {statistics.median(x['scoring_seconds'] for x in u[1:]):.3f} "
      f"{u[-1]['prompt_length']:.0f}")
EOF
}
declare -A secs scoring prompt
# run ALGO TAG: one workbench run; sets secs[TAG], scoring[TAG], prompt[TAG].
run() {
  local algo=$1 tag=$2 shape
  case $algo in
    drgrpo) shape=(--batch 32 --group 2) ;;
    *) shape=(--batch 64 --value-warmup 0) ;;
  esac
  echo "rl_update.sh: workbench $tag" >&2
  if "$wb" rl --algo "$algo" --init "$out/sft/final" --train-size 2000 "${shape[@]}" --minibatch 64 --ppo-epochs 1 \
       --max-new-tokens 64 --min-new-tokens 64 --updates $((updates + 1)) --eval-examples 0 --final-eval 0 \
       --threads "$threads" --seed 1 --out "$out/rl-$tag" >"$out/rl-$tag.log" 2>&1; then
    read -r secs[$tag] scoring[$tag] prompt[$tag] < <(summary "$out/rl-$tag/metrics.jsonl")
  else
    echo "rl_update.sh: workbench $tag failed: $(tail -n 1 "$out/rl-$tag.log")" >&2
    secs[$tag]="n/a" scoring[$tag]="n/a" prompt[$tag]=80
  fi
}
# TRL's update at workbench's mean prompt length (from the first Dr.GRPO run); sets trl[TAG].
declare -A trl
trl_version=""
have_trl=0
if [ "$peer" = 1 ]; then
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import trl' 2>/dev/null; then
    have_trl=1
  else
    echo "rl_update.sh: no TRL in $VENV (bench/setup_torch.sh, then $VENV/bin/pip install trl); skipping the peer" >&2
  fi
fi
run_trl() {
  local tag=$1 line
  echo "rl_update.sh: TRL GRPOTrainer $tag (${prompt[drgrpo1]}-token prompts)" >&2
  if line=$("$VENV/bin/python" "$bench_dir/trl_grpo_update.py" --prompts 32 --group 2 --prompt-tokens "${prompt[drgrpo1]}" \
              --new-tokens 64 --updates "$updates" --warmup 1 --threads "$threads" 2>"$out/trl.err" | tail -n 1); then
    trl[$tag]=$(echo "$line" | python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["seconds_per_update"])')
    trl_version=$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["trl"])')
  else
    echo "rl_update.sh: TRL failed: $(tail -n 1 "$out/trl.err")" >&2
    trl[$tag]="n/a"
  fi
}
# Each round runs every engine once, so each round's ratios compare runs minutes apart at most
# (this machine's speed drifts more than that from hour to hour, TRL's most of all).
for r in $(seq 1 "$rounds"); do
  run drgrpo "drgrpo$r"
  if [ "$have_trl" = 1 ]; then run_trl "trl$r"; fi
  run reft "reft$r"
  run carft "carft$r"
done
# The median over rounds (n/a when any round failed), and each round's ratios.
median() { python3 -c "import statistics,sys; v=sys.argv[1:]; print('n/a' if 'n/a' in v else '%.3f' % statistics.median(map(float, v)))" "$@"; }
declare -A all
for r in $(seq 1 "$rounds"); do
  for k in drgrpo reft carft; do all[$k]+=" ${secs[$k$r]}"; all[${k}_scoring]+=" ${scoring[$k$r]}"; done
  all[trl]+=" ${trl[trl$r]:-n/a}"
done
for k in drgrpo reft carft; do
  # shellcheck disable=SC2086
  secs[$k]=$(median ${all[$k]}); scoring[$k]=$(median ${all[${k}_scoring]})
done
# shellcheck disable=SC2086
trl_median=$( [ "$have_trl" = 1 ] && median ${all[trl]} || echo "n/a")
prompt_tokens=${prompt[drgrpo1]}

ratio() { python3 -c "a,b='$1','$2'; print('n/a' if 'n/a' in (a,b) else f'{float(a)/float(b):.2f}×')"; }
per_round=() trl_round=()
for r in $(seq 1 "$rounds"); do
  per_round+=("$(ratio "${secs[carft$r]}" "${secs[reft$r]}")")
  trl_round+=("$(ratio "${trl[trl$r]:-n/a}" "${secs[drgrpo$r]}")")
done
echo
echo "One RL update on the tiny model: 64 rows × 64 new tokens, one epoch, one optimiser step, $threads threads; median of $updates updates per run, then the median of $rounds rounds (each round runs every engine once, in turn)"
echo
echo "| update | workbench s | TRL ${trl_version} GRPOTrainer s | TRL / workbench |"
echo "| --- | ---: | ---: | ---: |"
echo "| Dr.GRPO (32 questions × 2) | ${secs[drgrpo]} | $trl_median | $(ratio "$trl_median" "${secs[drgrpo]}") |"
echo "| reft (64 questions × 1) | ${secs[reft]} | | |"
echo "| carft (64 questions × 1) | ${secs[carft]} | | |"
echo
[ "$have_trl" = 1 ] && echo "TRL / workbench Dr.GRPO, round by round: $(IFS=,; echo "${trl_round[*]}" | sed 's/,/, /g')"
echo "carft / reft: $(ratio "${secs[carft]}" "${secs[reft]}"); round by round: $(IFS=,; echo "${per_round[*]}" | sed 's/,/, /g') (prompts: $prompt_tokens tokens on average)"
echo "Scoring forwards (old and reference log-probs, values; carft: its annotated CoTs too): reft ${scoring[reft]} s, carft ${scoring[carft]} s"
