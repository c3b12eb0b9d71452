#!/usr/bin/env bash
# Policy enforcement through conduitd in the namespace lab, with real pymodbus
# peers, as an operator rolls it out:
#   1. push the rule set in monitor: every Modbus operation passes, and the
#      writes are reported as would-block events (enforced=false);
#   2. switch to enforce with one `conduitctl mode enforce`: reads still
#      pass; each write is reset, so the client fails at once (no timeout);
#      the events say blocked (enforced=true);
#   3. restart conduitd: it comes back with the same policy (persisted).
#   lab_policy_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$1"
CONDUITCTL="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
P="tp"
PORT=27171
if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
WORK="$(mktemp -d)"
PID=""; SERVER=""
cleanup() {
  [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null
  [[ -n "$PID" ]] && { kill -TERM "$PID" 2>/dev/null; sleep 1; kill -9 "$PID" 2>/dev/null; }
  "$LAB/lab.sh" down "$P"
  rm -rf "$WORK"
}
trap cleanup EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
ctl() { local cmd="$1"; shift; "$CONDUITCTL" "$cmd" --target "127.0.0.1:$PORT" "$@"; }

"$LAB/lab.sh" down "$P"; "$LAB/lab.sh" up "$P" >/dev/null || exit 1
"$LAB/make_config.sh" "$P" "$PORT" | sed "s#state_dir: .*#state_dir: $WORK/state#" >"$WORK/c.yaml"
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
start_gateway
ip netns exec "${P}plant" /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 >/dev/null 2>&1 &
SERVER=$!
client() { ip netns exec "${P}corp" timeout 60 /usr/bin/python3 "$LAB/modbus_client.py" 198.18.0.200 502 >"$WORK/$1" 2>&1; }

echo "== 1. monitor"
ctl push "$ROOT/deploy/examples/lab-policy-monitor.yaml" || fail=1
check "status says monitor" '[[ "$(ctl status --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"mode\"])")" == monitor ]]'
client monitor.txt; rc=$?
check "every Modbus operation passes in monitor" '[[ $rc == 0 ]]'
sleep 0.5
check "writes reported as would-block" 'grep "\"function_name\":\"write_single_register\"" "$WORK/events.jsonl" | grep -q "\"verdict\":\"deny\",\"enforced\":false,\"mode\":\"monitor\""'
check "reads not reported" '! grep -q "\"direction\":\"request\",\"function\":3," "$WORK/events.jsonl"'
cp "$WORK/events.jsonl" "$WORK/events-monitor.jsonl"

echo "== 2. enforce with one command"
ctl mode enforce || fail=1
start=$(date +%s.%N)
client enforce.txt
took=$(echo "$(date +%s.%N) - $start" | bc)
cat "$WORK/enforce.txt" | sed 's/^/     /'
sleep 0.3
check "the push and the mode change are events with their cause" 'grep -q "\"event\":\"policy_change\",\"scope\":\"gateway\",\"mode\":\"monitor\"" "$WORK/events.jsonl" && grep -q "\"event\":\"mode_change\",\"scope\":\"gateway\",\"mode\":\"enforce\",\"cause\":\"operator (SetMode)\"" "$WORK/events.jsonl"'
check "reads still pass" '[[ $(grep -c "^ok   read" "$WORK/enforce.txt") == 3 ]]'
check "writes fail with a reset" '[[ $(grep "^FAIL write" "$WORK/enforce.txt" | grep -c -i "reset") == 3 ]]'
check "the client is not left waiting (took ${took}s for 6 operations incl. reconnects)" '(( $(echo "$took < 20" | bc) ))'
sleep 0.5
check "writes reported as blocked" 'grep "\"function_name\":\"write_single_register\"" "$WORK/events.jsonl" | grep -q "\"verdict\":\"deny\",\"enforced\":true,\"mode\":\"enforce\""'
check "resets counted" '[[ $(ctl counters --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"resets_sent\"])") -ge 6 ]]'
check "rx = tx + dropped" 'ctl counters --json | /usr/bin/python3 -c "import json,sys; c=json.load(sys.stdin); sys.exit(c[\"rx_packets\"] != c[\"tx_packets\"] + c[\"dropped_packets\"])"'
check "ping is blocked (non_ics: deny)" '! ip netns exec "${P}corp" ping -c 2 -W 1 198.18.0.200 >/dev/null 2>&1'
version=$(ctl status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["policy_version"])')

echo "== 3. restart: the policy comes back"
kill -TERM "$PID"; wait "$PID"; PID=""
start_gateway
check "restored $version after restart" '[[ "$(ctl status --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"policy_version\"])")" == "$version" ]]'
check "the log says where it came from" 'grep -q "restored from" "$WORK/err"'
check "still enforcing after the restart (the mode override persists)" '[[ "$(ctl status --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"mode\"])")" == enforce ]]'
client after-restart.txt
check "writes still reset after the restart" '[[ $(grep "^FAIL write" "$WORK/after-restart.txt" | grep -c -i "reset") == 3 ]]'
exit $fail
