#!/usr/bin/env bash
# Fail-open triggers inside conduitd (the supervisor handles process death):
#   overload: a worker flooded beyond what it inspects switches itself to
#     bypass, counted and evented; inspected + bypassed = received and
#     received = transmitted + dropped;
#   stall: a worker stuck in a loop (test hook) is found by the watchdog
#     within a bounded time and conduitd exits (code 3) so the supervisor
#     applies the failure policy.
#   worker_faults_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$1"
CONDUITCTL="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
PORT=$((30000 + RANDOM % 20000))

cat >"$WORK/policy.yaml" <<'YAML'
version: "faults-1"
mode: enforce
zones: {corporate: [198.18.0.0/25], plant: [198.18.0.128/25]}
conduits:
  - name: flood
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: allow
    allow_non_ip: [arp]
YAML
# net_null's RX produces an endless stream of full bursts: more than any
# worker inspects, so the RX side is permanently backlogged.
cat >"$WORK/c.yaml" <<CFG
eal: [--no-huge, -m, "256", --no-pci, --file-prefix, conduit-faults]
workers: [1]
wires: [{name: flood, a: "net_null_fa0,size=64", b: "net_null_fb0,no-rx=1"}]
control: {listen: "127.0.0.1:$PORT", state_dir: "$WORK/state"}
policy: $WORK/policy.yaml
events: {jsonl: $WORK/events.jsonl}
overload: {enter_full_bursts: 256, exit_calm_polls: 64}
watchdog: {stall_ms: 300}
log_level: info
CFG

echo "== overload"
CONDUIT_TEST_HOOKS=1 "$CONDUITD" --config "$WORK/c.yaml" >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do "$CONDUITCTL" status --target "127.0.0.1:$PORT" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
"$CONDUITCTL" counters --json --target "127.0.0.1:$PORT" >"$WORK/c.json"
"$CONDUITCTL" status --json --target "127.0.0.1:$PORT" >"$WORK/s.json"
py() { /usr/bin/python3 -c "import json; c=json.load(open('$WORK/c.json')); s=json.load(open('$WORK/s.json')); $1"; }
check "the worker entered overload bypass" 'py "assert c[\"overload_enter\"] >= 1, c"'
check "it inspected before and bypassed after" 'py "assert c[\"inspected_packets\"] > 0 and c[\"bypassed_packets\"] > 0, c"'
check "status says why it bypasses" 'py "assert s[\"bypass\"].startswith(\"overload\"), s[\"bypass\"]"'
sleep 0.5
check "an overload event was written" 'grep -q "\"event\":\"overload_bypass_enter\"" "$WORK/events.jsonl"'

echo "== stall (test hook) -> watchdog -> exit 3"
start=$(date +%s.%N)
kill -USR2 "$PID"
wait "$PID"; rc=$?; PID=""
took=$(echo "$(date +%s.%N) - $start" | bc)
check "conduitd exited with 3 (worker stalled) after ${took}s" '[[ $rc == 3 ]]'
check "found within 2 s (stall_ms 300)" '(( $(echo "$took < 2.0" | bc) ))'
check "the log names the stalled worker and the failure policy" 'grep -q "worker 0 (lcore 1) stalled.*failure policy open" "$WORK/err"'
# Its last counters add up: nothing both inspected and bypassed, or neither.
/usr/bin/python3 - "$WORK/out" <<'PY' && echo "ok   final counters: rx = inspected + bypassed" || { echo "FAIL final counters"; fail=1; }
import re, sys
text = open(sys.argv[1]).read()
v = {k: int(n) for k, n in re.findall(r"^  (\w+) (\d+)$", text, re.M)}
assert v["rx_packets"] == v["inspected_packets"] + v["bypassed_packets"], v
assert v["rx_packets"] >= v["tx_packets"] + v["dropped_packets"], v
PY
exit $fail
