#!/usr/bin/env bash
# Rollout throughput: tokens/s of sampling (temperature 1) for a batch of 64 prompts and for a
# single prompt, workbench against Hugging Face transformers' `generate` (what TRL's trainers
# call for their rollouts) on the same model shape, 2 threads each, fastest of 10 runs
# (one 64-prompt run lasts a quarter of a second; fewer repeats left the ratio unstable).
# Run by hand on an idle machine, never in CI. Prints a Markdown table.
#   bench/rollout.sh [--setup] [--init <checkpoint dir>] [--no-build] [--no-peer]
#   --setup      create the peer's venv first if missing (bench/setup_torch.sh; ~5 GB)
#   --init DIR   sample from this checkpoint (workbench only; the peer uses fresh weights,
#                which costs the same per token)
#   --no-peer    skip transformers (it needs the venv bench/setup_torch.sh makes)
# Environment: WORKBENCH_BENCH_VENV (default $HOME/.cache/workbench/bench-venv).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${WORKBENCH_BENCH_VENV:-$HOME/.cache/workbench/bench-venv}"
args=() build=1 peer=1 setup=0
repeats=10   # the same for both engines, or the ratio compares different best-of counts
while [ $# -gt 0 ]; do
  case "$1" in
    --init) args+=(--init-from "${2:?--init needs a folder}"); shift ;;
    --no-build) build=0 ;;
    --no-peer) peer=0 ;;
    --setup) setup=1 ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rollout.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$peer" = 1 ]; then
  . "$repo_root/bench/venv.sh"
  venv_require rollout.sh "$VENV" WORKBENCH_BENCH_VENV "torch, transformers" setup_torch.sh "$setup" "about 5 GB; --no-peer skips the peer"
fi
[ "$build" = 1 ] && (cd "$repo_root" && swift build -c release --product workbench >&2)
{
  "$repo_root/.build/release/workbench" bench rollout --threads 2 --repeats "$repeats" "${args[@]}"
  if [ "$peer" = 1 ]; then "$VENV/bin/python" "$repo_root/bench/hf_generate_rollout.py" --threads 2 --repeats "$repeats"; fi
} | python3 "$repo_root/bench/rollout_table.py"
