#!/usr/bin/env bash
# Drives real traffic across the lab through the gateway and reports what
# passed: ping, a 10 MB TCP transfer checked end to end with SHA-256, and a
# Modbus/TCP read/write round trip between real pymodbus peers.
#   traffic.sh [PREFIX]     exit 0 only if everything passed
set -uo pipefail
P="${1:-}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
eval "$("$HERE/lab.sh" names "$P")"
PY=/usr/bin/python3
failures=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

result() {  # NAME STATUS DETAIL
  if [[ "$2" == 0 ]]; then printf '  PASS  %-34s %s\n' "$1" "$3"; else printf '  FAIL  %-34s %s\n' "$1" "$3"; failures=$((failures + 1)); fi
}

echo "== ping $NS_CORP -> $NS_PLANT"
out=$(ip netns exec "$NS_CORP" ping -c 5 -i 0.2 -W 2 "$PLANT_IP" 2>&1)
result "ping corp -> plant (5 packets)" $? "$(echo "$out" | grep -o '[0-9]* received' || echo "$out" | tail -1)"

echo "== TCP bulk transfer, 10 MB corp -> plant"
tmp=$(mktemp -d)
ip netns exec "$NS_PLANT" $PY "$HERE/tcp_bulk.py" serve "$PLANT_IP" 9000 >"$tmp/rx" 2>&1 &
pids+=($!)
sleep 0.5
ip netns exec "$NS_CORP" timeout 120 $PY "$HERE/tcp_bulk.py" send "$PLANT_IP" 9000 10 >"$tmp/tx" 2>&1
send_rc=$?
wait "${pids[-1]}" 2>/dev/null
if [[ $send_rc == 0 && -s "$tmp/rx" && "$(cat "$tmp/rx")" == "$(cat "$tmp/tx")" ]]; then
  result "tcp 10 MB sha256 matches" 0 "$(cut -c1-30 "$tmp/rx")..."
else
  result "tcp 10 MB sha256 matches" 1 "sent: $(cat "$tmp/tx" | tail -1) received: $(cat "$tmp/rx" | tail -1)"
fi

echo "== Modbus/TCP: pymodbus client in $NS_CORP, server in $NS_PLANT"
ip netns exec "$NS_PLANT" $PY "$HERE/modbus_server.py" "$PLANT_IP" 502 >"$tmp/mbs" 2>&1 &
pids+=($!)
ip netns exec "$NS_CORP" timeout 60 $PY "$HERE/modbus_client.py" "$PLANT_IP" 502 >"$tmp/mbc" 2>&1
mb_rc=$?
sed 's/^/        /' "$tmp/mbc"
result "modbus read/write round trip" $mb_rc "$(grep -c '^ok' "$tmp/mbc") operations ok"
rm -rf "$tmp"
exit $((failures > 0))
