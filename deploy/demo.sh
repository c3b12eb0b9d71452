#!/usr/bin/env bash
# The lab demo: installs and builds Conduit, puts conduitd between two
# network namespaces, and walks through what an operator does:
#   1. no policy: everything passes (ping, a 10 MB TCP transfer, Modbus/TCP
#      reads and writes between real pymodbus peers), and status says so;
#   2. the rule set rolled out in monitor: still everything passes, and what
#      the rules would block is reported as events;
#   3. one `conduitctl mode enforce`: reads pass, writes are reset at once,
#      ping is dropped; the events say blocked.
# Prints counters and tears everything down, also when interrupted.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB="$ROOT/deploy/lab"
CONTROL_PORT=50051
WORK="$(mktemp -d /tmp/conduit-demo.XXXXXX)"
GW_PID=""
SERVER=""
FAILED_STEPS=()
step_failed() { FAILED_STEPS+=("$1"); echo "   FAIL: $1"; }

"$ROOT/deploy/setup.sh"

cleanup() {
  trap - EXIT INT TERM
  [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null
  if [[ -n "$GW_PID" ]] && kill -0 "$GW_PID" 2>/dev/null; then
    kill -TERM "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
  fi
  "$LAB/lab.sh" down
  rm -rf "$WORK"
  echo "demo: lab torn down"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT TERM

CTL="$ROOT/build/control/conduitctl"
ctl() { local cmd="$1"; shift; "$CTL" "$cmd" --target "127.0.0.1:$CONTROL_PORT" "$@"; }
events_since() {  # the events written after line $1 of the events file
  tail -n +"$(( $1 + 1 ))" "$WORK/events.jsonl" 2>/dev/null | cut -c1-330 | sed 's/^/   /'
}
event_count() { wc -l <"$WORK/events.jsonl" 2>/dev/null || echo 0; }

echo
echo "== building the lab (namespaces corp and plant, veths to the gateway)"
"$LAB/lab.sh" up
"$LAB/make_config.sh" "" "$CONTROL_PORT" | sed "s#state_dir: .*#state_dir: $WORK/state#" >"$WORK/conduitd.yaml"
printf 'events: {jsonl: %s}\nbaseline: {flush_seconds: 1}\n' "$WORK/events.jsonl" >>"$WORK/conduitd.yaml"

echo "== starting conduitd (config: $WORK/conduitd.yaml; events: $WORK/events.jsonl)"
"$ROOT/build/control/conduitd" --config "$WORK/conduitd.yaml" >"$WORK/conduitd.out" 2>"$WORK/conduitd.log" &
GW_PID=$!
for _ in $(seq 100); do
  ctl status >/dev/null 2>&1 && break
  kill -0 "$GW_PID" 2>/dev/null || { echo "demo: conduitd failed to start:"; cat "$WORK/conduitd.log"; exit 1; }
  sleep 0.1
done
grep -E 'wire|policy|running' "$WORK/conduitd.log" | sed 's/^/   /'

set +e
echo
echo "== 1/3 no policy yet: the gateway forwards everything (and says so)"
ctl status | sed -n '2,5p' | sed 's/^/ /'
"$LAB/traffic.sh" "" || step_failed "1/3: traffic did not pass the gateway without a policy"
sleep 1.5
echo "   what the gateway observed meanwhile (conduitctl baseline; conduitctl propose turns it into a policy):"
ctl baseline | head -16 | sed 's/^/ /'
ctl baseline --json | grep -q '"function_name":"read_holding_registers"' \
  || step_failed "1/3: the baseline does not show the Modbus reads"

echo
echo "== 2/3 the rule set in monitor mode: nothing is blocked, would-blocks are reported"
ctl push "$ROOT/deploy/examples/lab-policy-monitor.yaml" | sed 's/^/   /'
[[ ${PIPESTATUS[0]} == 0 ]] || step_failed "2/3: the monitor policy was refused"
mark=$(event_count)
"$LAB/traffic.sh" "" >"$WORK/monitor.txt" 2>&1 || step_failed "2/3: traffic did not pass in monitor mode"
grep -E "PASS|FAIL" "$WORK/monitor.txt"
sleep 1.5
echo "   would-block events (the write and the non-ICS traffic; repeats are summarised):"
events_since "$mark" | grep '"enforced":false' | grep -E 'write|"repeats"' | head -5

echo
echo "== 3/3 enforce with one command: reads pass, writes are reset, ping is dropped"
ctl mode enforce | sed 's/^/   /'
[[ ${PIPESTATUS[0]} == 0 ]] || step_failed "3/3: mode enforce was refused"
mark=$(event_count)
ip netns exec plant /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >/dev/null 2>&1 &
SERVER=$!
ip netns exec corp timeout 60 /usr/bin/python3 "$LAB/modbus_client.py" 198.18.0.200 502 >"$WORK/enforce.txt" 2>&1
kill "$SERVER" 2>/dev/null; SERVER=""
reads_total=$(grep -Ec '^(ok|FAIL) +read' "$WORK/enforce.txt")
reads_ok=$(grep -E '^(ok|FAIL) +read' "$WORK/enforce.txt" | grep -vc 'Modbus Error')
writes_total=$(grep -Ec '^(ok|FAIL) +write' "$WORK/enforce.txt")
writes_reset=$(grep '^FAIL write' "$WORK/enforce.txt" | grep -ci 'reset')
echo "   reads answered:   $reads_ok of $reads_total"
echo "   writes reset:     $writes_reset of $writes_total (the client gets 'connection reset' at once, no timeout)"
(( reads_total > 0 && reads_ok == reads_total )) || step_failed "3/3: not every read was answered under enforce"
(( writes_total > 0 && writes_reset == writes_total )) || step_failed "3/3: not every write was reset under enforce"
echo "   (the read-backs show the old values: the blocked writes never reached the PLC)"
if ip netns exec corp ping -c 2 -W 1 198.18.0.200 >/dev/null 2>&1; then
  step_failed "3/3: ping corp -> plant passed under non_ics: deny"
else
  echo "   ping corp -> plant: dropped, as the policy says (non_ics: deny)"
fi
sleep 1.5
echo "   blocked events:"
events_since "$mark" | grep '"enforced":true' | grep write | head -3
set -e

echo
echo "== gateway status and counters"
ctl status | sed 's/^/ /'
ctl counters | sed 's/^/   /'

kill -TERM "$GW_PID"
wait "$GW_PID" || true
GW_PID=""
echo
if (( ${#FAILED_STEPS[@]} == 0 )); then
  echo "demo: done. Without a policy everything passed; in monitor everything passed and the"
  echo "      writes were reported; in enforce the reads passed and the writes were reset."
  exit 0
fi
echo "demo: FAILED (${#FAILED_STEPS[@]} step(s)):"
printf '   %s\n' "${FAILED_STEPS[@]}"
exit 1
