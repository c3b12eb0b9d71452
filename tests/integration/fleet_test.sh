#!/usr/bin/env bash
# The staged fleet rollout (conduitctl push --targets FILE --canary N --soak D
# --max-would-block K) against three conduitd on loopback: plant-a (the
# canary) in the namespace lab (prefix tr) carrying a real pymodbus client
# that reads and writes, plant-b and plant-c on net_null ports. All start on
# fleet/1 (reads and writes allowed).
#   a. fleet/2-strict (no writes) stops after the canary: exit 3, the canary's
#      shadow is cleared, every gateway still runs fleet/1, the writes still
#      pass, plant-b and plant-c never saw the candidate;
#   b. fleet/2 (harmless) reaches all three, each confirmed (--confirm-within);
#   c. a gateway that never answers (a socket that accepts and stays silent)
#      is "unreachable" after --timeout, the rest are skipped: exit 1, no hang;
#      a refused canary port stops the rollout and the other canary's shadow
#      is cleared (--json);
#   d. usage: a bad targets file, a missing --soak, too many canaries, an
#      invalid policy: exit 2, nothing sent.
#   fleet_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$1"
CONDUITCTL="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
P="tr"
PORT_A=27221 PORT_B=27222 PORT_C=27223 PORT_SILENT=27224 PORT_DEAD=27225
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
WORK="$(mktemp -d)"
PIDS=(); SERVER=""; WRITER=""; SILENT=""
cleanup() {
  for p in "$WRITER" "$SERVER" "$SILENT"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  "$LAB/lab.sh" down "$P"
  rm -rf "$WORK"
}
trap cleanup EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
ctl() { "$CONDUITCTL" "$@"; }
field() {  # PORT FIELD: a field of status --json
  "$CONDUITCTL" status --target "127.0.0.1:$1" --json 2>/dev/null |
    /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])" 2>/dev/null
}

# --- three gateways -----------------------------------------------------------
"$LAB/lab.sh" down "$P"; "$LAB/lab.sh" up "$P" >/dev/null || exit 1
"$LAB/make_config.sh" "$P" "$PORT_A" | sed "s#state_dir: .*#state_dir: $WORK/state-a#" >"$WORK/a.yaml"
null_config() {  # NAME PORT
  cat <<CFG
eal: [--no-huge, -m, "128", --no-pci, --file-prefix, conduit-fleet-$1]
workers: [1]
wires: [{name: w, a: "net_null_fleet$1a,no-rx=1", b: "net_null_fleet$1b,no-rx=1"}]
control: {listen: "127.0.0.1:$2", state_dir: "$WORK/state-$1"}
log_level: warning
CFG
}
null_config b "$PORT_B" >"$WORK/b.yaml"
null_config c "$PORT_C" >"$WORK/c.yaml"
for g in a b c; do
  "$CONDUITD" --config "$WORK/$g.yaml" >"$WORK/$g.out" 2>"$WORK/$g.err" &
  PIDS+=($!)
