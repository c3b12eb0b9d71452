#!/usr/bin/env bash
# Evasion suite (DESIGN.md "Enforcement integrity"): an attacker in corp tries
# to get a Modbus write of holding register 160 past conduitd (enforce) to the
# lab's real pymodbus server in plant, with fragroute's families and protocol
# tricks crafted by scapy (tests/integration/evasion/attacks.py, one function
# per case). After each case register 160 is read back through an allowed
# read: it must be unchanged. A control write to register 120 (allowed) must
# execute, so the suite cannot pass by dropping everything.
# Every case runs under two policies: strict (non_ics: deny, unparsable: deny)
# and availability-first (non_ics: allow, unparsable: allow); the IP fragment
# cases run once more under a strict conduit that says `fragments: reassemble`,
# where a fragmented allowed write must execute and no fragmented or
# overlapping denied write may.
# Own names: lab prefix "te", control port 27191.
# With EVASION_SERVER=PATH (tests/integration/evasion/libmodbus_server, the
# `evasion-libmodbus` test) the plant runs that server instead: libmodbus
# frames requests by function code where pymodbus frames by MBAP length, so
# a length desync splits the stream elsewhere (lab prefix "tm", port 27281).
#   evasion_test.sh CONDUITD CONDUITCTL [CASE,CASE...]
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
ONLY="${3:-}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
SERVER_BIN="${EVASION_SERVER:-}"
if [[ -n "$SERVER_BIN" ]]; then P="tm"; PORT=27281; SERVER_NAME=libmodbus
else P="te"; PORT=27191; SERVER_NAME=pymodbus; fi
ATT=198.18.0.11
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
if ! /usr/bin/python3 -c 'import scapy.all; from pymodbus.client import ModbusTcpClient; from pymodbus.server import StartTcpServer' 2>/dev/null; then
  echo "SKIP: needs python3-pymodbus and python3-scapy"; exit 77
fi
WORK="$(mktemp -d)"
PID=""; SERVER=""
cleanup() {
  [[ -n "$SERVER" ]] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
  [[ -n "$PID" ]] && { kill -TERM "$PID" 2>/dev/null; sleep 1; kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
  "$LAB/lab.sh" down "$P"
  rm -rf "$WORK"
}
trap cleanup EXIT
ctl() { local cmd="$1"; shift; "$CONDUITCTL" "$cmd" --target "127.0.0.1:$PORT" "$@"; }

policy() {  # NAME NON_ICS UNPARSABLE FRAGMENTS
  cat <<EOF
version: "evasion/$1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant:     [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: $2
    unparsable: $3
    fragments: $4
    on_deny: drop
    allow_non_ip: [arp]
    rules:
      - id: read
        protocol: modbus
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 502
        functions: [read_coils, read_discrete_inputs, read_holding_registers, read_input_registers]
        units: [1]
        addresses: ["0-999"]
        action: allow
      - id: setpoints
        protocol: modbus
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 502
        functions: [write_single_register]
        units: [1]
        addresses: ["100-150"]
        action: allow
EOF
}
policy strict deny deny drop >"$WORK/strict.yaml"
policy availability allow allow drop >"$WORK/availability.yaml"
policy reassembling deny deny reassemble >"$WORK/reassembling.yaml"

"$LAB/lab.sh" down "$P"; "$LAB/lab.sh" up "$P" >/dev/null || exit 1
# The ports are DPDK's pcap PMD, not the lab's af_packet: DPDK's af_packet PMD
# joins a PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel
# reassembles IPv4 fragments (and drops overlapping ones) before conduitd
# sees them, and the fragment cases would test Linux, not Conduit.
"$LAB/make_config.sh" "$P" "$PORT" \
  | sed -e "s/net_af_packet\([01]\),/net_pcap\1,/" -e "s#state_dir: .*#state_dir: $WORK/state#" >"$WORK/c.yaml"
printf 'events: {jsonl: %s}\n' "$WORK/events.jsonl" >>"$WORK/c.yaml"
"$CONDUITD" --config "$WORK/c.yaml" >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do
  ctl status >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "FAIL: conduitd did not start"; cat "$WORK/err"; exit 1; }
  sleep 0.1
done
echo "conduitd: $CONDUITD ($(git -C "$ROOT" log -1 --format='%h %cd' --date=iso 2>/dev/null), binary $(date -r "$CONDUITD" '+%F %T'))"
if [[ -n "$SERVER_BIN" ]]; then
  ip netns exec "${P}plant" "$SERVER_BIN" 198.18.0.200 502 >"$WORK/server.log" 2>&1 &
else
  ip netns exec "${P}plant" /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >"$WORK/server.log" 2>&1 &
fi
SERVER=$!

