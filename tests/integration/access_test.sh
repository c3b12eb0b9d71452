#!/usr/bin/env bash
# Ownership over real gRPC with mutual TLS (DESIGN.md, "Ownership and change
# control"): conduitd with control.roles; three client certificates made here
# (engineering "plant-eng", security "soc", vendor "vendor-acme") and one the
# CA signed for nobody in particular; every permission tried by each, through
# conduitctl. Then the audit trail: refusals recorded, read back over gRPC,
# `audit verify` passes on the file and names a tampered record; then the
# audit file stops taking writes: control still works, traffic keeps flowing,
# status says so, and it catches up when the file is back; status's audit
# head proves the file's tail. Then a staged fleet rollout over two such
# gateways: the vendor's is refused at the canary, the engineer's lands.
#   access_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$(realpath "$1")"
CTL="$(realpath "$2")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d)"
PORT=27231
PID=""; PID2=""
cleanup() {
  for p in "$PID" "$PID2"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

command -v openssl >/dev/null || { echo "SKIP: openssl CLI not found"; exit 77; }

# --- certificates ----------------------------------------------------------
(
  cd "$WORK" || exit 1
  set -e
  ca() { openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -subj /CN=$1 -days 2 -out $1.pem; }
  leaf() {  # name CN extension
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -subj /CN=$2 -out $1.csr
    printf '%s\n' "$3" >$1.ext
    openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem
  }
  ca ca
  leaf server 127.0.0.1 subjectAltName=IP:127.0.0.1
  leaf eng plant-eng extendedKeyUsage=clientAuth
  leaf sec soc extendedKeyUsage=clientAuth
  leaf vendor vendor-acme extendedKeyUsage=clientAuth
  leaf stranger stranger extendedKeyUsage=clientAuth
) >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log"; echo "FAIL: openssl"; exit 1; }

cat >"$WORK/conduitd.yaml" <<CFG
eal: [--no-huge, -m, "256", --no-pci, --file-prefix, conduit-ac, --vdev, net_null_ac0, --vdev, net_null_ac1]
workers: [1]
wires: [{name: w, a: "net_null_ac0", b: "net_null_ac1"}]
control:
  listen: "127.0.0.1:$PORT"
  tls: {cert: $WORK/server.pem, key: $WORK/server.key, client_ca: $WORK/ca.pem}
  state_dir: $WORK/state
  roles:
    engineering: {identities: [plant-eng], may: [read, push, mode, grant, confirm]}
    security:    {identities: [soc],       may: [read, events, audit, mode]}
    vendor:      {identities: [vendor-acme], may: [read]}
events: {jsonl: $WORK/events.jsonl}
log_level: info
CFG
# net_null vdevs are named in `wires` by device string; drop the --vdev
# duplicates if this DPDK refuses them.
sed -i 's/, --vdev, net_null_ac0, --vdev, net_null_ac1//' "$WORK/conduitd.yaml"

cat >"$WORK/policy.yaml" <<'POL'
version: "access-1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant: [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: deny
    rules:
      - id: historian-read
        protocol: modbus
        from: [corporate]
        to: [198.18.0.200/32]
        functions: [read_holding_registers]
        action: allow
POL

"$CONDUITD" --config "$WORK/conduitd.yaml" >"$WORK/conduitd.log" 2>&1 &
PID=$!
as() {  # WHO conduitctl-args...
  local who="$1"; shift
  "$CTL" "$@" --target "127.0.0.1:$PORT" --ca "$WORK/ca.pem" --cert "$WORK/$who.pem" \
    --key "$WORK/$who.key" --timeout 5
}
for _ in $(seq 1 100); do
  as eng status >/dev/null 2>&1 && break
  sleep 0.2
done
as eng status >/dev/null 2>&1 || { cat "$WORK/conduitd.log"; echo "FAIL: conduitd did not come up"; exit 1; }

# --- the permission matrix -------------------------------------------------
# One command per permission; allowed = no PERMISSION_DENIED naming it.
try() {  # WHO PERMISSION EXPECT(allow|deny) conduitctl-args...
  local who="$1" perm="$2" want="$3"; shift 3
  local out rc
  out="$(as "$who" "$@" 2>&1)"; rc=$?
  # Denied: the call failed and said which permission it lacked (an audit
  # listing may quote other refusals, so the exit status counts too).
  if [[ $rc != 0 ]] && grep -q "permission \"$perm\" needed" <<<"$out"; then got=deny; else got=allow; fi
  if [[ $got == "$want" ]]; then
    ok "$who $perm: $want"
  else
    fail "$who $perm: got $got, want $want: $(head -c 300 <<<"$out")"
  fi
}
declare -A MAY=(
  [eng]="read push mode grant confirm"
  [sec]="read events audit mode"
  [vendor]="read"
  [stranger]=""
)
for who in eng sec vendor stranger; do
  for perm in read events push confirm mode grant audit; do
    want=deny
    [[ " ${MAY[$who]} " == *" $perm "* ]] && want=allow
    case $perm in
      read) try "$who" read "$want" status ;;
      events) try "$who" events "$want" events --seconds 1 ;;
      push) try "$who" push "$want" push "$WORK/policy.yaml" ;;
      confirm) try "$who" confirm "$want" confirm ;;
      mode) try "$who" mode "$want" mode enforce ;;
      grant) try "$who" grant "$want" revoke grant-404 ;;
      audit) try "$who" audit "$want" audit ;;
    esac
  done
