#!/usr/bin/env bash
# conduitctl simulate over real captures: every JSON line parses and carries
# the event field names; the ops match the tshark oracle's function codes;
# the summary table counts them; bad input is a clear error.
#   simulate_test.sh CONDUITCTL
set -uo pipefail
CONDUITCTL="$1"
CORPUS="${CONDUIT_CORPUS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus}"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fail=0

# A session the policy cuts mid-way (no corpus needed): a synthetic Modbus/TCP
# capture (handshake, 12 request/response pairs, the 6th a write_single_coil
# the policy denies in enforce, FIN). The gateway would drop the rest of the
# flow; simulate still reports every later request, denied by the cut.
/usr/bin/python3 - "$WORK/cut.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, Raw, wrpcap
C, S, CP, SP = "198.18.0.10", "198.18.0.200", 50412, 502
pkts, seq, t = [], {"c": 1000, "s": 5000}, [1700000000.0]
def send(side, flags, payload=b""):
    src, dst, sp, dp, me, peer = (C, S, CP, SP, "c", "s") if side == "c" else (S, C, SP, CP, "s", "c")
    p = Ether()/IP(src=src, dst=dst)/TCP(sport=sp, dport=dp, flags=flags, seq=seq[me],
                                         ack=seq[peer] if "A" in flags else 0)
    if payload:
        p = p/Raw(payload)
    p.time = t[0]; t[0] += 0.01
    pkts.append(p)
    seq[me] += len(payload) + (1 if "S" in flags or "F" in flags else 0)
def mbap(tid, pdu):
    return tid.to_bytes(2, "big") + b"\0\0" + (len(pdu) + 1).to_bytes(2, "big") + b"\x01" + pdu
send("c", "S"); send("s", "SA"); send("c", "A")                    # frames 1-3
for k in range(12):                                                # frames 4-27
    if k == 5:   # frame 14: write_single_coil 20 := on
        pdu = b"\x05" + (20).to_bytes(2, "big") + b"\xff\x00"
        send("c", "PA", mbap(k + 1, pdu)); send("s", "PA", mbap(k + 1, pdu))
    else:        # read_holding_registers 10+k, 2 registers
        send("c", "PA", mbap(k + 1, b"\x03" + (10 + k).to_bytes(2, "big") + b"\x00\x02"))
        send("s", "PA", mbap(k + 1, b"\x03\x04\x00\x01\x00\x02"))
send("c", "FA"); send("s", "FA"); send("c", "A")
wrpcap(sys.argv[1], pkts)
PY
cat >"$WORK/cut-policy.yaml" <<'POL'
version: "simulate/cut-1"
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
        from: [198.18.0.10/32]
        to: [198.18.0.200/32]
        functions: [read_holding_registers]
        units: [1]
        addresses: ["0-999"]
        action: allow
POL
"$CONDUITCTL" simulate --jsonl --policy "$WORK/cut-policy.yaml" --pcap "$WORK/cut.pcap" \
  >"$WORK/cut.jsonl" 2>"$WORK/cut.summary" || { echo "FAIL: simulate of the cut session exited $?"; fail=1; }
/usr/bin/python3 - "$WORK/cut.jsonl" <<'PY' || fail=1
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
requests = [r for r in records if r.get("direction") == "request"]
assert len(requests) == 12, f"{len(requests)} request records, want one for each of the 12 requests"
assert [r["frame"] for r in requests] == list(range(4, 28, 2)), [r["frame"] for r in requests]
before, write, after = requests[:5], requests[5], requests[6:]
assert all(r["verdict"] == "allow" and r["rule"] == "historian-read" and "session_cut" not in r
           for r in before), before
assert write["function_name"] == "write_single_coil" and write["verdict"] == "deny" and write["enforced"], write
assert write["rule"] == "default" and "session_cut" not in write and "cut_at_frame" not in write, write
for k, r in enumerate(after, start=6):
    assert r["verdict"] == "deny" and r["enforced"] is True and r["rule"] == "default", r
    assert r.get("session_cut") is True and r.get("cut_at_frame") == 14, r
    # the usual fields: what was asked, not just that it was cut
    assert r["function_name"] == "read_holding_registers" and r["unit"] == 1, r
    assert r["address"] == [10 + k, 11 + k] and r["src"] == "198.18.0.10" and r["sport"] == 50412, r
responses = [r for r in records if r.get("direction") == "response"]
assert [r["frame"] for r in responses] == list(range(5, 14, 2)), "responses after the cut are not reported"
print(f"ok: cut session: {len(requests)} requests, {len(after)} reported as cut at frame 14")
PY
want="session 198.18.0.10:50412 -> 198.18.0.200:502 cut at frame 14 by rule default; 6 later requests denied by the cut"
grep -qF "1 session cut" "$WORK/cut.summary" && grep -qF "$want" "$WORK/cut.summary" &&
  echo "ok: summary: $want" || { echo "FAIL: summary does not name the cut"; cat "$WORK/cut.summary"; fail=1; }
