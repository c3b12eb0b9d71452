#include "parse/parse.h"

#include <cstring>

#include "parse/byte_order.h"

namespace conduit {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeQinQ = 0x88A8;
constexpr uint16_t kEtherTypeQinQOld = 0x9100;
constexpr int kMaxVlanTags = 2;
// Bounds the IPv6 extension-header walk so a hostile chain costs O(1).
constexpr int kMaxIpv6ExtHeaders = 8;


bool IsVlanEtherType(uint16_t t) {
  return t == kEtherTypeVlan || t == kEtherTypeQinQ || t == kEtherTypeQinQOld;
}

// L4 header at frame[off, end). `end` is the IP datagram's end, already
// clamped to the buffer.
ParseResult ParseL4(const uint8_t* frame, uint32_t off, uint32_t end,
                    PacketMeta& meta) {
  meta.l4_offset = static_cast<uint16_t>(off);
  const uint32_t avail = end - off;
  const uint8_t* l4 = frame + off;
  switch (meta.l4_proto) {
    case kIpProtoTcp: {
      if (avail < 20) [[unlikely]] return ParseResult::kTruncatedTcp;
      const uint32_t header_len = uint32_t(l4[12] >> 4) * 4;
      if (header_len < 20) [[unlikely]] return ParseResult::kBadTcpHeader;
      if (header_len > avail) [[unlikely]] return ParseResult::kTruncatedTcp;
      meta.src_port = LoadBigEndian16(l4);
      meta.dst_port = LoadBigEndian16(l4 + 2);
      meta.tcp_seq = LoadBigEndian32(l4 + 4);
      meta.tcp_ack = LoadBigEndian32(l4 + 8);
      meta.tcp_flags = l4[13];
      meta.payload_offset = static_cast<uint16_t>(off + header_len);
      meta.payload_len = static_cast<uint16_t>(avail - header_len);
      meta.flags |= kPktHasL4;
      return ParseResult::kOk;
    }
    case kIpProtoUdp: {
      if (avail < 8) [[unlikely]] return ParseResult::kTruncatedUdp;
      const uint32_t udp_len = LoadBigEndian16(l4 + 4);
      if (udp_len < 8 || udp_len > avail) [[unlikely]] return ParseResult::kBadUdpLength;
      meta.src_port = LoadBigEndian16(l4);
      meta.dst_port = LoadBigEndian16(l4 + 2);
      meta.payload_offset = static_cast<uint16_t>(off + 8);
      meta.payload_len = static_cast<uint16_t>(udp_len - 8);
      meta.flags |= kPktHasL4;
      return ParseResult::kOk;
    }
    case kIpProtoIcmp:
    case kIpProtoIcmpv6: {
      if (avail < 4) [[unlikely]] return ParseResult::kTruncatedIcmp;
      meta.src_port = uint16_t(l4[0] << 8 | l4[1]);  // type, code
      meta.payload_offset = static_cast<uint16_t>(off + 4);
      meta.payload_len = static_cast<uint16_t>(avail - 4);
      return ParseResult::kOk;
    }
    default:
      // Other IP protocols (GRE, ESP, SCTP, ...) carry no ports we use.
      meta.payload_offset = static_cast<uint16_t>(off);
      meta.payload_len = static_cast<uint16_t>(avail);
      return ParseResult::kOk;
  }
}

ParseResult ParseIpv4(const uint8_t* frame, uint32_t off, uint32_t len,
                      PacketMeta& meta) {
  if (len - off < 20) [[unlikely]] return ParseResult::kTruncatedIpv4;
  const uint8_t* ip = frame + off;
  const uint32_t header_len = uint32_t(ip[0] & 0x0F) * 4;
  const uint32_t total_len = LoadBigEndian16(ip + 2);
  if ((ip[0] >> 4) != 4 || header_len < 20 || total_len < header_len) [[unlikely]] {
    return ParseResult::kBadIpv4Header;
  }
  if (total_len > len - off) [[unlikely]] return ParseResult::kTruncatedIpv4;
  meta.ip_version = 4;
  meta.l4_proto = ip[9];
  // ::ffff:a.b.c.d
  meta.src_addr[10] = meta.src_addr[11] = 0xFF;
  meta.dst_addr[10] = meta.dst_addr[11] = 0xFF;
  std::memcpy(&meta.src_addr[12], ip + 12, 4);
  std::memcpy(&meta.dst_addr[12], ip + 16, 4);
  if (header_len > 20) meta.flags |= kPktIpv4Options;
  const uint16_t frag = LoadBigEndian16(ip + 6);
  const uint32_t end = off + total_len;  // excludes Ethernet padding
  if (frag & 0x3FFF) {                    // MF set or offset non-zero
    meta.flags |= kPktFragment;
    if (frag & 0x1FFF) {
      meta.flags |= kPktLaterFragment;
      meta.l4_offset = static_cast<uint16_t>(off + header_len);
      meta.payload_offset = meta.l4_offset;
      meta.payload_len = static_cast<uint16_t>(total_len - header_len);
      return ParseResult::kOk;
    }
  }
  return ParseL4(frame, off + header_len, end, meta);
}

ParseResult ParseIpv6(const uint8_t* frame, uint32_t off, uint32_t len,
                      PacketMeta& meta) {
  if (len - off < 40) [[unlikely]] return ParseResult::kTruncatedIpv6;
  const uint8_t* ip = frame + off;
  if ((ip[0] >> 4) != 6) [[unlikely]] return ParseResult::kBadIpv6Header;
  const uint32_t payload_len = LoadBigEndian16(ip + 4);
  // A zero payload length means a jumbogram, which Ethernet cannot carry.
  if (payload_len == 0 && ip[6] != 59) [[unlikely]] return ParseResult::kBadIpv6Header;
  if (payload_len > len - off - 40) [[unlikely]] return ParseResult::kTruncatedIpv6;
  meta.ip_version = 6;
  std::memcpy(meta.src_addr.data(), ip + 8, 16);
  std::memcpy(meta.dst_addr.data(), ip + 24, 16);
  const uint32_t end = off + 40 + payload_len;
  uint8_t next = ip[6];
  uint32_t cur = off + 40;
  for (int i = 0;; ++i) {
    switch (next) {
      case 0:    // hop-by-hop
      case 43:   // routing
      case 60:   // destination options
      case 135:  // mobility
      case 51:   // authentication header
      case 44: { // fragment
        if (i == kMaxIpv6ExtHeaders) [[unlikely]] {
          return ParseResult::kIpv6ExtensionChainTooLong;
        }
        if (end - cur < 8) [[unlikely]] return ParseResult::kTruncatedIpv6;
        const uint8_t* ext = frame + cur;
        const uint32_t ext_len = Ipv6ExtensionLength(next, ext);
        if (next == 44) {
          meta.flags |= kPktFragment;
          if (LoadBigEndian16(ext + 2) & 0xFFF8) meta.flags |= kPktLaterFragment;
        }
        if (ext_len > end - cur) [[unlikely]] return ParseResult::kTruncatedIpv6;
        meta.flags |= kPktIpv6ExtHeaders;
        next = ext[0];
        cur += ext_len;
        if (meta.Has(kPktLaterFragment)) {
          meta.l4_proto = next;
          meta.l4_offset = meta.payload_offset = static_cast<uint16_t>(cur);
          meta.payload_len = static_cast<uint16_t>(end - cur);
          return ParseResult::kOk;
        }
        continue;
      }
      default:
        meta.l4_proto = next;
        return ParseL4(frame, cur, end, meta);
    }
  }
}

}  // namespace