done
# Every read-permission RPC, not just status.
for cmd in counters rules get-policy baseline shadow; do
  out="$(as vendor $cmd 2>&1)"
  grep -q 'permission "read" needed' <<<"$out" && fail "vendor $cmd refused: $out" || ok "vendor may $cmd"
  out="$(as stranger $cmd 2>&1)"
  grep -q 'permission "read" needed' <<<"$out" && ok "stranger may not $cmd" || fail "stranger $cmd: $out"
done
out="$(as vendor push --shadow "$WORK/policy.yaml" 2>&1)"
grep -q 'permission "push" needed' <<<"$out" && ok "vendor may not push --shadow" || fail "vendor push --shadow: $out"
# The refusal names who asked and what they hold.
out="$(as vendor push "$WORK/policy.yaml" 2>&1)"
grep -q 'identity "vendor-acme" (roles: vendor)' <<<"$out" && ok "refusal names identity and roles" || fail "refusal text: $out"

# Status says who is asking and that roles are on.
js="$(as sec status --json)"
grep -q '"identity":"soc","roles_enabled":true' <<<"$js" && ok "status: identity soc, roles on" || fail "status: $js"

# A grant records who gave it.
out="$(as eng grant --conduit corp-plant --from 198.18.0.50/32 --protocol modbus \
  --functions write_single_register --for 1m --reason "vendor visit" 2>&1)" \
  && ok "engineering grants: $out" || fail "engineering grant: $out"
as vendor grants --json 2>&1 | grep -q '"granted_by":"plant-eng"' && ok "the grant names plant-eng as granted_by" \
  || fail "granted_by: $(as vendor grants --json 2>&1 | head -c 300)"

# What the gateway does on its own clock is audited too: an unconfirmed push reverts.
sed 's/"access-1"/"access-2"/' "$WORK/policy.yaml" >"$WORK/policy2.yaml"
as eng push "$WORK/policy2.yaml" --confirm-within 2s >/dev/null 2>&1 || fail "push --confirm-within"
sleep 4

# --- the audit trail -------------------------------------------------------
audit="$(as sec audit --json)"
grep -q '"identity":"vendor-acme".*"action":"push".*"result":"denied"' <<<"$audit" \
  && ok "a refused push is audited with its identity" || fail "audit lacks the refused push: $(tail -3 <<<"$audit")"
grep -q '"identity":"plant-eng".*"action":"push","target":"access-1","result":"ok"' <<<"$audit" \
  && ok "an accepted push is audited" || fail "audit lacks the accepted push"
grep -q '"action":"start"' <<<"$audit" && ok "the gateway's start is audited" || fail "no start record"
grep -q '"peer":"gateway","action":"revert","target":"access-2","result":"ok"' <<<"$audit" \
  && ok "the gateway's own revert is audited" || fail "audit lacks the revert: $(grep -c . <<<"$audit") records"
grep -q '"identity":"plant-eng".*"action":"grant".*"result":"ok".*vendor visit' <<<"$audit" \
  && ok "the grant is audited with its identity and reason" || fail "audit lacks the grant"
grep -q '"event":"audit".*"result":"denied"' "$WORK/events.jsonl" \
  && ok "audit records reach the event sinks" || fail "no audit event in the JSONL sink"
