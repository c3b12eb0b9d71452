#!/usr/bin/env bash
# conduitctl simulate over real captures: every JSON line parses and carries
# the event field names; the ops match the tshark oracle's function codes;
# the summary table counts them; bad input is a clear error.
#   simulate_test.sh CONDUITCTL
set -uo pipefail
CONDUITCTL="$1"
CORPUS="${CONDUIT_CORPUS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/corpus}"
[[ -d "$CORPUS/pcap" ]] || { echo "SKIP: corpus not found at $CORPUS (set CONDUIT_CORPUS)"; exit 77; }
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fail=0

PCAP="$CORPUS/pcap/modbus/iti__modbus_test_data_part2.pcap"
"$CONDUITCTL" simulate --jsonl --pcap "$PCAP" >"$WORK/ops.jsonl" 2>"$WORK/summary" || { echo "FAIL: simulate exited $?"; exit 1; }
/usr/bin/python3 - "$WORK/ops.jsonl" "$CORPUS/oracle/pcap/modbus/iti__modbus_test_data_part2.pcap.tsv" <<'PY' || fail=1
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
need = {"ts", "frame", "src", "sport", "dst", "dport", "l4", "protocol", "direction", "function"}
bad = [r for r in records if not need <= r.keys()]
assert not bad, f"records missing fields: {bad[:2]}"
ours = {}
for r in records:
    ours.setdefault(r["frame"], []).append(str(r["function"]))
oracle = {}
for line in list(open(sys.argv[2]))[1:]:
    frame, proto, codes, _ = line.rstrip("\n").split("\t")
    if proto == "modbus":
        oracle[int(frame)] = codes.split(",")
assert ours == oracle, f"{len(ours)} frames with ops vs {len(oracle)} in the oracle"
names = {r.get("function_name") for r in records}
assert "read_holding_registers" in names or "read_coils" in names, names
print(f"ok: {len(records)} ops in {len(ours)} frames match the oracle")
PY
grep -q "operations by protocol and function" "$WORK/summary" || { echo "FAIL: no summary"; fail=1; }
total=$(awk '$1 == "modbus" { s += $(NF-1) + $NF } END { print s + 0 }' "$WORK/summary")
lines=$(wc -l <"$WORK/ops.jsonl")
[[ "$total" == "$lines" ]] && echo "ok: summary counts $total ops" || { echo "FAIL: summary counts $total ops, records $lines"; fail=1; }

# DNP3 on a non-standard port, as tshark's decode-as.
n=$("$CONDUITCTL" simulate --jsonl --decode-as tcp:20001=dnp3 --pcap "$CORPUS/pcap/dnp3/iti__bro_dnp3_read_p20001.pcap" 2>/dev/null | grep -c '"protocol":"dnp3"')
[[ "$n" -ge 2 ]] && echo "ok: --decode-as finds $n dnp3 ops on port 20001" || { echo "FAIL: --decode-as found $n"; fail=1; }

# Bad input: a clear error and a non-zero exit, never a crash.
"$CONDUITCTL" simulate --pcap "$WORK/missing.pcap" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && grep -q "missing.pcap" "$WORK/err" && echo "ok: missing capture: $(cat "$WORK/err")" || { echo "FAIL: missing capture rc=$rc"; fail=1; }
head -c 100 /dev/urandom >"$WORK/junk.pcap"
"$CONDUITCTL" simulate --pcap "$WORK/junk.pcap" 2>"$WORK/err"; rc=$?
[[ $rc == 1 ]] && echo "ok: junk capture: $(cat "$WORK/err")" || { echo "FAIL: junk capture rc=$rc"; fail=1; }
"$CONDUITCTL" simulate --decode-as tcp:1=nonsense --pcap "$PCAP" 2>"$WORK/err"; rc=$?
[[ $rc == 2 ]] && echo "ok: bad --decode-as: $(cat "$WORK/err")" || { echo "FAIL: bad --decode-as rc=$rc"; fail=1; }
exit $fail
