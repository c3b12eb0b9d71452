#!/usr/bin/env bash
# conduitd forwards a real ICS capture from port A (net_pcap) to port B
# (net_pcap): every frame out equals the frame in, in order; SIGUSR1 prints
# the counters; SIGTERM stops it with exit code 0. First (no corpus needed): a
# refused start-up policy still forwards, but is an error log line, a
# policy_refused event and in status until a valid push clears it.
#   conduitd_pcap_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$1"
CONDUITCTL="$2"
CORPUS="${CONDUIT_CORPUS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus}"
INPUT="$CORPUS/pcap/mixed/iti__mb2_modbus_s7_enip.pcap"
WORK="$(mktemp -d)"
PID=""
cleanup() { [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$((28000 + RANDOM % 4000))

# --- A refused start-up policy (no corpus needed) ---------------------------
# Availability wins: the gateway forwards as with no policy. But it must not
# look healthy: an error in the log, a policy_refused event, and status shows
# the refusal (and why it bypasses) until a valid policy is pushed.
/usr/bin/python3 - "$WORK/modbus.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, Raw, wrpcap
pkts = []
for k in range(20):
    req = (k + 1).to_bytes(2, "big") + b"\0\0\0\x06\x01\x03" + k.to_bytes(2, "big") + b"\0\x01"
    pkts.append(Ether()/IP(src="198.18.0.10", dst="198.18.0.200") /
                TCP(sport=50412, dport=502, flags="PA", seq=1000 + 12 * k, ack=1)/Raw(req))
wrpcap(sys.argv[1], pkts)
PY
cat >"$WORK/bad-policy.yaml" <<'POL'
version: "refused/1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant:     [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: allow
    on_deny: reset
    rules:
      - id: historian-read
        protocol: modbus
        functions: [read_holding_registers, wrte_coil]
        action: allow
POL
sed 's/"refused\/1"/"accepted\/2"/; s/, wrte_coil//' "$WORK/bad-policy.yaml" >"$WORK/good-policy.yaml"
WANT_ERROR="$WORK/bad-policy.yaml: conduits[0].rules[0].functions[1]: unknown modbus function \"wrte_coil\" (line 16)"
refused_config() {  # FILE-PREFIX POLICY-LINE
  cat <<CFG
eal: [--no-huge, -m, "256", --no-pci, --file-prefix, $1]
workers: [1]
wires:
  - name: capture
    a: "net_pcap_r$1,rx_pcap=$WORK/modbus.pcap,tx_pcap=$WORK/r_a_out.pcap"
    b: "net_pcap_s$1,tx_pcap=$WORK/r_b_out.pcap"
mempool: {mbufs: 8191, cache: 256}
control: {listen: "127.0.0.1:$PORT", state_dir: "$WORK/state"}
events: {jsonl: "$WORK/events.jsonl"}
$2
log_level: info
CFG
}
rfail=0
refused_config conduit-refused-test "policy: $WORK/bad-policy.yaml" >"$WORK/refused.yaml"
"$CONDUITD" --config "$WORK/refused.yaml" >"$WORK/r_out" 2>"$WORK/r_err" &
PID=$!
tx=0
for _ in $(seq 300); do
  tx=$("$CONDUITCTL" status --target "127.0.0.1:$PORT" --json 2>/dev/null |
       /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get("tx_packets", 0))' 2>/dev/null || echo 0)
  [[ "$tx" == 20 ]] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$PID" 2>/dev/null || { echo "FAIL: conduitd did not start with a refused policy"; cat "$WORK/r_err"; exit 1; }
[[ "$tx" == 20 ]] && echo "ok: refused policy: all 20 frames forwarded uninspected" ||
  { echo "FAIL: refused policy: $tx of 20 frames forwarded"; rfail=1; }
"$CONDUITCTL" status --target "127.0.0.1:$PORT" --json >"$WORK/status.json" 2>&1
/usr/bin/python3 - "$WORK/status.json" "$WANT_ERROR" <<'PY' || rfail=1
import json, sys
s = json.load(open(sys.argv[1]))
assert s["policy_refused"] == sys.argv[2], f"policy_refused: {s.get('policy_refused')!r}"
assert "refused" in s["bypass"] and s["policy_version"] == "", s
print(f"ok: status --json: policy_refused {s['policy_refused']!r}; bypass {s['bypass']!r}")
PY
"$CONDUITCTL" status --target "127.0.0.1:$PORT" >"$WORK/status.txt" 2>&1
grep -qF "REFUSED  start-up policy refused: $WANT_ERROR" "$WORK/status.txt" &&
  echo "ok: status names the refusal: $(grep REFUSED "$WORK/status.txt")" ||
  { echo "FAIL: status text has no refusal"; cat "$WORK/status.txt"; rfail=1; }
grep -qF "conduitd error: policy $WORK/bad-policy.yaml refused: " "$WORK/r_err" &&
  echo "ok: the refusal is logged as an error" || { echo "FAIL: no error log line"; cat "$WORK/r_err"; rfail=1; }
# A valid push clears it.
"$CONDUITCTL" push "$WORK/good-policy.yaml" --target "127.0.0.1:$PORT" >"$WORK/push.txt" 2>&1 ||
  { echo "FAIL: push of the valid policy"; cat "$WORK/push.txt"; rfail=1; }
"$CONDUITCTL" status --target "127.0.0.1:$PORT" --json >"$WORK/status2.json" 2>&1
/usr/bin/python3 - "$WORK/status2.json" <<'PY' || rfail=1
import json, sys
s = json.load(open(sys.argv[1]))
assert s["policy_refused"] == "" and s["bypass"] == "" and s["policy_version"] == "accepted/2", s
print("ok: a valid push clears the refusal: policy accepted/2, inspecting")
PY
"$CONDUITCTL" status --target "127.0.0.1:$PORT" | grep -q REFUSED && { echo "FAIL: status text still shows REFUSED"; rfail=1; }
kill -TERM "$PID"; wait "$PID"; PID=""
/usr/bin/python3 - "$WORK/events.jsonl" "$WANT_ERROR" <<'PY' || rfail=1
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
refused = [e for e in events if e.get("event") == "policy_refused"]
assert len(refused) == 1 and refused[0]["error"] == sys.argv[2], refused
assert "policy_version" not in refused[0] and "no policy" in refused[0]["cause"], refused[0]
assert any(e.get("event") == "policy_change" for e in events), events
print(f"ok: event {json.dumps(refused[0])}")
PY
# A persisted policy that fails to load is a refusal too (here: corrupt;
# nothing else to fall back to).
printf 'not a policy\377' >"$WORK/state/policy.pb"
rm -f "$WORK/events.jsonl"
refused_config conduit-refused-test2 "" >"$WORK/persisted.yaml"
"$CONDUITD" --config "$WORK/persisted.yaml" >"$WORK/r_out" 2>"$WORK/r_err" &
PID=$!
for _ in $(seq 100); do
  "$CONDUITCTL" status --target "127.0.0.1:$PORT" --json >"$WORK/status3.json" 2>/dev/null && break
  sleep 0.1
done
/usr/bin/python3 - "$WORK/status3.json" "$WORK/state/policy.pb: corrupt" <<'PY' || rfail=1
import json, sys
s = json.load(open(sys.argv[1]))
assert s["policy_refused"].startswith(sys.argv[2]) and "refused" in s["bypass"], s
print(f"ok: corrupt persisted policy: policy_refused {s['policy_refused']!r}")
PY
kill -TERM "$PID"; wait "$PID"; PID=""
grep -q '"event":"policy_refused"' "$WORK/events.jsonl" && echo "ok: policy_refused event for the persisted policy" ||
  { echo "FAIL: no policy_refused event for the persisted policy"; rfail=1; }
[[ $rfail == 0 ]] || exit 1

if [[ ! -f "$INPUT" ]]; then
  echo "SKIP: corpus not found at $CORPUS (set CONDUIT_CORPUS)"
  exit 77
fi

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
