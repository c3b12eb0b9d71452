#!/usr/bin/env bash
# Telemetry against the real programs (DESIGN.md, "Telemetry"): conduitd
# replays a Modbus capture (reads allowed, writes to register 160 denied)
# with metrics.listen on; then
#  - a real Prometheus (Debian's) scrapes it: every counter of
#    `conduitctl counters --json` queried through its HTTP API matches (the
#    replay is over, so the counters stand still), and every panel query of
#    deploy/grafana/conduit-dashboard.json evaluates without error;
#  - headless Chromium loads the status page: the policy version and a
#    blocked write are on it; the screenshot is kept in ARTIFACTS.
#   telemetry_test.sh CONDUITD CONDUITCTL ARTIFACTS_DIR
set -uo pipefail
CONDUITD="$(realpath "$1")"
CTL="$(realpath "$2")"
ARTIFACTS="$(realpath -m "$3")"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d)"
CONTROL=27251
METRICS=27252
PROM=27253
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

PROMETHEUS="$(command -v prometheus || true)"
CHROMIUM="$(command -v chromium || true)"
[[ -n "$PROMETHEUS" ]] || { echo "SKIP: prometheus not installed (deploy/setup.sh installs it)"; exit 77; }
[[ -n "$CHROMIUM" ]] || { echo "SKIP: chromium not installed (deploy/setup.sh installs it)"; exit 77; }

/usr/bin/python3 - "$WORK/modbus.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, Raw, wrpcap
pkts, seq = [], 1000
for k in range(40):
    if k % 4 == 3:   # write single register 160
        pdu = b"\x06" + (160).to_bytes(2, "big") + k.to_bytes(2, "big")
    else:            # read holding registers 0..9
        pdu = b"\x03\x00\x00\x00\x0a"
    req = (k + 1).to_bytes(2, "big") + b"\0\0" + (len(pdu) + 1).to_bytes(2, "big") + b"\x01" + pdu
    pkts.append(Ether()/IP(src="198.18.0.10", dst="198.18.0.200") /
                TCP(sport=50412 + k, dport=502, flags="PA", seq=seq, ack=1)/Raw(req))
wrpcap(sys.argv[1], pkts)
wrpcap(sys.argv[1].replace("modbus.pcap", "empty.pcap"), [])
PY
cat >"$WORK/policy.yaml" <<'POL'
version: "telemetry/7"
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
    on_deny: drop
    rules:
      - id: historian-read
        protocol: modbus
        from: [corporate]
        to: [198.18.0.200/32]
        functions: [read_holding_registers]
        addresses: ["0-99"]
        action: allow
POL
cat >"$WORK/conduitd.yaml" <<CFG
eal: [--no-huge, -m, "256", --no-pci, --file-prefix, conduit-tm]
workers: [1]
wires:
  - name: capture
    a: "net_pcap_tm0,rx_pcap=$WORK/modbus.pcap,tx_pcap=$WORK/a_out.pcap"
    b: "net_pcap_tm1,rx_pcap=$WORK/empty.pcap,tx_pcap=$WORK/b_out.pcap"
control: {listen: "127.0.0.1:$CONTROL", state_dir: $WORK/state}
metrics: {listen: "127.0.0.1:$METRICS"}
policy: $WORK/policy.yaml
events: {jsonl: $WORK/events.jsonl}
log_level: info
CFG
"$CONDUITD" --config "$WORK/conduitd.yaml" >"$WORK/conduitd.log" 2>&1 &
PIDS+=($!)
ctl() { "$CTL" "$@" --target "127.0.0.1:$CONTROL" --timeout 5; }
for _ in $(seq 1 100); do ctl status >/dev/null 2>&1 && break; sleep 0.2; done
# The replay is done when rx_packets stops moving.
prev=-1
for _ in $(seq 1 50); do
  rx="$(ctl counters --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["rx_packets"])' 2>/dev/null)"
  [[ -n "$rx" && "$rx" == "$prev" && "$rx" -gt 0 ]] && break
  prev="$rx"; sleep 0.3
done
[[ "${rx:-0}" -ge 40 ]] && ok "conduitd replayed the capture ($rx packets)" \
  || { cat "$WORK/conduitd.log"; fail "replay: rx_packets=${rx:-?}"; exit 1; }

# --- /metrics itself -------------------------------------------------------
curl -sf "http://127.0.0.1:$METRICS/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
grep -q '^conduit_rx_packets_total [0-9]' "$WORK/metrics.txt" && ok "/metrics has conduit_rx_packets_total" \
  || fail "/metrics: $(head -5 "$WORK/metrics.txt")"
grep -q '^conduit_policy_info{version="telemetry/7"' "$WORK/metrics.txt" && ok "policy info metric" || fail "no policy info"
grep -q '^conduit_rule_hits_total{rule="historian-read"} [1-9]' "$WORK/metrics.txt" && ok "rule hits" \
  || fail "rule hits: $(grep rule_hits "$WORK/metrics.txt")"
grep -q '^conduit_dropped_total{reason="policy_deny"} 10$' "$WORK/metrics.txt" && ok "10 writes dropped by policy" \
  || fail "policy drops: $(grep 'reason="policy_deny"' "$WORK/metrics.txt")"
grep -q '^conduit_malformed_pdus_total{reason="modbus_length_mismatch"} 0$' "$WORK/metrics.txt" \
  && ok "malformed PDUs by reason (none in this traffic)" \
  || fail "malformed PDUs: $(grep malformed "$WORK/metrics.txt" | head -3)"

