#!/usr/bin/env bash
# The namespace lab: two hosts, `corp` and `plant`, each joined to the
# gateway by a veth pair; the gateway's ends stay in this namespace, where
# conduitd opens them with net_af_packet.
#
#   lab.sh up   [PREFIX]   create (or repair) the lab
#   lab.sh down [PREFIX]   remove it
#   lab.sh names [PREFIX]  print the names as shell variables
#
# PREFIX keeps labs apart (tests use their own, e.g. "t3"): namespaces
# ${PREFIX}corp / ${PREFIX}plant, gateway interfaces ${PREFIX}gw-corp /
# ${PREFIX}gw-plant. Addresses are in 198.18.0.0/15 (RFC 2544 benchmarking)
# only: corp 198.18.0.10/24, plant 198.18.0.200/24, one L2 segment through
# the gateway.
set -euo pipefail

cmd="${1:-}"
P="${2:-${LAB_PREFIX:-}}"
NS_CORP="${P}corp"
NS_PLANT="${P}plant"
GW_CORP="${P}gw-corp"
GW_PLANT="${P}gw-plant"
CORP_IP="198.18.0.10"
PLANT_IP="198.18.0.200"

if [[ ${#GW_PLANT} -gt 15 ]]; then
  echo "lab.sh: prefix '$P' makes interface names longer than 15 characters" >&2
  exit 2
fi

# No offloads anywhere on the path: with TX checksum offload the kernel
# leaves checksums for hardware that af_packet never provides (TCP silently
# fails while ping works), and GRO/TSO would hand the gateway frames larger
# than its mbufs.
no_offloads() {
  local ns="$1" dev="$2"
  ${ns:+ip netns exec "$ns"} ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ${ns:+ip netns exec "$ns"} ethtool -K "$dev" lro off >/dev/null 2>&1 || true
}

host_side() {
  local ns="$1" gw_dev="$2" ip="$3"
  ip netns list | grep -qw "^$ns" || ip netns add "$ns"
  if ! ip link show "$gw_dev" >/dev/null 2>&1 || ! ip netns exec "$ns" ip link show eth0 >/dev/null 2>&1; then
    ip link del "$gw_dev" >/dev/null 2>&1 || true
    ip netns exec "$ns" ip link del eth0 >/dev/null 2>&1 || true
    ip link add "$gw_dev" type veth peer name eth0 netns "$ns"
  fi
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" ip addr replace "$ip/24" dev eth0
  ip netns exec "$ns" ip link set eth0 up
  no_offloads "$ns" eth0
  # The gateway's port has no address and speaks no IPv6 of its own.
  sysctl -qw "net.ipv6.conf.$gw_dev.disable_ipv6=1" >/dev/null 2>&1 || true
  ip link set "$gw_dev" up
  no_offloads "" "$gw_dev"
}

case "$cmd" in
  up)
    host_side "$NS_CORP" "$GW_CORP" "$CORP_IP"
    host_side "$NS_PLANT" "$GW_PLANT" "$PLANT_IP"
    echo "lab up: $NS_CORP($CORP_IP) -- $GW_CORP [conduitd] $GW_PLANT -- $NS_PLANT($PLANT_IP)"
    ;;
  down)
    ip link del "$GW_CORP" >/dev/null 2>&1 || true
    ip link del "$GW_PLANT" >/dev/null 2>&1 || true
    ip netns del "$NS_CORP" >/dev/null 2>&1 || true
    ip netns del "$NS_PLANT" >/dev/null 2>&1 || true
    ;;
  names)
    echo "NS_CORP=$NS_CORP NS_PLANT=$NS_PLANT GW_CORP=$GW_CORP GW_PLANT=$GW_PLANT CORP_IP=$CORP_IP PLANT_IP=$PLANT_IP"
    ;;
  *)
    sed -n '2,15p' "$0" >&2
    exit 2
    ;;
esac
