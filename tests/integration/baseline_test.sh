#!/usr/bin/env bash
# The rollout from baseline to policy in the namespace lab, with real
# pymodbus peers (DESIGN.md, "From baseline to policy"):
#   1. conduitd starts with no policy: traffic passes, the workers observe;
#      a client polls (reads 0-9 and 100-104) and writes register 120;
#   2. `conduitctl baseline` shows those tuples (reads and the write, with
#      the address ranges seen), as text and as JSON;
#   3. `conduitctl propose` (from the gateway) gives a policy that validates;
#      set to enforce and pushed as a shadow (beside no policy), the training
#      traffic gives zero would-blocks; `promote --confirm-within`, then
#      `confirm`: the same traffic passes and a write the training never did
#      (register 160) is denied;
#   3b. `conduitctl rules` counts each rule's decisions; a shadow candidate
#      without the write rule, beside the active policy, reports exactly the
#      write as newly blocked (and an "event":"shadow") while the write still
#      passes; `promote` makes it active; `shadow --clear` drops one;
#   4. `conduitctl baseline accept`; a new host polls: it is a
#      new_behaviour event (and denied: the proposal never saw it);
#   5. restart conduitd: the baseline and its acceptance are still there;
#      a push with --confirm-within that nobody confirms rolls back by itself.
# Own names: lab prefix "tb", control port 27201.
#   baseline_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
P="tb"
PORT=27201
NEW_HOST=198.18.0.12
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

"$LAB/lab.sh" down "$P"; "$LAB/lab.sh" up "$P" >/dev/null || exit 1
ip -n "${P}corp" addr add "$NEW_HOST/24" dev eth0
# No start-up policy; the store merges every second.
"$LAB/make_config.sh" "$P" "$PORT" | sed -e "s#state_dir: .*#state_dir: $WORK/state#" -e '/^policy:/d' >"$WORK/c.yaml"
printf 'events: {jsonl: %s}\nbaseline: {flush_seconds: 1, retention_days: 30, stable_days: 7}\n' \
  "$WORK/events.jsonl" >>"$WORK/c.yaml"
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

# modbus.py SOURCE ACTION...: read:ADDR:COUNT, write:ADDR:VALUE, get:ADDR
# (prints the register). One line per action, "ok" or "FAIL"; exit 1 on any FAIL.
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
        elif kind == "write":
            r = c.write_register(int(addr), int(n), slave=1)
        else:
            r = c.read_holding_registers(int(addr), 1, slave=1)
        ok = not r.isError()
        print(("ok  " if ok else "FAIL"), a, r.registers[0] if ok and kind == "get" else "")
    except Exception as e:
        ok = False
        print("FAIL", a, type(e).__name__)
        c.close(); c.connect()
    bad += 0 if ok else 1
sys.exit(1 if bad else 0)
PY
modbus() { ip netns exec "${P}corp" timeout 60 /usr/bin/python3 "$WORK/modbus.py" "$@"; }
for _ in $(seq 50); do ip netns exec "${P}plant" ss -ltn 2>/dev/null | grep -q ':502 ' && break; sleep 0.1; done

echo "== 1. no policy: traffic passes, the workers observe"
ok=1
for _ in 1 2 3; do modbus 198.18.0.10 read:0:10 read:100:5 write:120:7 >>"$WORK/train.txt" || ok=0; done
check "training traffic passes with no policy" '[[ $ok == 1 ]]'
sleep 2.5

echo "== 2. the communication map"
ctl baseline >"$WORK/baseline.txt"; rc=$?
sed 's/^/     /' "$WORK/baseline.txt"
check "baseline (text) answers" '[[ $rc == 0 ]] && grep -q "read_holding_registers" "$WORK/baseline.txt"'
ctl baseline --json >"$WORK/baseline.json"
check "reads from .10 to .200 with the ranges seen (0-9, 100-104)" \
  'json "$WORK/baseline.json" "t=[x for x in d[\"tuples\"] if x.get(\"function\")==3 and x[\"client\"]==\"198.18.0.10\" and x[\"direction\"]==\"request\"]; sys.exit(not(t and t[0][\"server\"]==\"198.18.0.200\" and t[0][\"addresses\"]==[[0,9],[100,104]] and t[0][\"count\"]>=6 and t[0][\"function_name\"]==\"read_holding_registers\"))"'
check "the write of register 120, apart from the reads" \
  'json "$WORK/baseline.json" "t=[x for x in d[\"tuples\"] if x.get(\"function\")==6 and x[\"direction\"]==\"request\"]; sys.exit(not(t and t[0][\"addresses\"]==[[120,120]] and t[0][\"count\"]==3))"'
