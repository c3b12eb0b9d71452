// A direction-independent flow key: both directions of a flow map to one key.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "parse/packet_meta.h"

namespace conduit {

struct FlowKey {
  std::array<uint8_t, 16> addr_lo{};  // the smaller (address, port) endpoint
  std::array<uint8_t, 16> addr_hi{};
  uint16_t port_lo = 0;
  uint16_t port_hi = 0;
  uint16_t vlan = 0;                  // outer VLAN id: the same 5-tuple on two VLANs is two flows
  uint8_t l4_proto = 0;
  uint8_t ip_version = 0;             // an IPv4-mapped IPv6 address is not the IPv4 flow

  bool operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(FlowKey) == 40);

// Builds the key and tells whether the packet travels lo → hi.
inline FlowKey MakeFlowKey(const PacketMeta& m, bool* lo_to_hi) {
  FlowKey k;
  const int c = std::memcmp(m.src_addr.data(), m.dst_addr.data(), 16);
  const bool src_is_lo = c < 0 || (c == 0 && m.src_port <= m.dst_port);
  if (src_is_lo) {
    k.addr_lo = m.src_addr; k.addr_hi = m.dst_addr;
    k.port_lo = m.src_port; k.port_hi = m.dst_port;
  } else {
    k.addr_lo = m.dst_addr; k.addr_hi = m.src_addr;
    k.port_lo = m.dst_port; k.port_hi = m.src_port;
  }
  k.vlan = m.vlan_outer;
  k.l4_proto = m.l4_proto;
  k.ip_version = m.ip_version;
  *lo_to_hi = src_is_lo;
  return k;
}

// 64-bit mix of the key (murmur-style finaliser over 5 words).
inline uint64_t HashFlowKey(const FlowKey& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof(w));
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint64_t x : w) {
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31;
    h = (h ^ x) * 0x94D049BB133111EBull;
  }
  return h ^ (h >> 29);
}

}  // namespace conduit