# --- a real Prometheus ----------------------------------------------------
cat >"$WORK/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: conduit
    static_configs: [{targets: ["127.0.0.1:$METRICS"]}]
YML
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
query() {  # PROMQL -> the API's JSON
  curl -sf --get "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1"
}
up=""
for _ in $(seq 1 60); do
  up="$(query 'up{job="conduit"}' 2>/dev/null | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)"
  [[ "$up" == 1 ]] && break
  sleep 0.5
done
[[ "$up" == 1 ]] && ok "Prometheus scrapes conduitd" || { tail -5 "$WORK/prometheus.log"; fail "Prometheus: up=$up"; }
sleep 2  # one more scrape after the replay settled
# Queries evaluate at a time before conduitctl's read: no later scrape counts.
READ_AT="$(date +%s.%N)"
ctl counters --json >"$WORK/counters.json"
/usr/bin/python3 - "$WORK/counters.json" "$PROM" "$READ_AT" <<'PY' && ok "every counter matches conduitctl counters --json" || fail "Prometheus vs conduitctl"
import json, sys, urllib.parse, urllib.request
counters = json.load(open(sys.argv[1]))
port = sys.argv[2]
def q(expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": sys.argv[3]})
    r = json.load(urllib.request.urlopen(url, timeout=5))
    assert r["status"] == "success", r
    return r["data"]["result"]
bad = 0
checked = 0
# idle_polls counts empty polls, so it moves while nothing flows: the scrape
# (taken before conduitctl read it) may only be behind, never ahead.
MOVING = {"idle_polls"}
def differs(name, got, value):
    if got is None:
        return True
    return not (0 < got <= value) if name in MOVING else got != value
# DESIGN's shape: the totals at the top, drops by reason, one object per worker.
totals = {k: v for k, v in counters.items() if isinstance(v, int)}
for name, value in totals.items():
    res = q(f"conduit_{name}_total")
    got = int(float(res[0]["value"][1])) if res else None
    checked += 1
    if differs(name, got, value):
        print(f"  {name}: prometheus {got}, conduitctl {value}"); bad += 1
for reason, value in counters["dropped_by_reason"].items():
    res = q(f'conduit_dropped_total{{reason="{reason}"}}')
    got = int(float(res[0]["value"][1])) if res else None
    checked += 1
    if got != value:
        print(f"  drop {reason}: prometheus {got}, conduitctl {value}"); bad += 1
for w in counters["workers"]:
    for name, value in w.items():
        if name == "lcore":
            continue
        res = q(f'conduit_worker_{name}_total{{lcore="{w["lcore"]}"}}')
        got = int(float(res[0]["value"][1])) if res else None
        checked += 1
        if differs(name, got, value):
            print(f"  worker {w['lcore']} {name}: prometheus {got}, conduitctl {value}"); bad += 1
print(f"  {checked} series compared, {bad} differ")
sys.exit(1 if bad else 0)
PY
/usr/bin/python3 - "$ROOT/deploy/grafana/conduit-dashboard.json" "$PROM" <<'PY' && ok "every dashboard panel query evaluates" || fail "dashboard queries"
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
bad = n = 0
for p in d["panels"]:
    for t in p.get("targets", []):
        n += 1
        url = f"http://127.0.0.1:{sys.argv[2]}/api/v1/query?" + urllib.parse.urlencode({"query": t["expr"]})
        try:
            r = json.load(urllib.request.urlopen(url, timeout=5))
            if r.get("status") != "success":
                raise ValueError(r)
        except Exception as e:
            print(f"  panel {p['title']!r}: {t['expr']}: {e}"); bad += 1
print(f"  {n} queries, {bad} failed")
sys.exit(1 if bad or n == 0 else 0)
PY

# --- the status page in headless Chromium ----------------------------------
mkdir -p "$ARTIFACTS"
chrome() {
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$WORK/chromium" --no-first-run --window-size=1280,1600 "$@" \
    "http://127.0.0.1:$METRICS/" 2>>"$WORK/chromium.log"
}
chrome --dump-dom >"$WORK/page.html"
grep -q '<b id="policy-version">telemetry/7</b>' "$WORK/page.html" && ok "status page: policy version" \
  || fail "status page lacks the policy version: $(head -c 300 "$WORK/page.html")"
grep -q '<tr class="blocked-op">.*write_single_register.*historian\|<tr class="blocked-op">.*write_single_register' "$WORK/page.html" \
  && ok "status page: a blocked write" || fail "status page lacks a blocked write"
grep -qi '<link\|<script\|src="http' "$WORK/page.html" && fail "status page loads external assets or scripts" \
  || ok "status page has no external assets"
rm -f "$ARTIFACTS/status-page.png"
(cd "$WORK" && chrome --screenshot="$ARTIFACTS/status-page.png" >/dev/null)
if [[ -s "$ARTIFACTS/status-page.png" ]] && head -c 8 "$ARTIFACTS/status-page.png" | grep -q PNG; then
  ok "screenshot kept: $ARTIFACTS/status-page.png ($(stat -c %s "$ARTIFACTS/status-page.png") bytes)"
else
  fail "no screenshot ($(tail -3 "$WORK/chromium.log"))"
fi

echo "$failures failure(s)"
[[ $failures == 0 ]]