"$CTL" audit verify --file "$WORK/state/audit.jsonl" >"$WORK/verify.out" 2>&1 \
  && ok "verify: $(cat "$WORK/verify.out")" || fail "verify on the untouched file: $(cat "$WORK/verify.out")"
cp "$WORK/state/audit.jsonl" "$WORK/tampered.jsonl"
sed -i '3s/"result":"denied"/"result":"ok"/; 3s/"result":"ok"/"result":"ko"/' "$WORK/tampered.jsonl"
if "$CTL" audit verify --file "$WORK/tampered.jsonl" >"$WORK/verify.out" 2>&1; then
  fail "verify passed a tampered file"
else
  grep -q 'line 3 (seq 3): altered' "$WORK/verify.out" && ok "verify names the altered record" \
    || fail "verify output: $(cat "$WORK/verify.out")"
fi

# --- a failing audit file never stops traffic ------------------------------
as eng mode bypass >/dev/null 2>&1  # forward everything: the null ports' frames flow through
rx_tx() { as sec counters --json | /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin); t=t[0] if isinstance(t,list) else t; t=t.get("totals",t); print(t["tx_packets"])'; }
mv "$WORK/state/audit.jsonl" "$WORK/audit.aside"
mkdir "$WORK/state/audit.jsonl"  # every write now fails (root ignores file modes)
tx1="$(rx_tx)"
out="$(as eng mode monitor 2>&1)" && ok "control works with a failing audit file" || fail "mode with failing audit: $out"
sleep 1
tx2="$(rx_tx)"
[[ -n "$tx1" && -n "$tx2" && $tx2 -gt $tx1 ]] && ok "traffic keeps flowing ($tx1 -> $tx2 tx packets)" \
  || fail "traffic stopped: tx $tx1 -> $tx2"
st="$(as sec status --json)"
grep -q '"audit":{"records":[0-9]*,"pending":[1-9][0-9]*,"error":".*audit.jsonl' <<<"$st" \
  && ok "status shows the audit error and what waits" || fail "status: $(grep -o '"audit":{[^}]*}' <<<"$st")"
as sec status | grep -q 'AUDIT' && ok "text status flags AUDIT" || fail "text status lacks AUDIT"
grep -q '"event":"audit_failed"' "$WORK/events.jsonl" && ok "audit_failed evented" || fail "no audit_failed event"
rmdir "$WORK/state/audit.jsonl"
mv "$WORK/audit.aside" "$WORK/state/audit.jsonl"
st="$(as sec status --json)"  # status retries what waited
grep -q '"pending":0,"error":""' <<<"$st" && ok "the file caught up" || fail "after recovery: $(grep -o '"audit":{[^}]*}' <<<"$st")"
"$CTL" audit verify --file "$WORK/state/audit.jsonl" >"$WORK/verify.out" 2>&1 \
  && ok "chain intact after the outage: $(cat "$WORK/verify.out")" || fail "verify after outage: $(cat "$WORK/verify.out")"
# The head from status, kept elsewhere, proves the tail: the untouched file
# verifies against it, one with its newest record cut off does not.
head="$(as sec status --json | /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); s=s[0] if isinstance(s,list) else s; print(s["audit"]["head_hash"])')"
"$CTL" audit verify --file "$WORK/state/audit.jsonl" --head "$head" >"$WORK/verify.out" 2>&1 \
  && ok "verify --head with the head from status" || fail "verify --head '$head': $(cat "$WORK/verify.out")"
head -n -1 "$WORK/state/audit.jsonl" >"$WORK/cut.jsonl"
if "$CTL" audit verify --file "$WORK/cut.jsonl" --head "$head" >"$WORK/verify.out" 2>&1; then
  fail "verify --head passed a file whose newest record was removed"
else
  grep -q 'records after it were removed' "$WORK/verify.out" && ok "verify --head names the cut tail" \
    || fail "verify --head on the cut file: $(cat "$WORK/verify.out")"
fi

