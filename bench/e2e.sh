#!/usr/bin/env bash
# End-to-end packet rates on one worker core, each next to its baseline from
# the same run (bench/RESULTS.md, "End to end"):
#   (a) dpdk-testpmd io forwarding, net_pcap (preloaded capture, looped) →
#       net_null: what the ports themselves cost;
#   (b) conduitd with one worker on the same two ports and the generated
#       10k-rule / 1k-signature policy; rate from `conduitctl counters --json`;
#   (c) Suricata 7 on the same capture, single-threaded, with the policy
#       translated into Suricata rules; rate and alert counts next to
#       `conduitctl simulate`'s verdicts.
# A step that cannot run here says why and the script goes on. Needs root
# (DPDK, apt). Generated files go to $WORK, never into the tree.
#
#   bench/e2e.sh                       # BUILD=build, T=20 s per rate
#   BUILD=build-bench T=30 bench/e2e.sh
#   CAPTURE=/tmp/x.pcap FLOWS=... PACKETS=...   # another workload
#   WORKERS=4 SURICATA=0 bench/e2e.sh  # 4 testpmd cores vs 4 conduitd workers
#   EAL_EXTRA="-d /opt/dpdk/pmds"      # DPDK drivers from another folder
#
# WORKERS=N splits the capture into N shares by a symmetric flow hash
# (bench/gen/split_rss.py), one per net_pcap receive queue, as symmetric
# RSS spreads a NIC's traffic: each worker, and each testpmd core, owns its
# flows. Cores 1..N forward; core 0 is the main lcore.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD=$ROOT/$BUILD
T=${T:-20}
WORK=${WORK:-/tmp/conduit-bench}
PACKETS=${PACKETS:-100000}
FLOWS=${FLOWS:-10000}
CAPTURE=${CAPTURE:-$WORK/ics-$PACKETS.pcap}
POLICY=$WORK/policy.yaml
SURI_RULES=$WORK/conduit.rules
PY=${PY:-/usr/bin/python3}
WORKERS=${WORKERS:-1}
SURICATA=${SURICATA:-1}
read -r -a EAL_EXTRA <<< "${EAL_EXTRA:-}"
EAL_EXTRA_YAML=""
for arg in "${EAL_EXTRA[@]}"; do EAL_EXTRA_YAML+=", \"$arg\""; done
PORT=${PORT:-50391}                  # conduitd's gRPC listener (loopback)
MBUFS=$(( PACKETS + PACKETS / 4 + 16383 ))   # net_pcap infinite_rx preloads the capture
# ~2.3 KiB an mbuf, and net_pcap preloads a copy of the capture into them:
# 4.5 KiB a slot leaves room (a 1M-packet capture needs ~6 GB).
MEM_MB=$(( MBUFS * 4608 / 1048576 + 512 ))
CONDUITD=$BUILD/control/conduitd
CONDUITCTL=$BUILD/control/conduitctl
mkdir -p "$WORK"

say() { printf '\n== %s\n' "$*"; }
skip() { printf 'SKIPPED: %s\n' "$*"; }
mpps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", (s > 0 ? n / s / 1e6 : 0) }'; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK/state" /var/run/dpdk/cb-e2e-testpmd /var/run/dpdk/cb-e2e-conduitd
}
trap cleanup EXIT

say "inputs"
echo "uptime: $(uptime)"
if [[ ! -s $CAPTURE ]]; then
  $PY "$ROOT/bench/gen/make_workload.py" --packets "$PACKETS" --flows "$FLOWS" --out "$CAPTURE" || exit 1
else
  echo "$CAPTURE: reused"
fi
$PY "$ROOT/bench/gen/make_policy.py" --out "$POLICY" --suricata "$SURI_RULES" || exit 1
# net_pcap's receive side: one rx_pcap (one queue) per worker.
RX_PCAPS="rx_pcap=$CAPTURE"
if (( WORKERS > 1 )); then
  SHARES=$WORK/$(basename "$CAPTURE" .pcap).rss$WORKERS
  [[ -s $SHARES.$(( WORKERS - 1 )).pcap && $SHARES.0.pcap -nt $CAPTURE ]] ||
    $PY "$ROOT/bench/gen/split_rss.py" --shares "$WORKERS" "$CAPTURE" "$SHARES" || exit 1
  RX_PCAPS=""
  for (( q = 0; q < WORKERS; q++ )); do RX_PCAPS+="${RX_PCAPS:+,}rx_pcap=$SHARES.$q.pcap"; done
