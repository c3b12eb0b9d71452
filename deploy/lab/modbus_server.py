#!/usr/bin/python3
"""A real Modbus/TCP server (pymodbus) for the lab's plant namespace.

Usage: modbus_server.py ADDRESS [PORT]
Unit 1 holds 1000 coils, discrete inputs, holding and input registers;
holding register n starts at value n.
"""
import logging
import sys

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartTcpServer


def main():
    address = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 502
    logging.basicConfig(level=logging.WARNING)
    store = ModbusSlaveContext(
        di=ModbusSequentialDataBlock(0, [0] * 1000),
        co=ModbusSequentialDataBlock(0, [0] * 1000),
        hr=ModbusSequentialDataBlock(0, list(range(1000))),
        ir=ModbusSequentialDataBlock(0, list(range(1000))),
        zero_mode=True)
    context = ModbusServerContext(slaves={1: store}, single=False)
    StartTcpServer(context=context, address=(address, port))


if __name__ == "__main__":
    main()
