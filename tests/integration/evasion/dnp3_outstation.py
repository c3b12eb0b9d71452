#!/usr/bin/python3
"""A small, honest DNP3 outstation (IEEE 1815 over TCP) for the evasion suite.

Python standard library only. Listens on TCP (default 20000) as outstation
address 10 and executes what a real outstation would execute from the bytes
it gets, layer by layer, the way opendnp3 (the reference implementation)
does:

  * Link layer (LinkLayerParser): skip bytes until the start bytes 0x05 0x64;
    a 10-byte header whose CRC is good and whose parameters are valid (LEN
    5..255, a known function for the PRM bit, FCV as the function requires,
    user data present exactly for functions 3 and 4); then the whole frame
    (LEN - 5 bytes of user data in 16-byte blocks, each with its CRC). A bad
    header or a bad block CRC drops ONE byte and resynchronises (searches for
    the next 0x05 0x64), so a frame inside the bytes of a rejected one is
    found and processed.
  * Frames: only DIR=1 (from a master), PRM=1 frames addressed to 10 (or a
    broadcast address, 0xFFFD-0xFFFF) are processed. Reset link (0) and test
    link (2) are ACKed, request link status (9) answered with link status
    (11); unconfirmed user data (4) goes to the transport layer; confirmed
    user data (3) only after a reset link and with the expected FCB (a
    repeated FCB is ACKed and not passed up).
  * Transport (TransportRx): FIR starts a message (discarding a partial one);
    a non-FIR segment with no message in progress, or with a sequence number
    other than the expected one, is IGNORED and the message in progress is
    kept; FIN completes it.
  * Application: the whole request is parsed first; a malformed one gets
    IIN2 parameter error and executes nothing. READ (1) of class 0 (g60v1),
    binary output status (g10) or analog output status (g40) is answered
    from memory. SELECT (3) / OPERATE (4), DIRECT_OPERATE (5, 6 without
    response) execute every CROB (g12v1) and analog output (g41v1-4) of
    every object header (OPERATE only what was selected). WRITE (2) executes
    g80v1 (IIN bits) and g50v1 (time). COLD/WARM RESTART (13, 14) and
    STOP/START APPLICATION (18, 17) execute too. Every executed operation
    appends one JSON line to the log (flushed and fsynced at once), which the
    test reads: {"fc":5,"group":12,"index":7,"code":3,"on_ms":...}.

Usage: dnp3_outstation.py ADDRESS PORT EXEC_LOG
"""
import json
import os
import socketserver
import struct
import sys
import threading

OUR_ADDR = 10
LOCK = threading.Lock()
LOG_PATH = None
BINARY_OUTPUTS = [False] * 16
ANALOG_OUTPUTS = [0] * 8
IIN1_RESTART = 0x80
STATE = {"iin1": IIN1_RESTART}


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA6BC if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc_table()


def crc(data):
    c = 0
    for b in data:
        c = (c >> 8) ^ CRC_TABLE[(c ^ b) & 0xFF]
    return (~c) & 0xFFFF


def frame(ctl, dst, src, user=b""):
    """One link frame with its CRCs."""
    head = struct.pack("<BBBBHH", 0x05, 0x64, 5 + len(user), ctl, dst, src)
    out = head + struct.pack("<H", crc(head))
    for i in range(0, len(user), 16):
        blk = user[i:i + 16]
        out += blk + struct.pack("<H", crc(blk))
    return out


