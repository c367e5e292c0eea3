#!/usr/bin/env bash
# Rollout throughput: tokens/s of sampling (temperature 1) for a batch of 64 prompts and for a
# single prompt, tiny model, 2 threads, fastest of 3 runs each (the machine is shared with other
# work, so the fastest run is the least disturbed one). Run by hand, never in CI. Prints a Markdown table.
#   bench/rollout.sh [--init <checkpoint dir>] [--no-build]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
args=() build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --init) args+=(--init-from "${2:?--init needs a folder}"); shift ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rollout.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$build" = 1 ] && (cd "$repo_root" && swift build -c release --product workbench >&2)
"$repo_root/.build/release/workbench" bench rollout --threads 2 --repeats 3 "${args[@]}" | python3 "$repo_root/bench/rollout_table.py"
