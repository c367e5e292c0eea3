#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ (one per parser of untrusted input) and runs each for a
# fixed number of inputs, then prints target / runs / time / result and exits non-zero if any
# target crashed, hung, ran out of memory or did not reach its run count. Not part of CI: a
# million inputs per target takes tens of minutes on two cores.
#
#   scripts/fuzz.sh                      # every target, 1,000,000 inputs each
#   scripts/fuzz.sh -n 20000 gguf toml   # some targets, fewer inputs
#   scripts/fuzz.sh -j 2                 # two targets at a time
#   scripts/fuzz.sh --build-only
#   FUZZ_FLAGS="-max_total_time=600" scripts/fuzz.sh   # more libFuzzer flags for every target
#
# Each target is compiled by swiftc directly (-sanitize=fuzzer,address, -O like a release build)
# from its fuzz/<Name>Fuzz.swift and only the package sources that parser needs, into
# $WB_FUZZ_DIR (default /tmp/wb-fuzz), so Package.swift, `swift build` and CI are untouched.
# Inputs the fuzzer finds interesting go to $WB_FUZZ_DIR/corpus/<target> (the seeds in
# fuzz/corpus/<target> are only read); a crashing input is saved as
# $WB_FUZZ_DIR/artifacts/<target>/crash-<sha1> and the log as $WB_FUZZ_DIR/logs/<target>.log.
# Reproduce one with: SWIFT_BACKTRACE=enable=no $WB_FUZZ_DIR/bin/<target> <that file>.
# fuzz/dict/<target>.dict lists tokens of each format (keys, markers) for the mutator to insert.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${WB_FUZZ_DIR:-/tmp/wb-fuzz}
RUNS=1000000
JOBS=1
BUILD_ONLY=0
ALL=(gguf safetensors gsm8k svamp reft toml reward-fn)

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n|--runs) RUNS=$2; shift 2 ;;
        -j|--jobs) JOBS=$2; shift 2 ;;
        --build-only) BUILD_ONLY=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
case "$RUNS" in ''|*[!0-9]*) echo "-n needs a whole number of runs, got '$RUNS'" >&2; exit 2 ;; esac
case "$JOBS" in ''|*[!0-9]*|0) echo "-j needs a positive number of targets at a time, got '$JOBS'" >&2; exit 2 ;; esac

E=Sources/Engine
DATA="$E/Data/GSM8KLoader.swift $E/Data/SVAMPLoader.swift $E/Data/ReFTJSONLoader.swift $E/Data/JSONRecord.swift
      $E/Data/DataFile.swift $E/Data/DatasetLoader.swift $E/Data/DataError.swift $E/Data/MathExample.swift
      $E/Text/ReFTFormat.swift"
DATA_HARNESS="fuzz/DataFileFuzz.swift fuzz/ScratchFile.swift"
# target: harness, package sources it is compiled with, -max_len
sources() {
    case "$1" in
        gguf) echo "fuzz/GGUFFuzz.swift $E/IO/GGUF/*.swift $E/IO/HalfFloat.swift" ;;
        safetensors) echo "fuzz/SafetensorsFuzz.swift fuzz/ScratchFile.swift $E/IO/Safetensors.swift $E/IO/HalfFloat.swift $E/IO/FileBytes.swift
                           $E/IO/FileError.swift $E/IO/StagedFile.swift $E/IO/JSONText.swift" ;;
        gsm8k) echo "fuzz/GSM8KFuzz.swift $DATA_HARNESS $DATA" ;;
        svamp) echo "fuzz/SVAMPFuzz.swift $DATA_HARNESS $DATA" ;;
        reft) echo "fuzz/ReFTJSONFuzz.swift $DATA_HARNESS $DATA" ;;
        toml) echo "fuzz/TOMLFuzz.swift Sources/Host/Compare/TOML.swift" ;;
        reward-fn) echo "fuzz/FFISignatureFuzz.swift Sources/Host/FFI/FFISignature.swift Sources/Host/FFI/FFIRewardSpec.swift" ;;
        *) return 1 ;;
    esac
}
max_len() {
    case "$1" in
        gguf|safetensors|gsm8k|svamp|reft|toml) echo 4096 ;;
        reward-fn) echo 256 ;;
    esac
}
for t in "${TARGETS[@]}"; do
    sources "$t" >/dev/null || { echo "unknown target '$t'; the targets are ${ALL[*]}" >&2; exit 2; }
