#!/usr/bin/env bash
# The lab through conduitd: ping, a 10 MB TCP transfer with matching
# SHA-256, and a real Modbus read/write round trip (pymodbus both ends).
# Uses its own names (prefix "tl") and cleans up even when it fails.
#   lab_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$1"
CONDUITCTL="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
P="tl"
PORT=27161
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"
  exit 77
fi
WORK="$(mktemp -d)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && { kill -TERM "$PID" 2>/dev/null; sleep 1; kill -9 "$PID" 2>/dev/null; }
  "$LAB/lab.sh" down "$P"
  rm -rf "$WORK"
}
trap cleanup EXIT

"$LAB/lab.sh" down "$P"   # whatever an earlier run left behind
"$LAB/lab.sh" up "$P" || exit 1
"$LAB/make_config.sh" "$P" "$PORT" >"$WORK/c.yaml"
"$CONDUITD" --config "$WORK/c.yaml" >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do
  "$CONDUITCTL" counters --target "127.0.0.1:$PORT" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "FAIL: conduitd did not start"; cat "$WORK/err"; exit 1; }
  sleep 0.1
done

"$LAB/traffic.sh" "$P"
rc=$?
"$CONDUITCTL" counters --target "127.0.0.1:$PORT"
# Traffic really crossed the gateway: 10 MB is at least ~7000 frames.
tx=$("$CONDUITCTL" counters --target "127.0.0.1:$PORT" --json |
     /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("tx_packets", 0))')
if (( tx < 7000 )); then echo "FAIL: only $tx packets crossed conduitd"; rc=1; fi

# Without the gateway the wire is cut: nothing passes (proves the path).
kill -TERM "$PID"; wait "$PID"; PID=""
if ip netns exec "${P}corp" ping -c 2 -W 1 198.18.0.200 >/dev/null 2>&1; then
  echo "FAIL: traffic passes with conduitd stopped: the lab bypasses the gateway"; rc=1
else
  echo "ok: with conduitd stopped nothing passes"
fi
exit $rc
