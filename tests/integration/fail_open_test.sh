#!/usr/bin/env bash
# The supervisor's failure policy under a live Modbus/TCP poll (pymodbus both
# ends, 2 polls a second, corp -> plant through conduitd on the lab):
#   open-kill    SIGKILL conduitd: the supervisor bridges the wire at once,
#                polls keep being answered while no conduitd runs, the longest
#                gap between answers is <= 1.0 s; conduitd is restarted and
#                takes the wire back (bridge gone, its counters move, healthy)
#   closed-kill  the same with `failure: closed`: nothing is answered while
#                conduitd is down, the bridge never appears, service resumes
#   open-hang    SIGSTOP conduitd: probe failures make the supervisor kill it
#                within a bounded time, bridge, restart, hand back
# The restart back-off is 2 s, so conduitd is absent for seconds: answers in
# that window can only come through the bridge, and their absence under
# `closed` is not luck. Own names (lab prefix "tf", port 27181); everything is
# cleaned up even on failure.
#   fail_open_test.sh CONDUITD CONDUITCTL
set -uo pipefail
CONDUITD="$(realpath "$1")"
CONDUITCTL="$(realpath "$2")"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LAB="$ROOT/deploy/lab"
SUP="$ROOT/deploy/supervisor/conduit-supervisor"
P="tf"
PORT=27181
TARGET="127.0.0.1:$PORT"
BR="cbr-${P}gw-corp"           # the supervisor's bridge name for this lab's wire
STATE="/tmp/conduit-lab${P}-state"
DURATION=24                    # seconds of polling per case
ACT_AT=4                       # seconds into the poll when conduitd is killed or stopped

if [[ $(id -u) != 0 ]] || ! ip netns list >/dev/null 2>&1; then
  echo "SKIP: needs root and network namespaces"; exit 77
fi
if ! /usr/bin/python3 -c 'import pymodbus, yaml' 2>/dev/null; then
  echo "SKIP: needs python3-pymodbus and python3-yaml"; exit 77
fi
if ! ip link add name "${P}brprobe" type bridge 2>/dev/null; then
  echo "SKIP: cannot create Linux bridges here"; exit 77
fi
ip link del "${P}brprobe"

