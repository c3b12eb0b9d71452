#!/bin/bash
# conduitctl propose --pcap on scapy-built Modbus captures:
#  - two HMIs reading the same PLC the same way share one read rule; a third
#    that also writes gets a read rule and a separate write rule;
#  - the proposal admits its own capture (no deny) and denies a write to the
#    same PLC by a host that only ever read;
#  - addresses are those read; two runs print the same bytes; with --policy
#    the base's conduit, defaults and signatures stay and only rules change;
#  - the live form (no --pcap) with no gateway listening fails naming it.
# Usage: propose_test.sh CONDUITCTL
set -eu
ctl=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

/usr/bin/python3 - "$work" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, Raw, wrpcap
work = sys.argv[1]
PLC = "198.18.0.200"

def session(client, sport, pdus, t0):
    """A TCP session client:sport -> PLC:502; pdus: (request, response) bytes."""
    pkts, t = [], t0
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    c, s = 1000, 5000
    def add(p):
        nonlocal t
        p.time = t
        t += 0.01
        pkts.append(p)
    add(e / IP(src=client, dst=PLC) / TCP(sport=sport, dport=502, flags="S", seq=c - 1))
    add(e / IP(src=PLC, dst=client) / TCP(sport=502, dport=sport, flags="SA", seq=s - 1, ack=c))
    add(e / IP(src=client, dst=PLC) / TCP(sport=sport, dport=502, flags="A", seq=c, ack=s))
    for tid, (req, rsp) in enumerate(pdus, 1):
        mreq = tid.to_bytes(2, "big") + b"\x00\x00" + (len(req) + 1).to_bytes(2, "big") + b"\x01" + req
        mrsp = tid.to_bytes(2, "big") + b"\x00\x00" + (len(rsp) + 1).to_bytes(2, "big") + b"\x01" + rsp
        add(e / IP(src=client, dst=PLC) / TCP(sport=sport, dport=502, flags="PA", seq=c, ack=s) / Raw(mreq))
        c += len(mreq)
        add(e / IP(src=PLC, dst=client) / TCP(sport=502, dport=sport, flags="PA", seq=s, ack=c) / Raw(mrsp))
        s += len(mrsp)
    return pkts

def read(addr, n):
    return (b"\x03" + addr.to_bytes(2, "big") + n.to_bytes(2, "big"), b"\x03" + bytes([2 * n]) + b"\x00" * 2 * n)

def write(addr, value):
    pdu = b"\x06" + addr.to_bytes(2, "big") + value.to_bytes(2, "big")
    return (pdu, pdu)

reads = [read(0, 10), read(12, 4), read(100, 5)]
train = (session("198.18.0.10", 40000, reads, 1700000000)
         + session("198.18.0.11", 40001, reads, 1700000010)
         + session("198.18.0.30", 40002, reads[:1] + [write(5, 1)], 1700000020))
wrpcap(f"{work}/train.pcap", train)
# The historian (reads only in training) now writes to the same PLC.
wrpcap(f"{work}/attack.pcap", session("198.18.0.10", 40003, [read(0, 10), write(5, 1)], 1700000100))
# A read outside the ranges seen.
wrpcap(f"{work}/far.pcap", session("198.18.0.10", 40004, [read(500, 2)], 1700000200))
PY

"$ctl" propose --pcap "$work/train.pcap" >"$work/p.yaml" || fail "propose"
"$ctl" propose --pcap "$work/train.pcap" >"$work/p2.yaml"
cmp -s "$work/p.yaml" "$work/p2.yaml" || fail "two runs differ"
cat "$work/p.yaml"

grep -q '^mode: monitor' "$work/p.yaml" || fail "no monitor mode"
grep -q 'from: \[198.18.0.10/32, 198.18.0.11/32\]' "$work/p.yaml" || fail "identical readers not grouped"
grep -q 'id: modbus-read-198-18-0-10$' "$work/p.yaml" || fail "no read rule id"
grep -q 'id: modbus-write-198-18-0-30$' "$work/p.yaml" || fail "no write rule for the writer"
grep -q 'id: modbus-read-198-18-0-30$' "$work/p.yaml" || fail "the writer's read not a rule of its own"
grep -q 'addresses: \["0-15", "100-104"\]' "$work/p.yaml" || fail "ranges not as seen (0-9 and 12-15 coalesce, 100-104)"
grep -q 'addresses: \["5"\]' "$work/p.yaml" || fail "write address not as seen"
grep -q '# evidence: 6 operations, first seen 2023-11-14T22:13:20Z, last seen 2023-11-14T22:13:30Z' "$work/p.yaml" \
  || fail "evidence comment"
