#!/usr/bin/python3
"""A TCP bulk transfer with an end-to-end checksum.

  tcp_bulk.py serve ADDRESS PORT          receive one connection, print "<bytes> <sha256>"
  tcp_bulk.py send HOST PORT MEGABYTES    send random bytes, print "<bytes> <sha256>"
"""
import hashlib
import os
import socket
import sys
import time


def serve(address, port):
    with socket.create_server((address, port)) as srv:
        srv.settimeout(60)
        conn, _ = srv.accept()
        digest, total = hashlib.sha256(), 0
        with conn:
            conn.settimeout(60)
            while chunk := conn.recv(65536):
                digest.update(chunk)
                total += len(chunk)
        print(total, digest.hexdigest(), flush=True)


def send(host, port, megabytes):
    deadline = time.time() + 10
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=10)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    digest, total = hashlib.sha256(), 0
    with sock:
        for _ in range(megabytes * 16):
            chunk = os.urandom(65536)
            sock.sendall(chunk)
            digest.update(chunk)
            total += len(chunk)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1)
    print(total, digest.hexdigest(), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
