// A direction-independent flow key: both directions of a flow map to one key.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "parse/byte_order.h"
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

  // Five word compares, inlined (a memcmp call was 5 % of inspection).
  bool operator==(const FlowKey& o) const {
    uint64_t a[5], b[5];
    std::memcpy(a, this, sizeof(a));
    std::memcpy(b, &o, sizeof(b));
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
  }
};
static_assert(sizeof(FlowKey) == 40);
static_assert(std::has_unique_object_representations_v<FlowKey>, "no padding: compared as words");

// Orders two 16-byte addresses as memcmp would, with two word compares.
inline int CompareAddresses(const std::array<uint8_t, 16>& x, const std::array<uint8_t, 16>& y) {
  for (int i = 0; i < 16; i += 8) {
    const uint64_t a = LoadBigEndian64(x.data() + i), b = LoadBigEndian64(y.data() + i);
    if (a != b) return a < b ? -1 : 1;
  }
  return 0;
}

// Builds the key and tells whether the packet travels lo → hi.
inline FlowKey MakeFlowKey(const PacketMeta& m, bool* lo_to_hi) {
  FlowKey k;
  const int c = CompareAddresses(m.src_addr, m.dst_addr);
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
