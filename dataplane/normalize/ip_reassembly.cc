#include "normalize/ip_reassembly.h"

#include <cstring>

#include "normalize/checksum.h"
#include "parse/byte_order.h"

namespace conduit::normalize {
namespace {

IpReassembler::Result Dropped(DropReason why) {
  return {IpReassembler::Outcome::kDropped, why, nullptr, 0};
}

// One fragment as the reassembler needs it, either IP version.
struct FragmentView {
  const uint8_t* data = nullptr;  // its share of the datagram; null: not one
  uint32_t data_len = 0;
  uint32_t first = 0;             // byte offset of `data` in the datagram
  bool more = false;
  uint32_t id = 0;
  uint8_t proto = 0;              // what the payload is (IPv6: the fragment header's next header)
  uint32_t ip_header_len = 0;     // IPv4 header; IPv6 header and the headers before the fragment header
  uint8_t next_header_at = 0;     // IPv6: where in those headers the last next-header byte is
};

FragmentView Ipv4Fragment(const uint8_t* frame, const PacketMeta& meta) {
  const uint8_t* ip = frame + meta.l3_offset;
  FragmentView f;
  f.ip_header_len = uint32_t(ip[0] & 0x0F) * 4;
  const uint16_t field = LoadBigEndian16(ip + 6);
  f.more = (field & 0x2000) != 0;
  f.first = uint32_t(field & 0x1FFF) * 8;
  f.data_len = LoadBigEndian16(ip + 2) - f.ip_header_len;  // ParsePacket checked total >= IHL
  f.id = LoadBigEndian16(ip + 4);
  f.proto = meta.l4_proto;
  f.data = ip + f.ip_header_len;
  return f;
}

// The unfragmentable part is the IPv6 header and the extension headers
// before the fragment header (ParsePacket walked and bounded the chain;
// beyond IpReassembler::kMaxHeader it could not be kept anyway).
constexpr uint32_t kMaxUnfragmentable = IpReassembler::kMaxHeader;
FragmentView Ipv6Fragment(const uint8_t* frame, const PacketMeta& meta) {
  const uint8_t* ip = frame + meta.l3_offset;
  const uint32_t end = 40 + uint32_t(LoadBigEndian16(ip + 4));
  uint32_t at = 40;
  uint32_t next_at = 6;
  uint8_t next = ip[6];
  while (next != 44) {
    if (at + 8 > end) return {};
    const uint32_t len = Ipv6ExtensionLength(next, ip + at);
    if (len == 0) return {};  // no fragment header before the payload
    if (at + len > kMaxUnfragmentable) return {};
    next_at = at;
    next = ip[at];
    at += len;
  }
  if (at + 8 > end) return {};
  const uint8_t* header = ip + at;
  FragmentView f;
  const uint16_t field = LoadBigEndian16(header + 2);
  f.more = (field & 1) != 0;
  f.first = field & 0xFFF8;  // 8-byte units in the top 13 bits
  f.id = LoadBigEndian32(header + 4);
  f.proto = header[0];
  f.ip_header_len = at;
  f.next_header_at = static_cast<uint8_t>(next_at);
  f.data = header + 8;
  f.data_len = end - (at + 8);
  return f;
}

}  // namespace

IpReassembler::Slot* IpReassembler::Find(const PacketMeta& meta, uint32_t id, uint8_t proto,
                                         uint64_t now_ns) {
  Slot* free_slot = nullptr;
  for (Slot& s : slots_) {
    const bool expired = s.used && !s.emitted && now_ns - s.created_ns > kTimeoutNs;
    if (expired) {
      // Its fragments were held, never forwarded: the datagram is lost, as
      // it would be at a host whose reassembly timer ran out.
      s.used = false;
      expired_.Add(1);
    }
    if (!s.used) {
      if (free_slot == nullptr) free_slot = &s;
      continue;
    }
    if (!s.emitted && s.id == id && s.proto == proto && s.vlan == meta.vlan_outer &&
        s.src == meta.src_addr && s.dst == meta.dst_addr) {
      return &s;
    }
  }
  if (free_slot == nullptr) return nullptr;  // full of live datagrams: never evict one
  Slot& s = *free_slot;
  s.used = true;
  s.have_first = s.have_last = false;
  s.pieces = 0;
  s.payload_len = 0;
  s.created_ns = now_ns;
  s.src = meta.src_addr;
  s.dst = meta.dst_addr;
  s.id = id;
  s.vlan = meta.vlan_outer;
  s.proto = proto;
  s.ipv6 = meta.ip_version == 6;
  return &s;
}

bool IpReassembler::Complete(const Slot& s) const {
  if (!s.have_first || !s.have_last) return false;
  // Walk the coverage from 0: at most kMaxFragments rounds of kMaxFragments.
  uint32_t covered = 0;
  for (bool grew = true; grew && covered < s.payload_len;) {
    grew = false;
    for (int i = 0; i < s.pieces; ++i) {
      if (s.piece[i].first <= covered && s.piece[i].end > covered) {
        covered = s.piece[i].end;
        grew = true;
      }
    }
  }
  return covered >= s.payload_len;
}

IpReassembler::Result IpReassembler::Emit(Slot& s) {
  uint8_t* frame = s.bytes.data() + kMaxHeader - s.header_len;
  uint8_t* ip = s.bytes.data() + kMaxHeader - s.ip_header_len;
  if (s.ipv6) {
    // The first fragment's unfragmentable part, its last header now naming
    // what the fragment header named (RFC 8200 4.5), and the whole length.
    const uint32_t payload = uint32_t(s.ip_header_len) - 40 + s.payload_len;
    ip[4] = uint8_t(payload >> 8);
    ip[5] = uint8_t(payload);
    ip[s.next_header_at] = s.proto;
  } else {
    // The first fragment's headers, unfragmented: offset 0, MF clear (DF as
    // the sender set it), the whole length, a fresh checksum.
    const uint32_t total = uint32_t(s.ip_header_len) + s.payload_len;
    ip[2] = uint8_t(total >> 8);
    ip[3] = uint8_t(total);
    ip[6] &= 0x40;
    ip[7] = 0;
    SetIpv4HeaderChecksum(ip);
  }
  s.emitted = true;
  completed_.Add(1);
  return {Outcome::kComplete, DropReason::kCount, frame, uint32_t(s.header_len) + s.payload_len};
}

IpReassembler::Result IpReassembler::Feed(const uint8_t* frame, uint32_t length, ParseResult parsed,
                                          const PacketMeta& meta, uint64_t now_ns) {
  if (!meta.Has(kPktFragment)) return {};
  FragmentView f;
  if (meta.ip_version == 4 && parsed != ParseResult::kTruncatedIpv4 &&
      parsed != ParseResult::kBadIpv4Header) {
    f = Ipv4Fragment(frame, meta);
  } else if (meta.ip_version == 6 && parsed != ParseResult::kTruncatedIpv6 &&
             parsed != ParseResult::kBadIpv6Header &&
             parsed != ParseResult::kIpv6ExtensionChainTooLong) {
    f = Ipv6Fragment(frame, meta);
  } else {
    return {};
  }
  if (f.data == nullptr) return {};
  const uint32_t end = f.first + f.data_len;
  const uint32_t header_len = meta.l3_offset + f.ip_header_len;
  if (length < header_len + f.data_len) return {};  // ip_truncated: CheckPacket drops it
  // Fragments other than the last carry multiples of 8 bytes (RFC 791); an
  // empty or misaligned one is no datagram a host would rebuild.
  if (f.data_len == 0 || (f.more && f.data_len % 8 != 0)) return Dropped(DropReason::ip_fragment);

  Slot* slot = Find(meta, f.id, f.proto, now_ns);
  if (slot == nullptr) return Dropped(DropReason::ip_fragment_limit);
  Slot& s = *slot;
  auto give_up = [&](DropReason why) {
    s.used = false;
    return Dropped(why);
  };
  if (header_len > kMaxHeader || header_len + end > kMaxFrame || s.pieces == kMaxFragments) {
    return give_up(DropReason::ip_fragment_limit);
  }
  // First-seen bytes win, and a copy that disagrees with them ends the
  // datagram: the two copies are two different requests.
  for (int i = 0; i < s.pieces; ++i) {
    const uint32_t lo = f.first > s.piece[i].first ? f.first : s.piece[i].first;
    const uint32_t hi = end < s.piece[i].end ? end : s.piece[i].end;
    if (lo < hi && std::memcmp(s.bytes.data() + kMaxHeader + lo, f.data + (lo - f.first), hi - lo) != 0) {
      return give_up(DropReason::ip_fragment_overlap);
    }
  }
  if (!f.more) {
    if (s.have_last && s.payload_len != end) return give_up(DropReason::ip_fragment_overlap);
    s.have_last = true;
    s.payload_len = static_cast<uint16_t>(end);
  }
  if (s.have_last) {
    for (int i = 0; i < s.pieces; ++i) {
      if (s.piece[i].end > s.payload_len) return give_up(DropReason::ip_fragment_overlap);
    }
    if (end > s.payload_len) return give_up(DropReason::ip_fragment_overlap);
  }
  if (f.first == 0) {
    s.have_first = true;
    s.header_len = static_cast<uint16_t>(header_len);
    s.ip_header_len = static_cast<uint8_t>(f.ip_header_len);
    s.next_header_at = f.next_header_at;
    std::memcpy(s.bytes.data() + kMaxHeader - header_len, frame, header_len);
  }
  std::memcpy(s.bytes.data() + kMaxHeader + f.first, f.data, f.data_len);
  s.piece[s.pieces++] = Piece{static_cast<uint16_t>(f.first), static_cast<uint16_t>(end)};
  if (!Complete(s)) return {Outcome::kHeld, DropReason::kCount, nullptr, 0};
  if (uint32_t(s.header_len) + s.payload_len > kMaxFrame) {
    return give_up(DropReason::ip_fragment_limit);  // the f.first fragment's options made it longer
  }
  return Emit(s);
}

}  // namespace conduit::normalize
