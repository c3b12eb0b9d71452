#!/usr/bin/python3
"""A real Modbus/TCP client (pymodbus) for the lab's corp namespace.

Usage: modbus_client.py HOST [PORT]
Reads holding registers and coils, writes a register and a coil, reads them
back. Prints one line per operation ("ok ..." or "FAIL ...") and exits 0
only when every operation succeeded with the expected values.
"""
import sys
import time

from pymodbus.client import ModbusTcpClient


def main():
    host = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 502
    client = ModbusTcpClient(host, port=port, timeout=3, retries=0)
    deadline = time.time() + 10
    while not client.connect():
        if time.time() > deadline:
            print(f"FAIL connect {host}:{port}")
            return 1
        time.sleep(0.2)
    failures = 0

    def check(name, ok, detail):
        nonlocal failures
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        failures += 0 if ok else 1

    rr = client.read_holding_registers(10, 5, slave=1)
    check("read_holding_registers 10..14", not rr.isError() and rr.registers == [10, 11, 12, 13, 14],
          rr.registers if not rr.isError() else rr)
    wr = client.write_register(100, 4242, slave=1)
    check("write_single_register 100=4242", not wr.isError(), wr)
    rr = client.read_holding_registers(100, 1, slave=1)
    check("read back register 100", not rr.isError() and rr.registers == [4242],
          rr.registers if not rr.isError() else rr)
    wc = client.write_coil(7, True, slave=1)
    check("write_single_coil 7=1", not wc.isError(), wc)
    rc = client.read_coils(7, 1, slave=1)
    check("read_coils 7", not rc.isError() and rc.bits[0] is True,
          rc.bits[:1] if not rc.isError() else rc)
    wm = client.write_registers(200, [1, 2, 3], slave=1)
    check("write_multiple_registers 200..202", not wm.isError(), wm)
    client.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
