// PacketMeta: what one parse of L2/L3/L4 learns about a frame.
//
// Filled once per packet by ParsePacket() and read by every later stage
// (flow lookup, ICS decode, classify, verdict). Offsets are from the start of
// the frame; addresses are kept in IPv6 form (IPv4 as ::ffff:a.b.c.d) so flow
// keys and prefix matching have one shape for both families.
#pragma once

#include <array>
#include <cstdint>

namespace conduit {

// IP protocol numbers (PacketMeta::l4_proto) the gateway tells apart.
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

// TCP flag bits (PacketMeta::tcp_flags).
inline constexpr uint8_t kTcpFlagSyn = 0x02;
inline constexpr uint8_t kTcpFlagAck = 0x10;

// PacketMeta::flags bits.
enum PacketFlag : uint8_t {
  kPktIpv4Options = 1 << 0,   // IPv4 header longer than 20 bytes
  kPktFragment = 1 << 1,      // an IP fragment (first or later)
  kPktLaterFragment = 1 << 2, // a non-first fragment: no L4 header here
  kPktIpv6ExtHeaders = 1 << 3,
  kPktHasL4 = 1 << 4,         // src_port/dst_port (and TCP fields) valid
};

struct alignas(8) PacketMeta {
  std::array<uint8_t, 16> src_addr{};  // IPv6 form; IPv4 mapped
  std::array<uint8_t, 16> dst_addr{};
  uint16_t src_port = 0;               // host order; ICMP: type << 8 | code
  uint16_t dst_port = 0;
  uint16_t ethertype = 0;              // innermost, host order
  uint16_t l3_offset = 0;
  uint16_t l4_offset = 0;
  uint16_t payload_offset = 0;         // L4 payload (TCP/UDP data)
  uint16_t payload_len = 0;            // bounded by the IP length and the buffer
  uint16_t vlan_outer = 0;             // VLAN id (12 bits) of the first tag
  uint16_t vlan_inner = 0;             // VLAN id of the second tag (QinQ)
  uint8_t vlan_count = 0;
  uint8_t ip_version = 0;              // 4, 6 or 0 (not IP)
  uint8_t l4_proto = 0;                // IPPROTO_TCP / UDP / ICMP / ICMPV6 / ...
  uint8_t tcp_flags = 0;
  uint8_t flags = 0;                   // PacketFlag bits
  uint8_t reserved = 0;
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;

  bool Has(PacketFlag f) const { return (flags & f) != 0; }
  bool IsIpv4Mapped() const { return ip_version == 4; }
  // A SYN without ACK: a client opening (or reopening) a connection.
  bool IsTcpSyn() const {
    return l4_proto == kIpProtoTcp && (tcp_flags & (kTcpFlagSyn | kTcpFlagAck)) == kTcpFlagSyn;
  }
};
static_assert(sizeof(PacketMeta) == 64, "PacketMeta should fill one cache line");

}  // namespace conduit
