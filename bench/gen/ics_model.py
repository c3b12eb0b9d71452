"""The plant both generators describe: hosts, which server speaks what, and
which (client, server) pairs the policy covers.

make_workload.py draws its flows from this model and make_policy.py writes
its rules from it, so a workload and a policy made with the same seed agree:
most flows use a covered pair (allowed), a few do not (default deny).
"""

import random

CORP_PREFIX = "198.18.0.0/25"
PLANT_PREFIX = "198.18.0.128/25"

# Corporate clients 198.18.0.1-120; the first ENG_CLIENTS are engineering
# workstations allowed to write; CONTRACTORS are explicitly denied writes.
CLIENTS = [f"198.18.0.{i}" for i in range(1, 121)]
ENG_CLIENTS = CLIENTS[:8]
CONTRACTORS = CLIENTS[110:120]
# Plant servers 198.18.0.130-249; the web and DNS servers carry the noise.
SERVERS = [f"198.18.0.{i}" for i in range(130, 250)]
WEB_SERVER = "198.18.0.252"
DNS_SERVER = "198.18.0.253"

PORTS = {"modbus": 502, "dnp3": 20000, "enip": 44818, "s7comm": 102, "iec104": 2404}


def server_protocol(index):
    """60 % of the servers speak Modbus, 10 % each the other four."""
    r = index % 20
    if r < 12:
        return "modbus"
    return ["dnp3", "dnp3", "enip", "enip", "s7comm", "s7comm", "iec104", "iec104"][r - 12]


SERVERS_BY_PROTOCOL = {}
for _i, _s in enumerate(SERVERS):
    SERVERS_BY_PROTOCOL.setdefault(server_protocol(_i), []).append(_s)
PROTOCOL_OF = {s: server_protocol(i) for i, s in enumerate(SERVERS)}


def covered_pairs(seed, count):
    """`count` distinct (client, server) pairs in a seed-determined order:
    the pairs the policy's read rules name. Contractors get none."""
    rng = random.Random(seed * 7919 + 1)
    pairs = [(c, s) for c in CLIENTS if c not in CONTRACTORS for s in SERVERS]
    rng.shuffle(pairs)
    return pairs[:count]


def write_pairs(seed):
    """(engineering client, Modbus server) pairs allowed to write."""
    rng = random.Random(seed * 104729 + 3)
    modbus = SERVERS_BY_PROTOCOL["modbus"]
    return [(c, s) for c in ENG_CLIENTS for s in rng.sample(modbus, 24)]


def rule_budget(total_rules, seed):
    """How many read-rule pairs fit in `total_rules` next to the write and
    deny rules (make_policy.py writes exactly total_rules rules)."""
    return total_rules - len(write_pairs(seed)) - len(CONTRACTORS) - 2  # 2: web, dns