done

mkdir -p "$OUT/bin" "$OUT/logs"
build() {
    local t=$1 module
    module=Fuzz$(echo "$t" | tr -cd 'a-zA-Z0-9')
    # shellcheck disable=SC2046  # the source list is meant to split (and glob)
    nice -n 19 swiftc -parse-as-library -sanitize=fuzzer,address -O -g -swift-version 5 -use-ld=lld \
        -module-name "$module" $(sources "$t") -o "$OUT/bin/$t" >"$OUT/logs/$t.build.log" 2>&1
}
for t in "${TARGETS[@]}"; do
    echo "building $t -> $OUT/bin/$t"
    if ! build "$t"; then
        cat "$OUT/logs/$t.build.log" >&2
        echo "building fuzz target $t failed (log: $OUT/logs/$t.build.log)" >&2
        exit 1
    fi
done
[ "$BUILD_ONLY" = 1 ] && exit 0

# Runs one target; its log is $OUT/logs/<target>.log, its exit code $OUT/logs/<target>.rc.
run() {
    local t=$1
    mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
    # A thrown Swift error is the parser refusing input; what counts is a trap (precondition,
    # overflow, out-of-range index), a sanitizer report, a 10 s input, or 2 GiB of memory.
    # Leak checking is off (in the loop and at exit): Foundation keeps buffers for the life of
    # the process (one 4 KiB read buffer of Data(contentsOf:) is reported at exit), and a leak
    # is not what these targets look for. Swift's own crash handler is off so that a trap
    # reaches libFuzzer as "deadly signal" with the stack, instead of the backtracer running
    # under ASan (where its memory reader trips a sanitizer report that hides the real one).
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" nice -n 19 "$OUT/bin/$t" \
        -runs="$RUNS" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        -detect_leaks=0 -print_final_stats=1 -dict="fuzz/dict/$t.dict" -artifact_prefix="$OUT/artifacts/$t/" \
        ${FUZZ_FLAGS:-} "$OUT/corpus/$t" "fuzz/corpus/$t" >"$OUT/logs/$t.log" 2>&1
    echo $? >"$OUT/logs/$t.rc"
}
# At most $JOBS targets at once; the next one starts as soon as any finishes.
running=0
for t in "${TARGETS[@]}"; do
    if [ "$running" -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
    fi
    echo "fuzzing $t: $RUNS inputs (log: $OUT/logs/$t.log)"
    rm -f "$OUT/logs/$t.rc"
    run "$t" &
    running=$((running + 1))
done
wait

status=0
printf '\n%-12s %12s %10s  %s\n' target runs seconds result
for t in "${TARGETS[@]}"; do
    log=$OUT/logs/$t.log
    rc=$(cat "$OUT/logs/$t.rc" 2>/dev/null || echo "?")
    done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)
    runs=$(echo "$done_line" | awk '{print $2}')
    secs=$(echo "$done_line" | awk '{print $5}')
    if [ "$rc" = 0 ] && [ -n "$runs" ] && [ "$runs" -ge "$RUNS" ]; then
        result=ok
    else
        status=1
        artifact=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
        kind=$(grep -m1 -oE "ERROR: [A-Za-z]+: [a-zA-Z-]+|Fatal error: .*" "$log")
        result="FAILED (exit $rc${kind:+, $kind}${artifact:+, input $artifact})"
        runs=${runs:-$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')}
    fi
    printf '%-12s %12s %10s  %s\n' "$t" "${runs:-?}" "${secs:--}" "$result"
done
exit $status
