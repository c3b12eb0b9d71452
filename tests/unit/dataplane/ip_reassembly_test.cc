// IP reassembly (`fragments: reassemble`): whole datagrams come out equal
// to what was sent, in any order; first-seen bytes win and a conflicting
// copy drops the datagram; the table's bounds hold. IPv4 and IPv6.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "normalize/checksum.h"
#include "normalize/ip_reassembly.h"
#include "packet/packet_builder.h"
#include "parse/parse.h"

namespace conduit::normalize {
namespace {

using Bytes = std::vector<uint8_t>;
using Outcome = IpReassembler::Outcome;
using conduit::testing::ModbusAdu;
using conduit::testing::PacketBuilder;

constexpr size_t kL3 = 14;  // Ethernet, no VLAN

// A whole Modbus write (TCP, checksums filled) to cut into fragments.
Bytes Datagram(uint16_t register_address = 160, uint16_t value = 0x1234, uint16_t id = 77) {
  Bytes frame = PacketBuilder()
                    .Eth()
                    .Ipv4("198.18.0.10", "198.18.0.200")
                    .Tcp(50000, 502, 1000)
                    .Payload(ModbusAdu(1, 1, 6,
                                       {uint8_t(register_address >> 8), uint8_t(register_address),
                                        uint8_t(value >> 8), uint8_t(value)}))
                    .Build();
  frame[kL3 + 4] = uint8_t(id >> 8);
  frame[kL3 + 5] = uint8_t(id);
  SetIpv4HeaderChecksum(frame.data() + kL3);
  return frame;
}

// The fragment of `whole` carrying payload bytes [first, end) (first a
// multiple of 8), with a correct header.
Bytes Fragment(const Bytes& whole, uint32_t first, uint32_t end) {
  const uint32_t ihl = uint32_t(whole[kL3] & 0x0F) * 4;
  const uint32_t payload = uint32_t(whole.size() - kL3 - ihl);
  end = std::min(end, payload);
  Bytes f(whole.begin(), whole.begin() + kL3 + ihl);
  f.insert(f.end(), whole.begin() + kL3 + ihl + first, whole.begin() + kL3 + ihl + end);
  const uint32_t total = ihl + (end - first);
  f[kL3 + 2] = uint8_t(total >> 8);
  f[kL3 + 3] = uint8_t(total);
  // DF as the datagram had it, MF on all but the last piece.
  const uint16_t field =
      uint16_t(((whole[kL3 + 6] & 0x40) << 8) | (end < payload ? 0x2000 : 0) | (first / 8));
  f[kL3 + 6] = uint8_t(field >> 8);
  f[kL3 + 7] = uint8_t(field);
  SetIpv4HeaderChecksum(f.data() + kL3);
  return f;
}

struct Fed {
  IpReassembler::Result result;
  Bytes frame;  // the whole datagram on kComplete
};

Fed Feed(IpReassembler& r, const Bytes& fragment, uint64_t now_ns = 1) {
  PacketMeta meta;
  const ParseResult parsed = ParsePacket(fragment.data(), uint32_t(fragment.size()), meta);
  Fed out{r.Feed(fragment.data(), uint32_t(fragment.size()), parsed, meta, now_ns), {}};
  if (out.result.outcome == Outcome::kComplete) {
    out.frame.assign(out.result.frame, out.result.frame + out.result.length);
  }
  return out;
}

TEST(IpReassembly, ANonFragmentIsLeftAlone) {
  IpReassembler r;
  EXPECT_EQ(Feed(r, Datagram()).result.outcome, Outcome::kNotFragment);
}

TEST(IpReassembly, FragmentsInAnyOrderGiveTheDatagramBack) {
  const Bytes whole = Datagram();
  const std::vector<std::vector<int>> orders = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 1}};
  for (const auto& order : orders) {
    IpReassembler r;
    r.BeginBurst();
    // TCP header (20) + MBAP/PDU (12): 32 bytes in pieces of 8, 8, 16.
    const Bytes pieces[] = {Fragment(whole, 0, 8), Fragment(whole, 8, 16), Fragment(whole, 16, 64)};
    for (size_t k = 0; k + 1 < order.size(); ++k) {
      EXPECT_EQ(Feed(r, pieces[order[k]]).result.outcome, Outcome::kHeld);
    }
    const Fed last = Feed(r, pieces[order.back()]);
    ASSERT_EQ(last.result.outcome, Outcome::kComplete);
    EXPECT_EQ(last.frame, whole) << "order " << order[0] << order[1] << order[2];
    PacketMeta meta;
    ASSERT_EQ(ParsePacket(last.frame.data(), uint32_t(last.frame.size()), meta), ParseResult::kOk);
    EXPECT_FALSE(meta.Has(kPktFragment));
    EXPECT_TRUE(Ipv4HeaderChecksumOk(last.frame.data(), meta));
    EXPECT_TRUE(L4ChecksumOk(last.frame.data(), meta));
    EXPECT_EQ(r.completed(), 1u);
  }
}

