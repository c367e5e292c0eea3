#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (Debian's slurm-wlm and munge: slurmctld and slurmd on
# localhost, private ports, state and sockets in a temporary folder), and a two-variant, two-seed
# comparison (experiments/smoke.toml) submitted to it with `workbench compare --launcher slurm`.
# Checks that the report says "pending" while tasks wait, that every run finishes through Slurm
# with the report job writing the report, and that submitting again submits nothing. Tears the
# cluster down at the end. Needs slurm-wlm and munge (scripts/setup.sh installs them) and the
# built workbench. About a minute on 2 cores.
#
#   scripts/slurm-test.sh [--keep DIR]     --keep: leave the comparison's folder in DIR
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
wb="$root/.build/release/workbench"
keep=""
[ "${1:-}" = "--keep" ] && keep="${2:?--keep needs a folder}"
for tool in slurmctld slurmd munged sbatch squeue; do
    command -v "$tool" >/dev/null || { echo "slurm-test: $tool not found; install slurm-wlm and munge (scripts/setup.sh does)" >&2; exit 2; }
done
[ -x "$wb" ] || { echo "slurm-test: build first (swift build -c release)" >&2; exit 2; }

t0=$(date +%s)
tmp="$(mktemp -d "${TMPDIR:-/tmp}/workbench-slurm.XXXXXX")"
mkdir -p "$tmp"/{state,spool,log,run}
# The daemons get SIGKILL after a second of SIGTERM: a caller that ignores SIGTERM (as a test
# runner may) passes that on to them, and a daemon left behind would hold the cluster's ports.
cleanup() {
    local pids=()
    for d in slurmd slurmctld munged; do
        [ -f "$tmp/run/$d.pid" ] && pids+=("$(cat "$tmp/run/$d.pid")")
    done
    if [ ${#pids[@]} -gt 0 ]; then
        kill "${pids[@]}" 2>/dev/null || true
        sleep 1
        kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "slurm-test: FAIL: $*" >&2; for f in "$tmp"/log/*.log "$tmp"/out/slurm/logs/*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done; exit 1; }

# munge with its own key and socket, so nothing system-wide is touched.
head -c 1024 /dev/urandom > "$tmp/munge.key"
chmod 400 "$tmp/munge.key"
munged --key-file="$tmp/munge.key" --socket="$tmp/run/munge.sock" --pid-file="$tmp/run/munged.pid" \
       --log-file="$tmp/log/munged.log" --seed-file="$tmp/run/munge.seed" -f </dev/null >/dev/null 2>&1

port=$(( 20000 + RANDOM % 20000 ))
host="$(hostname -s)"
user="$(id -un)"
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
cat > "$tmp/slurm.conf" <<CONF
ClusterName=wbtest
SlurmctldHost=$host
AuthType=auth/munge
AuthInfo=socket=$tmp/run/munge.sock
CredType=cred/munge
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$tmp/slurm.conf"
# Their standard streams closed: a daemon must not keep the caller's pipes open.
slurmctld -i -f "$SLURM_CONF" </dev/null >/dev/null 2>&1
slurmd -f "$SLURM_CONF" </dev/null >/dev/null 2>&1
for _ in $(seq 60); do
    sinfo -h -o %T 2>/dev/null | grep -qx idle && break
    sleep 0.5
done
sinfo -h -o %T | grep -qx idle || fail "the node did not come up"
echo "slurm-test: one-node cluster up ($host, $(nproc) CPUs, ports $port-$(( port + 1 )))"

out="$tmp/out"
"$wb" compare experiments/smoke.toml --launcher slurm --out "$out" --cache "$tmp/cache" --sbatch time=20:00 | tee "$tmp/submit.txt"
grep -q "submitted to Slurm: warm-up [0-9]*, runs [0-9]* (4 tasks), report [0-9]*" "$tmp/submit.txt" || fail "submission did not say warm-up, 4 tasks and report"
"$wb" report "$out" > "$tmp/early.txt" 2>&1 || true
grep -Eq "^(reft|sft) +[01] .* (pending|running)$" "$tmp/early.txt" || fail "the report did not show pending or running runs right after submission: $(cat "$tmp/early.txt")"

report_job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"])' "$out/slurm/jobs.json")
for _ in $(seq 600); do
    squeue -h -j "$report_job" 2>/dev/null | grep -q . || break
    sleep 1
done
squeue -h -j "$report_job" 2>/dev/null | grep -q . && fail "the report job did not end within 10 minutes"
[ -f "$out/report.md" ] || fail "no report.md"
finished=$(grep -Ec "^(reft|sft) +[01] .*finished$" "$out/slurm/logs"/report-*.out || true)
[ "$finished" = 4 ] || fail "the report job's table shows $finished of 4 runs finished"
grep -q '"state" : "finished"\|"state":"finished"' "$out/start/status.json" || fail "the start was not scored"

"$wb" compare experiments/smoke.toml --launcher slurm --out "$out" --cache "$tmp/cache" --sbatch time=20:00 > "$tmp/again.txt"
grep -q "nothing submitted" "$tmp/again.txt" || fail "submitting again submitted something: $(cat "$tmp/again.txt")"

[ -n "$keep" ] && { rm -rf "$keep"; cp -r "$out" "$keep"; }
echo "slurm-test: PASS: 4 runs through Slurm, report written by its job, resubmission kept them all ($(( $(date +%s) - t0 )) s)"