# --- a fleet rollout under roles -------------------------------------------
# A second gateway with the same roles; the staged rollout (canary, soak,
# promote, push) carries the caller's identity to every gateway: the vendor
# is refused at the canary and nothing changes anywhere, the engineer's
# rollout reaches both.
PORT2=27232
sed -e "s/127.0.0.1:$PORT/127.0.0.1:$PORT2/" -e 's/--file-prefix, conduit-ac/--file-prefix, conduit-ac3/' -e 's/net_null_ac/net_null_ae/g' \
    -e "s#state_dir: .*#state_dir: $WORK/state2#" -e "s#jsonl: .*#jsonl: $WORK/events2.jsonl}#" \
    "$WORK/conduitd.yaml" >"$WORK/conduitd2.yaml"
"$CONDUITD" --config "$WORK/conduitd2.yaml" >"$WORK/conduitd2.log" 2>&1 &
PID2=$!
fleet_as() {  # WHO conduitctl-args... (no --target: the targets file names them)
  local who="$1"; shift
  "$CTL" "$@" --ca "$WORK/ca.pem" --cert "$WORK/$who.pem" --key "$WORK/$who.key" --timeout 5
}
version_at() { "$CTL" status --target "127.0.0.1:$1" --ca "$WORK/ca.pem" --cert "$WORK/sec.pem" \
    --key "$WORK/sec.key" --timeout 5 --json 2>/dev/null |
  /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); s=s[0] if isinstance(s,list) else s; print(s["policy_version"])'; }
for _ in $(seq 1 100); do version_at "$PORT2" >/dev/null 2>&1 && break; sleep 0.2; done
version_at "$PORT2" >/dev/null 2>&1 || fail "the second gateway did not come up: $(tail -3 "$WORK/conduitd2.log")"
printf '127.0.0.1:%s gw-1\n127.0.0.1:%s gw-2\n' "$PORT" "$PORT2" >"$WORK/targets.txt"
sed 's/"access-1"/"access-fleet"/' "$WORK/policy.yaml" >"$WORK/fleet.yaml"
v1_before="$(version_at "$PORT")"; v2_before="$(version_at "$PORT2")"
out="$(fleet_as vendor push "$WORK/fleet.yaml" --targets "$WORK/targets.txt" --canary 1 --soak 1s \
       --max-would-block 0 2>&1)"; rc=$?
[[ $rc == 1 ]] && grep -q '^gw-1 127.0.0.1:[0-9]* canary denied: PERMISSION_DENIED: permission "push" needed' <<<"$out" \
  && grep -q '^gw-2 .* skipped' <<<"$out" && ok "fleet: the vendor's rollout is refused at the canary, the rest skipped" \
  || fail "fleet as vendor: rc=$rc $(tail -4 <<<"$out")"
[[ "$(version_at "$PORT")" == "$v1_before" && "$(version_at "$PORT2")" == "$v2_before" ]] \
  && ok "fleet: nothing changed after the refusal ($v1_before, ${v2_before:-none})" \
  || fail "fleet: versions moved after a refused rollout: $(version_at "$PORT") $(version_at "$PORT2")"
out="$(fleet_as eng push "$WORK/fleet.yaml" --targets "$WORK/targets.txt" --canary 1 --soak 1s \
       --max-would-block 0 2>&1)"; rc=$?
[[ $rc == 0 && "$(version_at "$PORT")" == access-fleet && "$(version_at "$PORT2")" == access-fleet ]] \
  && ok "fleet: the engineer's rollout reaches both gateways" || fail "fleet as eng: rc=$rc $(tail -4 <<<"$out")"
grep -q '"identity":"plant-eng".*"target":"access-fleet"' "$WORK/state2/audit.jsonl" \
  && ok "fleet: the second gateway audits the engineer's push" || fail "gw-2 audit lacks the fleet push"
kill -TERM "$PID2"; wait "$PID2" 2>/dev/null; PID2=""

# --- roles need mutual TLS -------------------------------------------------
sed '/client_ca/s/, client_ca: [^}]*//' "$WORK/conduitd.yaml" | sed 's/conduit-ac/conduit-ac2/; s/net_null_ac/net_null_ad/g' >"$WORK/no-mtls.yaml"
out="$(timeout 30 "$CONDUITD" --config "$WORK/no-mtls.yaml" 2>&1)"; rc=$?
[[ $rc == 2 ]] && grep -q 'control.roles: roles bind client certificate identities' <<<"$out" \
  && ok "roles without mTLS refused at start" || fail "roles without mTLS: rc=$rc $(tail -2 <<<"$out")"

echo "$failures failure(s)"
[[ $failures == 0 ]]
