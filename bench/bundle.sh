#!/usr/bin/env bash
# Packs the benchmarks, conduitd, conduitctl and dpdk-testpmd with the shared
# libraries they load into one folder, to measure on a bigger machine that has
# neither Debian's packages nor a network (bench/RESULTS.md, "Multi-worker
# scaling" was measured this way). On that machine, from the repository root:
#
#   export LD_LIBRARY_PATH=$DIR/lib PATH=$DIR/bin:$PATH
#   /usr/bin/env python3 bench/gen/make_workload.py ...   # standard library only
#   $DIR/build/bench/pipeline_bench ...
#   WORKERS=8 SURICATA=0 PY=python3 BUILD=$DIR/build EAL_EXTRA="-d $DIR/pmds" bench/e2e.sh
#
#   bench/bundle.sh [BUILD=build] DIR
# glibc itself is left out: the target's own (same or newer) is used.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DIR=${1:?usage: bench/bundle.sh DIR}
PMDS=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0

rm -rf "$DIR"
mkdir -p "$DIR"/{bin,lib,pmds,build/control,build/bench}
cp "$BUILD"/control/{conduitd,conduitctl} "$DIR/build/control/"
for b in "$BUILD"/bench/*_bench; do cp "$b" "$DIR/build/bench/"; done
cp "$(command -v dpdk-testpmd)" "$DIR/bin/"
# EAL's -d loads only files named *.so or *.so.<ABI version> (23.0) from a
# folder, so the drivers go in as *.so.
for driver in net_pcap net_null mempool_ring bus_vdev; do
  cp -L "$PMDS/librte_$driver.so.23" "$DIR/pmds/librte_$driver.so"
done
for f in "$DIR"/build/*/* "$DIR"/bin/* "$DIR"/pmds/*; do
  ldd "$f" | awk '/=> \// { print $3 }'
done | sort -u | grep -vE '/(libc|libm|libpthread|libdl|librt)\.so' | xargs -I{} cp -L {} "$DIR/lib/"
# A driver that the programs also link (testpmd links bus_vdev) must be loaded
# once: a second copy from pmds/ registers a second vdev bus and no device
# probes.
for p in "$DIR"/pmds/*.so; do
  [[ -e $DIR/lib/$(basename "$p").23 ]] && rm "$p"
done
strip --strip-unneeded "$DIR"/lib/* "$DIR"/pmds/* "$DIR"/bin/* 2>/dev/null || true
du -sh "$DIR"
