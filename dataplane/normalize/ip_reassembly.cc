#include "normalize/ip_reassembly.h"

#include <cstring>

#include "normalize/checksum.h"
#include "parse/byte_order.h"

namespace conduit::normalize {
namespace {

IpReassembler::Result Dropped(DropReason why) {
  return {IpReassembler::Outcome::kDropped, why, nullptr, 0};
}

}  // namespace

IpReassembler::Slot* IpReassembler::Find(const PacketMeta& meta, uint16_t id, uint64_t now_ns) {
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
    if (!s.emitted && s.id == id && s.proto == meta.l4_proto && s.vlan == meta.vlan_outer &&
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
  s.proto = meta.l4_proto;
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
  // The first fragment's headers, unfragmented: offset 0, MF clear (DF as
  // the sender set it), the whole length, a fresh checksum.
  uint8_t* ip = s.bytes.data() + kMaxHeader - s.ip_header_len;
  const uint32_t total = uint32_t(s.ip_header_len) + s.payload_len;
  ip[2] = uint8_t(total >> 8);
  ip[3] = uint8_t(total);
  ip[6] &= 0x40;
  ip[7] = 0;
  SetIpv4HeaderChecksum(ip);
  s.emitted = true;
  completed_.Add(1);
  return {Outcome::kComplete, DropReason::kCount, frame, uint32_t(s.header_len) + s.payload_len};
}

IpReassembler::Result IpReassembler::Feed(const uint8_t* frame, uint32_t length, ParseResult parsed,
                                          const PacketMeta& meta, uint64_t now_ns) {
  if (meta.ip_version != 4 || !meta.Has(kPktFragment) || parsed == ParseResult::kTruncatedIpv4 ||
      parsed == ParseResult::kBadIpv4Header) {
    return {};
  }
  const uint8_t* ip = frame + meta.l3_offset;
  const uint32_t ip_header_len = uint32_t(ip[0] & 0x0F) * 4;
  const uint32_t total = LoadBigEndian16(ip + 2);
  const uint16_t frag = LoadBigEndian16(ip + 6);
  const uint16_t id = LoadBigEndian16(ip + 4);
  const bool more = (frag & 0x2000) != 0;
  const uint32_t first = uint32_t(frag & 0x1FFF) * 8;
  const uint32_t data_len = total - ip_header_len;
  const uint32_t end = first + data_len;
  const uint32_t header_len = meta.l3_offset + ip_header_len;
  if (length < header_len + data_len) return {};  // ip_truncated: CheckPacket drops it
  // Fragments other than the last carry multiples of 8 bytes (RFC 791); an
  // empty or misaligned one is no datagram a host would rebuild.
  if (data_len == 0 || (more && data_len % 8 != 0)) return Dropped(DropReason::ip_fragment);

  Slot* slot = Find(meta, id, now_ns);
  if (slot == nullptr) return Dropped(DropReason::ip_fragment_limit);
  Slot& s = *slot;
  auto give_up = [&](DropReason why) {
    s.used = false;
    return Dropped(why);
  };
  if (header_len > kMaxHeader || header_len + end > kMaxFrame || s.pieces == kMaxFragments) {
    return give_up(DropReason::ip_fragment_limit);
  }
  const uint8_t* data = ip + ip_header_len;
  // First-seen bytes win, and a copy that disagrees with them ends the
  // datagram: the two copies are two different requests.
  for (int i = 0; i < s.pieces; ++i) {
    const uint32_t lo = first > s.piece[i].first ? first : s.piece[i].first;
    const uint32_t hi = end < s.piece[i].end ? end : s.piece[i].end;
    if (lo < hi && std::memcmp(s.bytes.data() + kMaxHeader + lo, data + (lo - first), hi - lo) != 0) {
      return give_up(DropReason::ip_fragment_overlap);
    }
  }
  if (!more) {
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
  if (first == 0) {
    s.have_first = true;
    s.header_len = static_cast<uint16_t>(header_len);
    s.ip_header_len = static_cast<uint8_t>(ip_header_len);
    std::memcpy(s.bytes.data() + kMaxHeader - header_len, frame, header_len);
  }
  std::memcpy(s.bytes.data() + kMaxHeader + first, data, data_len);
  s.piece[s.pieces++] = Piece{static_cast<uint16_t>(first), static_cast<uint16_t>(end)};
  if (!Complete(s)) return {Outcome::kHeld, DropReason::kCount, nullptr, 0};
  if (uint32_t(s.header_len) + s.payload_len > kMaxFrame) {
    return give_up(DropReason::ip_fragment_limit);  // the first fragment's options made it longer
  }
  return Emit(s);
}

}  // namespace conduit::normalize
