# Sourced by the bench scripts that stop when workbench's release build is missing or fails
# (rl_update.sh, smollm2.sh, smollm2_rl_rounds.sh), so the build step is written once here.

# workbench_release SCRIPT BUILD: with BUILD 1, builds the release `workbench` (its output on
# stderr); prints the binary's path, or says what is wrong, as SCRIPT, and returns 1. Call it as
#   wb="$(workbench_release name.sh "$build")" || exit 1
workbench_release() {
  local script=$1 build=$2 root wb
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
  wb="$root/.build/release/workbench"
  if [ "$build" = 1 ]; then
    (cd "$root" && swift build -c release --product workbench) >&2 || { echo "$script: build failed" >&2; return 1; }
  fi
  [ -x "$wb" ] || { echo "$script: no $wb (run without --no-build)" >&2; return 1; }
  echo "$wb"
}