mac() { ip -n "$1" -o link show eth0 | sed -n 's#.*link/ether \([0-9a-f:]*\).*#\1#p'; }
CORP_MAC="$(mac "${P}corp")"; PLANT_MAC="$(mac "${P}plant")"
# The attacker's address is owned by nobody in corp: the plant host sends its
# replies to the corp MAC, where our raw socket sees them and the corp kernel
# drops them silently (no RST from a stack that knows nothing of the session).
ip -n "${P}plant" neigh replace "$ATT" lladdr "$CORP_MAC" dev eth0 nud permanent
for _ in $(seq 50); do
  ip netns exec "${P}plant" ss -ltn 2>/dev/null | grep -q ':502 ' && break; sleep 0.1
done

fail=0
ATTACKS="$ROOT/tests/integration/evasion/attacks.py"
FRAG_CASES="control_allowed_write,control_fragmented_allowed_write,$(/usr/bin/python3 "$ATTACKS" --list | grep '^ip_frag' | paste -sd,)"
for pol in strict availability reassembling; do
  echo "== policy $pol"
  only="$ONLY"; extra=()
  if [[ $pol == reassembling ]]; then
    extra=(--reassembles)
    [[ -z "$only" ]] && only="$FRAG_CASES"
  fi
  ctl push "$WORK/$pol.yaml" >/dev/null || { echo "FAIL: push $pol"; fail=1; continue; }
  sleep 0.3
  ip netns exec "${P}corp" timeout 200 /usr/bin/python3 "$ATTACKS" "${extra[@]}" \
    --policy "$pol" --server "$SERVER_NAME" \
    --src-mac "$CORP_MAC" --dst-mac "$PLANT_MAC" --only "$only" | tee "$WORK/$pol.txt"
  [[ ${PIPESTATUS[0]} == 0 ]] || fail=1
done

echo "== table (case: strict availability reassembling)"
/usr/bin/python3 - "$WORK/strict.txt" "$WORK/availability.txt" "$WORK/reassembling.txt" <<'EOF'
import sys
res = {}
order = []
for pol, path in zip(("strict", "availability", "reassembling"), sys.argv[1:]):
    for line in open(path):
        w = line.split()
        if w and w[0] in ("PASS", "FAIL", "XFAIL", "XPASS"):
            name = w[1] if "(after)" not in line else w[1] + "(after)"
            if name in res and pol in res[name]:
                name += "(after)"
            if name not in res:
                res[name] = {}; order.append(name)
            res[name][pol] = w[0]
for n in order:
    print(f"  {n:36s} {res[n].get('strict','-'):5s} {res[n].get('availability','-'):5s}"
          f" {res[n].get('reassembling','-')}")
EOF
echo "== conduitctl counters --json"
ctl counters --json | tee "$WORK/counters.json"
echo
# Held fragments count as dropped (ip_fragment_held): the totals still add up.
/usr/bin/python3 - "$WORK/counters.json" "$ONLY" <<'PY' || fail=1
import json, sys
c = json.load(open(sys.argv[1]))
ok = c["rx_packets"] == c["tx_packets"] + c["dropped_packets"] and \
     c["dropped_packets"] == sum(c["dropped_by_reason"].values()) and \
     (c["malformed_by_reason"]["modbus_length_mismatch"] > 0 or sys.argv[2] != "") and \
     (c["datagrams_reassembled"] > 0 or sys.argv[2] != "")
print(("" if ok else "FAIL: ") + f"rx {c['rx_packets']} = tx {c['tx_packets']} + dropped {c['dropped_packets']}"
      f" (by reason {sum(c['dropped_by_reason'].values())}), reassembled {c['datagrams_reassembled']},"
      f" malformed Modbus lengths {c['malformed_by_reason']['modbus_length_mismatch']}")
sys.exit(0 if ok else 1)
PY
echo "== evasion events by reason"
grep '"event":"evasion"' "$WORK/events.jsonl" 2>/dev/null \
  | sed -n 's/.*"reason":"\([^"]*\)".*/\1/p' | sort | uniq -c || true
echo "== events by kind"
sed -n 's/.*"event":"\([^"]*\)".*/\1/p' "$WORK/events.jsonl" 2>/dev/null | sort | uniq -c || true
echo "== unparsable verdicts by reason"
sed -n 's/.*"rule":"unparsable","reason":"\([^"]*\)".*/\1/p' "$WORK/events.jsonl" 2>/dev/null | sort | uniq -c || true
# The MBAP length desync cases (mbap_overstate_*) are refused by name.
if [[ -z "$ONLY" ]] && ! grep -q '"rule":"unparsable","reason":"modbus_length_mismatch"' "$WORK/events.jsonl"; then
  echo "FAIL: no unparsable event names modbus_length_mismatch"
  fail=1
fi
gaps=$(cat "$WORK"/*.txt 2>/dev/null | grep -c '^XFAIL')
[[ $fail == 0 ]] && echo "evasion ($SERVER_NAME): no denied write executed outside the $gaps known gap(s) (XFAIL above)" \
  || echo "evasion ($SERVER_NAME): FAILED (a denied write went through, or a control failed)"
exit $fail