TEST(IpReassembly, IdenticalOverlapsPassDifferentOnesDropTheDatagram) {
  const Bytes whole = Datagram(160);
  {
    IpReassembler r;
    EXPECT_EQ(Feed(r, Fragment(whole, 0, 24)).result.outcome, Outcome::kHeld);
    EXPECT_EQ(Feed(r, Fragment(whole, 16, 24)).result.outcome, Outcome::kHeld);  // same bytes again
    const Fed last = Feed(r, Fragment(whole, 16, 64));
    ASSERT_EQ(last.result.outcome, Outcome::kComplete);
    EXPECT_EQ(last.frame, whole);
  }
  {
    // fragroute's overlap: a benign read's bytes first, then the write's
    // bytes at the same offsets. Neither copy may reach the server.
    const Bytes evil = Datagram(/*register=*/161);
    IpReassembler r;
    EXPECT_EQ(Feed(r, Fragment(whole, 0, 24)).result.outcome, Outcome::kHeld);
    const Fed conflict = Feed(r, Fragment(evil, 16, 64));
    EXPECT_EQ(conflict.result.outcome, Outcome::kDropped);
    EXPECT_EQ(conflict.result.reason, DropReason::ip_fragment_overlap);
    // The datagram is gone: its remaining piece alone completes nothing.
    EXPECT_EQ(Feed(r, Fragment(whole, 24, 64)).result.outcome, Outcome::kHeld);
  }
  {
    // Two last fragments that disagree on the datagram's length.
    IpReassembler r;
    EXPECT_EQ(Feed(r, Fragment(whole, 24, 64)).result.outcome, Outcome::kHeld);
    Bytes shorter = Fragment(whole, 24, 28);
    shorter[kL3 + 6] &= 0xDF;  // MF clear: "the datagram ends at 28"
    SetIpv4HeaderChecksum(shorter.data() + kL3);
    const Fed conflict = Feed(r, shorter);
    EXPECT_EQ(conflict.result.outcome, Outcome::kDropped);
    EXPECT_EQ(conflict.result.reason, DropReason::ip_fragment_overlap);
  }
}

