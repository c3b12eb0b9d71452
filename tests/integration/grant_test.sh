#!/usr/bin/env bash
# Time-limited grants and rule expiry in the namespace lab, with real pymodbus
# peers (DESIGN.md, "Ownership and change control"):
#   1. under the policy a vendor's Modbus write (function 6, register 130)
#      is denied; a policy rule with `expires:` ~25 s out lets another host
#      write until then;
#   2. `conduitctl grant ... --for 20s`: the vendor's write passes, nothing
#      else it did not name (another register, a read); `grants` lists it;
#      after the expiry the write is denied again, and the events say
#      grant_started / grant_expired (and rule_expired for the policy rule);
#   3. revoke ends a grant at once (grant_revoked);
#   4. a grant that ends while conduitd is stopped is gone when it starts
#      again (denied; grant_expired, expired while the gateway was down);
#      one still valid across a restart keeps working;
#   5. requests that would widen access or last too long are refused.
# Own names: lab prefix "tg", control port 27211.
#   grant_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
P="tg"
PORT=27211
VENDOR=198.18.0.20
WINDOW_HOST=198.18.0.21
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
if ! /usr/bin/python3 -c 'from pymodbus.client import ModbusTcpClient; from pymodbus.server import StartTcpServer' 2>/dev/null; then
  echo "SKIP: needs python3-pymodbus"; exit 77
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
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
ctl() { local cmd="$1"; shift; "$CONDUITCTL" "$cmd" --target "127.0.0.1:$PORT" "$@"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$1')); $2"; }
events() { grep "\"event\":\"$1\"" "$WORK/events.jsonl" 2>/dev/null; }

"$LAB/lab.sh" down "$P"; "$LAB/lab.sh" up "$P" >/dev/null || exit 1
ip -n "${P}corp" addr add "$VENDOR/24" dev eth0
ip -n "${P}corp" addr add "$WINDOW_HOST/24" dev eth0
"$LAB/make_config.sh" "$P" "$PORT" | sed -e "s#state_dir: .*#state_dir: $WORK/state#" -e '/^policy:/d' >"$WORK/c.yaml"
printf 'events: {jsonl: %s}\n' "$WORK/events.jsonl" >>"$WORK/c.yaml"
start_gateway() {
  "$CONDUITD" --config "$WORK/c.yaml" >>"$WORK/out" 2>>"$WORK/err" &
  PID=$!
  for _ in $(seq 100); do
    ctl status >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || { echo "FAIL: conduitd did not start"; cat "$WORK/err"; exit 1; }
    sleep 0.1
  done
}
stop_gateway() { kill -TERM "$PID"; wait "$PID"; PID=""; }
start_gateway
ip netns exec "${P}plant" /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >/dev/null 2>&1 &
SERVER=$!

# modbus.py SOURCE ACTION...: read:ADDR:COUNT, write:ADDR:VALUE. One line per
# action, "ok" or "FAIL"; exit 1 on any FAIL (a denied request is reset).
cat >"$WORK/modbus.py" <<'PY'
import sys, time
import logging
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
from pymodbus.client import ModbusTcpClient
src, actions = sys.argv[1], sys.argv[2:]
c = ModbusTcpClient("198.18.0.200", port=502, timeout=2, retries=0, source_address=(src, 0))
deadline = time.time() + 5
while not c.connect():
    if time.time() > deadline:
        print("FAIL connect"); sys.exit(1)
    time.sleep(0.2)
bad = 0
for a in actions:
    kind, addr, n = (a.split(":") + ["1"])[:3]
    try:
        if kind == "read":
            r = c.read_holding_registers(int(addr), int(n), slave=1)
        else:
            r = c.write_register(int(addr), int(n), slave=1)
        ok = not r.isError()
        print(("ok  " if ok else "FAIL"), a)
    except Exception as e:
        ok = False
        print("FAIL", a, type(e).__name__)
        c.close(); c.connect()
    bad += 0 if ok else 1
sys.exit(1 if bad else 0)
PY
modbus() { ip netns exec "${P}corp" timeout 30 /usr/bin/python3 "$WORK/modbus.py" "$@" >>"$WORK/modbus.log" 2>&1; }
for _ in $(seq 50); do ip netns exec "${P}plant" ss -ltn 2>/dev/null | grep -q ':502 ' && break; sleep 0.1; done
# Sleeps until the wall clock passes unix ms $1 (plus $2 seconds).
sleep_past() { /usr/bin/python3 -c "import time; time.sleep(max(0.0, $1/1000.0 + $2 - time.time()))"; }
grant_field() { json "$1" "print(d[\"$2\"])"; }

echo "== 1. the policy denies the vendor's write; a rule with expires: admits another host"
WINDOW_END="$(date -u -d '+25 seconds' +%Y-%m-%dT%H:%M:%SZ)"
WINDOW_END_MS=$(( $(date -u -d "$WINDOW_END" +%s) * 1000 ))
sed -e 's/^version: .*/version: "lab\/grants-1"/' "$ROOT/deploy/examples/lab-policy.yaml" >"$WORK/policy.yaml"
cat >>"$WORK/policy.yaml" <<YAML
      - id: commissioning-window
        protocol: modbus
        from: [$WINDOW_HOST/32]
        to: [198.18.0.200/32]
        functions: [write_single_register]
        action: allow
        expires: "$WINDOW_END"
YAML
ctl push "$WORK/policy.yaml" >"$WORK/push.txt" 2>&1; rc=$?
check "push with a rule that expires at $WINDOW_END (rc $rc)" '[[ $rc == 0 ]]'
sed -e 's/expires: .*/expires: "2026-12-06T25:00:00Z"/' "$WORK/policy.yaml" >"$WORK/bad.yaml"
ctl push "$WORK/bad.yaml" >"$WORK/bad.txt" 2>&1; rc=$?
sed 's/^/     /' "$WORK/bad.txt"
check "a malformed expires: is refused naming its path and line (rc $rc)" \
  '[[ $rc == 2 ]] && grep -q "conduits\[0\].rules\[1\].expires: .* is not an RFC 3339 time.*(line [0-9]*)" "$WORK/bad.txt"'
check "the vendor's write is denied" '! modbus $VENDOR write:130:1'
check "the commissioning window's host may write until it expires" 'modbus $WINDOW_HOST write:131:1'

echo "== 2. a 20-second grant"
ctl grant --conduit corp-plant --from "$VENDOR/32" --to 198.18.0.200/32 --protocol modbus \
  --functions write_single_register --units 1 --addresses 100-199 --for 20s \
  --reason "vendor maintenance, ticket 4711" --json >"$WORK/grant1.json" 2>&1; rc=$?
cat "$WORK/grant1.json" | sed 's/^/     /'
check "grant (rc $rc) prints the id and the expiry" \
  '[[ $rc == 0 ]] && [[ "$(grant_field "$WORK/grant1.json" id)" == grant-1 ]] && grant_field "$WORK/grant1.json" expires | grep -q "Z$"'
G1_END=$(grant_field "$WORK/grant1.json" expires_unix_ms)
ctl grants --json >"$WORK/grants1.json"
ctl grants | sed 's/^/     /'
check "grants lists it with its rule and reason" \
  'json "$WORK/grants1.json" "g=d[\"grants\"]; sys.exit(not(len(g)==1 and g[0][\"id\"]==\"grant-1\" and g[0][\"from\"]==[\"$VENDOR/32\"] and g[0][\"functions\"]==[\"write_single_register\"] and g[0][\"reason\"].startswith(\"vendor\")))"'
check "status and rules carry the grant" 'ctl status --json | grep -q "\"grants\":\[{\"id\":\"grant-1\"" && ctl rules --json | grep -q "\"grant-1\""'
check "the vendor's write passes during the grant" 'modbus $VENDOR write:130:2'
check "... a register it did not name is still denied" '! modbus $VENDOR write:300:2'
check "... and so is a function it did not name (a read)" '! modbus $VENDOR read:130:1'
check "grant_started event with id, conduit, from, functions, expires, reason" \
  'events grant_started | grep "\"id\":\"grant-1\"" | grep "\"conduit\":\"corp-plant\"" | grep "\"from\":\[\"$VENDOR/32\"\]" | grep "\"functions\":\[\"write_single_register\"\]" | grep -q "\"reason\":\"vendor maintenance, ticket 4711\""'
sleep_past "$G1_END" 1
check "after the grant's expiry the write is denied again" '! modbus $VENDOR write:130:3'
check "grant_expired event" 'events grant_expired | grep "\"id\":\"grant-1\"" | grep -q "\"cause\":\"its time passed\""'
ctl grants --json >"$WORK/grants2.json"
check "grants is empty" 'json "$WORK/grants2.json" "sys.exit(len(d[\"grants\"])!=0)"'
sleep_past "$WINDOW_END_MS" 1
check "the policy rule's expiry passed: its host is denied now" '! modbus $WINDOW_HOST write:131:2'
check "rule_expired event for it" 'events rule_expired | grep -q "\"rule\":\"commissioning-window\""'
check "status still shows the pushed policy" 'ctl status --json | grep -q "\"policy_version\":\"lab/grants-1\""'

echo "== 3. revoke"
ctl grant --conduit corp-plant --from "$VENDOR/32" --protocol modbus --functions 6 --for 10m \
  --reason "second visit" >"$WORK/grant2.txt" 2>&1; rc=$?
sed 's/^/     /' "$WORK/grant2.txt"
check "grant --functions 6 --for 10m (rc $rc)" '[[ $rc == 0 ]] && grep -q "grant-2 until" "$WORK/grant2.txt"'
check "the write passes" 'modbus $VENDOR write:130:4'
ctl revoke grant-2 >"$WORK/revoke.txt" 2>&1; rc=$?
check "revoke grant-2 (rc $rc)" '[[ $rc == 0 ]] && grep -q "grant-2 revoked" "$WORK/revoke.txt"'
check "the write is denied at once" '! modbus $VENDOR write:130:5'
check "grant_revoked event" 'events grant_revoked | grep -q "\"id\":\"grant-2\""'
ctl revoke grant-2 >/dev/null 2>&1; rc=$?
check "revoking it again fails (rc $rc)" '[[ $rc == 1 ]]'

echo "== 4. restarts"
ctl grant --conduit corp-plant --from "$VENDOR/32" --protocol modbus --functions write_single_register \
  --for 8s --reason "short" --json >"$WORK/grant3.json" 2>&1; rc=$?
G3_END=$(grant_field "$WORK/grant3.json" expires_unix_ms)
check "an 8-second grant (rc $rc): the write passes" '[[ $rc == 0 ]] && modbus $VENDOR write:130:6'
stop_gateway
sleep_past "$G3_END" 1
start_gateway
check "it ended while conduitd was stopped: denied after the restart" '! modbus $VENDOR write:130:7'
check "... grant_expired: expired while the gateway was down" \
  'events grant_expired | grep "\"id\":\"grant-3\"" | grep -q "while the gateway was down"'
ctl grant --conduit corp-plant --from "$VENDOR/32" --protocol modbus --functions write_single_register \
  --for 5m --reason "across a restart" >/dev/null 2>&1; rc=$?
check "a 5-minute grant (rc $rc)" '[[ $rc == 0 ]]'
stop_gateway
start_gateway
ctl grants --json >"$WORK/grants3.json"
check "still listed after a restart (ids go on: grant-4)" 'json "$WORK/grants3.json" "sys.exit(not(len(d[\"grants\"])==1 and d[\"grants\"][0][\"id\"]==\"grant-4\"))"'
check "... and still in force" 'modbus $VENDOR write:130:8'
check "the pushed policy came back too" 'ctl status --json | grep -q "\"policy_version\":\"lab/grants-1\""'
ctl revoke grant-4 >/dev/null

echo "== 5. refusals"
refused() {  # refused NAME EXPECTED-TEXT ARGS...
  local name="$1" text="$2"; shift 2
  ctl grant "$@" >"$WORK/refused.txt" 2>&1; local rc=$?
  sed 's/^/     /' "$WORK/refused.txt"
  check "$name (rc $rc)" '[[ $rc != 0 ]] && grep -q -- "$text" "$WORK/refused.txt"'
}
BASE=(--protocol modbus --functions write_single_register --reason test)
refused "longer than 7 days" "at most 7d" --conduit corp-plant --from "$VENDOR/32" "${BASE[@]}" --for 8d
refused "an unknown conduit" 'no conduit "elsewhere"' --conduit elsewhere --from "$VENDOR/32" "${BASE[@]}" --for 1h
refused "every address" "is every address" --conduit corp-plant --from 0.0.0.0/0 "${BASE[@]}" --for 1h
refused "a zone instead of hosts" "not a CIDR prefix" --conduit corp-plant --from corporate "${BASE[@]}" --for 1h
refused "no function" "grant needs --functions" --conduit corp-plant --from "$VENDOR/32" --protocol modbus --reason x --for 1h
refused "tcp" "cannot be granted" --conduit corp-plant --from "$VENDOR/32" --protocol tcp --functions 1 --reason x --for 1h
check "nothing was granted by them" 'ctl grants --json | grep -q "\"grants\":\[\]"'

[[ $fail == 0 ]] && echo "grant: PASS" || { echo "grant: FAIL"; tail -20 "$WORK/err"; cat "$WORK/modbus.log" | tail -20; }
exit $fail
