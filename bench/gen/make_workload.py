#!/usr/bin/python3
"""Writes a deterministic ICS capture (classic pcap) for the benchmarks.

Traffic crosses the corporate/plant conduit of ics_model.py: TCP flows with
3-way handshakes carrying Modbus/TCP (dominant: reads FC 1/3/4 with
responses, some FC 6/16 writes), DNP3 (class 0 read and response),
EtherNet/IP (RegisterSession, SendRRData with CIP get_attribute_single and
read_tag), S7comm (COTP connect, setup communication, read var, a rare CPU
stop), IEC 104 (STARTDT, interrogation, measurements, S-frames), plus
non-ICS noise: HTTPS-like TCP, DNS-like UDP and ARP. Most frames are
60-200 bytes. All flows start in the first 5 % of the capture and stay
open to the end, so every flow is live at once.

    /usr/bin/python3 bench/gen/make_workload.py --packets 1000000 --flows 100000 \\
        --out /tmp/conduit-bench/ics-1m.pcap

Frames are packed with struct, standard library only (scapy only checks a sample with
--verify): a million frames take ~30 s. Same arguments, same bytes.
"""

import argparse
import array
import os
import random
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ics_model as model  # noqa: E402

ETH_IP = b"\x08\x00"
TCP_SYN, TCP_ACK, TCP_PSH = 0x02, 0x10, 0x08


def mac_of(ip):
    last = int(ip.rsplit(".", 1)[1])
    return bytes([0x02, 0, 0, 0, 1 if last >= 128 else 0, last])


def ip_bytes(ip):
    return bytes(int(x) for x in ip.split("."))


def checksum(data):
    """Internet checksum. Summing native (little-endian) words gives the
    byte-swapped sum; packing it little-endian puts it back in order."""
    if len(data) % 2:
        data += b"\x00"
    s = sum(array.array("H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return struct.pack("<H", ~s & 0xFFFF)


def ipv4(src, dst, proto, l4, ip_id):
    hdr = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ip_id, 0x4000, 64, proto,
                                0, src, dst))
    hdr[10:12] = checksum(bytes(hdr))
    return bytes(hdr) + l4


def tcp_frame(c_mac, s_mac, src, dst, sport, dport, seq, ack, flags, payload, ip_id):
    hdr = bytearray(struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 64240, 0, 0))
    pseudo = src + dst + struct.pack(">BBH", 0, 6, len(hdr) + len(payload))
    hdr[16:18] = checksum(pseudo + bytes(hdr) + payload)
    # Padded to the Ethernet minimum, as a capture on the wire shows it.
    return (s_mac + c_mac + ETH_IP + ipv4(src, dst, 6, bytes(hdr) + payload, ip_id)).ljust(60, b"\x00")


def udp_frame(src_mac, dst_mac, src, dst, sport, dport, payload, ip_id):
    hdr = bytearray(struct.pack(">HHHH", sport, dport, 8 + len(payload), 0))
    pseudo = src + dst + struct.pack(">BBH", 0, 17, 8 + len(payload))
    hdr[6:8] = checksum(pseudo + bytes(hdr) + payload)
    return dst_mac + src_mac + ETH_IP + ipv4(src, dst, 17, bytes(hdr) + payload, ip_id)


class Conn:
    """One TCP connection; collects its frames in order."""

    def __init__(self, rng, client, server, dport, sport):
        self.c, self.s = ip_bytes(client), ip_bytes(server)
        self.cm, self.sm = mac_of(client), mac_of(server)
        self.cp, self.sp = sport, dport
        self.cseq, self.sseq = rng.getrandbits(32), rng.getrandbits(32)
        self.cid, self.sid = rng.getrandbits(16), rng.getrandbits(16)
        self.frames = []

    def _c(self, flags, payload=b""):
        self.cid = (self.cid + 1) & 0xFFFF
        self.frames.append(tcp_frame(self.cm, self.sm, self.c, self.s, self.cp, self.sp, self.cseq,
                                     self.sseq if flags & TCP_ACK else 0, flags, payload, self.cid))
        self.cseq = (self.cseq + len(payload) + (1 if flags & TCP_SYN else 0)) & 0xFFFFFFFF

    def _s(self, flags, payload=b""):
        self.sid = (self.sid + 1) & 0xFFFF
        self.frames.append(tcp_frame(self.sm, self.cm, self.s, self.c, self.sp, self.cp, self.sseq,
                                     self.cseq, flags, payload, self.sid))
        self.sseq = (self.sseq + len(payload) + (1 if flags & TCP_SYN else 0)) & 0xFFFFFFFF

    def handshake(self):
        self._c(TCP_SYN)
        self._s(TCP_SYN | TCP_ACK)
        self._c(TCP_ACK)

    def request(self, payload):
        self._c(TCP_PSH | TCP_ACK, payload)

    def response(self, payload):
        self._s(TCP_PSH | TCP_ACK, payload)

    def client_ack(self):
        self._c(TCP_ACK)