TEST(IpReassembly, BoundsAreKept) {
  const Bytes whole = Datagram();
  {
    // A fragment other than the last must carry a multiple of 8 bytes.
    IpReassembler r;
    Bytes odd = Fragment(whole, 0, 8);
    odd.pop_back();
    odd[kL3 + 3] -= 1;
    SetIpv4HeaderChecksum(odd.data() + kL3);
    const Fed f = Feed(r, odd);
    EXPECT_EQ(f.result.outcome, Outcome::kDropped);
    EXPECT_EQ(f.result.reason, DropReason::ip_fragment);
  }
  {
    // kSlots datagrams in progress; one more is refused, none evicted.
    IpReassembler r;
    for (int d = 0; d < IpReassembler::kSlots; ++d) {
      EXPECT_EQ(Feed(r, Fragment(Datagram(160, 1, uint16_t(d)), 0, 8)).result.outcome, Outcome::kHeld);
    }
    const Fed full = Feed(r, Fragment(Datagram(160, 1, 999), 0, 8));
    EXPECT_EQ(full.result.outcome, Outcome::kDropped);
    EXPECT_EQ(full.result.reason, DropReason::ip_fragment_limit);
    // The held ones still complete.
    EXPECT_EQ(Feed(r, Fragment(Datagram(160, 1, 3), 8, 64)).result.outcome, Outcome::kComplete);
  }
  {
    // Unfinished datagrams expire and free their slots.
    IpReassembler r;
    for (int d = 0; d < IpReassembler::kSlots; ++d) {
      Feed(r, Fragment(Datagram(160, 1, uint16_t(d)), 0, 8), /*now_ns=*/1);
    }
    const uint64_t later = 2 + IpReassembler::kTimeoutNs;
    EXPECT_EQ(Feed(r, Fragment(Datagram(160, 1, 999), 0, 8), later).result.outcome, Outcome::kHeld);
    EXPECT_EQ(r.expired(), uint64_t(IpReassembler::kSlots));
    // A late piece of an expired datagram starts over and never completes alone.
    EXPECT_EQ(Feed(r, Fragment(Datagram(160, 1, 3), 8, 64), later).result.outcome, Outcome::kHeld);
  }
  {
    // More than kMaxFragments pieces (here 8-byte copies of the first piece
    // and then the rest) gives the datagram up.
    IpReassembler r;
    for (int k = 0; k < IpReassembler::kMaxFragments; ++k) {
      EXPECT_EQ(Feed(r, Fragment(whole, 0, 8)).result.outcome, Outcome::kHeld);
    }
    const Fed f = Feed(r, Fragment(whole, 8, 64));
    EXPECT_EQ(f.result.outcome, Outcome::kDropped);
    EXPECT_EQ(f.result.reason, DropReason::ip_fragment_limit);
  }
}

TEST(IpReassembly, AWholeDatagramLivesUntilTheNextBurst) {
  IpReassembler r;
  const Bytes a = Datagram(160, 1, 1), b = Datagram(170, 2, 2);
  r.BeginBurst();
  Feed(r, Fragment(a, 0, 8));
  Feed(r, Fragment(b, 0, 8));
  PacketMeta meta;
  const Bytes last_a = Fragment(a, 8, 64), last_b = Fragment(b, 8, 64);
  auto feed = [&](const Bytes& f) {
    const ParseResult p = ParsePacket(f.data(), uint32_t(f.size()), meta);
    return r.Feed(f.data(), uint32_t(f.size()), p, meta, 1);
  };
  const auto whole_a = feed(last_a);
  const auto whole_b = feed(last_b);
  ASSERT_EQ(whole_a.outcome, Outcome::kComplete);
  ASSERT_EQ(whole_b.outcome, Outcome::kComplete);
  // Both are still intact within the burst.
  EXPECT_EQ(Bytes(whole_a.frame, whole_a.frame + whole_a.length), a);
  EXPECT_EQ(Bytes(whole_b.frame, whole_b.frame + whole_b.length), b);
}


// ---- IPv6 (RFC 8200 4.5) ----------------------------------------------------

constexpr size_t kIpv6 = kL3;  // the IPv6 header's offset

// A whole Modbus write over IPv6, optionally behind a hop-by-hop header
// (unfragmentable: it stays in front of the fragment header).
Bytes Datagram6(uint16_t register_address = 160, bool hop_by_hop = false) {
  PacketBuilder b;
  b.Eth().Ipv6("2001:db8::10", "2001:db8::200");
  if (hop_by_hop) b.Ipv6Ext(0);
  return b.Tcp(50000, 502, 1000)
      .Payload(ModbusAdu(1, 1, 6, {uint8_t(register_address >> 8), uint8_t(register_address), 0, 1}))
      .Build();
}

