#!/usr/bin/env bash
# Syslog to a real SIEM receiver (issue 16, DESIGN.md "Telemetry"): Debian's
# rsyslog, run as its own instance, takes conduitd's events over TLS (RFC
# 5425, mutual TLS with certificates made here, x509/certvalid), TCP and UDP
# and writes each message as received (%rawmsg%) to a file per input.
#   1. TLS, format rfc5424: every line of conduitd's events.jsonl arrives,
#      parses as RFC 5424 and carries the JSON unchanged, each exactly once
#      while rsyslog is up. Then rsyslog is killed (SIGKILL) mid-stream and
#      restarted: events continue after the reconnect, none emitted while it
#      was down is lost, a duplicate only for a message the sink re-sent.
#   2. TCP, format cef: the same events as CEF:0 in the RFC 5424 MSG, the OT
#      fields in their extension keys; the same kill and restart.
#   3. UDP: killed mid-stream, the datagrams lost are counted as dropped.
# Events: a capture of Modbus writes from 30 sources against a deny policy
# (30 deny events with OT fields), then a stream of mode changes (each a
# mode_change and an audit event) across the kill.
#   syslog_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$(realpath "$1")"
CTL="$(realpath "$2")"
WORK="$(mktemp -d)"
CTL_PORT=27241
TCP_PORT=27242
TLS_PORT=27243
UDP_PORT=27244
METRICS_PORT=27245
PID=""
RS_PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -9 "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  [[ -n "$RS_PID" ]] && kill -9 "$RS_PID" 2>/dev/null && wait "$RS_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

command -v rsyslogd >/dev/null || { echo "SKIP: rsyslogd not installed (deploy/setup.sh)"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl CLI not found"; exit 77; }
[[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so || -n "$(find /usr/lib -name lmnsd_ossl.so 2>/dev/null)" ]] ||
  { echo "SKIP: rsyslog-openssl not installed"; exit 77; }

# --- certificates: a CA, rsyslog's server certificate, conduitd's client one -----
(
  cd "$WORK" || exit 1
  set -e
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -subj /CN=siem-ca -days 2 -out ca.pem
  leaf() {  # name CN extension
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -subj /CN=$2 -out $1.csr
    printf '%s\n' "$3" >$1.ext
    openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem
  }
  leaf server siem.test "subjectAltName=IP:127.0.0.1,DNS:siem.test"
  leaf client conduit-gw "extendedKeyUsage=clientAuth"
) >"$WORK/openssl.log" 2>&1 || { cat "$WORK/openssl.log"; echo "FAIL: openssl"; exit 1; }

# --- rsyslog: its own instance, one file per input, the raw message per line ---
mkdir -p "$WORK/rs"
cat >"$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rs"
       defaultNetstreamDriverCAFile="$WORK/ca.pem"
       defaultNetstreamDriverCertFile="$WORK/server.pem"
       defaultNetstreamDriverKeyFile="$WORK/server.key")
