#!/usr/bin/env bash
# Start-up failures end with exit code 2 and one line naming the field,
# never a crash or a hang.   conduitd_startup_test.sh CONDUITD
set -uo pipefail
CONDUITD="$1"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
failures=0

expect_failure() {  # NAME EXPECTED_SUBSTRING CONDUITD_ARGS...
  local name="$1" want="$2"; shift 2
  timeout 60 "$CONDUITD" "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  local line
  line="$(grep '^conduitd: ' "$WORK/err" | tail -1)"
  if [[ $rc == 2 && "$line" == *"$want"* ]]; then
    echo "ok   $name: $line"
  else
    echo "FAIL $name: exit $rc (want 2), reason '$line' (want '$want')"
    sed 's/^/     | /' "$WORK/err" | tail -5
    failures=$((failures + 1))
  fi
}

config() {  # FILE-PREFIX A-DEVICE [EXTRA-EAL] [LISTEN]
  cat <<CFG
eal: [--no-huge, -m, "128", --no-pci, --file-prefix, $1 ${3:+, $3}]
workers: [1]
wires: [{name: w, a: "$2", b: "net_null_s$1,no-rx=1"}]
control: {listen: "${4:-127.0.0.1:$((30000 + RANDOM % 20000))}"}
log_level: error
CFG
}

expect_failure "no --config" "--config FILE is required"
expect_failure "missing file" "cannot read config file" --config "$WORK/nope.yaml"

printf 'workers: [1]\nwires: [{a: x, b: y}]\nlog_levle: info\n' >"$WORK/typo.yaml"
expect_failure "unknown field" "log_levle: unknown field" --config "$WORK/typo.yaml"

printf 'workers: [1\n' >"$WORK/broken.yaml"
expect_failure "broken yaml" "not valid YAML" --config "$WORK/broken.yaml"

config st-port "net_bogus0,foo=1" >"$WORK/port.yaml"
expect_failure "unknown port" "wires[0].a: cannot attach device \"net_bogus0,foo=1\"" --config "$WORK/port.yaml"

config st-eal "net_null_a0,no-rx=1" "--not-an-eal-option" >"$WORK/eal.yaml"
expect_failure "EAL failure" "eal: rte_eal_init failed" --config "$WORK/eal.yaml"

sed 's/workers: \[1\]/workers: [0]/' <(config st-lcore "net_null_b0,no-rx=1") >"$WORK/lcore.yaml"
sed -i 's/--no-pci,/--no-pci, -l, "0,1", --main-lcore, "0",/' "$WORK/lcore.yaml"
expect_failure "worker on the main lcore" "workers[0]: lcore 0 is the main lcore" --config "$WORK/lcore.yaml"

# The control address is taken: listen on it first.
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
s.bind(("127.0.0.1", 0)); s.listen(1); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$WORK/port" &
holder=$!
for _ in $(seq 50); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
config st-listen "net_null_c0,no-rx=1" "" "127.0.0.1:$(cat "$WORK/port")" >"$WORK/listen.yaml"
expect_failure "control address in use" "control.listen: cannot listen on 127.0.0.1:$(cat "$WORK/port") (Address already in use)" --config "$WORK/listen.yaml"
{ config st-metrics "net_null_e0,no-rx=1"; echo "metrics: {listen: \"127.0.0.1:$(cat "$WORK/port")\"}"; } >"$WORK/metrics.yaml"
expect_failure "metrics address in use" \
  "metrics.listen: cannot listen on 127.0.0.1:$(cat "$WORK/port") (Address already in use)" --config "$WORK/metrics.yaml"
kill $holder 2>/dev/null

if "$CONDUITD" --config "$WORK/typo.yaml" --check >/dev/null 2>&1; then
  echo "FAIL --check accepted a bad config"; failures=$((failures + 1))
else
  echo "ok   --check rejects a bad config"
fi

# --check judges the start-up policy as a push would: an invalid `policy:`
# is exit 2 with the policy file's path, the field path and the line.
cat >"$WORK/bad-policy.yaml" <<'POL'
version: "check/1"
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
    on_deny: reset
    rules:
      - id: historian-read
        protocol: modbus
        functions: [read_coils, wrte_coil]
        action: allow
POL
sed 's/"check\/1"/"check\/2"/; s/wrte_coil/write_single_coil/' "$WORK/bad-policy.yaml" >"$WORK/good-policy.yaml"
{ config st-check "net_null_d0,no-rx=1"; echo "policy: $WORK/bad-policy.yaml"; } >"$WORK/check-bad.yaml"
expect_failure "--check with an invalid policy" \
  "$WORK/bad-policy.yaml: conduits[0].rules[0].functions[1]: unknown modbus function \"wrte_coil\" (line 16)" \
  --config "$WORK/check-bad.yaml" --check
{ config st-check "net_null_d0,no-rx=1"; echo "policy: $WORK/good-policy.yaml"; } >"$WORK/check-good.yaml"
if out="$("$CONDUITD" --config "$WORK/check-good.yaml" --check 2>&1)" && [[ "$out" == *": ok" ]]; then
  echo "ok   --check accepts a config with a valid policy: $out"
else
  echo "FAIL --check refused a valid policy: $out"; failures=$((failures + 1))
fi
# A policy for a wire the config does not have is refused as a push would be.
sed 's/wire: 0/wire: 3/' "$WORK/good-policy.yaml" >"$WORK/wire-policy.yaml"
{ config st-check "net_null_d0,no-rx=1"; echo "policy: $WORK/wire-policy.yaml"; } >"$WORK/check-wire.yaml"
expect_failure "--check with a policy for a missing wire" "$WORK/wire-policy.yaml: conduits[0].wire" \
  --config "$WORK/check-wire.yaml" --check

exit $((failures > 0))
