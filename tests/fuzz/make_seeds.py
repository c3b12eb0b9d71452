#!/usr/bin/python3
"""make_seeds.py - build libFuzzer seed directories from the capture corpus.

Usage: make_seeds.py --corpus DIR --regressions DIR --out DIR --stamp FILE

Reads <corpus>/pcap/<proto>/*.pcap (classic pcap, Ethernet; $CONDUIT_CORPUS
overrides --corpus) with the standard library only, and writes one file per
seed, named by its SHA-1, in the input format of each target:

  <out>/<proto>/   fuzz_decoder.cc: [flags][one TCP or UDP payload]
  <out>/parse/     fuzz_parse.cc:   one whole Ethernet frame
  <out>/framer/    fuzz_framer.cc:  [module][ctl len (delta) payload]... per TCP flow

Then adds <regressions>/<target>/*.hex (hex text, '#' comments) so inputs
that once crashed are replayed on every run. A missing corpus is not an
error: the seed directories are left empty (libFuzzer starts from nothing).
"""
import argparse
import hashlib
import os
import shutil
import struct
import sys

PROTOCOLS = ["modbus", "dnp3", "s7comm", "enip", "iec104", "opcua", "bacnet"]
# Well-known server ports: they tell which side is the client.
SERVER_PORTS = {502, 20000, 20001, 102, 44818, 2222, 2404, 4840, 47808}
# Index of each TCP module in fuzz_framer.cc's list (registry order, TCP only).
FRAMER_MODULE = {"modbus": 0, "dnp3": 1, "s7comm": 2, "enip": 3, "iec104": 4, "opcua": 5}

MAX_DECODER_SEEDS = 400   # per protocol: keeps seed loading well under a second
MAX_PARSE_SEEDS = 400
MAX_FRAMER_SEEDS = 80     # per protocol
MAX_FLOW_SEGMENTS = 48
MAX_SEED_BYTES = 4096     # the targets' -max_len