module(load="imtcp")
module(load="imudp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="tcp") { action(type="omfile" file="$WORK/tcp.log" template="raw") }
ruleset(name="tls") { action(type="omfile" file="$WORK/tls.log" template="raw") }
ruleset(name="udp") { action(type="omfile" file="$WORK/udp.log" template="raw") }
input(type="imtcp" address="127.0.0.1" port="$TCP_PORT" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$TLS_PORT" ruleset="tls"
      streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imudp" address="127.0.0.1" port="$UDP_PORT" ruleset="udp")
CONF
rsyslogd -N1 -f "$WORK/rsyslog.conf" >"$WORK/rsyslog-check.log" 2>&1 ||
  { cat "$WORK/rsyslog-check.log"; echo "FAIL: rsyslog config"; exit 1; }

listening() { ss -ltn "sport = :$1" | grep -q LISTEN; }
start_rsyslog() {
  rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rs/rsyslogd.pid" >>"$WORK/rsyslogd.out" 2>&1 &
  RS_PID=$!
  for _ in $(seq 100); do
    listening "$TCP_PORT" && listening "$TLS_PORT" && return 0
    sleep 0.05
  done
  cat "$WORK/rsyslogd.out"; echo "FAIL: rsyslogd did not listen"; exit 1
}
kill_rsyslog() { kill -9 "$RS_PID"; wait "$RS_PID" 2>/dev/null; RS_PID=""; rm -f "$WORK/rs/rsyslogd.pid"; }
start_rsyslog
ok "rsyslogd $(rsyslogd -v | head -1 | awk '{print $2}') listening: tcp $TCP_PORT, tls $TLS_PORT (x509/certvalid), udp $UDP_PORT"

# --- traffic and policy ----------------------------------------------------------
/usr/bin/python3 - "$WORK/writes.pcap" <<'PY'
import sys
from scapy.all import Ether, IP, TCP, Raw, wrpcap
pkts = []
for k in range(30):
    # Modbus/TCP write_single_register (6), unit 1, register 100+k, from 30 engineering stations.
    req = (k + 1).to_bytes(2, "big") + b"\0\0\0\x06\x01\x06" + (100 + k).to_bytes(2, "big") + b"\0\x2a"
    pkts.append(Ether() / IP(src=f"198.18.0.{k + 1}", dst="198.18.0.200") /
                TCP(sport=50000 + k, dport=502, flags="PA", seq=1000, ack=1) / Raw(req))
wrpcap(sys.argv[1], pkts)
PY
cat >"$WORK/policy.yaml" <<'POL'
version: "syslog-test/1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant: [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: allow
    rules:
      - id: historian-read
        protocol: modbus
        functions: [read_holding_registers]
        action: allow
POL

run_conduitd() {  # NAME SYSLOG-FLOW-MAPPING
  local name="$1"
  rm -rf "$WORK/$name"; mkdir -p "$WORK/$name"
  cat >"$WORK/$name/conduitd.yaml" <<CFG
eal: [--no-huge, -m, "256", --no-pci, --file-prefix, conduit-syslog-$name]
workers: [1]
wires:
  - name: w
    a: "net_pcap_sl${name}a,rx_pcap=$WORK/writes.pcap,tx_pcap=$WORK/$name/a_out.pcap"
    b: "net_pcap_sl${name}b,tx_pcap=$WORK/$name/b_out.pcap"
control: {listen: "127.0.0.1:$CTL_PORT", state_dir: "$WORK/$name/state"}
metrics: {listen: "127.0.0.1:$METRICS_PORT"}
policy: $WORK/policy.yaml
events:
  jsonl: $WORK/$name/events.jsonl
  syslog: $2
log_level: info
CFG
  "$CONDUITD" --config "$WORK/$name/conduitd.yaml" >"$WORK/$name/conduitd.log" 2>&1 &
  PID=$!
  for _ in $(seq 150); do
    [[ $(grep -c '"verdict":"deny"' "$WORK/$name/events.jsonl" 2>/dev/null) == 30 ]] && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/$name/conduitd.log"; echo "FAIL: $name: conduitd did not report the 30 denied writes"; exit 1
}
stop_conduitd() {
  kill -TERM "$PID"; wait "$PID"; local rc=$?; PID=""
  [[ $rc == 0 ]] || fail "conduitd exit code $rc"
}
mode_changes() {  # COUNT: each is a mode_change and an audit event
  local i
  for ((i = 0; i < $1; i++)); do
    if ((i % 2)); then m=enforce; else m=monitor; fi
    "$CTL" mode "$m" --target "127.0.0.1:$CTL_PORT" --timeout 5 >/dev/null 2>&1 || fail "mode $m"
    sleep 0.1
  done
}
# The sink's counters as /metrics and conduitctl status show them, while
# conduitd runs.
scrape() {  # NAME
  /usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$METRICS_PORT/metrics" | grep '^conduit_syslog_' >"$WORK/$1/metrics" || fail "$1: no conduit_syslog_ metrics"
  "$CTL" status --target "127.0.0.1:$CTL_PORT" --timeout 5 --json >"$WORK/$1/status.json" 2>&1 \
    || fail "$1: conduitctl status --json: $(tail -2 "$WORK/$1/status.json")"
  "$CTL" status --target "127.0.0.1:$CTL_PORT" --timeout 5 >"$WORK/$1/status.txt" 2>&1 \
    || fail "$1: conduitctl status: $(tail -2 "$WORK/$1/status.txt")"
  /usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$METRICS_PORT/" >"$WORK/$1/page.html" || fail "$1: no status page"
}
# Waits until FILE has as many lines as the jsonl has (the receiver caught up).
caught_up() {  # LOG JSONL
  for _ in $(seq 100); do
    [[ -f "$1" && $(wc -l <"$1") -ge $(wc -l <"$2") ]] && return 0
    sleep 0.05
  done
  return 1
}
# The stream and the kill: events, a snapshot check, rsyslog killed while
# events keep coming, restarted, more events; conduitd stopped.
stream_with_kill() {  # NAME LOG
  local name="$1" log="$2"
  mode_changes 6
  caught_up "$log" "$WORK/$name/events.jsonl"
  cp "$WORK/$name/events.jsonl" "$WORK/$name/before.jsonl"
  cp "$log" "$WORK/$name/before.log"
  mode_changes 4   # in flight when rsyslog dies: unconfirmed, re-sent later
  kill_rsyslog
  mode_changes 6   # emitted while rsyslog is down
  start_rsyslog
  mode_changes 6   # after the restart
  sleep 1
  scrape "$name"
  stop_conduitd
  grep -o 'syslog 127.0.0.1:[0-9]* ([a-z, ]*): sent .*' "$WORK/$name/conduitd.log" | tail -1 >"$WORK/$name/counters"
}

check() {  # NAME LOG FORMAT(json|cef) MODE(stream|udp)
  /usr/bin/python3 - "$WORK/$1" "$2" "$3" "$4" <<'PY'
import calendar, collections, json, re, sys, time
d, log, fmt, mode = sys.argv[1:5]
ok = True
def bad(msg):
    global ok
    ok = False
    print(f"FAIL {msg}")

HEADER = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) conduitd (\d+) (deny|allow|alert|event) - (.*)$")
def msgs(path):
    out = []
    for line in open(path, encoding="utf-8").read().splitlines():
        m = HEADER.match(line)
        if not m:
            bad(f"not RFC 5424 from conduitd: {line[:200]}")
            continue
        out.append(m.group(6))
    return out

def parse_cef(s):
    """The 7 header fields and the extension pairs, both unescaped."""
    header, i, field = [], 0, ""
    while len(header) < 7 and i < len(s):
        c = s[i]; i += 1
        if c == "\\" and i < len(s):
            field += s[i]; i += 1
        elif c == "|":
            header.append(field); field = ""
        else:
            field += c
    ext, keys, k = s[i:], [], 0
    while k < len(ext):
        if ext[k] == "\\":
            k += 2; continue
        if ext[k] == "=":
            st = k
            while st > 0 and ext[st - 1] != " ":
                st -= 1
            keys.append((st, k))
        k += 1
    pairs = {}
    for n, (st, eq) in enumerate(keys):
        end = keys[n + 1][0] - 1 if n + 1 < len(keys) else len(ext)
        pairs[ext[st:eq]] = re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), ext[eq + 1:end])
    return header, pairs

