#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs `meson test`
# (suites unit, corpus, integration) and ends with one line
# "N passed, N failed[, N skipped]". Exits non-zero on any failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

"$ROOT/deploy/setup.sh" || { echo "0 passed, 1 failed"; exit 1; }

cd "$ROOT"
log="$(mktemp)"
meson test -C build --print-errorlogs "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

count() { awk -v k="$1" -F: '$1 == k { gsub(/ /, "", $2); print $2 }' "$log" | tail -1; }
ok=$(count "Ok"); xfail=$(count "Expected Fail"); fail=$(count "Fail")
xpass=$(count "Unexpected Pass"); timeout=$(count "Timeout"); skipped=$(count "Skipped")
passed=$(( ${ok:-0} + ${xfail:-0} ))
failed=$(( ${fail:-0} + ${xpass:-0} + ${timeout:-0} ))
if [[ $rc != 0 && $failed == 0 ]]; then failed=1; fi  # meson itself failed
rm -f "$log"
line="$passed passed, $failed failed"
if [[ ${skipped:-0} != 0 ]]; then line="$line, $skipped skipped"; fi
echo "$line"
[[ $failed == 0 ]]