# In monitor nothing is cut: every request is judged on its own.
sed 's/^mode: enforce/mode: monitor/' "$WORK/cut-policy.yaml" >"$WORK/cut-monitor.yaml"
"$CONDUITCTL" simulate --jsonl --policy "$WORK/cut-monitor.yaml" --pcap "$WORK/cut.pcap" \
  >"$WORK/mon.jsonl" 2>"$WORK/mon.summary"
n=$(grep -c '"direction":"request"' "$WORK/mon.jsonl"); cuts=$(grep -c session_cut "$WORK/mon.jsonl")
[[ $n == 12 && $cuts == 0 ]] && grep -qF "0 sessions cut" "$WORK/mon.summary" &&
  echo "ok: monitor: 12 requests, none cut" || { echo "FAIL: monitor: $n requests, $cuts cut"; fail=1; }

[[ -d "$CORPUS/pcap" ]] || { echo "SKIP: corpus not found at $CORPUS (set CONDUIT_CORPUS)"; exit $((fail ? 1 : 77)); }

PCAP="$CORPUS/pcap/modbus/iti__modbus_test_data_part2.pcap"
"$CONDUITCTL" simulate --jsonl --pcap "$PCAP" >"$WORK/ops.jsonl" 2>"$WORK/summary" || { echo "FAIL: simulate exited $?"; exit 1; }
/usr/bin/python3 - "$WORK/ops.jsonl" "$CORPUS/oracle/pcap/modbus/iti__modbus_test_data_part2.pcap.tsv" \
  "$(dirname "$0")/../corpus/known_differences.tsv" <<'PY' || fail=1
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
need = {"ts", "frame", "src", "sport", "dst", "dport", "l4", "protocol", "direction", "function"}
bad = [r for r in records if not need <= r.keys()]
assert not bad, f"records missing fields: {bad[:2]}"
ours = {}
for r in records:
    ours.setdefault(r["frame"], []).append(str(r["function"]))
oracle = {}
for line in list(open(sys.argv[2]))[1:]:
    frame, proto, codes, _ = line.rstrip("\n").split("\t")
    if proto == "modbus":
        oracle[int(frame)] = codes.split(",")
# Frames where the decoders differ from tshark on purpose (strict framing:
# known_differences.tsv says why) are left out of the comparison.
known = set()
for line in open(sys.argv[3]):
    cols = line.rstrip("\n").split("\t")
    if len(cols) >= 2 and cols[0] == "pcap/modbus/iti__modbus_test_data_part2.pcap":
        known |= {int(x) for x in cols[1].split(",") if x}
for f in known:
    oracle.pop(f, None)
    ours.pop(f, None)
assert ours == oracle, f"{len(ours)} frames with ops vs {len(oracle)} in the oracle"
assert len(oracle) > 100, len(oracle)
names = {r.get("function_name") for r in records}
assert "read_holding_registers" in names or "read_coils" in names, names
print(f"ok: {len(records)} ops in {len(ours)} frames match the oracle")
PY
grep -q "operations by protocol and function" "$WORK/summary" || { echo "FAIL: no summary"; fail=1; }
total=$(awk '$1 == "modbus" { s += $(NF-1) + $NF } END { print s + 0 }' "$WORK/summary")
lines=$(wc -l <"$WORK/ops.jsonl")
[[ "$total" == "$lines" ]] && echo "ok: summary counts $total ops" || { echo "FAIL: summary counts $total ops, records $lines"; fail=1; }

# DNP3 on a non-standard port, as tshark's decode-as.
n=$("$CONDUITCTL" simulate --jsonl --decode-as tcp:20001=dnp3 --pcap "$CORPUS/pcap/dnp3/iti__bro_dnp3_read_p20001.pcap" 2>/dev/null | grep -c '"protocol":"dnp3"')
[[ "$n" -ge 2 ]] && echo "ok: --decode-as finds $n dnp3 ops on port 20001" || { echo "FAIL: --decode-as found $n"; fail=1; }

# Bad input: a clear error and a non-zero exit, never a crash.
"$CONDUITCTL" simulate --pcap "$WORK/missing.pcap" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "missing.pcap" "$WORK/err" && echo "ok: missing capture: $(cat "$WORK/err")" || { echo "FAIL: missing capture rc=$rc"; fail=1; }
head -c 100 /dev/urandom >"$WORK/junk.pcap"
"$CONDUITCTL" simulate --pcap "$WORK/junk.pcap" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && echo "ok: junk capture: $(cat "$WORK/err")" || { echo "FAIL: junk capture rc=$rc"; fail=1; }
"$CONDUITCTL" simulate --decode-as tcp:1=nonsense --pcap "$PCAP" 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && echo "ok: bad --decode-as: $(cat "$WORK/err")" || { echo "FAIL: bad --decode-as rc=$rc"; fail=1; }
exit $fail
