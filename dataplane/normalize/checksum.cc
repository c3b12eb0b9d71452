#include "normalize/checksum.h"

#include <cstring>

#include "parse/byte_order.h"

namespace conduit::normalize {
namespace {

// The one's-complement sum does not care about byte order (RFC 1071 1.2.B):
// summed as little-endian words it is the byte-swapped network-order sum.
// So bytes are added as they lie, 8 at a time into a 64-bit accumulator with
// end-around carry; a sum compared with 0xFFFF reads alike either way, and
// one stored as bytes from a native word lands in network order.
inline uint64_t AddCarry(uint64_t sum, uint64_t w) {
  sum += w;
  return sum + (sum < w);
}

uint64_t SumBytes(const uint8_t* p, uint32_t len, uint64_t sum) {
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    sum = AddCarry(sum, w);
  }
  for (; len >= 2; p += 2, len -= 2) {  // at most three
    uint16_t w;
    std::memcpy(&w, p, 2);
    sum = AddCarry(sum, w);
  }
  if (len) sum = AddCarry(sum, p[0]);  // the odd byte, padded with a zero after it
  return sum;
}

// A network-order 16-bit value as SumBytes would have read it.
inline uint64_t Native16(uint32_t v) { return __builtin_bswap16(static_cast<uint16_t>(v)); }

uint16_t Fold(uint64_t sum) {
  sum = (sum & 0xFFFFFFFF) + (sum >> 32);
  sum = (sum & 0xFFFFFFFF) + (sum >> 32);
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

}  // namespace

bool Ipv4HeaderChecksumOk(const uint8_t* frame, const PacketMeta& meta) {
  const uint8_t* ip = frame + meta.l3_offset;
  const uint32_t header_len = uint32_t(ip[0] & 0x0F) * 4;
  return Fold(SumBytes(ip, header_len, 0)) == 0xFFFF;
}

void SetIpv4HeaderChecksum(uint8_t* ip) {
  const uint32_t header_len = uint32_t(ip[0] & 0x0F) * 4;
  ip[10] = ip[11] = 0;
  const uint16_t sum = static_cast<uint16_t>(~Fold(SumBytes(ip, header_len, 0)));
  std::memcpy(ip + 10, &sum, 2);  // native order in, network order out
}

bool L4ChecksumOk(const uint8_t* frame, const PacketMeta& meta) {
  const uint8_t* l4 = frame + meta.l4_offset;
  const uint32_t l4_len = uint32_t(meta.payload_offset - meta.l4_offset) + meta.payload_len;
  const bool udp = meta.l4_proto == kIpProtoUdp;
  if (udp && meta.ip_version == 4 && LoadBigEndian16(l4 + 6) == 0) return true;
  uint64_t sum = Native16(meta.l4_proto) + Native16(l4_len);
  if (meta.ip_version == 4) {
    sum = SumBytes(&meta.src_addr[12], 4, sum);
    sum = SumBytes(&meta.dst_addr[12], 4, sum);
  } else {
    sum = SumBytes(meta.src_addr.data(), 16, sum);
    sum = SumBytes(meta.dst_addr.data(), 16, sum);
  }
  return Fold(SumBytes(l4, l4_len, sum)) == 0xFFFF;
}

}  // namespace conduit::normalize
