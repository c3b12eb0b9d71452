#!/bin/bash
# conduitctl propose --pcap over every capture of the shared corpus: each
# proposal must validate (simulate loads it) and simulating the capture under
# it must deny nothing (no "blocked", no "would block"), in the proposal's
# monitor mode and again with mode: enforce (where a deny would also cut its
# session). Usage: propose_corpus_test.sh CONDUITCTL
# Captures: $CONDUIT_CORPUS or ../shared/corpus (from the source root);
# exit 77 (skipped) when neither exists.
set -u
ctl=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${CONDUIT_CORPUS:-$root/../shared/corpus}
if [ ! -d "$corpus/pcap" ]; then
  echo "SKIP: no corpus at $corpus (set CONDUIT_CORPUS)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One capture: prints "ok NAME" or "FAIL NAME: reason".
check() {
  local pcap=$1 ctl=$2 work=$3
  local name=${pcap#*/pcap/}
  local base=$work/$(echo "$name" | tr '/' '_')
  if ! "$ctl" propose --pcap "$pcap" >"$base.yaml" 2>"$base.err"; then
    echo "FAIL $name: propose: $(head -3 "$base.err")"
    return
  fi
  sed 's/^mode: monitor$/mode: enforce/' "$base.yaml" >"$base.enforce.yaml"
  local noted=""
  for p in "$base.yaml" "$base.enforce.yaml"; do
    if ! "$ctl" simulate --pcap "$pcap" --policy "$p" >"$base.sim" 2>&1; then
      echo "FAIL $name: simulate $(basename "$p"): $(tail -3 "$base.sim")"
      return
    fi
    # "by rule:" rows: rule blocked would_block alerted allowed. Two denies
    # are no rule's doing: 802.3 frames, which the schema cannot admit (the
    # proposal says so), and the normalizer's drops under enforce.
    local row rule denies
    while read -r rule denies; do
      if [ "$rule" = non_ip ] && grep -q '802.3 (LLC) frames seen' "$p"; then
        noted="$noted 802.3:$denies"
      elif [ "$rule" = normalize ] && [ "$p" = "$base.enforce.yaml" ]; then
        noted="$noted normalize:$denies"
      else
        echo "FAIL $name: $(basename "$p"): rule $rule denied $denies"
        grep -E "=> deny" "$base.sim" | head -3
        return
      fi
    done < <(awk '/^by rule:/{c=1;next} /^by conduit:/{c=0} c&&/^  [^ ]/&&$1!="blocked"{if ($2+$3>0) print $1, $2+$3}' "$base.sim")
  done
  if [ -n "$noted" ]; then
    echo "ok $name (not a rule's to admit:$noted)"
    return
  fi
  echo "ok $name"
}
export -f check

find "$corpus/pcap" -name '*.pcap' | sort >"$work/list"
total=$(wc -l <"$work/list")
xargs -a "$work/list" -P "${PROPOSE_JOBS:-2}" -I{} bash -c 'check "$@"' _ {} "$ctl" "$work" >"$work/results"
ok=$(grep -c '^ok ' "$work/results")
grep -v '^ok ' "$work/results"
grep '^ok .*not a rule' "$work/results"
echo "propose+simulate: $ok of $total captures proposed, validated and simulated with no rule denying" \
  "($(grep -c 'not a rule' "$work/results") with denies no rule can lift, listed above)"
[ "$ok" -eq "$total" ]
