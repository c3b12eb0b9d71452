// A fluent builder for test frames (Katran's PacketBuilder model):
//
//   auto frame = PacketBuilder().Eth().Vlan(10).Ipv4("198.18.0.10", "198.18.0.200")
//                    .Tcp(50000, 502, /*seq=*/1, kTcpAck | kTcpPsh).Payload({...}).Build();
//
// Lengths and the IPv4 header checksum are filled in by Build().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conduit::testing {

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                         kTcpAck = 0x10;

class PacketBuilder {
 public:
  PacketBuilder& Eth(uint16_t ethertype = 0);  // 0: set by the next layer
  PacketBuilder& Vlan(uint16_t vid, uint16_t tpid = 0x8100);
  PacketBuilder& Ipv4(const std::string& src, const std::string& dst, uint8_t proto = 0,
                      std::vector<uint8_t> options = {});
  PacketBuilder& Ipv6(const std::string& src, const std::string& dst, uint8_t next = 0);
  // An IPv6 extension header (hop-by-hop 0, routing 43, destination 60) of
  // 8 bytes; fragment (44) with `fragment_offset`.
  PacketBuilder& Ipv6Ext(uint8_t type, uint16_t fragment_offset = 0);
  PacketBuilder& Tcp(uint16_t sport, uint16_t dport, uint32_t seq = 1, uint8_t flags = kTcpAck | kTcpPsh);
  PacketBuilder& Udp(uint16_t sport, uint16_t dport);
  PacketBuilder& Icmp(uint8_t type = 8, uint8_t code = 0);
  PacketBuilder& Arp();
  PacketBuilder& Payload(const std::vector<uint8_t>& bytes);
  // Sets IPv4 flags/fragment offset (in 8-byte units) of the IPv4 header.
  PacketBuilder& Fragment(bool more_fragments, uint16_t offset_units);

  std::vector<uint8_t> Build() const;

 private:
  void SetNext(uint8_t proto);
  std::vector<uint8_t> bytes_;
  size_t ethertype_at_ = SIZE_MAX;  // where the last ethertype goes
  size_t ip_at_ = SIZE_MAX;
  bool ipv6_ = false;
  size_t next_header_at_ = SIZE_MAX; // IPv4 protocol / IPv6 next-header byte
  size_t udp_at_ = SIZE_MAX;
};

// Modbus/TCP request ADU: MBAP + function + data.
std::vector<uint8_t> ModbusAdu(uint16_t transaction, uint8_t unit, uint8_t function,
                               const std::vector<uint8_t>& data);

}  // namespace conduit::testing
