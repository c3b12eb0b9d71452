#!/usr/bin/env bash
# S7comm evasion suite (issue 13, DESIGN.md "Enforcement integrity"): the
# S7comm counterpart of evasion_test.sh. An attacker in corp tries to get an
# S7 write var (DB1.DBW0) past conduitd (enforce) to s7_server.py, a small
# honest S7comm server in plant (TPKT-framed like a PLC, COTP connect and
# reassembly, setup communication, read var answered, write var EXECUTED
# and logged). Cases are scapy-built sessions (tests/integration/evasion/
# s7_attacks.py, reusing attacks.py's raw-wire attacker): insertion chaff
# (bad TCP/IP checksum, no ACK), overlap old/new, split at every byte,
# two PDUs in one segment, TPKT length desync both ways, COTP segmentation,
# IP fragments. A case passes when the server's write log did not grow.
# Controls: the server executes a write without the gateway (self-test),
# an allowed read var through the gateway is answered, a plain write var
# through it is not executed.
# Known gaps (the denied write executes today) are listed, with the reason,
# in s7_attacks.py KNOWN_GAPS: they print XFAIL (XPASS once fixed) and do
# not fail the suite; any other executed write, or a failed control, does.
# Policies: strict (non_ics: deny, unparsable: deny) and availability-first
# (non_ics: allow, unparsable: allow); the split-at-every-byte cases run
# under strict only (time).
# Own names: lab prefix "tx", control port 27261.
#   evasion_s7_test.sh CONDUITD CONDUITCTL [CASE,CASE...]
set -uo pipefail
SUITE=evasion-s7
P=tx
PORT=27261
SERVER=s7_server.py
SERVER_PORT=102
ATTACKS=s7_attacks.py
LOG_FLAG=--write-log
DIRECT_FLAG=--direct-write
SELFTEST="the server executes a write var"
MALFORMED="s7_length"  # tpkt_overstate_*, tpkt_understate_*
RULES="$(cat <<'YAML'
      - id: s7-read
        protocol: s7comm
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 102
        functions: [setup_communication, read_var]
        action: allow
YAML
)"
source "$(dirname "$0")/evasion/ics_suite.sh"
suite_main "$@"
