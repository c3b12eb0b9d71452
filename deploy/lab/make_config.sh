#!/usr/bin/env bash
# Prints a conduitd config for the lab with PREFIX (see lab.sh), its own EAL
# file prefix and control port, so several labs and tests can run at once.
#   make_config.sh PREFIX CONTROL_PORT
set -euo pipefail
P="${1:-}"
PORT="${2:-50051}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sed -e "s/iface=gw-corp/iface=${P}gw-corp/" \
    -e "s/iface=gw-plant/iface=${P}gw-plant/" \
    -e "s/--file-prefix, conduit-lab/--file-prefix, conduit-lab${P}/" \
    -e "s/127.0.0.1:50051/127.0.0.1:${PORT}/" \
    -e "s#state_dir: /var/lib/conduit#state_dir: /tmp/conduit-lab${P}-state#" \
    "$HERE/../examples/conduitd-lab.yaml"