# --- Modbus/TCP --------------------------------------------------------------

def modbus_exchange(rng, tid, fc):
    unit = 1
    if fc in (1, 3, 4):
        qty = rng.randint(1, 16 if fc != 1 else 64)
        addr = rng.randint(0, 999 - qty)
        pdu = struct.pack(">BHH", fc, addr, qty)
        nbytes = 2 * qty if fc != 1 else (qty + 7) // 8
        resp = struct.pack(">BB", fc, nbytes) + rng.randbytes(nbytes)
    elif fc == 6:
        addr = rng.randint(100, 199)
        pdu = resp = struct.pack(">BHH", 6, addr, rng.getrandbits(16))
    else:  # 16
        qty = rng.randint(1, 8)
        addr = rng.randint(100, 199 - qty)
        pdu = struct.pack(">BHHB", 16, addr, qty, 2 * qty) + rng.randbytes(2 * qty)
        resp = struct.pack(">BHH", 16, addr, qty)
    mbap = lambda p: struct.pack(">HHHB", tid, 0, len(p) + 1, unit) + p  # noqa: E731
    return mbap(pdu), mbap(resp)


def modbus_flow(rng, conn, n, writes):
    conn.handshake()
    for i in range(n):
        if writes and i % 3 == 0:
            fc = rng.choice((6, 16))
        else:
            fc = rng.choices((3, 1, 4), (70, 15, 15))[0]
        req, resp = modbus_exchange(rng, (i + 1) & 0xFFFF, fc)
        conn.request(req)
        conn.response(resp)


# --- DNP3 --------------------------------------------------------------------

def _dnp3_crc_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA6BC if crc & 1 else crc >> 1
        table.append(crc)
    return table


DNP3_CRC = _dnp3_crc_table()


def dnp3_crc(data):
    crc = 0
    for b in data:
        crc = (crc >> 8) ^ DNP3_CRC[(crc ^ b) & 0xFF]
    return struct.pack("<H", ~crc & 0xFFFF)


def dnp3_frame(ctrl, dst, src, user):
    header = struct.pack("<BBBBHH", 0x05, 0x64, 5 + len(user), ctrl, dst, src)
    out = header + dnp3_crc(header)
    for i in range(0, len(user), 16):
        block = user[i:i + 16]
        out += block + dnp3_crc(block)
    return out


def dnp3_flow(rng, conn, n):
    conn.handshake()
    master, outstation = 1, rng.randint(10, 200)
    for i in range(n):
        seq = i & 0x0F
        req = bytes([0xC0 | (i & 0x3F), 0xC0 | seq, 0x01, 0x3C, 0x01, 0x06])  # class 0 read
        points = rng.randint(2, 6)
        objs = bytes([0x1E, 0x01, 0x00, 0x00, points - 1])  # g30v1, start-stop
        for _ in range(points):
            objs += b"\x01" + struct.pack("<i", rng.randint(-5000, 50000))
        resp = bytes([0xC0 | (i & 0x3F), 0xC0 | seq, 0x81, 0x00, 0x00]) + objs
        conn.request(dnp3_frame(0xC4, outstation, master, req))
        conn.response(dnp3_frame(0x44, master, outstation, resp))


# --- EtherNet/IP -------------------------------------------------------------

TAGS = ["Tank_Level", "Pump1_Speed", "Valve_Pos", "Line3_Count", "Temp_Zone2", "FlowRate"]


def enip(cmd, session, data, context):
    return struct.pack("<HHIIQI", cmd, len(data), session, 0, context, 0) + data


def send_rr(cip):
    return struct.pack("<IHHHHHH", 0, 10, 2, 0x0000, 0, 0x00B2, len(cip)) + cip


