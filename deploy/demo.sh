#!/usr/bin/env bash
# The lab demo: installs and builds Conduit, puts conduitd between two
# network namespaces, drives real traffic through it and prints what passed
# with the gateway's counters. Tears everything down, also when interrupted.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB="$ROOT/deploy/lab"
CONTROL_PORT=50051
WORK="$(mktemp -d /tmp/conduit-demo.XXXXXX)"
GW_PID=""

"$ROOT/deploy/setup.sh"

cleanup() {
  trap - EXIT INT TERM
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

echo
echo "== building the lab (namespaces corp and plant, veths to the gateway)"
"$LAB/lab.sh" up
"$LAB/make_config.sh" "" "$CONTROL_PORT" | sed "s#state_dir: .*#state_dir: $WORK/state#" >"$WORK/conduitd.yaml"
printf 'events: {jsonl: %s}\n' "$WORK/events.jsonl" >>"$WORK/conduitd.yaml"

echo "== starting conduitd (config: $WORK/conduitd.yaml; events: $WORK/events.jsonl)"
"$ROOT/build/control/conduitd" --config "$WORK/conduitd.yaml" >"$WORK/conduitd.out" 2>"$WORK/conduitd.log" &
GW_PID=$!
for _ in $(seq 100); do
  "$ROOT/build/control/conduitctl" status --target "127.0.0.1:$CONTROL_PORT" >/dev/null 2>&1 && break
  kill -0 "$GW_PID" 2>/dev/null || { echo "demo: conduitd failed to start:"; cat "$WORK/conduitd.log"; exit 1; }
  sleep 0.1
done
grep -E 'wire|forwarding' "$WORK/conduitd.log" | sed 's/^/   /'

CTL=("$ROOT/build/control/conduitctl")
ctl() { local cmd="$1"; shift; "${CTL[@]}" "$cmd" --target "127.0.0.1:$CONTROL_PORT" "$@"; }
events_since() {  # print the events written after line $1 of the events file
  tail -n +"$(( $1 + 1 ))" "$WORK/events.jsonl" 2>/dev/null | cut -c1-400 | sed 's/^/   /'
}
set +e
echo
echo "== 1/3 no policy yet: the gateway forwards everything (and says so)"
ctl status | sed 's/^/   /'
"$LAB/traffic.sh" ""
traffic_rc=$?

echo
echo "== 2/3 roll out the rule set in monitor mode: nothing is blocked, would-blocks are reported"
ctl push "$ROOT/deploy/examples/lab-policy-monitor.yaml" | sed 's/^/   /'
mark=$(wc -l <"$WORK/events.jsonl" 2>/dev/null || echo 0)
"$LAB/traffic.sh" "" >"$WORK/monitor.txt" 2>&1
grep -E "PASS|FAIL" "$WORK/monitor.txt"
sleep 1
echo "   events (would-block):"
events_since "$mark" | grep '"enforced":false' | head -6

echo
echo "== 3/3 enforce with one command: reads pass, writes are reset, ping is dropped"
ctl mode enforce | sed 's/^/   /'
mark=$(wc -l <"$WORK/events.jsonl" 2>/dev/null || echo 0)
ip netns exec plant /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >/dev/null 2>&1 &
SERVER=$!
ip netns exec corp timeout 60 /usr/bin/python3 "$LAB/modbus_client.py" 198.18.0.200 502 2>&1 | sed 's/^/   /'
kill "$SERVER" 2>/dev/null
if ip netns exec corp ping -c 2 -W 1 198.18.0.200 >/dev/null 2>&1; then
  echo "   ping corp -> plant: passed (unexpected under non_ics: deny)"
else
  echo "   ping corp -> plant: dropped, as the policy says (non_ics: deny)"
fi
sleep 1
echo "   events (blocked):"
events_since "$mark" | grep '"enforced":true' | head -6
set -e

echo
echo "== gateway status and counters"
ctl status | sed 's/^/   /'
ctl counters | sed 's/^/   /'

kill -TERM "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
  fi
  "$LAB/lab.sh" down
  rm -rf "$WORK"
  echo "demo: lab torn down"
}
trap cleanup EXIT
trap 'echo "demo: interrupted"; exit 130' INT TERM

echo
echo "== building the lab (namespaces corp and plant, veths to the gateway)"
"$LAB/lab.sh" up
"$LAB/make_config.sh" "" "$CONTROL_PORT" | sed "s#state_dir: .*#state_dir: $WORK/state#" >"$WORK/conduitd.yaml"
printf 'events: {jsonl: %s}\n' "$WORK/events.jsonl" >>"$WORK/conduitd.yaml"

echo "== starting conduitd (config: $WORK/conduitd.yaml; events: $WORK/events.jsonl)"
"$ROOT/build/control/conduitd" --config "$WORK/conduitd.yaml" >"$WORK/conduitd.out" 2>"$WORK/conduitd.log" &
GW_PID=$!
for _ in $(seq 100); do
  "$ROOT/build/control/conduitctl" status --target "127.0.0.1:$CONTROL_PORT" >/dev/null 2>&1 && break
  kill -0 "$GW_PID" 2>/dev/null || { echo "demo: conduitd failed to start:"; cat "$WORK/conduitd.log"; exit 1; }
  sleep 0.1
done
grep -E 'wire|forwarding' "$WORK/conduitd.log" | sed 's/^/   /'

echo
echo "== traffic through the gateway"
set +e
"$LAB/traffic.sh" ""
traffic_rc=$?
set -e

echo
echo "== gateway counters (conduitctl counters)"
"$ROOT/build/control/conduitctl" counters --target "127.0.0.1:$CONTROL_PORT" | sed 's/^/   /'

kill -TERM "$GW_PID"
wait "$GW_PID" || true
GW_PID=""
echo
echo "== conduitd's final report"
sed 's/^/   /' "$WORK/conduitd.out"
echo
if [[ $traffic_rc == 0 ]]; then
  echo "demo: done. Without policy everything passed; in monitor everything passed and the writes"
  echo "      were reported; in enforce the reads passed and the writes were reset."
else
  echo "demo: traffic did not pass the gateway without a policy (see FAIL above)"
fi
exit $traffic_rc
