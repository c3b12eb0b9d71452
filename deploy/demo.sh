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
"$LAB/make_config.sh" "" "$CONTROL_PORT" >"$WORK/conduitd.yaml"

echo "== starting conduitd (config: $WORK/conduitd.yaml)"
"$ROOT/build/control/conduitd" --config "$WORK/conduitd.yaml" >"$WORK/conduitd.out" 2>"$WORK/conduitd.log" &
GW_PID=$!
for _ in $(seq 100); do
  "$ROOT/build/control/conduitctl" counters --target "127.0.0.1:$CONTROL_PORT" >/dev/null 2>&1 && break
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
  echo "demo: everything passed through the gateway (no policy loaded yet: all traffic is forwarded)"
else
  echo "demo: some traffic did not pass (see FAIL above)"
fi
exit $traffic_rc