std::string_view ParseResultName(ParseResult r) {
  switch (r) {
#define X(e, s) \
  case ParseResult::e: return s;
    CONDUIT_PARSE_RESULTS(X)
#undef X
    default: return "unknown";
  }
}

ParseResult ParsePacket(const uint8_t* frame, uint32_t len, PacketMeta& meta) {
  meta = PacketMeta{};
  if (len > 0xFFFF) len = 0xFFFF;  // offsets are 16-bit; no frame is longer
  if (len < 14) [[unlikely]] return ParseResult::kTruncatedEthernet;
  uint32_t off = 12;
  uint16_t type = LoadBigEndian16(frame + off);
  while (IsVlanEtherType(type)) {
    if (meta.vlan_count == kMaxVlanTags) [[unlikely]] return ParseResult::kTooManyVlanTags;
    if (len - off < 6) [[unlikely]] return ParseResult::kTruncatedVlan;
    const uint16_t vid = LoadBigEndian16(frame + off + 2) & 0x0FFF;
    if (meta.vlan_count == 0) {
      meta.vlan_outer = vid;
    } else {
      meta.vlan_inner = vid;
    }
    ++meta.vlan_count;
    off += 4;
    type = LoadBigEndian16(frame + off);
  }
  off += 2;
  meta.ethertype = type;
  meta.l3_offset = static_cast<uint16_t>(off);
  switch (type) {
    case kEtherTypeIpv4: return ParseIpv4(frame, off, len, meta);
    case kEtherTypeIpv6: return ParseIpv6(frame, off, len, meta);
    default: return ParseResult::kNonIp;
  }
}

}  // namespace conduit