def ms(ts):  # RFC 3339 (ms or µs) -> epoch ms, as CEF rt
    base, frac = ts.rstrip("Z").split(".")
    return str(calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac.ljust(6, "0")[:3]))

# What identifies one event in both formats: CEF carries no JSON line, so
# signature, time and endpoints (audit records: their seq; they are posted
# with the time of posting, not the record's).
def cef_key(m):
    header, ext = parse_cef(m)
    if len(header) != 7 or header[0] != "CEF:0" or header[1:3] != ["Conduit", "conduitd"]:
        bad(f"not CEF:0 from Conduit: {m[:200]}")
        return m
    if not header[6].isdigit() or not 0 <= int(header[6]) <= 10:
        bad(f"CEF severity {header[6]!r}")
    audit = header[4] == "audit"
    return (header[4], None if audit else ext.get("rt"), ext.get("src"), ext.get("spt"), ext.get("externalId"))

def json_key(line):
    e = json.loads(line)
    sig = e.get("event") or e.get("verdict") or "observed"
    return (sig, None if sig == "audit" else ms(e["ts"]), e.get("src"),
            str(e["sport"]) if "sport" in e else None, str(e["seq"]) if "seq" in e else None)

jsonl = open(f"{d}/events.jsonl", encoding="utf-8").read().splitlines()
received = msgs(log)
counters = open(f"{d}/counters").read().strip()
c = {k: int(v) for k, v in re.findall(r"(sent|resent|dropped|errors|connects) (\d+)", counters)}
print(f"     {d.rsplit('/', 1)[1]}: {len(jsonl)} events in events.jsonl, {len(received)} messages received; {counters}")

# /metrics, scraped while conduitd ran (after the restart): the same
# counters, never ahead of the final ones, and showing what happened.
m = {}
for line in open(f"{d}/metrics").read().splitlines():
    mm = re.match(r'conduit_syslog_(messages|errors|connects)_total(?:\{result="(\w+)"\})? (\d+)$', line)
    if mm:
        m[mm.group(2) or mm.group(1)] = int(mm.group(3))
if set(m) != {"sent", "resent", "dropped", "errors", "connects"}:
    bad(f"/metrics: syslog families incomplete: {sorted(m)}")
elif any(m[k] > c.get(k, 0) for k in m):
    bad(f"/metrics ahead of the sink's final counters: {m} vs {c}")
