#!/usr/bin/python3
"""Polls a Modbus/TCP server at a steady rate, like an HMI or a historian.

Usage: modbus_poller.py HOST DURATION_S [--interval S] [--port N] [--timeout S]

Reads holding registers 0..3 of unit 1 every --interval seconds (on a fixed
schedule, not drifting) for DURATION_S seconds and prints one line per poll:

  <UTC time> <unix time of the answer or the failure> ok|fail <latency ms> [reason]

A failed poll closes the connection; the next poll reconnects. Exits 0 when
at least one poll succeeded.
"""
import argparse
import logging
import sys
import time
from datetime import datetime, timezone

from pymodbus.client import ModbusTcpClient


def emit(ok, started, detail=""):
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    print(f"{stamp} {now:.3f} {'ok' if ok else 'fail'} {(now - started) * 1000:.1f}"
          + (f" {detail}" if detail else ""), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("duration", type=float)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--port", type=int, default=502)
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # our lines say it all

    client = ModbusTcpClient(args.host, port=args.port, timeout=args.timeout, retries=0)
    successes = 0
    begin = time.monotonic()
    tick = begin
    while tick - begin < args.duration:
        time.sleep(max(0.0, tick - time.monotonic()))
        started = time.time()
        try:
            if not client.connect():  # no-op while connected
                raise ConnectionError("connect failed")
            rr = client.read_holding_registers(0, 4, slave=1)
            if rr.isError() or rr.registers != [0, 1, 2, 3]:
                raise ValueError(str(rr))
            successes += 1
            emit(True, started)
        except Exception as e:  # pymodbus raises several kinds; all mean "no answer"
            client.close()
            emit(False, started, f"{type(e).__name__}: {e}".replace("\n", " ")[:160])
        # The next tick on the schedule; ticks missed while a poll hung are skipped.
        now = time.monotonic()
        tick += args.interval
        if tick < now:
            tick += ((now - tick) // args.interval + 1) * args.interval
    client.close()
    return 0 if successes else 1


if __name__ == "__main__":
    sys.exit(main())
