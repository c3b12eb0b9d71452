#!/usr/bin/env bash
# Availability under ordinary impairment (DESIGN.md "Enforcement integrity":
# the integrity checks must not cost an allowed poll): a real pymodbus client
# (deploy/lab/modbus_poller.py, 2 polls a second, 2 s timeout) polls the lab's
# pymodbus server through conduitd in enforce mode, availability-first policy,
# for about 60 s with 5 % loss, 5 % reordering and 1 % duplication in both
# directions. Not one poll may fail.
# Impairment: `tc netem` on the hosts' veths where the kernel has it;
# otherwise a userspace bridge (evasion/impair_bridge.py, raw sockets, fixed
# seed) in an extra namespace spliced between corp and the gateway. The output
# says which one ran. Own names: lab prefix "ta", control port 27193.
#   availability_test.sh CONDUITD CONDUITCTL [DURATION_S]
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
DURATION="${3:-60}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
P="ta"
PORT=27193
NS_IMP="${P}imp"
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
if ! /usr/bin/python3 -c 'from pymodbus.client import ModbusTcpClient; from pymodbus.server import StartTcpServer' 2>/dev/null; then
  echo "SKIP: needs python3-pymodbus"; exit 77
fi
WORK="$(mktemp -d)"
PID=""; SERVER=""; BRIDGE=""
stop() { [[ -n "$1" ]] && { kill -TERM "$1" 2>/dev/null; for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }; }
cleanup() {
  stop "$SERVER"; stop "$BRIDGE"; stop "$PID"
  ip netns del "$NS_IMP" >/dev/null 2>&1
  "$LAB/lab.sh" down "$P"
  rm -rf "$WORK"
}
trap cleanup EXIT
ctl() { local cmd="$1"; shift; "$CONDUITCTL" "$cmd" --target "127.0.0.1:$PORT" "$@"; }
offloads_off() { ${1:+ip netns exec "$1"} ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true; }

"$LAB/lab.sh" down "$P"; ip netns del "$NS_IMP" >/dev/null 2>&1
"$LAB/lab.sh" up "$P" >/dev/null || exit 1

NETEM="loss 5% duplicate 1% delay 5ms reorder 5% 50%"
if ip netns exec "${P}corp" tc qdisc add dev eth0 root netem $NETEM 2>/dev/null \
   && ip netns exec "${P}plant" tc qdisc add dev eth0 root netem $NETEM 2>/dev/null; then
  echo "impairment: tc netem ($NETEM) on both hosts' eth0 (egress)"
else
  ip netns exec "${P}corp" tc qdisc del dev eth0 root >/dev/null 2>&1
  echo "impairment: userspace bridge (no netem in this kernel): evasion/impair_bridge.py in namespace $NS_IMP," \
       "loss 5%, hold back behind the next frame 5%, duplicate 1%, seed 13, both directions"
  # corp eth0 <-> [imp: c | bridge | g] <-> ${P}gw-corp (conduitd)
  ip link del "${P}gw-corp"
  ip netns add "$NS_IMP"
  ip netns exec "$NS_IMP" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "${P}corp" link add eth0 type veth peer name c netns "$NS_IMP"
  ip link add "${P}gw-corp" type veth peer name g netns "$NS_IMP"
  ip -n "${P}corp" addr replace 198.18.0.10/24 dev eth0
  for d in c g; do ip -n "$NS_IMP" link set "$d" up; offloads_off "$NS_IMP" "$d"; done
  ip -n "${P}corp" link set eth0 up; offloads_off "${P}corp" eth0
  sysctl -qw "net.ipv6.conf.${P}gw-corp.disable_ipv6=1" >/dev/null 2>&1
  ip link set "${P}gw-corp" up; offloads_off "" "${P}gw-corp"
  ip netns exec "$NS_IMP" /usr/bin/python3 "$ROOT/tests/integration/evasion/impair_bridge.py" c g \
    --stats "$WORK/bridge.stats" &
  BRIDGE=$!
fi

"$LAB/make_config.sh" "$P" "$PORT" | sed "s#state_dir: .*#state_dir: $WORK/state#" >"$WORK/c.yaml"
printf 'events: {jsonl: %s}\n' "$WORK/events.jsonl" >>"$WORK/c.yaml"
"$CONDUITD" --config "$WORK/c.yaml" >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do
  ctl status >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { echo "FAIL: conduitd did not start"; cat "$WORK/err"; exit 1; }
  sleep 0.1
done
cat >"$WORK/policy.yaml" <<'EOF'
version: "availability/1"
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
    unparsable: allow
    on_deny: reset
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
EOF
ctl push "$WORK/policy.yaml" >/dev/null || { echo "FAIL: push"; exit 1; }
echo "conduitd: $CONDUITD (tree $(git -C "$ROOT" log -1 --format=%h 2>/dev/null), binary $(date -r "$CONDUITD" '+%F %T')), mode $(ctl status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["mode"])')"
ip netns exec "${P}plant" /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
  ip netns exec "${P}plant" ss -ltn 2>/dev/null | grep -q ':502 ' && break; sleep 0.1
done

ip netns exec "${P}corp" /usr/bin/python3 "$LAB/modbus_poller.py" 198.18.0.200 "$DURATION" \
  --interval 0.5 --timeout 2 >"$WORK/polls.txt" 2>&1
ok=$(grep -c ' ok ' "$WORK/polls.txt"); bad=$(grep -c ' fail ' "$WORK/polls.txt")
slow=$(awk '$3=="ok" && $4>500' "$WORK/polls.txt" | wc -l)
max=$(awk '$3=="ok" {if ($4>m) m=$4} END {print m+0}' "$WORK/polls.txt")
stop "$BRIDGE"; BRIDGE=""
[[ -f "$WORK/bridge.stats" ]] && echo "bridge: $(cat "$WORK/bridge.stats")"
echo "polls: $ok ok, $bad failed, $slow slower than 500 ms, slowest ${max} ms"
grep ' fail ' "$WORK/polls.txt" | head -20 | sed 's/^/  /'
echo "== conduitctl counters --json"
ctl counters --json
echo
if [[ $bad == 0 && $ok -ge $((DURATION)) ]]; then
  echo "availability: PASS (no failed poll)"; exit 0
fi
echo "availability: FAIL"; exit 1
