#!/usr/bin/env bash
# Installs what Conduit needs from Debian 12's archive (only what is missing)
# and builds it into build/. Idempotent; run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# pymodbus 3.0 imports serial_asyncio (and serial) from pymodbus.client and
# .server but only Recommends them (installs here are --no-install-recommends).
PACKAGES=(
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev
  dpdk libdpdk-dev libhyperscan-dev libabsl-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc libssl-dev
  libbenchmark-dev libgtest-dev libgmock-dev libyaml-cpp-dev libpcap-dev libsqlite3-dev libcpp-httplib-dev
  libmodbus-dev   # tests/integration/evasion/libmodbus_server: the second Modbus peer
  python3 python3-pymodbus python3-serial python3-serial-asyncio python3-scapy python3-yaml
  iproute2 ethtool iputils-ping tshark procps bc coreutils util-linux
  rsyslog rsyslog-openssl openssl   # tests/integration/syslog_test.sh: a real SIEM receiver
  prometheus chromium fonts-dejavu-core curl   # tests/integration/telemetry_test.sh: the real scraper and browser
)
# tests/integration/packages_test.py checks that every Python module and
# program the scripts and tests use comes from this list (or what it
# depends on): keep it the single list.

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$ROOT"
if [[ ! -f build/build.ninja ]]; then
  meson setup build >/dev/null
fi
echo "setup: building (ninja -C build)"
ninja -C build
