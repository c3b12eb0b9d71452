#!/usr/bin/env bash
# conduitd forwards a real ICS capture from port A (net_pcap) to port B
# (net_pcap): every frame out equals the frame in, in order; SIGUSR1 prints
# the counters; SIGTERM stops it with exit code 0.
#   conduitd_pcap_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$1"
CONDUITCTL="$2"
CORPUS="${CONDUIT_CORPUS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus}"
INPUT="$CORPUS/pcap/mixed/iti__mb2_modbus_s7_enip.pcap"
if [[ ! -f "$INPUT" ]]; then
  echo "SKIP: corpus not found at $CORPUS (set CONDUIT_CORPUS)"
  exit 77
fi
WORK="$(mktemp -d)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$((40000 + RANDOM % 20000))

cat >"$WORK/c.yaml" <<CFG
eal: [--no-huge, -m, "256", --no-pci, --file-prefix, conduit-pcap-test]
workers: [1]
wires:
  - name: capture
    a: "net_pcap_in0,rx_pcap=$INPUT,tx_pcap=$WORK/a_out.pcap"
    b: "net_pcap_out0,tx_pcap=$WORK/b_out.pcap"
mempool: {mbufs: 16383, cache: 256}
control: {listen: "127.0.0.1:$PORT"}
log_level: warning
CFG

"$CONDUITD" --config "$WORK/c.yaml" >"$WORK/out" 2>"$WORK/err" &
PID=$!
want=$(/usr/bin/python3 -c "from scapy.utils import RawPcapReader; print(sum(1 for _ in RawPcapReader('$INPUT')))")
rx=0
for _ in $(seq 300); do
  rx=$("$CONDUITCTL" counters --target "127.0.0.1:$PORT" --json 2>/dev/null |
       /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("tx_packets", 0))' 2>/dev/null || echo 0)
  [[ "$rx" == "$want" ]] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
kill -USR1 "$PID"; sleep 0.5
grep -q "rx_packets $want" "$WORK/out" || { echo "FAIL: SIGUSR1 did not print rx_packets $want"; cat "$WORK/out" "$WORK/err"; exit 1; }
kill -TERM "$PID"
wait "$PID"; rc=$?; PID=""
[[ $rc == 0 ]] || { echo "FAIL: conduitd exited $rc after SIGTERM"; cat "$WORK/err"; exit 1; }
echo "conduitd forwarded $rx of $want frames; exit code $rc"

/usr/bin/python3 - "$INPUT" "$WORK/b_out.pcap" <<'PY'
import sys
from scapy.utils import RawPcapReader
a = [bytes(p) for p, _ in RawPcapReader(sys.argv[1])]
b = [bytes(p) for p, _ in RawPcapReader(sys.argv[2])]
if len(a) != len(b):
    sys.exit(f"FAIL: {len(a)} frames in, {len(b)} out")
bad = [i + 1 for i, (x, y) in enumerate(zip(a, b)) if x != y]
if bad:
    sys.exit(f"FAIL: {len(bad)} frames differ, first at frame {bad[0]}")
print(f"ok: all {len(a)} frames came out of port B byte for byte, in order")
PY