check "ARP is in the map (non-IP, by ethertype)" 'json "$WORK/baseline.json" "sys.exit(not any(x.get(\"ethertype\")==2054 for x in d[\"tuples\"]))"'
check "stability: learning, not accepted" 'json "$WORK/baseline.json" "sys.exit(not(d[\"stability\"]==\"learning\" and d[\"accepted_at\"] is None and d[\"stable_since\"]))"'

echo "== 3. propose from the gateway, push, enforce"
ctl propose >"$WORK/proposed.yaml" 2>"$WORK/propose.err"; rc=$?
check "propose answers (rc $rc)" '[[ $rc == 0 ]]'
sed 's/^/     /' "$WORK/proposed.yaml" | head -40
check "reads and the write in separate rules" 'grep -q "functions: \[write_single_register\]" "$WORK/proposed.yaml" && grep -q "read_holding_registers" "$WORK/proposed.yaml"'
sed -i 's/^mode: monitor/mode: enforce/' "$WORK/proposed.yaml"
status_field() { ctl status --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
ctl push --shadow "$WORK/proposed.yaml" >"$WORK/shadow-proposed.txt" 2>&1; rc=$?
check "the proposal is accepted as a shadow beside no policy (rc $rc)" '[[ $rc == 0 ]]'
ok=1
for _ in 1 2; do modbus 198.18.0.10 read:0:10 read:100:5 write:120:7 >>"$WORK/train2.txt" || ok=0; done
check "traffic passes while the candidate is judged" '[[ $ok == 1 ]]'
sleep 0.5
ctl shadow --json >"$WORK/shadow-proposed.json"
ctl shadow | sed 's/^/     /'
check "the training traffic: zero would-blocks, zero newly blocked, the rules hit" \
  'json "$WORK/shadow-proposed.json" "sys.exit(not(d[\"newly_blocked\"]==0 and sum(r.get(\"would_block\",0) for r in d[\"rules\"])==0 and sum(r[\"hits\"] for r in d[\"rules\"] if r[\"id\"].startswith(\"modbus-\"))>=6))"'
ctl promote --confirm-within 60s >"$WORK/promote1.txt" 2>&1; rc=$?
sed 's/^/     /' "$WORK/promote1.txt"
check "promote --confirm-within (rc $rc): the proposal is active, a deadline is set" \
  '[[ $rc == 0 ]] && [[ "$(status_field policy_version)" == proposed ]] && [[ "$(status_field confirm_deadline)" != None ]]'
ctl confirm >"$WORK/confirm.txt" 2>&1; rc=$?
check "confirm (rc $rc): no deadline left" '[[ $rc == 0 ]] && [[ "$(status_field confirm_deadline)" == None ]]'
sleep 0.3
check "the training traffic still passes under it" 'modbus 198.18.0.10 read:0:10 read:100:5 write:120:8 >"$WORK/after.txt"'
modbus 198.18.0.10 write:160:4242 >"$WORK/denied.txt"
# Reading 160 is outside the proposal too: look in monitor mode, then back.
ctl mode monitor >/dev/null
modbus 198.18.0.10 get:160 >"$WORK/get160.txt"
ctl mode clear >/dev/null
sed 's/^/     /' "$WORK/denied.txt" "$WORK/get160.txt"
check "a write the training never did (register 160) is denied" \
  '[[ "$(awk "{print \$3}" "$WORK/get160.txt")" == 160 ]]'

echo "== 3b. rule hits; a shadow candidate without the write rule"
ctl rules --json >"$WORK/rules.json"
ctl rules | sed 's/^/     /'
check "rule hits: the read rule decided the reads, default the denied write" \
  'json "$WORK/rules.json" "h={r[\"id\"]: r[\"hits\"] for r in d[\"rules\"]}; sys.exit(not(h[\"modbus-read-198-18-0-10\"]>=2 and h[\"modbus-write-198-18-0-10\"]>=1 and h[\"default\"]>=1))"'
/usr/bin/python3 - "$WORK/proposed.yaml" "$WORK/candidate.yaml" <<'PY'
import sys, yaml
p = yaml.safe_load(open(sys.argv[1]))
p["version"] = "candidate-without-writes"
for c in p["conduits"]:
    c["rules"] = [r for r in c["rules"] if not r["id"].startswith("modbus-write")]
yaml.safe_dump(p, open(sys.argv[2], "w"), sort_keys=False)
PY
ctl push --shadow "$WORK/candidate.yaml" >"$WORK/shadow-push.txt" 2>&1; rc=$?
check "push --shadow (rc $rc)" '[[ $rc == 0 ]]'
modbus 198.18.0.10 read:0:10 write:120:9 >"$WORK/shadowed.txt"; rc=$?
check "the active policy keeps deciding: the write still passes" '[[ $rc == 0 ]]'
sleep 0.5
ctl shadow --json >"$WORK/shadow.json"
ctl shadow | sed 's/^/     /'
check "the candidate reports exactly the write as newly blocked" \
  'json "$WORK/shadow.json" "h={r[\"id\"]: r for r in d[\"rules\"]}; sys.exit(not(d[\"newly_blocked\"]==1 and d[\"newly_allowed\"]==0 and h[\"default\"].get(\"would_block\",0)==1 and h[\"modbus-read-198-18-0-10\"][\"hits\"]>=1 and h[\"modbus-read-198-18-0-10\"].get(\"would_block\",0)==0 and d[\"candidate_version\"]==\"candidate-without-writes\"))"'
check "the disagreement is an event: shadow, newly_blocked, the write" \
  'grep "\"event\":\"shadow\"" "$WORK/events.jsonl" | grep "\"change\":\"newly_blocked\"" | grep -q "\"function_name\":\"write_single_register\""'
ctl promote >"$WORK/promote.txt" 2>&1; rc=$?
check "promote (rc $rc): the candidate is active" '[[ $rc == 0 ]] && [[ "$(status_field policy_version)" == candidate-without-writes ]]'
check "... the write is denied now, reads pass" '! modbus 198.18.0.10 write:120:10 >/dev/null && modbus 198.18.0.10 read:0:10 >/dev/null'
ctl shadow >/dev/null 2>"$WORK/noshadow.err"; rc=$?
check "after promote no candidate is left (rc $rc)" '[[ $rc == 1 ]] && grep -q "no shadow policy" "$WORK/noshadow.err"'
ctl push --shadow "$ROOT/deploy/examples/lab-policy.yaml" >/dev/null && ctl shadow --clear >/dev/null; rc=$?
check "shadow --clear (rc $rc)" '[[ $rc == 0 ]]'

echo "== 4. accept the baseline; a new host is new behaviour"
ctl baseline accept >"$WORK/accept.txt" 2>&1; rc=$?
cat "$WORK/accept.txt" | sed 's/^/     /'
check "baseline accept (rc $rc)" '[[ $rc == 0 ]]'
modbus "$NEW_HOST" read:0:2 >"$WORK/new.txt" 2>&1
sleep 2.5
check "the new host's read is a new_behaviour event" \
  'grep "\"event\":\"new_behaviour\"" "$WORK/events.jsonl" | grep -q "\"src\":\"$NEW_HOST\""'
check "... and, apart from it, a policy deny" \
  'grep -v new_behaviour "$WORK/events.jsonl" | grep "\"src\":\"$NEW_HOST\"" | grep -q "\"verdict\":\"deny\""'
check "known traffic is not new behaviour" \
  '! grep "\"event\":\"new_behaviour\"" "$WORK/events.jsonl" | grep -q "\"src\":\"198.18.0.10\""'

echo "== 5. restart: the baseline and its acceptance survive"
stop_gateway
start_gateway
ctl baseline --json >"$WORK/restarted.json"
check "the tuples are still there" 'json "$WORK/restarted.json" "sys.exit(not any(x.get(\"function\")==6 and x[\"count\"]>=3 for x in d[\"tuples\"]))"'
check "still accepted" 'json "$WORK/restarted.json" "sys.exit(d[\"accepted_at\"] is None)"'
ctl push "$ROOT/deploy/examples/lab-policy.yaml" --confirm-within 2s >"$WORK/unconfirmed.txt" 2>&1; rc=$?
check "a push with --confirm-within 2s is accepted (rc $rc)" '[[ $rc == 0 ]] && [[ "$(status_field policy_version)" != candidate-without-writes ]]'
sleep 3.5
check "unconfirmed, it rolls back by itself" '[[ "$(status_field policy_version)" == candidate-without-writes ]]'
check "... and says so (policy_reverted event)" 'grep -q "\"event\":\"policy_reverted\"" "$WORK/events.jsonl"'
ctl baseline --conduit no-such-conduit >/dev/null 2>"$WORK/nosuch.err"; rc=$?
check "an unknown conduit is a clear error (rc $rc)" '[[ $rc == 1 ]] && grep -q "no conduit \"no-such-conduit\"" "$WORK/nosuch.err"'

[[ $fail == 0 ]] && echo "baseline: PASS" || { echo "baseline: FAIL"; tail -20 "$WORK/err"; }
exit $fail
