#!/usr/bin/env bash
# DNP3 evasion suite (issue 13, README "Enforcement integrity"): the DNP3
# counterpart of evasion_test.sh. An attacker in corp tries to get a denied
# operation (DIRECT_OPERATE of binary output 7; WRITE; COLD_RESTART) past
# conduitd (enforce) to dnp3_outstation.py, a small honest outstation in
# plant (opendnp3's link-layer resynchronisation, transport reassembly and
# request parsing; every executed operation logged). Cases are scapy-built
# sessions (tests/integration/evasion/dnp3_attacks.py, reusing attacks.py's
# raw-wire attacker): insertion chaff (bad TCP/IP checksum, no ACK, ...), IP
# fragments, overlap old/new, split at every byte, two frames in one
# segment, link LEN vs CRC blocks, link-only frames carrying data, transport
# sequence tricks, several object headers, URG, IP options, trailers past
# the IP length. A case passes when the outstation's log shows no denied
# operation executed. Controls: the outstation executes a denied operate
# without the gateway (self-test); through the gateway an allowed READ is
# answered and an allowed DIRECT_OPERATE (point 3) executes, before and
# after the cases; undisguised denied operations do not execute.
# Policies: strict (non_ics: deny, unparsable: deny) and availability-first
# (non_ics: allow, unparsable: allow); split-at-every-byte runs under strict
# only unless CASES are named.
# Own names: lab prefix "tn", control port 50271.
#   evasion_dnp3_test.sh CONDUITD CONDUITCTL [CASE,CASE...]
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
ONLY="${3:-}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
EV="$ROOT/tests/integration/evasion"
P="tn"
PORT=50271
ATT=198.18.0.11
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
if ! /usr/bin/python3 -c 'import scapy.all; import pymodbus' 2>/dev/null; then
  echo "SKIP: needs python3-scapy (and python3-pymodbus, which attacks.py imports)"; exit 77
fi
WORK="$(mktemp -d)"
PID=""; SERVER=""
cleanup() {
  [[ -n "$SERVER" ]] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }
  [[ -n "$PID" ]] && { kill -TERM "$PID" 2>/dev/null; sleep 1; kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
  "$LAB/lab.sh" down "$P"
  if [[ -n "${EVASION_KEEP:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
ctl() { local cmd="$1"; shift; "$CONDUITCTL" "$cmd" --target "127.0.0.1:$PORT" "$@"; }

policy() {  # NAME NON_ICS UNPARSABLE
  cat <<EOF
version: "evasion-dnp3/$1"
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
    on_deny: drop
    allow_non_ip: [arp]
    rules:
      - id: dnp3-read
        protocol: dnp3
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 20000
        functions: [read]
        units: [10]
        action: allow
      - id: dnp3-operate-0-4
        protocol: dnp3
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 20000
        functions: [direct_operate]
        units: [10]
        addresses: ["0-4"]
        action: allow
EOF
}
policy strict deny deny >"$WORK/strict.yaml"
policy availability allow allow >"$WORK/availability.yaml"

"$LAB/lab.sh" down "$P"; "$LAB/lab.sh" up "$P" >/dev/null || exit 1
# DPDK's pcap PMD, not af_packet (whose PACKET_FANOUT_FLAG_DEFRAG would make
# the kernel reassemble the fragment cases before conduitd sees them).
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
LOG="$WORK/executed.jsonl"
ip netns exec "${P}plant" /usr/bin/python3 "$EV/dnp3_outstation.py" 198.18.0.200 20000 "$LOG" >"$WORK/server.log" 2>&1 &
SERVER=$!

mac() { ip -n "$1" -o link show eth0 | sed -n 's#.*link/ether \([0-9a-f:]*\).*#\1#p'; }
CORP_MAC="$(mac "${P}corp")"; PLANT_MAC="$(mac "${P}plant")"
ip -n "${P}plant" neigh replace "$ATT" lladdr "$CORP_MAC" dev eth0 nud permanent
for _ in $(seq 50); do
  ip netns exec "${P}plant" ss -ltn 2>/dev/null | grep -q ':20000 ' && break; sleep 0.1
done

fail=0
echo "== self-test: the outstation executes a denied operate (plant to itself, no gateway)"
ip netns exec "${P}plant" /usr/bin/python3 "$EV/dnp3_attacks.py" --direct "$LOG" || fail=1
for pol in strict availability; do
  echo "== policy $pol"
  skip=()
  [[ $pol == availability && -z "$ONLY" ]] && skip=(--skip split_at_)
  ctl push "$WORK/$pol.yaml" >/dev/null || { echo "FAIL: push $pol"; fail=1; continue; }
  sleep 0.3
  ip netns exec "${P}corp" timeout 200 /usr/bin/python3 "$EV/dnp3_attacks.py" "${skip[@]}" \
    --policy "$pol" --exec-log "$LOG" --src-mac "$CORP_MAC" --dst-mac "$PLANT_MAC" --only "$ONLY" \
    | tee "$WORK/$pol.txt"
  [[ ${PIPESTATUS[0]} == 0 ]] || fail=1
done

echo "== table (case: strict availability)"
/usr/bin/python3 - "$WORK/strict.txt" "$WORK/availability.txt" <<'EOF'
import sys
res, order = {}, []
for pol, path in zip(("strict", "availability"), sys.argv[1:]):
    for line in open(path):
        w = line.split()
        if w and w[0] in ("PASS", "FAIL", "XFAIL", "XPASS"):
            if w[1] not in res:
                res[w[1]] = {}; order.append(w[1])
            res[w[1]][pol] = w[0]
for n in order:
    print(f"  {n:46s} {res[n].get('strict','-'):5s} {res[n].get('availability','-')}")
for pol in ("strict", "availability"):
    v = [r[pol] for r in res.values() if pol in r]
    print(f"  {pol}: {v.count('PASS')} pass, {v.count('FAIL')} fail, {v.count('XFAIL')} known gaps,"
          f" {v.count('XPASS')} known gaps no longer executing")
EOF
echo "== executed operations (outstation log)"
cat "$LOG"
echo "== conduitctl counters --json"
ctl counters --json | tee "$WORK/counters.json"
echo
/usr/bin/python3 - "$WORK/counters.json" <<'PY' || fail=1
import json, sys
c = json.load(open(sys.argv[1]))
ok = c["rx_packets"] == c["tx_packets"] + c["dropped_packets"] and \
     c["dropped_packets"] == sum(c["dropped_by_reason"].values())
print(("" if ok else "FAIL: ") + f"rx {c['rx_packets']} = tx {c['tx_packets']} + dropped {c['dropped_packets']}"
      f" (by reason {sum(c['dropped_by_reason'].values())})")
sys.exit(0 if ok else 1)
PY
echo "== evasion events by reason"
grep '"event":"evasion"' "$WORK/events.jsonl" 2>/dev/null \
  | sed -n 's/.*"reason":"\([^"]*\)".*/\1/p' | sort | uniq -c || true
echo "== events by kind"
sed -n 's/.*"event":"\([^"]*\)".*/\1/p' "$WORK/events.jsonl" 2>/dev/null | sort | uniq -c || true
[[ $fail == 0 ]] && echo "evasion-dnp3: every denied operation stayed denied" \
  || echo "evasion-dnp3: FAILED (a denied operation executed, or a control failed)"
exit $fail