elif m["sent"] == 0 or (mode == "udp" and m["dropped"] == 0) or (mode != "udp" and m["connects"] < 2):
    bad(f"/metrics does not show what happened (sends, the drops or the reconnect): {m}")
else:
    print(f"ok   /metrics while running: conduit_syslog_messages_total sent {m['sent']} resent {m['resent']} "
          f"dropped {m['dropped']}, connects {m['connects']}, errors {m['errors']}")

# conduitctl status --json, read right after the scrape: the same sink.
st = json.load(open(f"{d}/status.json"))
st = st[0] if isinstance(st, list) else st
sl = st.get("syslog")
if not isinstance(sl, dict):
    bad(f"status --json: no syslog object: {st.get('syslog')!r}")
elif (sl["transport"] == "udp") != (mode == "udp") or not sl["address"].startswith("127.0.0.1:"):
    bad(f"status --json: syslog says where to {sl['transport']} {sl['address']}")
elif any(sl[k] > c.get(k, 0) for k in ("sent", "resent", "dropped", "errors", "connects")):
    bad(f"status --json: syslog ahead of the sink's final counters: {sl} vs {c}")
elif sl["sent"] < m.get("sent", 0) or (mode == "udp" and sl["dropped"] == 0) or (mode != "udp" and sl["connects"] < 2):
    bad(f"status --json: syslog does not show what happened: {sl} (metrics {m})")
else:
    print(f"ok   status --json: syslog {sl['transport']} {sl['address']}: sent {sl['sent']}, "
          f"dropped {sl['dropped']}, connects {sl['connects']}")
# The text form: upper case once messages were lost (only UDP loses here).
text = open(f"{d}/status.txt", encoding="utf-8").read()
want = ("  SYSLOG   " if mode == "udp" else "  syslog   ") + (f"{sl['transport']} {sl['address']}: " if isinstance(sl, dict) else "?")
line = next((l for l in text.splitlines() if l.startswith(want)), None)
if line is None:
    bad(f"conduitctl status: no line starting {want!r}: {text!r}")
else:
    print(f"ok   conduitctl status: {line.strip()}")
page = open(f"{d}/page.html", encoding="utf-8").read()
row = re.search(r"<tr><td>syslog</td><td>(.*?)</td></tr>", page)
if not row or not isinstance(sl, dict) or f"{sl['transport']} {sl['address']}: " not in row.group(1):
    bad(f"status page: no syslog row naming the sink: {row.group(1) if row else page[:200]!r}")
else:
    print(f"ok   status page: syslog row: {re.sub('<[^>]+>', '', row.group(1))}")

if fmt == "cef":
    rec = collections.Counter(cef_key(m) for m in received)
    want = collections.Counter(json_key(l) for l in jsonl)
    # The OT fields of every deny, against its JSON line.
    by_spt = {}
    for m in received:
        h, ext = parse_cef(m)
        if len(h) == 7 and h[4] == "deny":
            by_spt[ext.get("spt")] = (h, ext)
    denies = [json.loads(l) for l in jsonl if '"verdict":"deny"' in l]
    checked = 0
    for e in denies:
        got = by_spt.get(str(e["sport"]))
        if got is None:
            bad(f"no CEF message for the deny from {e['src']}:{e['sport']}")
            continue
        h, ext = got
        expect = {"rt": ms(e["ts"]), "src": e["src"], "spt": str(e["sport"]), "dst": e["dst"], "dpt": str(e["dport"]),
                  "proto": e["l4"].upper(), "app": e["protocol"], "act": "deny",
                  "outcome": "blocked" if e["enforced"] else "passed",
                  "cs1Label": "conduit", "cs1": e["conduit"], "cs2Label": "rule", "cs2": e["rule"],
                  "cs3Label": "function", "cs3": e["function_name"],
                  "cs4Label": "policy_version", "cs4": e["policy_version"],
                  "cs5Label": "mode", "cs5": e["mode"], "cn1Label": "unit", "cn1": str(e["unit"]),
                  "cn2Label": "function_code", "cn2": str(e["function"]),
                  "cs6Label": "address", "cs6": f"{e['address'][0]}-{e['address'][1]}",
                  "flexString1Label": "direction", "flexString1": e["direction"]}
        diff = {k: (ext.get(k), v) for k, v in expect.items() if ext.get(k) != v}
        if diff or h[5] != f"deny modbus {e['function_name']}" or h[6] != ("7" if e["enforced"] else "6"):
            bad(f"CEF fields of {e['src']}:{e['sport']}: {diff} header {h}")
        else:
            checked += 1
    if denies and checked == len(denies):
        print(f"ok   CEF: all {checked} denies carry rt/src/spt/dst/dpt/proto/app/act/outcome, conduit (cs1), rule (cs2), "
              f"function (cs3), policy_version (cs4), mode (cs5), address (cs6), unit (cn1), function_code (cn2), "
              f"direction (flexString1), severity 7")
        print(f"     e.g. {'|'.join(h)}|{' '.join(f'{k}={v}' for k, v in ext.items())}")
