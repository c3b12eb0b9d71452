// ParsePacket over crafted good, truncated and malformed frames. Each frame
// is copied into a buffer of exactly its size, so ASan (this test is built
// with it) catches any read past the end.
#include <gtest/gtest.h>

#include <memory>

#include "packet/packet_builder.h"
#include "parse/parse.h"

namespace conduit {
namespace {

using testing::PacketBuilder;

ParseResult ParseExact(const std::vector<uint8_t>& frame, PacketMeta& meta, size_t len) {
  auto buf = std::make_unique<uint8_t[]>(len ? len : 1);
  std::copy(frame.begin(), frame.begin() + len, buf.get());
  return ParsePacket(buf.get(), static_cast<uint32_t>(len), meta);
}
ParseResult ParseExact(const std::vector<uint8_t>& frame, PacketMeta& meta) {
  return ParseExact(frame, meta, frame.size());
}

TEST(Parse, Ipv4Tcp) {
  const auto f = PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
                     .Tcp(50000, 502, 1000, testing::kTcpAck | testing::kTcpPsh)
                     .Payload({1, 2, 3, 4, 5}).Build();
  PacketMeta m;
  ASSERT_EQ(ParseExact(f, m), ParseResult::kOk);
  EXPECT_EQ(m.ip_version, 4);
  EXPECT_EQ(m.l4_proto, 6);
  EXPECT_EQ(m.src_port, 50000);
  EXPECT_EQ(m.dst_port, 502);
  EXPECT_EQ(m.tcp_seq, 1000u);
  EXPECT_EQ(m.tcp_flags, testing::kTcpAck | testing::kTcpPsh);
  EXPECT_EQ(m.l3_offset, 14);
  EXPECT_EQ(m.l4_offset, 34);
  EXPECT_EQ(m.payload_offset, 54);
  EXPECT_EQ(m.payload_len, 5);
  EXPECT_EQ(m.src_addr[10], 0xFF);  // IPv4-mapped
  EXPECT_EQ(m.src_addr[12], 198);
  EXPECT_EQ(m.dst_addr[15], 200);
  EXPECT_TRUE(m.Has(kPktHasL4));
}

TEST(Parse, EthernetPaddingIsNotPayload) {
  auto f = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  f.resize(60, 0);  // minimum Ethernet frame: padding after the IP datagram
  PacketMeta m;
  ASSERT_EQ(ParseExact(f, m), ParseResult::kOk);
  EXPECT_EQ(m.payload_len, 0);
}

TEST(Parse, Ipv4OptionsUdp) {
  const auto f = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2", 0, {0x94, 0x04, 0, 0})
                     .Udp(47808, 47808).Payload({0x81, 0x0b, 0x00, 0x0c}).Build();
  PacketMeta m;
  ASSERT_EQ(ParseExact(f, m), ParseResult::kOk);
  EXPECT_TRUE(m.Has(kPktIpv4Options));
  EXPECT_EQ(m.l4_offset, 14 + 24);
  EXPECT_EQ(m.dst_port, 47808);
  EXPECT_EQ(m.payload_len, 4);
}

TEST(Parse, VlanAndQinQ) {
  const auto one = PacketBuilder().Eth().Vlan(100).Ipv4("198.18.0.1", "198.18.0.2").Udp(1, 2).Build();
  PacketMeta m;
  ASSERT_EQ(ParseExact(one, m), ParseResult::kOk);
  EXPECT_EQ(m.vlan_count, 1);
  EXPECT_EQ(m.vlan_outer, 100);
  EXPECT_EQ(m.l3_offset, 18);

  const auto two = PacketBuilder().Eth().Vlan(200, 0x88A8).Vlan(300).Ipv4("198.18.0.1", "198.18.0.2")
                       .Tcp(1, 2).Build();
  ASSERT_EQ(ParseExact(two, m), ParseResult::kOk);
  EXPECT_EQ(m.vlan_count, 2);
  EXPECT_EQ(m.vlan_outer, 200);
  EXPECT_EQ(m.vlan_inner, 300);
  EXPECT_EQ(m.l3_offset, 22);
  EXPECT_EQ(m.ethertype, 0x0800);

  const auto three = PacketBuilder().Eth().Vlan(1, 0x88A8).Vlan(2).Vlan(3)
                         .Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  EXPECT_EQ(ParseExact(three, m), ParseResult::kTooManyVlanTags);
}

TEST(Parse, ArpIsNonIp) {
  const auto f = PacketBuilder().Eth().Arp().Build();
  PacketMeta m;
  EXPECT_EQ(ParseExact(f, m), ParseResult::kNonIp);
  EXPECT_EQ(m.ethertype, 0x0806);
}

TEST(Parse, IcmpTypeAndCode) {
  const auto f = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Icmp(8, 0).Build();
  PacketMeta m;
  ASSERT_EQ(ParseExact(f, m), ParseResult::kOk);
  EXPECT_EQ(m.l4_proto, 1);
  EXPECT_EQ(m.src_port, 8 << 8);
  EXPECT_FALSE(m.Has(kPktHasL4));
}

TEST(Parse, Ipv6WithExtensionHeaders) {
  const auto f = PacketBuilder().Eth().Ipv6("2001:db8::1", "2001:db8::2").Ipv6Ext(0).Ipv6Ext(60)
                     .Tcp(40000, 4840).Payload({'H', 'E', 'L', 'F'}).Build();
  PacketMeta m;
  ASSERT_EQ(ParseExact(f, m), ParseResult::kOk);
  EXPECT_EQ(m.ip_version, 6);
  EXPECT_TRUE(m.Has(kPktIpv6ExtHeaders));
  EXPECT_EQ(m.l4_proto, 6);
  EXPECT_EQ(m.l4_offset, 14 + 40 + 16);
  EXPECT_EQ(m.dst_port, 4840);
  EXPECT_EQ(m.payload_len, 4);
  EXPECT_EQ(m.src_addr[0], 0x20);
  EXPECT_EQ(m.src_addr[15], 1);
}

TEST(Parse, Ipv6ExtensionChainIsBounded) {
  PacketBuilder b;
  b.Eth().Ipv6("2001:db8::1", "2001:db8::2");
  for (int i = 0; i < 12; ++i) b.Ipv6Ext(60);
  b.Tcp(1, 2);
  PacketMeta m;
  EXPECT_EQ(ParseExact(b.Build(), m), ParseResult::kIpv6ExtensionChainTooLong);
}

TEST(Parse, FragmentsHaveNoPortsAfterTheFirst) {
  const auto first = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Udp(1, 2)
                         .Payload(std::vector<uint8_t>(16, 7)).Fragment(true, 0).Build();
  PacketMeta m;
  ASSERT_EQ(ParseExact(first, m), ParseResult::kOk);
  EXPECT_TRUE(m.Has(kPktFragment));
  EXPECT_FALSE(m.Has(kPktLaterFragment));

  const auto later = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2", 17)
                         .Payload(std::vector<uint8_t>(16, 7)).Fragment(false, 3).Build();
  ASSERT_EQ(ParseExact(later, m), ParseResult::kOk);
  EXPECT_TRUE(m.Has(kPktLaterFragment));
  EXPECT_FALSE(m.Has(kPktHasL4));
  EXPECT_EQ(m.payload_len, 16);

  const auto v6 = PacketBuilder().Eth().Ipv6("2001:db8::1", "2001:db8::2").Ipv6Ext(44, 5)
                      .Payload(std::vector<uint8_t>(24, 1)).Build();
  ASSERT_EQ(ParseExact(v6, m), ParseResult::kOk);
  EXPECT_TRUE(m.Has(kPktLaterFragment));
  EXPECT_FALSE(m.Has(kPktHasL4));
}

TEST(Parse, MalformedHeaders) {
  PacketMeta m;
  auto bad_ihl = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  bad_ihl[14] = 0x44;  // IHL 4 words < 20 bytes
  EXPECT_EQ(ParseExact(bad_ihl, m), ParseResult::kBadIpv4Header);

  auto bad_version = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  bad_version[14] = 0x65;
  EXPECT_EQ(ParseExact(bad_version, m), ParseResult::kBadIpv4Header);

  auto long_total = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  long_total[16] = 0x05;  // total length 1280+ > frame
  EXPECT_EQ(ParseExact(long_total, m), ParseResult::kTruncatedIpv4);

  auto short_total = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  short_total[16] = 0;
  short_total[17] = 10;  // total length < header length
  EXPECT_EQ(ParseExact(short_total, m), ParseResult::kBadIpv4Header);

  auto bad_doff = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  bad_doff[14 + 20 + 12] = 0x40;  // data offset 4 words
  EXPECT_EQ(ParseExact(bad_doff, m), ParseResult::kBadTcpHeader);

  auto big_doff = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
  big_doff[14 + 20 + 12] = 0xF0;  // 60 bytes of TCP header in a 20-byte segment
  EXPECT_EQ(ParseExact(big_doff, m), ParseResult::kTruncatedTcp);

  auto bad_udp = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Udp(1, 2).Payload({1, 2}).Build();
  bad_udp[14 + 20 + 5] = 200;  // UDP length beyond the datagram
  EXPECT_EQ(ParseExact(bad_udp, m), ParseResult::kBadUdpLength);
  bad_udp[14 + 20 + 5] = 4;    // shorter than its own header
  EXPECT_EQ(ParseExact(bad_udp, m), ParseResult::kBadUdpLength);
}

// Every prefix of every kind of frame: never crashes, never reads past the
// end (ASan), and never claims success for a cut-off header.
TEST(Parse, EveryTruncationIsCountedNotRead) {
  const std::vector<std::vector<uint8_t>> frames = {
      PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 502).Payload({1, 2, 3}).Build(),
      PacketBuilder().Eth().Vlan(5, 0x88A8).Vlan(6).Ipv4("198.18.0.1", "198.18.0.2", 0, {1, 1, 1, 1})
          .Udp(1, 2).Build(),
      PacketBuilder().Eth().Ipv6("2001:db8::1", "2001:db8::2").Ipv6Ext(0).Ipv6Ext(43).Tcp(1, 2).Build(),
      PacketBuilder().Eth().Ipv6("2001:db8::1", "2001:db8::2").Icmp(128).Build(),
  };
  for (const auto& f : frames) {
    for (size_t len = 0; len < f.size(); ++len) {
      PacketMeta m;
      const ParseResult r = ParseExact(f, m, len);
      EXPECT_NE(r, ParseResult::kOk) << "prefix of " << len << " of " << f.size() << " bytes";
      EXPECT_NE(r, ParseResult::kNonIp) << "prefix of " << len;
    }
  }
}

TEST(Parse, ResultNamesAreDistinct) {
  EXPECT_EQ(ParseResultName(ParseResult::kOk), "ok");
  EXPECT_EQ(ParseResultName(ParseResult::kTruncatedTcp), "truncated_tcp");
  EXPECT_EQ(ParseResultName(ParseResult::kIpv6ExtensionChainTooLong), "ipv6_extension_chain_too_long");
}

}  // namespace
}  // namespace conduit
