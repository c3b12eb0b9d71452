#include "packet/packet_builder.h"

#include <arpa/inet.h>

#include <stdexcept>

namespace conduit::testing {
namespace {

void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = uint8_t(v >> 8);
  b[at + 1] = uint8_t(v);
}
void Append16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void Append32(std::vector<uint8_t>& b, uint32_t v) {
  Append16(b, uint16_t(v >> 16));
  Append16(b, uint16_t(v));
}

}  // namespace

PacketBuilder& PacketBuilder::Eth(uint16_t ethertype) {
  const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
  bytes_.insert(bytes_.end(), dst, dst + 6);
  bytes_.insert(bytes_.end(), src, src + 6);
  ethertype_at_ = bytes_.size();
  Append16(bytes_, ethertype);
  return *this;
}

PacketBuilder& PacketBuilder::Vlan(uint16_t vid, uint16_t tpid) {
  Put16(bytes_, ethertype_at_, tpid);
  Append16(bytes_, vid & 0x0FFF);
  ethertype_at_ = bytes_.size();
  Append16(bytes_, 0);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4(const std::string& src, const std::string& dst, uint8_t proto,
                                   std::vector<uint8_t> options) {
  Put16(bytes_, ethertype_at_, 0x0800);
  while (options.size() % 4) options.push_back(0);
  ip_at_ = bytes_.size();
  ipv6_ = false;
  bytes_.push_back(uint8_t(0x40 | (5 + options.size() / 4)));
  bytes_.push_back(0);
  Append16(bytes_, 0);       // total length, in Build()
  Append16(bytes_, 0x1234);  // id
  Append16(bytes_, 0x4000);  // DF
  bytes_.push_back(64);
  next_header_at_ = bytes_.size();
  bytes_.push_back(proto);
  Append16(bytes_, 0);       // checksum, in Build()
  uint8_t a[4];
  if (inet_pton(AF_INET, src.c_str(), a) != 1) throw std::invalid_argument(src);
  bytes_.insert(bytes_.end(), a, a + 4);
  if (inet_pton(AF_INET, dst.c_str(), a) != 1) throw std::invalid_argument(dst);
  bytes_.insert(bytes_.end(), a, a + 4);
  bytes_.insert(bytes_.end(), options.begin(), options.end());
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6(const std::string& src, const std::string& dst, uint8_t next) {
  Put16(bytes_, ethertype_at_, 0x86DD);
  ip_at_ = bytes_.size();
  ipv6_ = true;
  Append32(bytes_, 0x60000000);
  Append16(bytes_, 0);  // payload length, in Build()
  next_header_at_ = bytes_.size();
  bytes_.push_back(next);
  bytes_.push_back(64);
  uint8_t a[16];
  if (inet_pton(AF_INET6, src.c_str(), a) != 1) throw std::invalid_argument(src);
  bytes_.insert(bytes_.end(), a, a + 16);
  if (inet_pton(AF_INET6, dst.c_str(), a) != 1) throw std::invalid_argument(dst);
  bytes_.insert(bytes_.end(), a, a + 16);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Ext(uint8_t type, uint16_t fragment_offset) {
  SetNext(type);
  next_header_at_ = bytes_.size();
  bytes_.push_back(0);  // next header
  bytes_.push_back(0);  // length (8 bytes) / reserved for fragments
  if (type == 44) {
    Append16(bytes_, uint16_t(fragment_offset << 3));
    Append32(bytes_, 0xABCD);
  } else {
    bytes_.insert(bytes_.end(), 6, 0);
  }
  return *this;
}

void PacketBuilder::SetNext(uint8_t proto) {
  if (next_header_at_ != SIZE_MAX) bytes_[next_header_at_] = proto;
}

PacketBuilder& PacketBuilder::Tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags) {
  SetNext(6);
  Append16(bytes_, sport);
  Append16(bytes_, dport);
  Append32(bytes_, seq);
  Append32(bytes_, 0);       // ack
  bytes_.push_back(5 << 4);  // data offset
  bytes_.push_back(flags);
  Append16(bytes_, 65535);
  Append16(bytes_, 0);       // checksum (not checked by the gateway)
  Append16(bytes_, 0);
  return *this;
}

PacketBuilder& PacketBuilder::Udp(uint16_t sport, uint16_t dport) {
  SetNext(17);
  udp_at_ = bytes_.size();
  Append16(bytes_, sport);
  Append16(bytes_, dport);
  Append16(bytes_, 0);  // length, in Build()
  Append16(bytes_, 0);
  return *this;
}

PacketBuilder& PacketBuilder::Icmp(uint8_t type, uint8_t code) {
  SetNext(ipv6_ ? 58 : 1);
  bytes_.push_back(type);
  bytes_.push_back(code);
  Append16(bytes_, 0);
  Append32(bytes_, 0x00010001);
  return *this;
}

PacketBuilder& PacketBuilder::Arp() {
  Put16(bytes_, ethertype_at_, 0x0806);
  const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 10,
                           0, 0, 0, 0, 0, 0, 198, 18, 0, 200};
  bytes_.insert(bytes_.end(), arp, arp + 28);
  return *this;
}

PacketBuilder& PacketBuilder::Payload(const std::vector<uint8_t>& bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return *this;
}

PacketBuilder& PacketBuilder::Fragment(bool more_fragments, uint16_t offset_units) {
  Put16(bytes_, ip_at_ + 6, uint16_t((more_fragments ? 0x2000 : 0) | (offset_units & 0x1FFF)));
  return *this;
}

std::vector<uint8_t> PacketBuilder::Build() const {
  std::vector<uint8_t> b = bytes_;
  if (ip_at_ != SIZE_MAX) {
    if (ipv6_) {
      Put16(b, ip_at_ + 4, uint16_t(b.size() - ip_at_ - 40));
    } else {
      Put16(b, ip_at_ + 2, uint16_t(b.size() - ip_at_));
      const size_t header_len = (b[ip_at_] & 0x0F) * 4;
      uint32_t sum = 0;
      for (size_t i = 0; i < header_len; i += 2) sum += uint32_t(b[ip_at_ + i] << 8 | b[ip_at_ + i + 1]);
      while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
      Put16(b, ip_at_ + 10, uint16_t(~sum));
    }
  }
  if (udp_at_ != SIZE_MAX) Put16(b, udp_at_ + 4, uint16_t(b.size() - udp_at_));
  return b;
}

std::vector<uint8_t> ModbusAdu(uint16_t transaction, uint8_t unit, uint8_t function,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> adu;
  Append16(adu, transaction);
  Append16(adu, 0);
  Append16(adu, uint16_t(data.size() + 2));
  adu.push_back(unit);
  adu.push_back(function);
  adu.insert(adu.end(), data.begin(), data.end());
  return adu;
}

}  // namespace conduit::testing
