#!/usr/bin/env bash
# S7comm evasion suite (issue 13, DESIGN.md "Enforcement integrity"): the
# S7comm counterpart of evasion_test.sh. An attacker in corp tries to get an
# S7 write var (DB1.DBW0) past conduitd (enforce) to s7_server.py, a small
# honest S7comm server in plant (TPKT-framed like a PLC, COTP connect and
# reassembly, setup communication, read var answered, write var EXECUTED
# and logged). Cases are scapy-built sessions (tests/integration/evasion/
# s7_attacks.py, reusing attacks.py's raw-wire attacker): insertion chaff
# (bad TCP/IP checksum, no ACK), overlap old/new, split at every byte,
# two PDUs in one segment, TPKT length desync both ways, COTP segmentation,
# IP fragments. A case passes when the server's write log did not grow.
# Controls: the server executes a write without the gateway (self-test),
# an allowed read var through the gateway is answered, a plain write var
# through it is not executed.
# Known gaps (the denied write executes today) are listed, with the reason,
# in s7_attacks.py KNOWN_GAPS: they print XFAIL (XPASS once fixed) and do
# not fail the suite; any other executed write, or a failed control, does.
# Policies: strict (non_ics: deny, unparsable: deny) and availability-first
# (non_ics: allow, unparsable: allow); the split-at-every-byte cases run
# under strict only (time).
# Own names: lab prefix "tx", control port 50261.
#   evasion_s7_test.sh CONDUITD CONDUITCTL [CASE,CASE...]
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
ONLY="${3:-}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
EV="$ROOT/tests/integration/evasion"
P="tx"
PORT=50261
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
version: "evasion-s7/$1"
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
      - id: s7-read
        protocol: s7comm
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 102
        functions: [setup_communication, read_var]
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
LOG="$WORK/writes.jsonl"
ip netns exec "${P}plant" /usr/bin/python3 "$EV/s7_server.py" 198.18.0.200 102 "$LOG" >"$WORK/server.log" 2>&1 &
SERVER=$!

mac() { ip -n "$1" -o link show eth0 | sed -n 's#.*link/ether \([0-9a-f:]*\).*#\1#p'; }
CORP_MAC="$(mac "${P}corp")"; PLANT_MAC="$(mac "${P}plant")"
ip -n "${P}plant" neigh replace "$ATT" lladdr "$CORP_MAC" dev eth0 nud permanent
for _ in $(seq 50); do
  ip netns exec "${P}plant" ss -ltn 2>/dev/null | grep -q ':102 ' && break; sleep 0.1
done

fail=0
echo "== self-test: the server executes a write var (plant to itself, no gateway)"
ip netns exec "${P}plant" /usr/bin/python3 "$EV/s7_attacks.py" --direct-write "$LOG" || fail=1
for pol in strict availability; do
  echo "== policy $pol"
  skip=()
  [[ $pol == availability && -z "$ONLY" ]] && skip=(--skip split_at_)
  ctl push "$WORK/$pol.yaml" >/dev/null || { echo "FAIL: push $pol"; fail=1; continue; }
  sleep 0.3
  ip netns exec "${P}corp" timeout 200 /usr/bin/python3 "$EV/s7_attacks.py" "${skip[@]}" \
    --policy "$pol" --write-log "$LOG" --src-mac "$CORP_MAC" --dst-mac "$PLANT_MAC" --only "$ONLY" \
    | tee "$WORK/$pol.txt"
  [[ ${PIPESTATUS[0]} == 0 ]] || fail=1
done

echo "== executed writes (server log)"
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
gaps=$(cat "$WORK"/strict.txt "$WORK"/availability.txt 2>/dev/null | grep -c '^XFAIL')
[[ $fail == 0 ]] && echo "evasion-s7: no denied write var executed outside the $gaps known gap(s) (XFAIL above)" \
  || echo "evasion-s7: FAILED (a denied write var executed, or a control failed)"
exit $fail
