#!/usr/bin/python3
"""Splits a classic pcap into N captures the way symmetric RSS spreads
traffic over N receive queues: both directions of a TCP/UDP flow go to the
same share, frames without ports (ARP, ICMP, fragments) to share 0.

bench/e2e.sh gives share k to net_pcap's receive queue k when WORKERS=N,
so each conduitd worker (and each testpmd core) owns its flows, as behind
a NIC. Standard library only, so it runs where scapy is not installed.

    /usr/bin/python3 bench/gen/split_rss.py --shares 4 IN.pcap OUT-PREFIX
    # writes OUT-PREFIX.0.pcap .. OUT-PREFIX.3.pcap
"""

import argparse
import struct
import sys
import zlib

PCAP_GLOBAL = struct.Struct("<IHHiIII")
PCAP_RECORD = struct.Struct("<IIII")
PCAP_MAGIC_LE_MICROS = 0xA1B2C3D4
ETH_IPV4, ETH_VLAN = 0x0800, 0x8100
PORTED = (6, 17)  # TCP, UDP


def share_of(frame, shares):
    at, ethertype = 14, struct.unpack_from("!H", frame, 12)[0] if len(frame) >= 14 else 0
    while ethertype == ETH_VLAN and len(frame) >= at + 4:
        ethertype = struct.unpack_from("!H", frame, at + 2)[0]
        at += 4
    if ethertype != ETH_IPV4 or len(frame) < at + 20:
        return 0
    ihl = (frame[at] & 0x0F) * 4
    proto = frame[at + 9]
    fragment = struct.unpack_from("!H", frame, at + 6)[0] & 0x3FFF
    if proto not in PORTED or fragment or len(frame) < at + ihl + 4:
        return 0
    src, dst = frame[at + 12:at + 16], frame[at + 16:at + 20]
    sport, dport = frame[at + ihl:at + ihl + 2], frame[at + ihl + 2:at + ihl + 4]
    a, b = sorted((src + sport, dst + dport))  # symmetric: the same both ways
    return zlib.crc32(bytes([proto]) + a + b) % shares


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shares", type=int, required=True)
    ap.add_argument("input")
    ap.add_argument("prefix")
    args = ap.parse_args()
    if args.shares < 1:
        sys.exit("--shares must be at least 1")
    with open(args.input, "rb") as f:
        data = f.read()
    if len(data) < PCAP_GLOBAL.size or PCAP_GLOBAL.unpack_from(data)[0] != PCAP_MAGIC_LE_MICROS:
        sys.exit(f"{args.input}: not a little-endian microsecond pcap")
    outs = [open(f"{args.prefix}.{k}.pcap", "wb") for k in range(args.shares)]
    for out in outs:
        out.write(data[:PCAP_GLOBAL.size])
    counts = [0] * args.shares
    at = PCAP_GLOBAL.size
    while at + PCAP_RECORD.size <= len(data):
        caplen = PCAP_RECORD.unpack_from(data, at)[2]
        end = at + PCAP_RECORD.size + caplen
        if end > len(data):
            sys.exit(f"{args.input}: truncated record at byte {at}")
        k = share_of(data[at + PCAP_RECORD.size:end], args.shares)
        outs[k].write(data[at:end])
        counts[k] += 1
        at = end
    for out in outs:
        out.close()
    print(f"{args.input}: {sum(counts)} frames into {args.shares} shares: {counts}")


if __name__ == "__main__":
    main()