done
for port in $PORT_A $PORT_B $PORT_C; do
  for _ in $(seq 150); do
    ctl status --target "127.0.0.1:$port" >/dev/null 2>&1 && break
    sleep 0.2
  done
  ctl status --target "127.0.0.1:$port" >/dev/null 2>&1 ||
    { echo "FAIL: conduitd on $port did not start"; cat "$WORK"/*.err; exit 1; }
done
echo "three gateways up: plant-a 127.0.0.1:$PORT_A (lab), plant-b :$PORT_B, plant-c :$PORT_C"

cat >"$WORK/fleet.txt" <<T
# the plant fleet: canaries first
127.0.0.1:$PORT_A plant-a

127.0.0.1:$PORT_B   plant-b   # null ports
127.0.0.1:$PORT_C plant-c
T

# fleet/1 allows the historian's reads and the engineering writes.
cat >"$WORK/fleet-1.yaml" <<'POL'
version: "fleet/1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant:     [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: deny
    on_deny: reset
    allow_non_ip: [arp]
    rules:
      - id: historian-read
        protocol: modbus
        from: [198.18.0.10/32]
        to: [198.18.0.200/32]
        port: 502
        functions: [read_coils, read_discrete_inputs, read_holding_registers, read_input_registers]
        units: [1]
        addresses: ["0-999"]
        action: allow
      - id: engineering-write
        protocol: modbus
        from: [198.18.0.10/32]
        to: [198.18.0.200/32]
        port: 502
        functions: [write_single_coil, write_single_register, write_multiple_registers]
        units: [1]
        addresses: ["0-999"]
        action: allow
POL
# The strict candidate drops the write rule: the canary's writes would be blocked.
sed -e 's#"fleet/1"#"fleet/2-strict"#' -e '/id: engineering-write/,$d' "$WORK/fleet-1.yaml" >"$WORK/fleet-2-strict.yaml"
for v in 2 3 4; do sed "s#\"fleet/1\"#\"fleet/$v\"#" "$WORK/fleet-1.yaml" >"$WORK/fleet-$v.yaml"; done

ctl push "$WORK/fleet-1.yaml" --targets "$WORK/fleet.txt" >"$WORK/push1.txt" 2>&1
check "fleet/1 pushed to all three (a plain push reads the named targets file)" \
  '[[ $(grep -c ": accepted fleet/1" "$WORK/push1.txt") == 3 ]]'

# Real Modbus traffic through the canary: reads and writes, five a second.
ip netns exec "${P}plant" /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >/dev/null 2>&1 &
SERVER=$!
ip netns exec "${P}corp" timeout 200 /usr/bin/python3 - >"$WORK/writer.txt" 2>&1 <<'PY' &
import time
from pymodbus.client import ModbusTcpClient
c = ModbusTcpClient("198.18.0.200", port=502, timeout=2, retries=0)
n = 0
while True:
    try:
        if not c.connected:
            c.connect()
        r = c.read_holding_registers(10, 2, slave=1)
        w = c.write_register(100, n % 1000, slave=1)
        print("ok" if not r.isError() and not w.isError() else f"fail {r} {w}", time.time(), flush=True)
    except Exception as e:
        print("fail", time.time(), e, flush=True)
        c.close()
    n += 1
    time.sleep(0.2)
PY
WRITER=$!
for _ in $(seq 100); do [[ $(grep -c "^ok" "$WORK/writer.txt") -ge 3 ]] && break; sleep 0.2; done
check "the canary carries Modbus reads and writes" '[[ $(grep -c "^ok" "$WORK/writer.txt") -ge 3 ]]'

# --- a. a candidate that would block the canary's writes -------------------------
echo "== a. fleet/2-strict stops after the canary"
start=$(date +%s)
ctl push "$WORK/fleet-2-strict.yaml" --targets "$WORK/fleet.txt" --canary 1 --soak 6s --max-would-block 0 \
  >"$WORK/a.txt" 2>"$WORK/a.progress"; rc=$?
took=$(( $(date +%s) - start ))
sed 's/^/     | /' "$WORK/a.txt" "$WORK/a.progress"
check "exit 3 (stopped by the canary's would-blocks)" '[[ $rc == 3 ]]'
check "the canary's line: cleared, would_block counted, still fleet/1" \
  'grep -qE "^plant-a 127\.0\.0\.1:$PORT_A canary cleared would_block=[1-9][0-9]* version=fleet/1: would_block=[0-9]+ > max 0; shadow cleared$" "$WORK/a.txt"'
check "plant-b and plant-c skipped, naming the canary" \
  '[[ $(grep -cE "^plant-[bc] 127\.0\.0\.1:($PORT_B|$PORT_C) rest skipped: rollout stopped after canary plant-a \(would_block=[0-9]+ > 0\)$" "$WORK/a.txt") == 2 ]]'
check "one result line per gateway, then the summary" \
  '[[ $(wc -l <"$WORK/a.txt") == 4 ]] && tail -1 "$WORK/a.txt" | grep -qE "^rollout fleet/2-strict: stopped after canary plant-a \(would_block=[0-9]+ > 0\): 0 of 3 gateways run it$"'
check "the soak printed progress and stopped early (${took}s < 6s)" \
  'grep -q "^soak fleet/2-strict: 1s of 6s, would_block plant-a=" "$WORK/a.progress" && (( took < 6 ))'
check "the canary's shadow is gone" \
  '! ctl shadow --target 127.0.0.1:$PORT_A >"$WORK/a-shadow.txt" 2>&1 && grep -q "no shadow policy" "$WORK/a-shadow.txt"'
check "plant-b and plant-c never got it (no shadow)" \
  '! ctl shadow --target 127.0.0.1:$PORT_B >/dev/null 2>&1 && ! ctl shadow --target 127.0.0.1:$PORT_C >/dev/null 2>&1'
check "every gateway still runs fleet/1" \
  '[[ "$(field $PORT_A policy_version) $(field $PORT_B policy_version) $(field $PORT_C policy_version)" == "fleet/1 fleet/1 fleet/1" ]]'
before=$(grep -c "^ok" "$WORK/writer.txt"); sleep 1.5
check "the canary's writes still pass" '[[ $(grep -c "^ok" "$WORK/writer.txt") -gt $before ]] && ! tail -3 "$WORK/writer.txt" | grep -q "^fail"'

# --- b. a harmless candidate goes everywhere -------------------------------------
echo "== b. fleet/2 reaches all three, confirmed"
ctl push "$WORK/fleet-2.yaml" --targets "$WORK/fleet.txt" --canary 1 --soak 3s --max-would-block 0 \
  --confirm-within 60s >"$WORK/b.txt" 2>"$WORK/b.progress"; rc=$?
sed 's/^/     | /' "$WORK/b.txt" "$WORK/b.progress"
check "exit 0" '[[ $rc == 0 ]]'
check "canary promoted with would_block=0, confirmed" \
  'grep -qx "plant-a 127.0.0.1:$PORT_A canary promoted would_block=0 version=fleet/2 confirmed" "$WORK/b.txt"'
check "plant-b and plant-c pushed, confirmed" \
  'grep -qx "plant-b 127.0.0.1:$PORT_B rest pushed version=fleet/2 confirmed" "$WORK/b.txt" &&
   grep -qx "plant-c 127.0.0.1:$PORT_C rest pushed version=fleet/2 confirmed" "$WORK/b.txt"'
check "summary: complete" 'tail -1 "$WORK/b.txt" | grep -qx "rollout fleet/2: complete: 3 of 3 gateways run it"'
check "every gateway runs fleet/2, nothing pending confirmation" \
  '[[ "$(field $PORT_A policy_version) $(field $PORT_B policy_version) $(field $PORT_C policy_version)" == "fleet/2 fleet/2 fleet/2" ]] &&
   [[ -z "$(field $PORT_A confirm_pending_version)$(field $PORT_B confirm_pending_version)$(field $PORT_C confirm_pending_version)" ]]'

# --- c. unreachable gateways ------------------------------------------------------
echo "== c. a silent gateway and a refused port"
/usr/bin/python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT_SILENT)); s.listen(8); time.sleep(300)" &
SILENT=$!
sleep 0.5
printf '127.0.0.1:%s plant-a\n127.0.0.1:%s silent\n127.0.0.1:%s plant-c\n' $PORT_A $PORT_SILENT $PORT_C >"$WORK/silent.txt"
start=$(date +%s)
timeout 60 "$CONDUITCTL" push "$WORK/fleet-3.yaml" --targets "$WORK/silent.txt" --canary 1 --soak 1 \
  --timeout 3 >"$WORK/c.txt" 2>"$WORK/c.progress"; rc=$?
took=$(( $(date +%s) - start ))
sed 's/^/     | /' "$WORK/c.txt"
check "exit 1 within ${took}s (deadline 3s a call)" '[[ $rc == 1 ]] && (( took < 20 ))'
check "the canary got it" 'grep -qx "plant-a 127.0.0.1:$PORT_A canary promoted would_block=0 version=fleet/3" "$WORK/c.txt"'
check "the silent gateway: unreachable, no answer within 3s" \
  'grep -q "^silent 127.0.0.1:$PORT_SILENT rest unreachable: no answer within 3s" "$WORK/c.txt"'
check "plant-c skipped, still fleet/2" \
  'grep -qx "plant-c 127.0.0.1:$PORT_C rest skipped: rollout stopped at silent (unreachable)" "$WORK/c.txt" &&
   [[ $(field $PORT_C policy_version) == fleet/2 ]]'
check "summary: stopped at silent, 1 of 3" \
  'tail -1 "$WORK/c.txt" | grep -qx "rollout fleet/3: stopped at silent (unreachable): 1 of 3 gateways run it"'

printf '127.0.0.1:%s plant-a\n127.0.0.1:%s dead\n127.0.0.1:%s plant-c\n' $PORT_A $PORT_DEAD $PORT_C >"$WORK/dead.txt"
timeout 60 "$CONDUITCTL" push "$WORK/fleet-4.yaml" --targets "$WORK/dead.txt" --canary 2 --soak 1 --timeout 3 \
  --json >"$WORK/d.json" 2>"$WORK/d.progress"; rc=$?
check "a refused canary port: exit 1" '[[ $rc == 1 ]]'
/usr/bin/python3 - "$WORK/d.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
g = {x["name"]: x for x in r["gateways"]}
assert r["policy_version"] == "fleet/4" and r["complete"] is False, r
assert g["plant-a"]["role"] == "canary" and g["plant-a"]["outcome"] == "cleared", g["plant-a"]
assert g["plant-a"]["version"] == "fleet/3", g["plant-a"]
assert "shadow cleared: rollout stopped at canary dead (unreachable)" == g["plant-a"]["detail"], g["plant-a"]
assert g["dead"]["role"] == "canary" and g["dead"]["outcome"] == "unreachable" and g["dead"]["detail"], g["dead"]
assert g["plant-c"]["outcome"] == "skipped" and g["plant-c"]["would_block"] is None, g["plant-c"]
print("ok   --json: plant-a cleared, dead unreachable (%s), plant-c skipped" % g["dead"]["detail"][:60])
PY
check "plant-a: no shadow left, still fleet/3" \
  '! ctl shadow --target 127.0.0.1:$PORT_A >/dev/null 2>&1 && [[ $(field $PORT_A policy_version) == fleet/3 ]]'

# --- d. usage errors: exit 2, nothing sent ----------------------------------------
echo "== d. usage"
printf '127.0.0.1:%s plant-a extra\n' $PORT_A >"$WORK/bad1.txt"
printf '# comment only\n\n' >"$WORK/bad2.txt"
printf '127.0.0.1 plant-a\n' >"$WORK/bad3.txt"
printf '127.0.0.1:%s x\n127.0.0.1:%s x\n' $PORT_A $PORT_B >"$WORK/bad4.txt"
usage() {  # EXPECTED-MESSAGE ARGS...
  local want="$1"; shift
  "$CONDUITCTL" push "$@" >"$WORK/u.out" 2>"$WORK/u.err"; local rc=$?
  check "exit 2: $want" '[[ $rc == 2 ]] && grep -qF -- "$want" "$WORK/u.err"'
}
usage "bad1.txt:1: want \"ADDRESS [NAME]\", got 3 fields" "$WORK/fleet-4.yaml" --targets "$WORK/bad1.txt" --canary 1 --soak 1
usage "bad2.txt: no targets" "$WORK/fleet-4.yaml" --targets "$WORK/bad2.txt" --canary 1 --soak 1
usage "bad3.txt:1: \"127.0.0.1\" is not HOST:PORT" "$WORK/fleet-4.yaml" --targets "$WORK/bad3.txt" --canary 1 --soak 1
usage "bad4.txt:2: name x is used twice" "$WORK/fleet-4.yaml" --targets "$WORK/bad4.txt" --canary 1 --soak 1
usage "cannot read targets file $WORK/nope.txt" "$WORK/fleet-4.yaml" --targets "$WORK/nope.txt" --canary 1 --soak 1
usage "wants --canary N and --soak D" "$WORK/fleet-4.yaml" --targets "$WORK/fleet.txt" --canary 1
usage "--canary wants a number from 1 to 3" "$WORK/fleet-4.yaml" --targets "$WORK/fleet.txt" --canary 4 --soak 1
usage "--soak wants a duration" "$WORK/fleet-4.yaml" --targets "$WORK/fleet.txt" --canary 1 --soak soon
usage "--max-would-block wants a count" "$WORK/fleet-4.yaml" --targets "$WORK/fleet.txt" --canary 1 --soak 1 --max-would-block -1
usage "from --targets FILE only" "$WORK/fleet-4.yaml" --target 127.0.0.1:$PORT_A --canary 1 --soak 1
sed 's/read_coils,/read_coilz,/' "$WORK/fleet-4.yaml" >"$WORK/invalid.yaml"
usage "unknown modbus function \"read_coilz\"" "$WORK/invalid.yaml" --targets "$WORK/fleet.txt" --canary 1 --soak 1
check "nothing was sent: all still on their versions, no shadows" \
  '[[ "$(field $PORT_A policy_version) $(field $PORT_B policy_version) $(field $PORT_C policy_version)" == "fleet/3 fleet/2 fleet/2" ]] &&
   ! ctl shadow --target 127.0.0.1:$PORT_A >/dev/null 2>&1'
exit $fail