fi
WORKER_LCORES=$(seq -s, 1 "$WORKERS")

# --- (a) testpmd baseline ----------------------------------------------------
say "(a) dpdk-testpmd io forwarding, net_pcap → net_null, $WORKERS core(s), ${T} s"
TP_MPPS=""
if ! command -v dpdk-testpmd >/dev/null; then
  # Debian 12 ships dpdk-testpmd in dpdk-dev, not in dpdk.
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpdk-dev) \
    > "$WORK/testpmd-install.log" 2>&1 || true
fi
if ! command -v dpdk-testpmd >/dev/null; then
  skip "dpdk-testpmd could not be installed (apt-get install dpdk-dev); see $WORK/testpmd-install.log"
else
  # testpmd quits when stdin closes: stdin is held open until it says
  # "Press enter" (net_pcap's preload of a big capture takes a while), then T
  # seconds more. Rate = forwarded packets / wall time between "Press enter"
  # and exit.
  TP_LOG=$WORK/testpmd.log
  : > "$TP_LOG"
  # stdbuf: line-buffered, so each line is stamped when printed.
  ( for _ in $(seq 1500); do grep -qE "Press enter to exit|Cause:" "$TP_LOG" && break; sleep 0.2; done
    sleep "$T" ) | stdbuf -oL -eL dpdk-testpmd --no-huge -m "$MEM_MB" --file-prefix cb-e2e-testpmd "${EAL_EXTRA[@]}" \
      -l "0,$WORKER_LCORES" --no-pci --vdev "net_pcap0,$RX_PCAPS,infinite_rx=1" --vdev "net_null0,no-rx=1" \
      -- --forward-mode=io --nb-cores="$WORKERS" --rxq="$WORKERS" --txq="$WORKERS" \
      --total-num-mbufs="$MBUFS" 2>&1 |
    while IFS= read -r line; do
      printf '%s %s\n' "$(date +%s.%N)" "$line"
    done > "$TP_LOG"
  start=$(awk '/Press enter to exit/ { print $1; exit }' "$TP_LOG")
  stop=$(awk '/Telling cores to stop/ { print $1; exit }' "$TP_LOG")
  fwd=$(awk '/Accumulated forward statistics/ { getline; getline; print $3; exit }' "$TP_LOG")
  if [[ -n $start && -n $stop && -n $fwd ]]; then
    secs=$(awk -v a="$start" -v b="$stop" 'BEGIN { print b - a }')
    TP_MPPS=$(mpps "$fwd" "$secs")
    echo "testpmd: $fwd packets forwarded in $secs s = $TP_MPPS Mpps"
  else
    skip "testpmd gave no statistics; see $TP_LOG"; tail -5 "$TP_LOG"
  fi
fi

# --- (b) conduitd ------------------------------------------------------------
say "(b) conduitd, $WORKERS worker(s), same ports, generated policy, ${T} s"
CD_MPPS=""
if [[ ! -x $CONDUITD || ! -x $CONDUITCTL ]]; then
  skip "no $CONDUITD / $CONDUITCTL (ninja -C $BUILD control/conduitd control/conduitctl)"
else
  rm -rf "$WORK/state"; mkdir -p "$WORK/state"
  cat > "$WORK/conduitd-e2e.yaml" <<EOF
eal: [--no-huge, -m, "$MEM_MB", --file-prefix, cb-e2e-conduitd, --no-pci$EAL_EXTRA_YAML]
workers: [$WORKER_LCORES]
wires:
  - name: corp-plant
    a: "net_pcap0,$RX_PCAPS,infinite_rx=1"
    b: "net_null0,no-rx=1"
