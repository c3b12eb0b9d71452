#include "normalize/checksum.h"

#include <cstring>

#include "parse/byte_order.h"

namespace conduit::normalize {
namespace {

// One's-complement sum of `len` bytes as big-endian 16-bit words, 8 bytes at
// a time into a 64-bit accumulator (carries folded at the end).
uint64_t SumBytes(const uint8_t* p, uint32_t len, uint64_t sum) {
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    w = __builtin_bswap64(w);
    sum += w >> 32;
    sum += w & 0xFFFFFFFF;
    p += 8;
    len -= 8;
  }
  while (len >= 2) {
    sum += LoadBigEndian16(p);
    p += 2;
    len -= 2;
  }
  if (len) sum += uint32_t(p[0]) << 8;
  return sum;
}

uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
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
  ip[10] = uint8_t(sum >> 8);
  ip[11] = uint8_t(sum);
}

bool L4ChecksumOk(const uint8_t* frame, const PacketMeta& meta) {
  const uint8_t* l4 = frame + meta.l4_offset;
  const uint32_t l4_len = uint32_t(meta.payload_offset - meta.l4_offset) + meta.payload_len;
  const bool udp = meta.l4_proto == kIpProtoUdp;
  if (udp && meta.ip_version == 4 && LoadBigEndian16(l4 + 6) == 0) return true;
  uint64_t sum = 0;
  if (meta.ip_version == 4) {
    sum = SumBytes(&meta.src_addr[12], 4, sum);
    sum = SumBytes(&meta.dst_addr[12], 4, sum);
  } else {
    sum = SumBytes(meta.src_addr.data(), 16, sum);
    sum = SumBytes(meta.dst_addr.data(), 16, sum);
  }
  sum += meta.l4_proto;
  sum += l4_len;
  return Fold(SumBytes(l4, l4_len, sum)) == 0xFFFF;
}

}  // namespace conduit::normalize
