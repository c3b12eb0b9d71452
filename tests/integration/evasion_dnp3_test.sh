#!/usr/bin/env bash
# DNP3 evasion suite (issue 13, README "Enforcement integrity"): the DNP3
# counterpart of evasion_test.sh. An attacker in corp tries to get a denied
# operation (DIRECT_OPERATE of binary output 7; WRITE; COLD_RESTART) past
# conduitd (enforce) to dnp3_outstation.py, a small honest outstation in
# plant (opendnp3's link-layer resynchronisation, transport reassembly and
# request parsing; every executed operation logged). Cases are scapy-built
# sessions (tests/integration/evasion/dnp3_attacks.py, reusing attacks.py's
# raw-wire attacker): insertion chaff (bad TCP/IP checksum, no ACK, ...), IP
# fragments, overlap old/new, split at every byte, two frames in one
# segment, link LEN vs CRC blocks, link-only frames carrying data, transport
# sequence tricks, several object headers, URG, IP options, trailers past
# the IP length. A case passes when the outstation's log shows no denied
# operation executed. Controls: the outstation executes a denied operate
# without the gateway (self-test); through the gateway an allowed READ is
# answered and an allowed DIRECT_OPERATE (point 3) executes, before and
# after the cases; undisguised denied operations do not execute.
# Policies: strict (non_ics: deny, unparsable: deny) and availability-first
# (non_ics: allow, unparsable: allow); split-at-every-byte runs under strict
# only unless CASES are named.
# Own names: lab prefix "tn", control port 27271.
#   evasion_dnp3_test.sh CONDUITD CONDUITCTL [CASE,CASE...]
set -uo pipefail
SUITE=evasion-dnp3
P=tn
PORT=27271
SERVER=dnp3_outstation.py
SERVER_PORT=20000
ATTACKS=dnp3_attacks.py
LOG_FLAG=--exec-log
DIRECT_FLAG=--direct
SELFTEST="the outstation executes a denied operate"
MALFORMED="dnp3_length dnp3_crc"  # link_len_overstate_*, link_bad_*_crc_*
RULES="$(cat <<'YAML'
      - id: dnp3-read
        protocol: dnp3
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 20000
        functions: [read]
        units: [10]
        action: allow
      - id: dnp3-operate-0-4
        protocol: dnp3
        from: [198.18.0.0/25]
        to: [198.18.0.200/32]
        port: 20000
        functions: [direct_operate]
        units: [10]
        addresses: ["0-4"]
        action: allow
YAML
)"
source "$(dirname "$0")/evasion/ics_suite.sh"
suite_main "$@"