mempool: {mbufs: $MBUFS, cache: 256}
queues: {rx_desc: 1024, tx_desc: 1024, burst: 32}
flows: {capacity: 262144, idle_timeout_s: 300}
# A looped capture is an endless backlog: with the overload trigger on, the
# worker would (rightly) stop inspecting and this would measure bypass.
overload: {enter_full_bursts: 0, cycle_budget: 0}
control:
  listen: "127.0.0.1:$PORT"
  state_dir: $WORK/state
policy: $POLICY
failure: open
log_level: warning
EOF
  "$CONDUITD" --config "$WORK/conduitd-e2e.yaml" > "$WORK/conduitd.log" 2>&1 &
  PIDS+=($!)
  ctl() { "$CONDUITCTL" "$1" --target "127.0.0.1:$PORT" "${@:2}"; }  # options after the command
  want=$(awk -F'"' '/^version:/ { print $2 }' "$POLICY")
  ready=""
  for _ in $(seq 1 120); do
    if ctl status --json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else [d] + [x for v in d.values() if isinstance(v, list) for x in v]
sys.exit(0 if any(isinstance(r, dict) and r.get("policy_version") == sys.argv[1] for r in rows) else 1)
' "$want" 2>/dev/null; then ready=1; break; fi
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.5
  done
  if [[ -z $ready ]]; then
    skip "conduitd did not come up with the policy; see $WORK/conduitd.log"; tail -5 "$WORK/conduitd.log"
  else
    total() { ctl counters --json | $PY -c "import json,sys; d=json.load(sys.stdin); print(d['$1'])"; }
    sleep 2   # past start-up
    r0=$(total inspected_packets); t0=$(date +%s.%N)
    sleep "$T"
    r1=$(total inspected_packets); t1=$(date +%s.%N)
    ctl counters --json > "$WORK/conduitd-counters.json"
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    CD_MPPS=$(mpps $(( r1 - r0 )) "$secs")
    echo "conduitd: $(( r1 - r0 )) packets in $secs s = $CD_MPPS Mpps"
    $PY - "$WORK/conduitd-counters.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
keys = ["rx_packets", "tx_packets", "dropped_packets", "inspected_packets", "bypassed_packets"]
print("totals since start: " + ", ".join(f"{k}={d[k]}" for k in keys))
print("dropped_by_reason: " + json.dumps(d.get("dropped_by_reason", {})))
PYEOF
  fi
  kill "${PIDS[-1]}" 2>/dev/null; wait "${PIDS[-1]}" 2>/dev/null
fi
if [[ -n $TP_MPPS && -n $CD_MPPS ]]; then
  echo "conduitd / testpmd = $(awk -v a="$CD_MPPS" -v b="$TP_MPPS" 'BEGIN { printf "%.2f", a / b }')"
fi

# --- (c) Suricata 7 ----------------------------------------------------------
say "(c) Suricata 7, single runmode, same capture, translated rules"
if [[ $SURICATA = 0 ]]; then
  skip "SURICATA=0"
  say "done"; exit 0
fi
if ! command -v suricata >/dev/null; then
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
  fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports suricata) \
    > "$WORK/suricata-install.log" 2>&1 || true
fi
if ! command -v suricata >/dev/null; then
  skip "suricata could not be installed; see $WORK/suricata-install.log"