def enip_flow(rng, conn, n):
    conn.handshake()
    session = rng.getrandbits(32) | 1
    conn.request(enip(0x65, 0, struct.pack("<HH", 1, 0), 1))
    conn.response(enip(0x65, session, struct.pack("<HH", 1, 0), 1))
    for i in range(n):
        ctx = i + 2
        if rng.random() < 0.5:
            cip = bytes([0x0E, 3, 0x20, 0x01, 0x24, 0x01, 0x30, rng.choice((1, 7, 5))])
            reply = bytes([0x8E, 0, 0, 0]) + rng.randbytes(2)
        else:
            name = rng.choice(TAGS).encode()
            seg = bytes([0x91, len(name)]) + name + (b"\x00" if len(name) % 2 else b"")
            cip = bytes([0x4C, len(seg) // 2]) + seg + struct.pack("<H", 1)
            reply = bytes([0xCC, 0, 0, 0]) + struct.pack("<H", 0xCA) + rng.randbytes(4)
        conn.request(enip(0x6F, session, send_rr(cip), ctx))
        conn.response(enip(0x6F, session, send_rr(reply), ctx))


# --- S7comm ------------------------------------------------------------------

S7_STOP = b"\x29\x00\x00\x00\x00\x00\x09P_PROGRAM"  # matches the s7-cpu-stop signature


def tpkt(payload):
    return struct.pack(">BBH", 3, 0, 4 + len(payload)) + payload


def s7_job(ref, param, data=b""):
    return tpkt(b"\x02\xf0\x80" + struct.pack(">BBHHHH", 0x32, 1, 0, ref, len(param), len(data))
                + param + data)


def s7_ack(ref, param, data=b""):
    return tpkt(b"\x02\xf0\x80" + struct.pack(">BBHHHHBB", 0x32, 3, 0, ref, len(param), len(data),
                                              0, 0) + param + data)


def s7_flow(rng, conn, n, stop_every):
    conn.handshake()
    params = bytes([0xC1, 2, 1, 0, 0xC2, 2, 1, 2, 0xC0, 1, 0x0A])
    conn.request(tpkt(bytes([6 + len(params), 0xE0, 0, 0, 0, 1, 0]) + params))
    conn.response(tpkt(bytes([6 + len(params), 0xD0, 0, 1, 0, 0x44, 0]) + params))
    setup = bytes([0xF0, 0, 0, 1, 0, 1, 0x01, 0xE0])
    conn.request(s7_job(1, setup))
    conn.response(s7_ack(1, setup))
    for i in range(n):
        ref = (i + 2) & 0xFFFF
        if stop_every and rng.randrange(stop_every) == 0:
            conn.request(s7_job(ref, S7_STOP))
            conn.response(s7_ack(ref, b"\x29"))
            continue
        length = rng.choice((2, 4, 8, 16))
        item = bytes([0x12, 0x0A, 0x10, 0x02]) + struct.pack(">HH", length, rng.randint(1, 50))
        item += b"\x84" + (rng.randint(0, 200) * 8).to_bytes(3, "big")
        conn.request(s7_job(ref, b"\x04\x01" + item))
        data = bytes([0xFF, 0x04]) + struct.pack(">H", length * 8) + rng.randbytes(length)
        conn.response(s7_ack(ref, b"\x04\x01", data))


# --- IEC 60870-5-104 ---------------------------------------------------------

def iec_i(ns, nr, asdu):
    return bytes([0x68, 4 + len(asdu)]) + struct.pack("<HH", (ns << 1) & 0xFFFF, (nr << 1) & 0xFFFF) + asdu


def iec_s(nr):
    return bytes([0x68, 4, 1, 0]) + struct.pack("<H", (nr << 1) & 0xFFFF)


def iec_asdu(type_id, cot, ca, ioa, body):
    return bytes([type_id, 1, cot, 0]) + struct.pack("<H", ca) + ioa.to_bytes(3, "little") + body


def iec104_flow(rng, conn, n):
    conn.handshake()
    conn.request(bytes([0x68, 4, 0x07, 0, 0, 0]))   # STARTDT act
    conn.response(bytes([0x68, 4, 0x0B, 0, 0, 0]))  # STARTDT con
    ca = rng.randint(1, 100)
    conn.request(iec_i(0, 0, iec_asdu(100, 6, ca, 0, b"\x14")))   # interrogation act
    conn.response(iec_i(0, 1, iec_asdu(100, 7, ca, 0, b"\x14")))  # ... con
    ns_s, nr_c = 1, 1
    for i in range(n):
        cot = 20 if i < 4 else 3
        value = struct.pack("<fB", rng.uniform(0, 100), 0)
        conn.response(iec_i(ns_s, 1, iec_asdu(13, cot, ca, 1000 + rng.randrange(64), value)))
        ns_s += 1
        if i % 2 == 1:
            conn.request(iec_s(ns_s))  # client acknowledges
        nr_c += 1


# --- noise -------------------------------------------------------------------

def https_flow(rng, conn, n):
    conn.handshake()
    conn.request(b"\x16\x03\x01" + struct.pack(">H", 190) + rng.randbytes(190))
    conn.response(b"\x16\x03\x03" + struct.pack(">H", 420) + rng.randbytes(420))
    for i in range(n):
        req = rng.randint(40, 160)
        conn.request(b"\x17\x03\x03" + struct.pack(">H", req) + rng.randbytes(req))
        resp = rng.choice((rng.randint(60, 200), rng.randint(200, 1200)))
        conn.response(b"\x17\x03\x03" + struct.pack(">H", resp) + rng.randbytes(resp))


NAMES = [b"historian", b"ntp", b"ad01", b"wsus", b"plant-web", b"mes", b"backup"]


def dns_frames(rng, client, sport, qid):
    name = rng.choice(NAMES)
    qname = bytes([len(name)]) + name + b"\x05plant\x04corp\x00"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + b"\x00\x01\x00\x01"
    answer = b"\xc0\x0c\x00\x01\x00\x01" + struct.pack(">IH", 300, 4) + rng.randbytes(4)
    resp = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qname + b"\x00\x01\x00\x01" + answer
    c, s = ip_bytes(client), ip_bytes(model.DNS_SERVER)
    cm, sm = mac_of(client), mac_of(model.DNS_SERVER)
    return [udp_frame(cm, sm, c, s, sport, 53, query, qid),
            udp_frame(sm, cm, s, c, 53, sport, resp, qid ^ 0x5555)]


def arp_frames(client, server):
    cm, sm = mac_of(client), mac_of(server)
    c, s = ip_bytes(client), ip_bytes(server)

    def arp(eth_dst, op, sha, spa, tha, tpa):
        body = struct.pack(">HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa
        return (eth_dst + sha + b"\x08\x06" + body).ljust(60, b"\x00")

    return [arp(b"\xff" * 6, 1, cm, c, b"\x00" * 6, s), arp(cm, 2, sm, s, cm, c)]


# --- assembly ----------------------------------------------------------------

# Share of TCP flows per kind; Modbus dominates. Setup packets per kind are
# the handshake plus the protocol's own session start.
FLOW_MIX = [("modbus", 0.56), ("modbus_w", 0.03), ("dnp3", 0.09), ("enip", 0.09), ("s7comm", 0.08),
            ("iec104", 0.08), ("https", 0.07)]
SETUP = {"modbus": 3, "modbus_w": 3, "dnp3": 3, "enip": 5, "s7comm": 7, "iec104": 7, "https": 5}
UNCOVERED_SHARE = 0.04   # flows on a pair no rule names: default deny
DNS_SHARE, ARP_SHARE = 0.05, 0.01


def build(args):
    rng = random.Random(args.seed)
    covered = model.covered_pairs(args.seed, model.rule_budget(args.rules, args.seed))
    by_proto = {}
    for c, s in covered:
        by_proto.setdefault(model.PROTOCOL_OF[s], []).append((c, s))
    writers = model.write_pairs(args.seed)

    tcp_budget = int(args.packets * (1 - DNS_SHARE - ARP_SHARE))
    kinds = rng.choices([k for k, _ in FLOW_MIX], [w for _, w in FLOW_MIX], k=args.flows)
    setup = sum(SETUP[k] for k in kinds)
    spare = tcp_budget - setup - 2 * args.flows
    # Overshoot (IEC 104 exchanges are 1.5 frames, n is rounded down); the
    # capture is cut to exactly --packets frames in time order.
    spare = int(spare * 1.4)
    if spare < 0:
        sys.exit(f"--packets {args.packets} is too few for --flows {args.flows}: "
                 f"need about {int((setup + 2 * args.flows) / (1 - DNS_SHARE - ARP_SHARE))}")
    weights = [rng.expovariate(1.0) for _ in kinds]
    total_w = sum(weights)
    used_tuples = set()
    flows = []  # list of frame lists
    for i, kind in enumerate(kinds):
        n = 1 + int(spare * weights[i] / total_w / 2)  # request/response exchanges
        if kind == "https":
            client, server, port = rng.choice(model.CLIENTS), model.WEB_SERVER, 443
        elif kind == "modbus_w":
            # Two thirds from engineering hosts (allowed), the rest from
            # contractors (explicitly denied).
            if rng.random() < 2 / 3:
                client, server = rng.choice(writers)
            else:
                client, server = rng.choice(model.CONTRACTORS), rng.choice(model.SERVERS_BY_PROTOCOL["modbus"])
            port = 502
        else:
            proto = kind
            if rng.random() < UNCOVERED_SHARE:
                client, server = rng.choice(model.CLIENTS), rng.choice(model.SERVERS_BY_PROTOCOL[proto])
            else:
                client, server = rng.choice(by_proto[proto])
            port = model.PORTS[proto]
        while True:
            sport = rng.randint(1024, 65535)
            if (client, server, sport, port) not in used_tuples:
                used_tuples.add((client, server, sport, port))
                break
        conn = Conn(rng, client, server, port, sport)
        if kind in ("modbus", "modbus_w"):
            modbus_flow(rng, conn, n, kind == "modbus_w")
        elif kind == "dnp3":
            dnp3_flow(rng, conn, n)
        elif kind == "enip":
            enip_flow(rng, conn, n)
        elif kind == "s7comm":
            s7_flow(rng, conn, n, args.s7_stop_every)
        elif kind == "iec104":
            iec104_flow(rng, conn, n)
        else:
            https_flow(rng, conn, n)
        flows.append(conn.frames)

    # DNS: a few dozen client ports per client, reused (query/response pairs).
    for q in range(int(args.packets * DNS_SHARE) // 2):
        client = rng.choice(model.CLIENTS)
        flows.append(dns_frames(rng, client, 40000 + rng.randrange(32), q & 0xFFFF))
    arp_cache = {}
    for q in range(int(args.packets * ARP_SHARE) // 2):
        pair = (rng.choice(model.CLIENTS), rng.choice(model.SERVERS))
        if pair not in arp_cache:
            arp_cache[pair] = arp_frames(*pair)
        flows.append(arp_cache[pair])

    # Interleave: every TCP flow starts in the first 5 % and spreads its
    # frames evenly to the end; DNS and ARP pairs land anywhere.
    duration = args.duration
    stamped = []
    for fi, frames in enumerate(flows):
        if len(frames) == 2:
            start = rng.uniform(0, duration)
            step = 0.0005
        else:
            start = rng.uniform(0, duration * 0.05)
            step = (duration - start) / len(frames)
        for k, f in enumerate(frames):
            stamped.append((start + k * step, fi, k, f))
    stamped.sort(key=lambda t: (t[0], t[1], t[2]))
    return stamped[:args.packets], len(flows)


def write_pcap(path, stamped):
    base = 1795392000  # 2026-11-23 00:00 UTC
    with open(path + ".tmp", "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, _, _, frame in stamped:
            usec = int(t * 1e6)
            out.write(struct.pack("<IIII", base + usec // 1000000, usec % 1000000, len(frame), len(frame)))
            out.write(frame)
    os.replace(path + ".tmp", path)


def verify(path, sample=2000):
    """scapy re-reads a sample and recomputes IP/TCP/UDP checksums."""
    from scapy.all import IP, TCP, UDP, PcapReader
    bad = 0
    with PcapReader(path) as reader:
        for i, p in enumerate(reader):
            if i >= sample:
                break
            if IP in p:
                for layer in (IP, TCP, UDP):
                    if layer in p:
                        want = p[layer].chksum
                        q = p[layer].copy()
                        del q.chksum
                        if layer(bytes(q)).chksum != want:
                            bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=100000)
    ap.add_argument("--flows", type=int, default=10000, help="TCP flows (DNS and ARP add a few thousand more)")
    ap.add_argument("--rules", type=int, default=10000, help="as make_policy.py --rules")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=60.0, help="capture seconds")
    ap.add_argument("--s7-stop-every", type=int, default=2000,
                    help="one S7 exchange in N is a CPU stop (0: none)")
    ap.add_argument("--verify", action="store_true", help="check checksums of a sample with scapy")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    stamped, nflows = build(args)
    write_pcap(args.out, stamped)
    sizes = sorted(len(s[3]) for s in stamped)
    small = sum(1 for s in sizes if 60 <= s <= 200) / len(sizes)
    print(f"{args.out}: {len(stamped)} frames, {nflows} flows/pairs, median frame {sizes[len(sizes) // 2]} B, "
          f"{small:.0%} in 60-200 B, mean {sum(sizes) / len(sizes):.0f} B")
    if args.verify:
        bad = verify(args.out)
        print(f"verify: {bad} bad checksums in the first 2000 frames")
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
