// The normalizer's parts on their own: SipHash against its published
// vector, the segment hash against its definition and its collision bound,
// checksum verification, and the TCP normalizer's decisions.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "ics/ports.h"
#include "normalize/checksum.h"
#include "normalize/packet_checks.h"
#include "normalize/segment_hash.h"
#include "normalize/siphash.h"
#include "normalize/tcp_normalizer.h"
#include "packet/packet_builder.h"
#include "parse/parse.h"

namespace conduit::normalize {
namespace {

using Bytes = std::vector<uint8_t>;
using conduit::testing::ModbusAdu;
using conduit::testing::PacketBuilder;

TEST(SipHash, MatchesTheReferenceVector) {
  // SipHash-2-4, key 00..0f, empty message and 00..0e (the paper's vectors).
  SipKey key;
  uint8_t k[16];
  for (int i = 0; i < 16; ++i) k[i] = uint8_t(i);
  std::memcpy(&key.k0, k, 8);
  std::memcpy(&key.k1, k + 8, 8);
  EXPECT_EQ((SipHash<2, 4>(key, nullptr, 0)), 0x726fdb47dd0e0e31ULL);
  uint8_t m[15];
  for (int i = 0; i < 15; ++i) m[i] = uint8_t(i);
  EXPECT_EQ((SipHash<2, 4>(key, m, 15)), 0xa129ca6149be45e5ULL);
  // Shorter than a word (the tail read byte by byte): 00, 00 01, 00 01 02.
  EXPECT_EQ((SipHash<2, 4>(key, m, 1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ((SipHash<2, 4>(key, m, 2)), 0x0d6c8009d9a94f5aULL);
  EXPECT_EQ((SipHash<2, 4>(key, m, 3)), 0x85676696d7fb7e2dULL);
}

// Past a word, the tail is read as the last 8 bytes shifted: the same
// hash as bytes that end the buffer, whatever follows them in memory.
TEST(SipHash, TailReadIgnoresBytesPastTheEnd) {
  const SipKey key = RandomSipKey();
  uint8_t a[32], b[32];
  for (int i = 0; i < 32; ++i) {
    a[i] = uint8_t(i * 7);
    b[i] = uint8_t(i < 16 ? i * 7 : 0xEE);
  }
  for (size_t len = 8; len <= 16; ++len) {
    EXPECT_EQ((SipHash<1, 3>(key, a, len)), (SipHash<1, 3>(key, b, len))) << len;
    EXPECT_NE((SipHash<1, 3>(key, a, len)), (SipHash<1, 3>(key, a, len - 1))) << len;
  }
}

// MULTILINEAR as Lemire & Kaser define it, one word at a time: the bytes as
// zero-padded little-endian 32-bit words s_i, (m_0 + sum m_{i+1} s_i) >> 32.
uint32_t MultilinearByDefinition(const SegmentHashKey& key, const uint8_t* p, uint32_t len) {
  uint64_t h = key.words[0];
  for (uint32_t i = 0; i * 4 < len; ++i) {
    uint32_t s = 0;
    for (uint32_t b = 0; b < 4 && i * 4 + b < len; ++b) s |= uint32_t(p[i * 4 + b]) << (8 * b);
    h += key.words[i + 1] * s;
  }
  return static_cast<uint32_t>(h >> 32);
}

SegmentHashKey SeededKey(std::mt19937_64& rng) {
  SegmentHashKey key;
  for (uint64_t& m : key.words) m = rng();
  key.sip = {rng(), rng()};
  return key;
}

TEST(SegmentHash, MatchesItsDefinitionAndSipHashBeyondIt) {
  std::mt19937_64 rng(13);
  const SegmentHashKey key = SeededKey(rng);
  // One byte more than the key covers; the bytes after each length differ
  // from zero, so a tail that read past the end would show.
  std::vector<uint8_t> bytes(SegmentHashKey::kMultilinearBytes + 1);
  for (uint8_t& b : bytes) b = uint8_t(rng() | 1);
  for (uint32_t len : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 11u, 12u, 13u, 15u, 16u, 17u, 260u,
                       2045u, 2047u, SegmentHashKey::kMultilinearBytes}) {
    EXPECT_EQ(HashSegment(key, bytes.data(), len), MultilinearByDefinition(key, bytes.data(), len))
        << len;
  }
  const uint32_t beyond = SegmentHashKey::kMultilinearBytes + 1;
  EXPECT_EQ(HashSegment(key, bytes.data(), beyond),
            static_cast<uint32_t>(SipHash<1, 3>(key.sip, bytes.data(), beyond)));
}

// The bound the normalizer relies on: two different segments of the same
// length collide with probability 2^-L over the key, for the top L bits
// too. Checked for L = 8 over 8192 keys (expected 32 collisions) on pairs an
// attacker would try: one bit apart in the last byte of a short tail, in a
// word's top bit, and a Modbus read against a write of the same length. A
// hash that ignored those bytes would collide on every key.
TEST(SegmentHash, DifferentSegmentsCollideAsRarelyAsTheBoundSays) {
  const Bytes read = ModbusAdu(1, 1, 3, {0, 160, 0, 1});
  const Bytes write = ModbusAdu(1, 1, 6, {0, 160, 0, 99});
  Bytes tail_a(13, 0x41), tail_b = tail_a;
  tail_b[12] ^= 0x01;
  Bytes word_a(8, 0), word_b = word_a;
  word_b[7] = 0x80;
  const std::pair<const Bytes*, const Bytes*> pairs[] = {
      {&read, &write}, {&tail_a, &tail_b}, {&word_a, &word_b}};
  std::mt19937_64 rng(2014);
  SegmentHashKey key;
  for (const auto& [a, b] : pairs) {
    ASSERT_EQ(a->size(), b->size());
    int collisions = 0;
    for (int trial = 0; trial < 8192; ++trial) {
      for (int i = 0; i < 8; ++i) key.words[i] = rng();  // all these segments use
      const uint32_t ha = HashSegment(key, a->data(), uint32_t(a->size()));
      const uint32_t hb = HashSegment(key, b->data(), uint32_t(b->size()));
      collisions += (ha >> 24) == (hb >> 24);
    }
    // Printed: bench/RESULTS.md quotes them (fixed seed, so they repeat).
    std::printf("top-8-bit collisions over 8192 keys, %zu-byte pair: %d (32 expected)\n", a->size(),
                collisions);
    EXPECT_GT(collisions, 8) << a->size();
    EXPECT_LT(collisions, 72) << a->size();
  }
}

struct Parsed {
  Bytes frame;
  PacketMeta meta;
  ParseResult result;
};
Parsed Parse(Bytes frame) {
  Parsed p{std::move(frame), {}, {}};
  p.result = ParsePacket(p.frame.data(), uint32_t(p.frame.size()), p.meta);
  return p;
}

// The software checksum against PacketBuilder's (a plain network-order
// sum): every payload length (odd ones end in a padded byte), TCP and UDP,
// IPv4 and IPv6; one flipped bit anywhere in the segment fails it.
TEST(Checksum, AgreesWithTheBuilderAtEveryLength) {
  for (const bool v6 : {false, true}) {
    for (const bool udp : {false, true}) {
      for (uint32_t len = 0; len <= 40; ++len) {
        Bytes payload(len);
        for (uint32_t i = 0; i < len; ++i) payload[i] = uint8_t(0xF1 + 13 * i);
        PacketBuilder b;
        b.Eth();
        if (v6) {
          b.Ipv6("2001:db8::10", "2001:db8::200", udp ? 17 : 6);
        } else {
          b.Ipv4("198.18.0.10", "198.18.0.200", udp ? 17 : 6);
        }
        if (udp) {
          b.Udp(50000, 20000);
        } else {
          b.Tcp(50000, 502, 0xFEDCBA98);
        }
        Parsed p = Parse(b.Payload(payload).Build());
        ASSERT_EQ(p.result, ParseResult::kOk) << len;
        EXPECT_TRUE(L4ChecksumOk(p.frame.data(), p.meta)) << v6 << udp << len;
        if (!v6) {
          EXPECT_TRUE(Ipv4HeaderChecksumOk(p.frame.data(), p.meta)) << len;
        }
        for (size_t at = p.meta.l4_offset; at < p.frame.size(); at += 7) {
          Parsed bad = p;
          bad.frame[at] ^= 0x10;
          EXPECT_FALSE(L4ChecksumOk(bad.frame.data(), bad.meta)) << v6 << udp << len << " at " << at;
        }
      }
    }
  }
}

// The IPv4 header sum without options (five words, its own path) and with
// them (the general loop): the builder's header passes, and one flipped bit
// anywhere in it fails.
TEST(Checksum, Ipv4HeaderWithAndWithoutOptions) {
  for (const size_t options : {0, 4, 8, 40}) {
    Bytes option_bytes(options, 0x01);  // NOPs
    Parsed p = Parse(PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200", 17, option_bytes)
                         .Udp(50000, 20000).Payload({1, 2, 3}).Build());
    ASSERT_EQ(p.result, ParseResult::kOk) << options;
    EXPECT_TRUE(Ipv4HeaderChecksumOk(p.frame.data(), p.meta)) << options;
    for (size_t at = p.meta.l3_offset + 1; at < p.meta.l4_offset; ++at) {
      for (const uint8_t bit : {0x01, 0x80}) {
        Parsed bad = p;
        bad.frame[at] ^= bit;
        EXPECT_FALSE(Ipv4HeaderChecksumOk(bad.frame.data(), bad.meta)) << options << " at " << at;
      }
    }
  }
}

TEST(PacketChecks, BadChecksumsAreDroppedGoodOnesPass) {
  const auto ports = ics::ProtocolPorts::Defaults();
  const PacketCheckConfig verify;
  Parsed ok = Parse(PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
                        .Tcp(50000, 502, 1000).Payload(ModbusAdu(1, 1, 3, {0, 0, 0, 1})).Build());
  ASSERT_EQ(ok.result, ParseResult::kOk);
  EXPECT_EQ(CheckPacket(ok.frame.data(), ok.result, ok.meta, 0, verify, ports), DropReason::kCount);

  Parsed bad_l4 = ok;
  bad_l4.frame.back() ^= 0x01;  // payload changed, checksum not
  EXPECT_EQ(CheckPacket(bad_l4.frame.data(), bad_l4.result, bad_l4.meta, 0, verify, ports),
            DropReason::bad_l4_checksum);
  // The port's word wins over software either way.
  EXPECT_EQ(CheckPacket(bad_l4.frame.data(), bad_l4.result, bad_l4.meta, kL4ChecksumGood, verify, ports),
            DropReason::kCount);
  EXPECT_EQ(CheckPacket(ok.frame.data(), ok.result, ok.meta, kL4ChecksumBad, verify, ports),
            DropReason::bad_l4_checksum);

  Parsed bad_ip = ok;
  bad_ip.frame[14 + 10] ^= 0x01;
  EXPECT_EQ(CheckPacket(bad_ip.frame.data(), bad_ip.result, bad_ip.meta, 0, verify, ports),
            DropReason::bad_ip_checksum);
  PacketCheckConfig trusting;
  trusting.verify_checksums = false;
  EXPECT_EQ(CheckPacket(bad_ip.frame.data(), bad_ip.result, bad_ip.meta, 0, trusting, ports),
            DropReason::kCount);

  Bytes cut = ok.frame;
  cut.resize(cut.size() - 3);  // shorter than its IP total length
  Parsed truncated = Parse(cut);
  EXPECT_EQ(CheckPacket(truncated.frame.data(), truncated.result, truncated.meta, 0, verify, ports),
            DropReason::ip_truncated);
}

// A client and a server of one Modbus/TCP flow, and the normalizer between.
class TcpNormalizerTest : public ::testing::Test {
 protected:
  TcpVerdict Send(bool from_client, uint32_t seq, uint32_t ack, const Bytes& payload,
                  uint8_t flags = 0x18, uint16_t window = 65535) {
    PacketBuilder b;
    b.Eth().Ipv4(from_client ? "198.18.0.10" : "198.18.0.200",
                 from_client ? "198.18.0.200" : "198.18.0.10")
        .Tcp(from_client ? 50000 : 502, from_client ? 502 : 50000, seq, flags);
    Bytes f = b.Payload(payload).Build();
    f[14 + 20 + 8] = uint8_t(ack >> 24);
    f[14 + 20 + 9] = uint8_t(ack >> 16);
    f[14 + 20 + 10] = uint8_t(ack >> 8);
    f[14 + 20 + 11] = uint8_t(ack);
    f[14 + 20 + 14] = uint8_t(window >> 8);
    f[14 + 20 + 15] = uint8_t(window);
    Parsed p = Parse(f);
    EXPECT_EQ(p.result, ParseResult::kOk);
    const int d = from_client ? 0 : 1;
    return NormalizeTcpSegment(key_, sent_[d], acks_, d, p.frame.data(), p.meta, /*enforce=*/true);
  }
  void Handshake() {
    EXPECT_FALSE(Send(true, 999, 0, {}, 0x02).Drops());         // SYN
    EXPECT_FALSE(Send(false, 4999, 1000, {}, 0x12).Drops());    // SYN-ACK
    EXPECT_FALSE(Send(true, 1000, 5000, {}, 0x10).Drops());     // ACK
  }

  SegmentHashKey key_ = RandomSegmentHashKey();
  TcpSegments sent_[2];  // [0] the client's, [1] the server's
  TcpAckPair acks_;
  const Bytes read_ = ModbusAdu(1, 1, 3, {0, 160, 0, 1});
  const Bytes write_ = ModbusAdu(1, 1, 6, {0, 160, 0, 99});  // same length as the read
};

TEST_F(TcpNormalizerTest, IdenticalRetransmissionPassesDifferentBytesDoNot) {
  Handshake();
  EXPECT_FALSE(Send(true, 1000, 5000, read_).Drops());
  EXPECT_FALSE(Send(true, 1000, 5000, read_).Drops());  // the same bytes again
  const TcpVerdict other = Send(true, 1000, 5000, write_);
  EXPECT_EQ(other.drop, DropReason::tcp_overlap_conflict);
  EXPECT_TRUE(other.evasion);
  // Once the server acknowledges the read, a resend of those bytes is old
  // data the server discards: nothing left to compare.
  EXPECT_FALSE(Send(false, 5000, 1012, {}, 0x10).Drops());
  EXPECT_FALSE(Send(true, 1000, 5000, write_).Drops());
}

TEST_F(TcpNormalizerTest, DataBeyondAHoleWaitsForTheSender) {
  Handshake();
  EXPECT_EQ(Send(true, 1012, 5000, read_).drop, DropReason::tcp_out_of_order);
  EXPECT_FALSE(Send(true, 1000, 5000, read_).Drops());
  EXPECT_FALSE(Send(true, 1012, 5000, read_).Drops());
}

TEST(TcpFlagChecks, SynWithDataAndDataWithoutAck) {
  PacketMeta m;
  m.tcp_flags = kTcpFlagSyn;
  EXPECT_FALSE(normalize::TcpSynWithData(m));  // a plain SYN
  m.payload_len = 12;
  EXPECT_TRUE(normalize::TcpSynWithData(m));   // the chaff a connected server ignores
  EXPECT_FALSE(normalize::TcpDataWithoutAck(m));
  m.tcp_flags = kTcpFlagSyn | kTcpFlagAck;
  EXPECT_TRUE(normalize::TcpSynWithData(m));
  m.tcp_flags = kTcpFlagAck;
  EXPECT_FALSE(normalize::TcpSynWithData(m));
  m.tcp_flags = 0x08;  // PSH alone
  EXPECT_TRUE(normalize::TcpDataWithoutAck(m));
}

TEST_F(TcpNormalizerTest, FlagsAndWindow) {
  Handshake();
  EXPECT_EQ(Send(true, 1000, 5000, read_, 0x08).drop, DropReason::tcp_no_ack);  // PSH alone
  EXPECT_EQ(Send(true, 1000, 5000, read_, 0x38).drop, DropReason::tcp_urgent);
  // The server offers 8 bytes of window: a 12-byte request does not fit.
  EXPECT_FALSE(Send(false, 5000, 1000, {}, 0x10, 8).Drops());
  EXPECT_EQ(Send(true, 1000, 5000, read_).drop, DropReason::tcp_outside_window);
}

TEST_F(TcpNormalizerTest, UnacknowledgedSegmentsAreBounded) {
  Handshake();
  uint32_t seq = 1000;
  for (int i = 0; i < TcpSegments::kRecords; ++i, seq += 12) {
    EXPECT_FALSE(Send(true, seq, 5000, read_).Drops()) << i;
  }
  EXPECT_EQ(Send(true, seq, 5000, read_).drop, DropReason::tcp_unacked_limit);
  EXPECT_FALSE(Send(false, 5000, 1012, {}, 0x10).Drops());  // one acknowledged
  EXPECT_FALSE(Send(true, seq, 5000, read_).Drops());
}

}  // namespace
}  // namespace conduit::normalize