WORK="$(mktemp -d)"
SUP_PID="" SERVER_PID="" POLL_PID="" SAMPLER_PID=""
stop_pid() {  # PID [grace seconds]: TERM, wait, KILL
  local pid="$1" grace="${2:-5}"
  [[ -z "$pid" ]] && return
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq $((grace * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  stop_pid "$POLL_PID" 1
  stop_pid "$SAMPLER_PID" 1
  stop_pid "$SUP_PID" 20        # it stops conduitd; if killed, conduitd dies with it
  stop_pid "$SERVER_PID" 1
  ip link del "$BR" >/dev/null 2>&1
  "$LAB/lab.sh" down "$P"
  rm -rf "$WORK" "$STATE"
}
trap cleanup EXIT

"$LAB/lab.sh" down "$P"   # whatever an earlier run left behind
ip link del "$BR" >/dev/null 2>&1
"$LAB/lab.sh" up "$P" || exit 1
ip netns exec "${P}plant" /usr/bin/python3 "$LAB/modbus_server.py" 198.18.0.200 502 \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

conduitd_pid() { pgrep -P "$SUP_PID" -x conduitd | head -1; }

# Starts the supervisor with `failure: $1` and waits until conduitd carries
# the wire (healthy, bridge gone).
start_supervisor() {
  local mode="$1" log="$2"
  rm -rf "$STATE"
  {
    "$LAB/make_config.sh" "$P" "$PORT" | sed "s/^failure: .*/failure: $mode/"
    echo "policy: $ROOT/deploy/examples/lab-policy.yaml"   # allows the poll (Modbus reads)
    echo "supervisor: {probe_interval_ms: 200, probe_timeout_ms: 1000, probe_failures: 3,"
    echo "             restart_backoff_ms: [2000, 8000]}"
  } >"$WORK/conduitd.yaml"
  "$SUP" --config "$WORK/conduitd.yaml" --conduitd "$CONDUITD" --conduitctl "$CONDUITCTL" \
    >"$WORK/conduitd.out" 2>"$log" &
  SUP_PID=$!
  for _ in $(seq 900); do
    if grep -q "healthy after" "$log" && [[ ! -e /sys/class/net/$BR ]]; then return 0; fi
    kill -0 "$SUP_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: conduitd did not take the wire within 90 s"; cat "$log"; return 1
}

# One case: $1 name, $2 failure mode, $3 the signal for conduitd (KILL | STOP).
run_case() {
  local name="$1" mode="$2" sig="$3"
  local suplog="$WORK/$name-supervisor.log" polllog="$WORK/$name-poll.log"
  local bridgelog="$WORK/$name-bridge.log"
  echo "== $name: failure $mode, SIG$sig to conduitd"
  start_supervisor "$mode" "$suplog" || return 1

  # Samples whether the bridge exists, every 50 ms.
  ( while :; do
      [[ -e /sys/class/net/$BR ]] && s=up || s=down
      echo "$EPOCHREALTIME $s"; sleep 0.05
    done ) >"$bridgelog" &
  SAMPLER_PID=$!
  ip netns exec "${P}corp" /usr/bin/python3 "$LAB/modbus_poller.py" 198.18.0.200 "$DURATION" \
    >"$polllog" 2>"$WORK/$name-poll.err" &
  POLL_PID=$!

  sleep "$ACT_AT"
  local old t_act
  old="$(conduitd_pid)"
  t_act="$EPOCHREALTIME"
  kill -"$sig" "$old"
  echo "SIG$sig conduitd pid $old at $t_act"
  wait "$POLL_PID"; POLL_PID=""

  # The restarted conduitd must hold the wire by now; give a slow start time.
  for _ in $(seq 300); do
    [[ $(grep -c "healthy after" "$suplog") -ge 2 && ! -e /sys/class/net/$BR ]] && break
    sleep 0.1
  done
  local new status counters
  new="$(conduitd_pid)"
  status="$("$CONDUITCTL" status --json --target "$TARGET" --timeout 5)"
  local status_rc=$?
  counters="$("$CONDUITCTL" counters --json --target "$TARGET" --timeout 5)"
  stop_pid "$SAMPLER_PID" 1; SAMPLER_PID=""
  local old_alive=0
  kill -0 "$old" 2>/dev/null && old_alive=1

  /usr/bin/python3 - "$mode" "$sig" "$t_act" "$old" "${new:-0}" "$old_alive" "$status_rc" \
      "$suplog" "$polllog" "$bridgelog" "$status" "$counters" <<'EOF'
import json, sys
from datetime import datetime, timezone

(mode, sig, t_act, old, new, old_alive, status_rc, suplog, polllog, bridgelog,
 status, counters) = sys.argv[1:]
t_act, old, new = float(t_act), int(old), int(new)
failures = []

def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def stamp(line):
    t = datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=timezone.utc).timestamp()

sup = [(stamp(l), l.split(" supervisor: ", 1)[1].strip())
       for l in open(suplog) if " supervisor: " in l and l[:2] == "20"]
def first(pred, after=t_act - 0.01):
    return next(((t, m) for t, m in sup if t >= after and pred(m)), (None, None))

polls = []
for l in open(polllog):
    f = l.split()
    polls.append((float(f[1]), f[2] == "ok"))
oks = [t for t, ok in polls if ok]
gap, gap_at = max(((b - a, a) for a, b in zip(oks, oks[1:])), default=(0.0, 0.0))
samples = [(float(t), s == "up") for t, s in (l.split() for l in open(bridgelog))]

t_gone, gone_msg = first(lambda m: f"pid {old} exited" in m or f"pid {old} hung" in m)
t_restart, _ = first(lambda m: m.startswith("started conduitd pid"))
t_handover, _ = first(lambda m: "healthy after" in m, after=t_restart or t_act)
# conduitd's own log (same stderr): its ports forward from "running with".
t_running = next((stamp(l) for l in open(suplog) if " conduitd info: running with" in l
                  and t_restart and stamp(l) >= t_restart), None)
print(f"   supervisor noticed after {t_gone - t_act:.3f} s: {gone_msg}" if t_gone else
      "   supervisor did not notice")
print(f"   restart after {t_restart - t_act:.3f} s, hand-over after {t_handover - t_act:.3f} s"
      if t_restart and t_handover else "   no restart/hand-over logged")
print(f"   polls: {len(oks)} ok, {len(polls) - len(oks)} failed; "
      f"longest gap between answers {gap:.3f} s (from {gap_at - t_act:+.3f} s)")

bridge_up = next((t for t, up in samples if up and t > t_act), None)
if bridge_up:
    print(f"   bridge first seen up {bridge_up - t_act:.3f} s after the signal")
check(len(polls) >= 30 and len(oks) >= 10, "the poller ran and was answered")
check(oks and oks[0] < t_act, "answers before the signal")
check(t_gone is not None, "the supervisor noticed conduitd was gone")
check(old_alive == "0", f"the old conduitd (pid {old}) is gone")
check(new not in (0, old), f"a new conduitd runs (pid {new})")
check(None not in (t_restart, t_running, t_handover), "conduitd restarted and became healthy")
if None not in (t_restart, t_running, t_handover):
    after = [t for t in oks if t > t_handover + 0.5]
    check(len(after) >= 3, f"answers after the hand-over, with the bridge gone ({len(after)})")
    # From the supervisor noticing to the new conduitd's ports running, no
    # conduitd forwards: only a bridge can answer.
    absent = [t for t in oks if t_gone + 0.3 < t < t_running]
    tried = [t for t, _ in polls if t_gone + 0.3 < t < t_running]
    if mode == "open":
        # After a kill the flow barely notices. After a hang the client's
        # TCP back-off (its segments were lost for seconds) can push its next
        # try past the short window before the new conduitd is up, so there
        # only the bridge being up (checked below) is required.
        if sig == "KILL":
            check(len(absent) >= 2, f"answers while no conduitd ran: carried by the bridge ({len(absent)})")
        else:
            print(f"info answers while no conduitd ran after the hang: {len(absent)}")
    else:
        check(tried and not absent, f"nothing answered while conduitd was down "
              f"({len(tried)} polls tried, {len(absent)} answered)")
check(not samples[-1][1], "no bridge at the end")
if mode == "open":
    check(any(up for t, up in samples if t > t_act), "the bridge was up while conduitd was down")
    check(t_gone and "fail-open: bridged" in " ".join(m for t, m in sup if t >= t_act),
          "the supervisor logged the bridge")
    if sig == "KILL":
        check(gap <= 1.0, f"longest gap between answers {gap:.3f} s <= 1.0 s")
    else:
        # SIGSTOP: the wire is cut until the probes call it a hang.
        bound = 3 * (1.0 + 0.2) + 6.0
        check(t_gone is not None and t_gone - t_act <= bound,
              f"hang noticed within {bound:.1f} s (probe_failures x (timeout + interval) + slack)")
else:
    check(not any(up for t, up in samples), "the bridge never appeared")
    check("fail-closed: wire left cut" in " ".join(m for t, m in sup),
          "the supervisor logged fail-closed")
    check(gap > 1.0, f"a gap > 1 s while conduitd was down ({gap:.3f} s)")
check(status_rc == "0" and "policy_version" in status, "the new conduitd answers its status")
try:
    tx = json.loads(counters).get("tx_packets", 0)
except ValueError:
    tx = -1
check(tx >= 8, f"the new conduitd forwards the poll again (tx_packets {tx})")
sys.exit(1 if failures else 0)
EOF
  local rc=$?
  stop_pid "$SUP_PID" 20; SUP_PID=""
  if ! grep -q "exiting; the wire is cut" "$suplog" || [[ -e /sys/class/net/$BR ]]; then
    echo "FAIL: the supervisor did not stop cleanly on SIGTERM"; rc=1
  fi
  if ((rc)); then
    echo "--- supervisor log"; grep " supervisor: " "$suplog"
    echo "--- poll log"; cat "$polllog"
  fi
  return $rc
}

rc=0
run_case open-kill open KILL || rc=1
run_case closed-kill closed KILL || rc=1
run_case open-hang open STOP || rc=1
exit $rc