Bytes Fragment6(const Bytes& whole, uint32_t unfragmentable, uint32_t first, uint32_t end,
                uint32_t id = 0x01020304) {
  return conduit::testing::Ipv6FragmentOf(whole, unfragmentable, first, end, id);
}

TEST(Ipv6Reassembly, FragmentsInAnyOrderGiveTheDatagramBack) {
  for (const bool hop_by_hop : {false, true}) {
    const Bytes whole = Datagram6(160, hop_by_hop);
    const uint32_t unfragmentable = hop_by_hop ? 48 : 40;
    const std::vector<std::vector<int>> orders = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0}};
    for (const auto& order : orders) {
      IpReassembler r;
      const Bytes pieces[] = {Fragment6(whole, unfragmentable, 0, 8),
                              Fragment6(whole, unfragmentable, 8, 16),
                              Fragment6(whole, unfragmentable, 16, 64)};
      PacketMeta piece_meta;
      ASSERT_EQ(ParsePacket(pieces[1].data(), uint32_t(pieces[1].size()), piece_meta), ParseResult::kOk);
      ASSERT_TRUE(piece_meta.Has(kPktFragment));
      for (size_t k = 0; k + 1 < order.size(); ++k) {
        EXPECT_EQ(Feed(r, pieces[order[k]]).result.outcome, Outcome::kHeld);
      }
      const Fed last = Feed(r, pieces[order.back()]);
      ASSERT_EQ(last.result.outcome, Outcome::kComplete) << hop_by_hop;
      EXPECT_EQ(last.frame, whole) << "hop-by-hop " << hop_by_hop << ", order " << order[0]
                                   << order[1] << order[2];
      PacketMeta meta;
      ASSERT_EQ(ParsePacket(last.frame.data(), uint32_t(last.frame.size()), meta), ParseResult::kOk);
      EXPECT_FALSE(meta.Has(kPktFragment));
      EXPECT_EQ(meta.dst_port, 502);
      EXPECT_TRUE(L4ChecksumOk(last.frame.data(), meta));
    }
  }
}

TEST(Ipv6Reassembly, ConflictingOverlapsAndForeignIdsDoNotMix) {
  const Bytes whole = Datagram6(160), evil = Datagram6(161);
  {
    IpReassembler r;
    EXPECT_EQ(Feed(r, Fragment6(whole, 40, 0, 24)).result.outcome, Outcome::kHeld);
    const Fed conflict = Feed(r, Fragment6(evil, 40, 16, 64));
    EXPECT_EQ(conflict.result.outcome, Outcome::kDropped);
    EXPECT_EQ(conflict.result.reason, DropReason::ip_fragment_overlap);
  }
  {
    // The 32-bit identification keys the datagram: another id's last piece
    // completes nothing.
    IpReassembler r;
    EXPECT_EQ(Feed(r, Fragment6(whole, 40, 0, 16, 7)).result.outcome, Outcome::kHeld);
    EXPECT_EQ(Feed(r, Fragment6(whole, 40, 16, 64, 0x10007)).result.outcome, Outcome::kHeld);
    EXPECT_EQ(Feed(r, Fragment6(whole, 40, 16, 64, 7)).result.outcome, Outcome::kComplete);
  }
  {
    // A fragment other than the last must carry a multiple of 8 bytes.
    IpReassembler r;
    Bytes odd = Fragment6(whole, 40, 0, 8);
    odd.pop_back();
    odd[kIpv6 + 5] -= 1;
    const Fed f = Feed(r, odd);
    EXPECT_EQ(f.result.outcome, Outcome::kDropped);
    EXPECT_EQ(f.result.reason, DropReason::ip_fragment);
  }
}

}  // namespace
}  // namespace conduit::normalize
