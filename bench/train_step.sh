#!/usr/bin/env bash
# Training-speed benchmark: workbench vs PyTorch eager, same model, same step.
# Run by hand (never in CI). Prints a Markdown table on stdout.
#
#   bench/train_step.sh [--setup] [--steps N] [--warmup W] [--seed S] [--no-build] [--torch-only]
#
#   --setup       create the PyTorch venv first if missing (bench/setup_torch.sh)
#   --steps N     timed steps per run (default 20)
#   --warmup W    untimed warm-up steps per run (default 3)
#   --seed S      seed for weights and data (default 0)
#   --no-build    use the existing .build/release/workbench as is
#   --torch-only  run the PyTorch side only
#
# Environment: WORKBENCH_BENCH_VENV (default $HOME/.cache/workbench/bench-venv).
# OPENBLAS_* variables are passed through untouched to both engines.
# Exit status: 0 when both engines produced results for every config, 1 when
# some result is missing (the table still prints, with n/a and the reason),
# 2 on usage errors or a missing venv.
set -uo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
bench_dir="$repo_root/bench"
VENV="${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}"
THREADS=2
steps=20 warmup=3 seed=0 setup=0 build=1 run_workbench=1 torch_only=0

while [ $# -gt 0 ]; do
  case "$1" in
    --setup) setup=1 ;;
    --steps) steps="${2:?--steps needs a value}"; shift ;;
    --warmup) warmup="${2:?--warmup needs a value}"; shift ;;
    --seed) seed="${2:?--seed needs a value}"; shift ;;
    --no-build) build=0 ;;
    --torch-only) run_workbench=0 torch_only=1 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "train_step.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# name  layers dim heads kv-heads ffn vocab batch seq
CONFIGS=(
  "tiny  4 128 4 4 352  64  16 128"
  "large 6 512 8 8 1408 256 8  256"
)

# --- PyTorch venv ----------------------------------------------------------
. "$bench_dir/venv.sh"
venv_require train_step.sh "$VENV" WORKBENCH_BENCH_VENV torch setup_torch.sh "$setup"
py="$VENV/bin/python"

out="$(mktemp -d "${TMPDIR:-/tmp}/workbench-bench.XXXXXX")"
trap 'rm -rf "$out"' EXIT

# --- workbench build -------------------------------------------------------
wb="$repo_root/.build/release/workbench"
if [ "$run_workbench" = 1 ] && [ "$build" = 1 ]; then
  echo "train_step.sh: swift build -c release --product workbench" >&2
  if ! (cd "$repo_root" && swift build -c release --product workbench) >"$out/build.log" 2>&1; then
    tail -n 20 "$out/build.log" >&2
    echo "train_step.sh: release build failed; workbench columns will be n/a" >&2
    run_workbench=0
    wb_reason="release build failed"
  fi
fi
if [ "$run_workbench" = 1 ] && [ ! -x "$wb" ]; then
  echo "train_step.sh: $wb not found; workbench columns will be n/a" >&2
  run_workbench=0
  wb_reason="binary not built"
fi
[ "${wb_reason:-}" = "" ] && [ "$run_workbench" = 0 ] && wb_reason="skipped (--torch-only)"

echo "train_step.sh: threads=$THREADS steps=$steps warmup=$warmup seed=$seed" \
     "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}" >&2

# --- runs --------------------------------------------------------------------
names=()
for c in "${CONFIGS[@]}"; do
  read -r name L D H K F V B T <<<"$c"
  names+=("$name")
  args=(--layers "$L" --dim "$D" --heads "$H" --kv-heads "$K" --ffn "$F" --vocab "$V"
        --batch "$B" --seq "$T" --steps "$steps" --warmup "$warmup" --threads "$THREADS" --seed "$seed")

  if [ "$run_workbench" = 1 ]; then
    echo "train_step.sh: $name: workbench" >&2
    "$wb" bench train-step "${args[@]}" >"$out/$name.workbench.jsonl" 2>"$out/$name.workbench.err"
    rc=$?
    if [ "$rc" != 0 ]; then
      echo "exit status $rc: $(tail -n 1 "$out/$name.workbench.err")" >>"$out/$name.workbench.err"
      echo "train_step.sh: $name: workbench failed: $(tail -n 1 "$out/$name.workbench.err")" >&2
    elif ! grep -q '"tokens_per_sec"' "$out/$name.workbench.jsonl"; then
      echo "train_step.sh: $name: workbench printed no JSON result;" \
           "does this build implement 'workbench bench train-step'?" >&2
    fi
  else
    echo "$wb_reason" >"$out/$name.workbench.err"
  fi

  echo "train_step.sh: $name: pytorch" >&2
  "$py" "$bench_dir/torch_train_step.py" "${args[@]}" >"$out/$name.pytorch.jsonl" 2>"$out/$name.pytorch.err"
  rc=$?
  if [ "$rc" != 0 ]; then
    echo "exit status $rc: $(tail -n 1 "$out/$name.pytorch.err")" >>"$out/$name.pytorch.err"
    echo "train_step.sh: $name: pytorch failed: $(tail -n 1 "$out/$name.pytorch.err")" >&2
  fi
done

"$py" "$bench_dir/table.py" "$out" "${names[@]}"

# Non-zero when any result is missing, so a script driving this notices.
for n in "${names[@]}"; do
  for e in workbench pytorch; do
    [ "$e" = workbench ] && [ "$torch_only" = 1 ] && continue
    grep -q '"tokens_per_sec"' "$out/$n.$e.jsonl" 2>/dev/null || exit 1
  done
done
exit 0