else
  suricata -V
  # Memcaps raised from Debian's suricata.yaml (flow 128 MB, stream 64 MB,
  # reassembly 256 MB): at 100k concurrent flows those shed reassembly
  # (tcp.segment_memcap_drop in stats.log), and with it ICS requests that
  # Suricata then never inspects.
  SURI_SET=(--set app-layer.protocols.modbus.enabled=yes --set app-layer.protocols.dnp3.enabled=yes
            --set app-layer.protocols.enip.enabled=yes --set flow.memcap=1gb --set stream.memcap=2gb
            --set stream.reassembly.memcap=4gb)
  # Rate = packets / the time between suricata.log's "Starting file run" and
  # "end of file reached" (1 s resolution): rule loading and shutdown left out.
  rm -rf "$WORK/suricata"; mkdir -p "$WORK/suricata"
  a=$(date +%s.%N)
  suricata -r "$CAPTURE" --runmode single -k none -S "$SURI_RULES" -l "$WORK/suricata" "${SURI_SET[@]}" \
    > "$WORK/suricata/stdout.log" 2>&1
  b=$(date +%s.%N)
  SLOG=$WORK/suricata/suricata.log
  ts() { grep -m1 "$1" "$SLOG" | grep -oE '20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8}' | head -1; }
  s_start=$(date -d "$(ts 'Starting file run')" +%s 2>/dev/null)
  s_end=$(date -d "$(ts 'end of file reached')" +%s 2>/dev/null)
  pk=$(grep -o 'read 1 file, [0-9]* packets' "$SLOG" | grep -o '[0-9]* packets' | cut -d' ' -f1)
  if [[ -n $s_start && -n $s_end && -n $pk ]]; then
    proc=$(( s_end - s_start )); (( proc > 0 )) || proc=1
    SU_MPPS=$(mpps "$pk" "$proc")
    echo "suricata: $pk packets, ${proc} s of packet processing (±1 s) = $SU_MPPS Mpps;" \
         "whole run $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }') s"
    grep -E 'rules successfully loaded|signatures processed' "$SLOG" | sed 's/^.*: //' | cut -c1-160
    [[ -n $CD_MPPS ]] && echo "conduitd / suricata = $(awk -v a="$CD_MPPS" -v b="$SU_MPPS" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
  else
    skip "suricata gave no timing; see $SLOG"; tail -5 "$WORK/suricata/stdout.log"
  fi
  grep -iE 'error|warning' "$WORK/suricata/stdout.log" | head -5
  grep -E 'tcp.segment_memcap_drop|flow.memcap' "$WORK/suricata/stats.log" | tail -2

  say "(c) verdicts: conduitctl simulate vs Suricata alerts"
  if [[ -x $CONDUITCTL ]]; then
    "$CONDUITCTL" simulate --policy "$POLICY" --pcap "$CAPTURE" --jsonl > "$WORK/simulate.jsonl" 2>/dev/null
  fi
  $PY - "$WORK/simulate.jsonl" "$WORK/suricata/eve.json" <<'PYEOF'
import collections, json, os, sys
sim, eve = sys.argv[1], sys.argv[2]
def group(name):
    for prefix in ("contractor-no-writes", "default", "s7-cpu-stop", "sig-"):
        if name.startswith(prefix):
            return prefix
    return "other"
# Requests denied, and flows with at least one: conduit reports every
# denied request of a flow it has blocked, Suricata (seen on the 1M
# capture) one alert per flow, so the flows are what compare.
conduit, conduit_flows = collections.Counter(), collections.defaultdict(set)
if os.path.exists(sim):
    for line in open(sim):
        e = json.loads(line)
        if e.get("verdict") == "deny" and e.get("direction") != "response":
            g = group(e.get("rule", "default"))
            conduit[g] += 1
            conduit_flows[g].add((e["src"], e["sport"], e["dst"], e["dport"]))
suri, suri_flows = collections.Counter(), collections.defaultdict(set)
if os.path.exists(eve):
    for line in open(eve):
        e = json.loads(line)
        if e.get("event_type") == "alert":
            g = group(e["alert"]["signature"])
            suri[g] += 1
            suri_flows[g].add((e["src_ip"], e.get("src_port"), e["dest_ip"], e.get("dest_port")))
print(f"{'denied requests by rule group':30} {'conduit':>9} {'suricata':>9} {'flows: conduit':>15} {'suricata':>9} {'both':>6}")
for k in sorted(set(conduit) | set(suri)):
    both = len(conduit_flows[k] & suri_flows[k])
    print(f"{k:30} {conduit[k]:>9} {suri[k]:>9} {len(conduit_flows[k]):>15} {len(suri_flows[k]):>9} {both:>6}")
print("'default' and 's7-cpu-stop' are approximate in Suricata (no S7/IEC 104 parser; the default deny\n"
      "is one drop per ICS port behind pass rules): 'contractor-no-writes' is the like-for-like row.")
PYEOF
fi
say "done"
