#include "normalize/checksum.h"

#include <cstring>

#include "parse/byte_order.h"

namespace conduit::normalize {
namespace {

// The one's-complement sum does not care about byte order (RFC 1071 1.2.B):
// summed as little-endian words it is the byte-swapped network-order sum.
// Nor about word width, since 2^16 = 1 modulo 0xFFFF: bytes are added as
// they lie, as 32-bit words into 64-bit accumulators (no carry to wrap
// around until Fold: a 64 KiB segment adds 2^14 words below 2^32), two of
// them so that consecutive adds do not wait on each other. A sum compared
// with 0xFFFF reads alike either way, and one stored as bytes from a native
// word lands in network order.
uint64_t SumBytes(const uint8_t* p, uint32_t len, uint64_t sum) {
  uint64_t other = 0;
  for (; len >= 8; p += 8, len -= 8) {
    uint32_t w[2];
    std::memcpy(w, p, 8);
    sum += w[0];
    other += w[1];
  }
  for (; len >= 2; p += 2, len -= 2) {  // at most three
    uint16_t w;
    std::memcpy(&w, p, 2);
    sum += w;
  }
  if (len) sum += p[0];  // the odd byte, padded with a zero after it
  return sum + other;
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
  if (header_len == 20) [[likely]] {  // no options: five words, no loop
    uint32_t w[5];
    std::memcpy(w, ip, 20);
    return Fold(uint64_t(w[0]) + w[1] + w[2] + w[3] + w[4]) == 0xFFFF;
  }
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