def frame_size(length):
    n = length - 5
    return 10 + n + 2 * ((n + 15) // 16)


def record(entry):
    with open(LOG_PATH, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


class ParseError(Exception):
    pass


# Fixed object sizes the outstation understands in requests.
OBJ_SIZE = {(12, 1): 11, (41, 1): 5, (41, 2): 3, (41, 3): 5, (41, 4): 9,
            (80, 1): None, (50, 1): 6}


def parse_objects(fc, data):
    """All object headers of a request: a list of (group, var, qualifier,
    [(index, bytes)] or None for no-data headers). Raises ParseError."""
    out = []
    p = 0
    while p < len(data):
        if len(data) - p < 3:
            raise ParseError("object header cut")
        g, v, q = data[p], data[p + 1], data[p + 2]
        p += 3
        code, prefix = q & 0x0F, (q >> 4) & 0x07
        if code == 6:  # all objects
            out.append((g, v, q, None))
            continue
        if code in (0, 1, 2):
            w = (1, 2, 4)[code]
            if len(data) - p < 2 * w:
                raise ParseError("range cut")
            start = int.from_bytes(data[p:p + w], "little")
            stop = int.from_bytes(data[p + w:p + 2 * w], "little")
            p += 2 * w
            if stop < start:
                raise ParseError("stop < start")
            indices = list(range(start, stop + 1))
            prefix_w = 0
        elif code in (7, 8, 9):
            w = (1, 2, 4)[code - 7]
            if len(data) - p < w:
                raise ParseError("count cut")
            count = int.from_bytes(data[p:p + w], "little")
            p += w
            indices = None
            prefix_w = {0: 0, 1: 1, 2: 2, 3: 4}.get(prefix)
            if prefix_w is None:
                raise ParseError("prefix")
        else:
            raise ParseError(f"qualifier {q:#x}")
        if fc == 1:  # read: headers carry no object data
            out.append((g, v, q, [(i, b"") for i in (indices or [])]))
            continue
        if (g, v) not in OBJ_SIZE:
            raise ParseError(f"object g{g}v{v}")
        size = OBJ_SIZE[(g, v)]
        if (g, v) == (80, 1):  # packed bits
            n = len(indices) if indices is not None else count
            size_total = (n + 7) // 8
            if len(data) - p < size_total:
                raise ParseError("bits cut")
            bits = data[p:p + size_total]
            p += size_total
            idx = indices if indices is not None else list(range(n))
            out.append((g, v, q, [(i, bytes([(bits[k // 8] >> (k % 8)) & 1])) for k, i in enumerate(idx)]))
            continue
        objs = []
        if indices is None:
            for _ in range(count):
                if len(data) - p < prefix_w + size:
                    raise ParseError("object cut")
                i = int.from_bytes(data[p:p + prefix_w], "little") if prefix_w else len(objs)
                p += prefix_w
                objs.append((i, data[p:p + size]))
                p += size
        else:
            for i in indices:
                if len(data) - p < size:
                    raise ParseError("object cut")
                objs.append((i, data[p:p + size]))
                p += size
        out.append((g, v, q, objs))
    return out


def control_entry(fc, g, v, i, body):
    if g == 12:
        code, count, on_ms, off_ms = struct.unpack("<BBII", body[:10])
        return {"fc": fc, "group": 12, "variation": v, "index": i, "code": code,
                "count": count, "on_ms": on_ms, "off_ms": off_ms}
    fmt = {1: "<i", 2: "<h", 3: "<f", 4: "<d"}[v]
    return {"fc": fc, "group": 41, "variation": v, "index": i,
            "value": struct.unpack(fmt, body[:struct.calcsize(fmt)])[0]}


def execute_control(fc, g, v, i, body):
    e = control_entry(fc, g, v, i, body)
    if g == 12 and i < len(BINARY_OUTPUTS):
        code = e["code"] & 0x0F
        if code in (1, 3):
            BINARY_OUTPUTS[i] = True
        elif code in (2, 4):
            BINARY_OUTPUTS[i] = False
    elif g == 41 and i < len(ANALOG_OUTPUTS):
        ANALOG_OUTPUTS[i] = e["value"]
    record(e)


def read_objects(headers):
    out = b""
    for g, v, q, _ in headers:
        if g in (60, 10):
            out += bytes([10, 2, 0x00, 0, len(BINARY_OUTPUTS) - 1])
            out += bytes([0x01 | (0x80 if s else 0) for s in BINARY_OUTPUTS])
        if g in (60, 40):
            out += bytes([40, 2, 0x00, 0, len(ANALOG_OUTPUTS) - 1])
            for a in ANALOG_OUTPUTS:
                out += struct.pack("<Bh", 0x01, max(-32768, min(32767, int(a))))
    return out


class Connection:
    def __init__(self, sock, peer):
        self.sock, self.peer = sock, peer
        self.buf = bytearray()
        self.link_reset = False
        self.next_fcb = 1
        self.rx = bytearray()      # transport message in progress
        self.rx_active = False
        self.rx_seq = 0
        self.tx_seq = 0
        self.selected = {}

    def log(self, msg):
        print(f"[{self.peer}] {msg}", flush=True)

    # ------------------------------------------------------------ link layer
    def feed(self, data):
        self.buf += data
        while True:
            # find sync
            i = self.buf.find(b"\x05\x64")
            if i < 0:
                if self.buf:
                    keep = self.buf[-1:] if self.buf[-1] == 0x05 else b""
                    if len(self.buf) - len(keep):
                        self.log(f"skipped {len(self.buf) - len(keep)} bytes searching for sync")
                    self.buf = bytearray(keep)
                return
            if i:
                self.log(f"skipped {i} bytes searching for sync")
                del self.buf[:i]
            if len(self.buf) < 10:
                return
            h = bytes(self.buf[:10])
            ok, why = self.header_valid(h)
            if not ok:
                self.log(f"bad header ({why}): drop 1 byte, resync")
                del self.buf[:1]
                continue
            size = frame_size(h[2])
            if len(self.buf) < size:
                return
            user = bytearray()
            good = True
            pos, left = 10, h[2] - 5
            while left:
                blk = min(16, left)
                b = bytes(self.buf[pos:pos + blk])
                if crc(b) != struct.unpack("<H", self.buf[pos + blk:pos + blk + 2])[0]:
                    good = False
                    break
                user += b
                pos += blk + 2
                left -= blk
            if not good:
                self.log("bad body CRC: drop 1 byte, resync")
                del self.buf[:1]
                continue
            del self.buf[:size]
            self.on_frame(h, bytes(user))

    @staticmethod
    def header_valid(h):
        if crc(h[:8]) != struct.unpack("<H", h[8:10])[0]:
            return False, "crc"
        length, ctl = h[2], h[3]
        if length < 5:
            return False, "length"
        func, prm, fcv = ctl & 0x0F, ctl & 0x40, ctl & 0x10
        has_data = length > 5
        if prm:
            if func not in (0, 2, 3, 4, 9):
                return False, f"primary function {func}"
            if bool(fcv) != (func in (2, 3)):
                return False, "fcv"
            if has_data != (func in (3, 4)):
                return False, "user data vs function"
        else:
            if func not in (0, 1, 11, 15):
                return False, f"secondary function {func}"
            if ctl & 0x20:
                return False, "fcb on secondary"
            if has_data:
                return False, "user data vs function"
        return True, ""

    def on_frame(self, h, user):
        ctl = h[3]
        dst, src = struct.unpack("<HH", h[4:8])
        func = ctl & 0x0F
        if not ctl & 0x80:
            self.log("frame with DIR=0 (not from a master): ignored")
            return
        if dst != OUR_ADDR and dst < 0xFFFD:
            self.log(f"frame for {dst}: ignored")
            return
        if not ctl & 0x40:
            self.log("secondary frame: ignored (we send no confirmed frames)")
            return
        broadcast = dst >= 0xFFFD
        if func == 0:
            self.link_reset, self.next_fcb = True, 1
            if not broadcast:
                self.send(frame(0x00, src, OUR_ADDR))
        elif func == 2:
            if not broadcast:
                self.send(frame(0x00, src, OUR_ADDR))
        elif func == 9:
            if not broadcast:
                self.send(frame(0x0B, src, OUR_ADDR))
        elif func == 4:
            self.transport(user, src, broadcast)
        elif func == 3:
            if not self.link_reset:
                self.log("confirmed user data before reset link: ignored")
                return
            fcb = 1 if ctl & 0x20 else 0
            if not broadcast:
                self.send(frame(0x00, src, OUR_ADDR))
            if fcb != self.next_fcb:
                self.log("repeated FCB: not passed up")
                return
            self.next_fcb ^= 1
            self.transport(user, src, broadcast)

    # --------------------------------------------------------- transport
    def transport(self, seg, src, broadcast):
        if not seg:
            return
        th = seg[0]
        fir, fin, seq = th & 0x40, th & 0x80, th & 0x3F
        if fir:
            if self.rx_active and self.rx:
                self.log("FIR mid-message: previous bytes discarded")
            self.rx = bytearray()
            self.rx_active = True
            self.rx_seq = seq
        elif not self.rx_active:
            self.log("non-FIR segment with no message in progress: ignored")
            return
        elif seq != self.rx_seq:
            self.log(f"bad transport sequence {seq}, expected {self.rx_seq}: ignored")
            return
        if len(self.rx) + len(seg) - 1 > 2048:
            self.log("message over 2048 bytes: discarded")
            self.rx, self.rx_active = bytearray(), False
            return
        self.rx += seg[1:]
        self.rx_seq = (self.rx_seq + 1) & 0x3F
        if fin:
            msg = bytes(self.rx)
            self.rx, self.rx_active = bytearray(), False
            self.application(msg, src, broadcast)

    # -------------------------------------------------------- application
    def application(self, apdu, src, broadcast):
        if len(apdu) < 2:
            return
        ac, fc = apdu[0], apdu[1]
        seq = ac & 0x0F
        if fc == 0:  # confirm
            return
        iin2 = 0
        objects = b""
        no_response = fc == 6 or broadcast
        with LOCK:
            try:
                headers = parse_objects(fc, apdu[2:])
            except ParseError as e:
                self.log(f"fc {fc}: malformed request ({e}): nothing executed")
                headers, iin2 = None, 0x04
            if headers is not None:
                if fc == 1:
                    objects = read_objects(headers)
                elif fc in (3, 4, 5, 6):
                    for g, v, q, objs in headers:
                        if g not in (12, 41) or objs is None:
                            iin2 |= 0x02
                            continue
                        for i, body in objs:
                            if fc == 3:
                                self.selected[(g, v, i)] = body
                            elif fc == 4 and self.selected.pop((g, v, i), None) != body:
                                self.log(f"operate without matching select g{g}v{v} {i}")
                            else:
                                execute_control(fc, g, v, i, body)
                    objects = apdu[2:]  # echo, status 0 (success)
                elif fc == 2:
                    for g, v, q, objs in headers:
                        for i, body in objs or []:
                            if (g, v) == (80, 1) and i == 7 and body == b"\x00":
                                STATE["iin1"] &= ~IIN1_RESTART
                            record({"fc": 2, "group": g, "variation": v, "index": i,
                                    "value": body.hex()})
                elif fc in (13, 14, 17, 18):
                    record({"fc": fc})
                    if fc in (13, 14):
                        objects = bytes([52, 2, 0x07, 1]) + struct.pack("<H", 100)
                else:
                    iin2 |= 0x01  # function not supported
        if no_response:
            return
        self.respond(seq, STATE["iin1"], iin2, objects, src)

    def respond(self, seq, iin1, iin2, objects, dst):
        apdu = bytes([0xC0 | seq, 0x81, iin1, iin2]) + objects
        chunks = [apdu[i:i + 249] for i in range(0, len(apdu), 249)] or [b""]
        out = b""
        for k, c in enumerate(chunks):
            th = (0x40 if k == 0 else 0) | (0x80 if k == len(chunks) - 1 else 0) | self.tx_seq
            self.tx_seq = (self.tx_seq + 1) & 0x3F
            out += frame(0x44, dst, OUR_ADDR, bytes([th]) + c)
        self.send(out)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            pass


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        c = Connection(self.request, f"{self.client_address[0]}:{self.client_address[1]}")
        while True:
            try:
                data = self.request.recv(4096)
            except OSError:
                return
            if not data:
                return
            c.feed(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global LOG_PATH
    if len(sys.argv) != 4:
        print(__doc__.split("Usage: ")[1], file=sys.stderr)
        return 2
    LOG_PATH = sys.argv[3]
    open(LOG_PATH, "a").close()
    with Server((sys.argv[1], int(sys.argv[2])), Handler) as s:
        print(f"dnp3 outstation {OUR_ADDR} on {sys.argv[1]}:{sys.argv[2]}, log {LOG_PATH}", flush=True)
        s.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
