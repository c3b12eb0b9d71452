#!/usr/bin/python3
"""A small, honest S7comm (S7-300/400 classic) server for the evasion suite.

Python standard library only. Listens on TCP (default 102) and speaks
ISO-on-TCP the way a PLC does:

  * TPKT (RFC 1006): version 3, the 16-bit length is the TPDU boundary. The
    server reads exactly that many bytes and frames the next TPKT from what
    follows, whatever the payload says (so an overstated length swallows the
    next bytes, an understated one makes them the next TPKT).
  * COTP class 0: CR answered with CC (TSAPs echoed), DR closes, DT carries
    S7; a DT without EOT is buffered and the message is the concatenation of
    the DT payloads up to the one with EOT (ISO 8073 reassembly).
  * S7comm job PDUs (ROSCTR 1): setup communication (required first, as on
    a real CPU), read var answered from memory, write var EXECUTED: the bytes
    go into memory and one JSON line per executed item is appended to the
    write log (flushed at once), which the test reads. Anything else gets an
    ack-data with an error class.

Memory: every (area, DB) is 4096 bytes, initially byte i = (i * 7 + 3) & 0xFF.

Usage: s7_server.py ADDRESS PORT WRITE_LOG
"""
import json
import os
import socketserver
import struct
import sys
import threading

LOCK = threading.Lock()
MEM = {}
LOG_PATH = None
MEM_SIZE = 4096


def mem(area, db):
    key = (area, db)
    if key not in MEM:
        MEM[key] = bytearray((i * 7 + 3) & 0xFF for i in range(MEM_SIZE))
    return MEM[key]


def record(entry):
    with open(LOG_PATH, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())


class Handler(socketserver.BaseRequestHandler):
    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def send_tpkt(self, cotp, payload=b""):
        body = cotp + payload
        self.request.sendall(struct.pack(">BBH", 3, 0, 4 + len(body)) + body)

    def send_s7(self, s7):
        self.send_tpkt(b"\x02\xf0\x80", s7)

    def handle(self):
        self.setup_done = False
        segments = b""
        try:
            while True:
                head = self.recv_exact(4)
                if head[0] != 3 or head[1] != 0:
                    return  # not TPKT: a PLC drops the connection
                length = struct.unpack(">H", head[2:4])[0]
                if length < 7:
                    return
                tpdu = self.recv_exact(length - 4)
                li = tpdu[0]
                if li < 2 or 1 + li > len(tpdu):
                    return
                code = tpdu[1] & 0xF0
                if code == 0xE0:  # CR
                    self.connect_confirm(tpdu, li)
                elif code == 0x80:  # DR
                    return
                elif code == 0xF0:  # DT
                    if li != 2:
                        return
                    segments += tpdu[3:]
                    if tpdu[2] & 0x80:  # EOT
                        msg, segments = segments, b""
                        if msg:
                            self.s7(msg)
                # anything else: ignored
        except (EOFError, ConnectionError, OSError):
            return

    def connect_confirm(self, tpdu, li):
        src_ref = tpdu[4:6]
        params = tpdu[7:1 + li]
        out = b""
        i = 0
        while i + 2 <= len(params):
            k, n = params[i], params[i + 1]
            if k in (0xC0, 0xC1, 0xC2):
                out += params[i:i + 2 + n]
            i += 2 + n
        cc = b"\xd0" + src_ref + b"\x00\x01\x00" + out
        self.send_tpkt(bytes([len(cc)]) + cc)

    def ack_data(self, pdu_ref, param, data=b"", err=(0, 0)):
        self.send_s7(struct.pack(">BBHHHHBB", 0x32, 3, 0, pdu_ref, len(param), len(data), *err)
                     + param + data)

    def s7(self, msg):
        if len(msg) < 10 or msg[0] != 0x32:
            return
        rosctr = msg[1]
        pdu_ref, plen, dlen = struct.unpack(">HHH", msg[4:10])
        if rosctr != 1:
            return
        if 10 + plen + dlen > len(msg) or plen < 1:
            self.ack_data(pdu_ref, b"", err=(0x84, 0x04))  # header/length error
            return
        param = msg[10:10 + plen]
        data = msg[10 + plen:10 + plen + dlen]
        fn = param[0]
        if fn == 0xF0:
            if plen < 8:
                self.ack_data(pdu_ref, b"", err=(0x84, 0x04))
                return
            self.setup_done = True
            self.ack_data(pdu_ref, b"\xf0\x00" + param[2:6] + struct.pack(">H", 240))
            return
        if not self.setup_done:
            self.ack_data(pdu_ref, b"", err=(0x81, 0x04))
            return
        if fn in (0x04, 0x05):
            self.var(pdu_ref, fn, param, data)
        else:
            self.ack_data(pdu_ref, b"", err=(0x85, 0x00))

    def items(self, param):
        count = param[1] if len(param) > 1 else 0
        out = []
        off = 2
        for _ in range(count):
            it = param[off:off + 12]
            if len(it) < 12 or it[0] != 0x12 or it[1] != 0x0A or it[2] != 0x10:
                return None
            tsize, n, db, area = struct.unpack(">BHHB", it[3:9])
            addr = int.from_bytes(it[9:12], "big") >> 3
            out.append((tsize, n, db, area, addr))
            off += 12
        return out

    def var(self, pdu_ref, fn, param, data):
        items = self.items(param)
        if not items:
            self.ack_data(pdu_ref, b"", err=(0x85, 0x00))
            return
        if fn == 0x04:
            out = b""
            for k, (tsize, n, db, area, addr) in enumerate(items):
                if tsize != 2 or addr + n > MEM_SIZE:
                    out += b"\x0a\x00\x00\x00"  # object does not exist
                    continue
                with LOCK:
                    val = bytes(mem(area, db)[addr:addr + n])
                out += b"\xff\x04" + struct.pack(">H", n * 8) + val
                if len(val) % 2 and k + 1 < len(items):
                    out += b"\x00"
            self.ack_data(pdu_ref, bytes([0x04, len(items)]), out)
            return
        # write var: the data items, one per parameter item.
        codes = b""
        off = 0
        for k, (tsize, n, db, area, addr) in enumerate(items):
            if off + 4 > len(data):
                codes += b"\x05"  # address out of range / data error
                continue
            _, dsize, dlen = struct.unpack(">BBH", data[off:off + 4])
            nbytes = dlen // 8 if dsize in (3, 4, 5) else dlen
            val = data[off + 4:off + 4 + nbytes]
            off += 4 + nbytes + (nbytes % 2 if k + 1 < len(items) else 0)
            if len(val) != nbytes or addr + nbytes > MEM_SIZE:
                codes += b"\x05"
                continue
            with LOCK:
                mem(area, db)[addr:addr + nbytes] = val
                record({"area": area, "db": db, "address": addr, "data": val.hex(),
                        "peer": self.client_address[0]})
            codes += b"\xff"
        self.ack_data(pdu_ref, bytes([0x05, len(items)]), codes)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    global LOG_PATH
    addr, port, LOG_PATH = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    open(LOG_PATH, "a").close()
    with Server((addr, port), Handler) as srv:
        print(f"s7_server: listening on {addr}:{port}, write log {LOG_PATH}", flush=True)
        srv.serve_forever()


if __name__ == "__main__":
    main()
