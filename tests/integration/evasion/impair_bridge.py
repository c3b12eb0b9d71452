#!/usr/bin/python3
"""A userspace impairment bridge, for kernels without netem.

Usage: impair_bridge.py IF_A IF_B [--loss 0.05] [--reorder 0.05]
                        [--dup 0.01] [--seed 13] [--stats FILE]

Forwards every frame received on IF_A out of IF_B and back (raw AF_PACKET
sockets; run it in a namespace that holds both interfaces and nothing else),
in each direction independently:
  loss     drop the frame
  reorder  hold the frame back and send it right after the next frame in
           the same direction (or after 200 ms if none comes)
  dup      send the frame twice
with a fixed random seed. On SIGTERM writes its counts to --stats.
"""
import argparse
import random
import select
import signal
import socket
import sys
import time

PACKET_OUTGOING = 4
HOLD_MAX_S = 0.2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--loss", type=float, default=0.05)
    ap.add_argument("--reorder", type=float, default=0.05)
    ap.add_argument("--dup", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--stats")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    socks = {}
    for name in (args.a, args.b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks[name] = s
    peer = {socks[args.a]: socks[args.b], socks[args.b]: socks[args.a]}
    held = {}  # out socket -> (frame, since)
    stats = {"frames": 0, "dropped": 0, "reordered": 0, "duplicated": 0}

    def finish(*_):
        if args.stats:
            with open(args.stats, "w") as f:
                f.write(" ".join(f"{k}={v}" for k, v in stats.items()) + "\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)

    def out(sock, frame):
        try:
            sock.send(frame)
        except OSError:
            pass

    while True:
        ready, _, _ = select.select(list(peer), [], [], 0.05)
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            o = peer[s]
            stats["frames"] += 1
            r = rng.random()
            if r < args.loss:
                stats["dropped"] += 1
                continue
            previous = held.pop(o, None)
            if r < args.loss + args.reorder and previous is None:
                stats["reordered"] += 1
                held[o] = (frame, time.monotonic())
                continue
            out(o, frame)
            if previous is not None:
                out(o, previous[0])
            if rng.random() < args.dup:
                stats["duplicated"] += 1
                out(o, frame)
        now = time.monotonic()
        for o, (frame, since) in list(held.items()):
            if now - since > HOLD_MAX_S:
                del held[o]
                out(o, frame)


if __name__ == "__main__":
    main()