# No rule mixes reads and writes.
awk '/functions:/' "$work/p.yaml" | grep -q 'read_.*write_\|write_.*read_' && fail "reads and writes in one rule"

deny_count() {  # policy capture -> denied operations (blocked + would block)
  "$ctl" simulate --policy "$1" --pcap "$2" | awk '/^by conduit:/{c=1;next} c&&/^  [^ ]/&&$1!="blocked"{n+=$2+$3} END{print n+0}'
}
[ "$(deny_count "$work/p.yaml" "$work/train.pcap")" = 0 ] || fail "the training capture is denied under its proposal"
"$ctl" simulate --policy "$work/p.yaml" --pcap "$work/attack.pcap" >"$work/attack.out"
grep -q 'write_single_register(6).*=> deny (would block) \[default\]' "$work/attack.out" \
  || { cat "$work/attack.out"; fail "the historian's write is not denied"; }
grep -q 'request read_holding_registers(3).*=> allow' "$work/attack.out" || fail "the historian's read is not allowed"
sed 's/^mode: monitor$/mode: enforce/' "$work/p.yaml" >"$work/enforce.yaml"
"$ctl" simulate --policy "$work/enforce.yaml" --pcap "$work/attack.pcap" | grep -q 'write_single_register(6).*=> deny \[default\]' \
  || fail "the write is not blocked under enforce"
"$ctl" simulate --policy "$work/p.yaml" --pcap "$work/far.pcap" | grep -q 'read_holding_registers(3) unit 1 address 500-501.*=> deny' \
  || fail "a read outside the ranges seen is not denied"

# With a base policy: its conduit, defaults and signatures stay.
cat >"$work/base.yaml" <<'YAML'
version: "site/1"
mode: enforce
zones:
  corp: [198.18.0.0/25]
  plant: [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corp, b: plant}
    default: deny
    non_ics: deny
    on_deny: drop
    allow_non_ip: [arp]
    rules:
      - id: old-rule
        protocol: modbus
        from: [corp]
        action: allow
signatures:
  - id: s7-stop
    protocol: s7comm
    pattern: '\x29\x00'
    action: deny
YAML
"$ctl" propose --pcap "$work/train.pcap" --policy "$work/base.yaml" >"$work/b.yaml" || fail "propose --policy"
cat "$work/b.yaml"
grep -q 'name: corp-plant' "$work/b.yaml" || fail "base conduit lost"
grep -q 'on_deny: drop' "$work/b.yaml" || fail "base defaults lost"
grep -q 'id: s7-stop' "$work/b.yaml" || fail "base signatures lost"
grep -q '^mode: enforce' "$work/b.yaml" || fail "base mode lost"
grep -q 'old-rule' "$work/b.yaml" && fail "base rules kept"
grep -q 'id: modbus-write-198-18-0-30' "$work/b.yaml" || fail "no proposed rules in the base"
[ "$(deny_count "$work/b.yaml" "$work/train.pcap")" = 0 ] || fail "training capture denied under the based proposal"

# The live form reads a gateway (tests/integration/baseline_test.sh): with
# none listening it says so; --pcap with a gateway's options is refused.
set +e
"$ctl" propose --conduit corp-plant --target 127.0.0.1:1 --timeout 2 >/dev/null 2>"$work/live.err"
rc=$?
"$ctl" propose --pcap "$work/train.pcap" --since 30d >/dev/null 2>"$work/both.err"
rc2=$?
set -e
[ "$rc" = 1 ] && grep -q '127.0.0.1:1' "$work/live.err" || fail "live form without a gateway: rc $rc: $(cat "$work/live.err")"
[ "$rc2" = 2 ] && grep -q 'not both' "$work/both.err" || fail "--pcap with --since: rc $rc2"
echo "PASS"
