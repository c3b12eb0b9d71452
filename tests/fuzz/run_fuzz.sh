#!/bin/sh
# Runs one libFuzzer target for a bounded smoke run (meson test suite 'fuzz').
#
# Usage: run_fuzz.sh FUZZER SEED_DIR ARTIFACT_DIR [libFuzzer flags...]
#
# The seeds are read-only input: new coverage goes to a scratch corpus that is
# thrown away. A crash, sanitizer report, leak or timeout makes libFuzzer exit
# non-zero; the input that caused it is kept under ARTIFACT_DIR and its path
# printed. CONDUIT_FUZZ_SECONDS overrides the run length (default 5).
set -u
fuzzer=$1
seeds=$2
artifacts=$3
shift 3
name=$(basename "$fuzzer")
mkdir -p "$artifacts" "$seeds"
work=$(mktemp -d "${TMPDIR:-/tmp}/${name}.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$artifacts/$name.log"

# Abort on the first UBSan report too, with a stack to go with it.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
"$fuzzer" -artifact_prefix="$artifacts/$name-" \
  -max_total_time="${CONDUIT_FUZZ_SECONDS:-5}" "$@" "$work" "$seeds" >"$log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  cat "$log"
  echo "$name: FAILED (exit $rc); log: $log"
  # libFuzzer names the reproducer: "Test unit written to <path>".
  sed -n 's/.*Test unit written to \(.*\)$/crash input: \1/p' "$log"
  echo "reproduce: $fuzzer <crash input>"
  exit 1
fi
grep -E '^(Done|stat::(number_of_executed_units|peak_rss_mb))' "$log"
echo "$name: ok (seeds: $(ls "$seeds" | wc -l), log: $log)"
