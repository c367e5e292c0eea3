# Sourced by the bench scripts. The peers' Python environments live in venvs outside the repo,
# made once by a setup script (setup_torch.sh, setup_llamacpp.sh) and checked by the scripts
# that use them, so those rules are written once here.

# venv_prepare SCRIPT VENV VAR MODULES: for a setup script. Refuses a VENV inside the repo (VAR
# is the variable that moves it); exits the script with 0 when MODULES (comma-separated) already
# import there (setup is idempotent); otherwise makes sure the venv exists, for the caller to
# install into.
venv_prepare() {
  local script=$1 venv=$2 var=$3 modules=$4 module=${4%%,*} root venv_abs
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
  venv_abs="$(realpath -m "$venv")"
  case "$venv_abs/" in
    "$root"/*)
      echo "$script: refusing to create the venv inside the repo ($venv_abs);" \
           "set $var to a path outside $root" >&2
      exit 2 ;;
  esac
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import $modules" 2>/dev/null; then
    echo "$script: $module $("$venv/bin/python" -c "import $module; print($module.__version__)") already in $venv; nothing to do"
    exit 0
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "$script: creating venv $venv"
    mkdir -p "$(dirname "$venv")"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
}

# venv_require SCRIPT VENV VAR MODULES SETUP SETUP_NOW [NOTE]: for a script that runs a peer.
# When VENV's python cannot import MODULES (comma-separated), runs bench/SETUP if SETUP_NOW is
# 1, else says how to make the venv (NOTE: what --setup costs) and exits with 2.
venv_require() {
  local script=$1 venv=$2 var=$3 modules=$4 setup=$5 now=$6 note=${7:-} bench
  bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import $modules" 2>/dev/null; then return 0; fi
  if [ "$now" = 1 ]; then
    "$bench/$setup" >&2 || { echo "$script: venv setup failed" >&2; exit 2; }
    return 0
  fi
  echo "$script: no venv with $modules at $venv." >&2
  echo "  Create it with:  bench/$setup   (or rerun this with --setup${note:+; $note})" >&2
  echo "  (set $var to use another location, outside the repo)" >&2
  exit 2
}