else:
    rec = collections.Counter(received)
    want = collections.Counter(jsonl)
    for line in received[:1]:
        json.loads(line)  # the JSON survives the trip intact (equality below)

missing = want - rec
extra = rec - want
dups = sum(v for k, v in extra.items() if k in want)
unknown = sum(v for k, v in extra.items() if k not in want)
if mode == "udp":
    lost = sum(missing.values())
    if lost == 0:
        bad("udp: nothing lost while rsyslog was down: the test did not test")
    elif not lost - 2 <= c.get("dropped", 0) <= lost + 2:
        bad(f"udp: {lost} lost of {len(jsonl)}, but the sink counted dropped {c.get('dropped')}")
    else:
        print(f"ok   udp: {lost} of {len(jsonl)} lost while rsyslog was down, sink counted dropped {c['dropped']}; the rest arrived intact")
    if unknown:
        bad(f"udp: {unknown} messages that conduitd did not write")
    sys.exit(0 if ok else 1)

if missing:
    bad(f"{sum(missing.values())} events never arrived: {list(missing)[:3]}")
if unknown:
    bad(f"{unknown} messages not in events.jsonl: {list(extra)[:3]}")
if dups > c.get("resent", 0):
    bad(f"{dups} duplicates but only {c.get('resent')} re-sent")
if c.get("dropped", 0) != 0:
    bad(f"sink dropped {c['dropped']}")
if c.get("connects", 0) < 2:
    bad(f"connects {c.get('connects')}: no reconnect?")
if ok:
    print(f"ok   after the kill and restart: all {len(jsonl)} events arrived (those emitted while rsyslog was down "
          f"and after the restart included), none lost; {dups} duplicate(s), all re-sent ones (resent {c.get('resent')})")

# Before the kill: exactly once each, in order.
before = open(f"{d}/before.jsonl", encoding="utf-8").read().splitlines()
before_rx = msgs(f"{d}/before.log")
if fmt == "json":
    if before_rx != before:
        bad(f"before the kill: {len(before_rx)} received vs {len(before)} written, or not equal/in order")
    else:
        print(f"ok   before the kill: {len(before)} events each exactly once, in order, RFC 5424 with the JSON line as MSG byte for byte")
elif [cef_key(m) for m in before_rx] != [json_key(l) for l in before]:
    bad(f"before the kill: {len(before_rx)} CEF messages vs {len(before)} events, or not the same/in order")
else:
    print(f"ok   before the kill: {len(before)} events each exactly once, in order, as CEF:0 in RFC 5424")
sys.exit(0 if ok else 1)
PY
}

# --- 1. TLS (mutual), RFC 5424 -------------------------------------------------------
run_conduitd tls "{address: \"127.0.0.1:$TLS_PORT\", transport: tls, ca: $WORK/ca.pem, cert: $WORK/client.pem, key: $WORK/client.key}"
stream_with_kill tls "$WORK/tls.log"
check tls "$WORK/tls.log" json stream || failures=$((failures + 1))

# --- 2. TCP, CEF -----------------------------------------------------------------
run_conduitd tcp "{address: \"127.0.0.1:$TCP_PORT\", transport: tcp, format: cef}"
stream_with_kill tcp "$WORK/tcp.log"
check tcp "$WORK/tcp.log" cef stream || failures=$((failures + 1))

# --- 3. UDP: losses counted ------------------------------------------------------
run_conduitd udp "{address: \"127.0.0.1:$UDP_PORT\", transport: udp}"
mode_changes 4
caught_up "$WORK/udp.log" "$WORK/udp/events.jsonl"
kill_rsyslog
mode_changes 6
start_rsyslog
mode_changes 4
sleep 1
scrape udp
stop_conduitd
grep -o 'syslog 127.0.0.1:[0-9]* ([a-z, ]*): sent .*' "$WORK/udp/conduitd.log" | tail -1 >"$WORK/udp/counters"
check udp "$WORK/udp.log" json udp || failures=$((failures + 1))

if ((failures)); then
  echo "syslog: $failures failure(s); logs in $WORK kept"
  trap - EXIT
  [[ -n "$RS_PID" ]] && kill -9 "$RS_PID"
  exit 1
fi
echo "syslog: all checks passed"