def read_pcap(path):
    """Yields the frames of a little- or big-endian classic Ethernet pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return  # pcapng or not a capture: skipped
    if struct.unpack(endian + "I", data[20:24])[0] != 1:
        return  # not Ethernet
    pos = 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8:pos + 12])[0]
        pos += 16
        if pos + incl > len(data):
            break
        yield data[pos:pos + incl]
        pos += incl


def parse_frame(frame):
    """Returns (l4 proto, src, dst, sport, dport, seq, syn, payload) or None."""
    off = 12
    if len(frame) < 14:
        return None
    etype = struct.unpack(">H", frame[off:off + 2])[0]
    while etype in (0x8100, 0x88A8, 0x9100) and len(frame) >= off + 6:
        off += 4
        etype = struct.unpack(">H", frame[off:off + 2])[0]
    off += 2
    if etype == 0x0800 and len(frame) >= off + 20:
        ihl = (frame[off] & 0x0F) * 4
        total = struct.unpack(">H", frame[off + 2:off + 4])[0]
        if struct.unpack(">H", frame[off + 6:off + 8])[0] & 0x1FFF:
            return None  # later fragment
        proto, src, dst = frame[off + 9], frame[off + 12:off + 16], frame[off + 16:off + 20]
        end = min(len(frame), off + total)
        off += ihl
    elif etype == 0x86DD and len(frame) >= off + 40:
        proto, src, dst = frame[off + 6], frame[off + 8:off + 24], frame[off + 24:off + 40]
        end = min(len(frame), off + 40 + struct.unpack(">H", frame[off + 4:off + 6])[0])
        off += 40  # extension headers: not in the corpus' ICS traffic
    else:
        return None
    if proto == 6 and end >= off + 20:
        sport, dport, seq = struct.unpack(">HHI", frame[off:off + 8])
        hl = (frame[off + 12] >> 4) * 4
        syn = bool(frame[off + 13] & 0x02)
        return (6, src, dst, sport, dport, seq, syn, frame[off + hl:end])
    if proto == 17 and end >= off + 8:
        sport, dport = struct.unpack(">HH", frame[off:off + 4])
        return (17, src, dst, sport, dport, 0, False, frame[off + 8:end])
    return None


def to_client(sport, dport):
    """True when the packet goes toward the server."""
    if dport in SERVER_PORTS:
        return True
    if sport in SERVER_PORTS:
        return False
    return dport < sport


def round_robin(lists, limit):
    """Takes from each list in turn so every capture contributes seeds."""
    out, seen, i = [], set(), 0
    while len(out) < limit and any(i < len(l) for l in lists):
        for l in lists:
            if i < len(l) and l[i] not in seen and len(out) < limit:
                seen.add(l[i])
                out.append(l[i])
        i += 1
    return out


def framer_seed(module, segments):
    """Encodes one TCP flow's segments in fuzz_framer.cc's format."""
    init = [0xFFFFFF00, 0x00001000]  # the target's starting numbers
    next_seq = list(init)
    first = [None, None]
    out = bytearray([module])
    for d, seq, syn, payload in segments[:MAX_FLOW_SEGMENTS]:
        if first[d] is None:
            first[d] = seq
        want = (init[d] + seq - first[d]) & 0xFFFFFFFF
        payload = payload[:0xFFFF]
        ctl = d | (2 if syn else 0)
        if want == next_seq[d]:
            out += struct.pack("<BH", ctl, len(payload))
        else:
            out += struct.pack("<BHI", ctl | 4, len(payload), (want - next_seq[d]) & 0xFFFFFFFF)
        out += payload
        end = (want + len(payload) + (1 if syn else 0)) & 0xFFFFFFFF
        if 0 < ((end - next_seq[d]) & 0xFFFFFFFF) < 0x80000000:
            next_seq[d] = end
        if len(out) > MAX_SEED_BYTES:
            break
    return bytes(out[:MAX_SEED_BYTES])


def write_seeds(directory, seeds):
    os.makedirs(directory, exist_ok=True)
    for s in seeds:
        with open(os.path.join(directory, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--regressions", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stamp", required=True)
    args = ap.parse_args()
    corpus = os.environ.get("CONDUIT_CORPUS") or args.corpus
    pcap_root = os.path.join(corpus, "pcap")

    shutil.rmtree(args.out, ignore_errors=True)
    targets = PROTOCOLS + ["parse", "framer"]
    for t in targets:
        os.makedirs(os.path.join(args.out, t), exist_ok=True)

    counts = {t: 0 for t in targets}
    if not os.path.isdir(pcap_root):
        print(f"make_seeds: no corpus at {pcap_root}: empty seed dirs", file=sys.stderr)
    else:
        parse_lists, framer_all = [], []
        for proto in sorted(os.listdir(pcap_root)):
            pdir = os.path.join(pcap_root, proto)
            if not os.path.isdir(pdir):
                continue
            decoder_lists, framer_lists = [], []
            for name in sorted(os.listdir(pdir)):
                if not name.endswith(".pcap"):
                    continue
                frames, payloads, flows = [], [], {}
                for frame in read_pcap(os.path.join(pdir, name)):
                    frames.append(frame[:MAX_SEED_BYTES])
                    p = parse_frame(frame)
                    if p is None:
                        continue
                    l4, src, dst, sport, dport, seq, syn, payload = p
                    client = to_client(sport, dport)
                    if payload:
                        flags = (1 if client else 0) | (2 if l4 == 17 else 0)
                        payloads.append(bytes([flags]) + payload[:MAX_SEED_BYTES - 1])
                    if l4 == 6 and (payload or syn):
                        key = (src, sport, dst, dport) if client else (dst, dport, src, sport)
                        flows.setdefault(key, []).append((1 if client else 0, seq, syn, payload))
                parse_lists.append(frames)
                decoder_lists.append(payloads)
                if proto in FRAMER_MODULE:
                    framer_lists.append([framer_seed(FRAMER_MODULE[proto], segs)
                                         for segs in flows.values()])
            if proto in PROTOCOLS:
                seeds = round_robin(decoder_lists, MAX_DECODER_SEEDS)
                write_seeds(os.path.join(args.out, proto), seeds)
                counts[proto] = len(seeds)
            framer_all.append(round_robin(framer_lists, MAX_FRAMER_SEEDS))
        seeds = round_robin(parse_lists, MAX_PARSE_SEEDS)
        write_seeds(os.path.join(args.out, "parse"), seeds)
        counts["parse"] = len(seeds)
        seeds = [s for l in framer_all for s in l]
        write_seeds(os.path.join(args.out, "framer"), seeds)
        counts["framer"] = len(seeds)

    # Regression inputs: hex text, so no binary files live in the repository.
    if os.path.isdir(args.regressions):
        for t in sorted(os.listdir(args.regressions)):
            rdir = os.path.join(args.regressions, t)
            if t not in targets or not os.path.isdir(rdir):
                continue
            for name in sorted(os.listdir(rdir)):
                if not name.endswith(".hex"):
                    continue
                with open(os.path.join(rdir, name)) as f:
                    text = "".join(line.split("#", 1)[0] for line in f)
                write_seeds(os.path.join(args.out, t), [bytes.fromhex("".join(text.split()))])
                counts[t] += 1

    with open(args.stamp, "w") as f:
        for t in targets:
            f.write(f"{t} {counts[t]}\n")


if __name__ == "__main__":
    main()
