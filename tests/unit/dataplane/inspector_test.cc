// Inspector over crafted frames: flow creation, protocol detection by server
// port (either direction first), client/server orientation, counters.
#include "inspect/inspector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ics/registry.h"
#include "packet/packet_builder.h"
#include "parse/parse.h"

namespace conduit {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::kTcpAck;
using testing::kTcpPsh;
using testing::kTcpSyn;
using testing::ModbusAdu;
using testing::PacketBuilder;

constexpr uint8_t kData = kTcpAck | kTcpPsh;

Bytes ReadHolding(uint16_t tid) { return ModbusAdu(tid, 1, 3, {0, 10, 0, 2}); }
Bytes ReadHoldingResponse(uint16_t tid) { return ModbusAdu(tid, 1, 3, {4, 0, 1, 0, 2}); }

// One TCP endpoint pair; frames are built on demand.
struct Tcp {
  std::string client, server;
  uint16_t cport, sport;
  uint16_t vlan = 0;

  Bytes Build(bool from_client, uint32_t seq, uint8_t flags, const Bytes& payload,
              uint32_t ack = 0) const {
    PacketBuilder b;
    b.Eth();
    if (vlan != 0) b.Vlan(vlan);
    if (from_client) {
      b.Ipv4(client, server).Tcp(cport, sport, seq, flags);
    } else {
      b.Ipv4(server, client).Tcp(sport, cport, seq, flags);
    }
    return b.Ack(ack).Payload(payload).Build();
  }
};

class InspectorTest : public ::testing::Test {
 protected:
  InspectorTest()
      : ports_(std::make_unique<ics::ProtocolPorts>(ics::ProtocolPorts::Defaults())),
        inspector_(std::make_unique<Inspector>(1024, 1'000'000, ports_.get())) {}

  Inspection Feed(const Bytes& frame) {
    PacketMeta meta;
    EXPECT_EQ(ParsePacket(frame.data(), uint32_t(frame.size()), meta), ParseResult::kOk);
    ops_.Clear();
    return inspector_->Inspect(frame.data(), meta, ++now_, ops_);
  }
  Inspection Feed(const Tcp& t, bool from_client, uint32_t seq, const Bytes& payload,
                  uint8_t flags = kData) {
    return Feed(t.Build(from_client, seq, flags, payload));
  }
  // A pure ACK from the server of the client's bytes up to `ack`: the
  // normalizer holds at most TcpSegments::kRecords unacknowledged segments.
  Inspection ServerAcks(const Tcp& t, uint32_t ack) {
    return Feed(t.Build(false, 5000, kTcpAck, {}, ack));
  }
  uint64_t Counter(InspectCounter c) const { return inspector_->counter(c); }

  std::unique_ptr<ics::ProtocolPorts> ports_;
  std::unique_ptr<Inspector> inspector_;
  ics::OpList ops_;
  uint64_t now_ = 0;
};

// Client address below and above the server's: the key's lo/hi order flips.
TEST_F(InspectorTest, RequestFirstEitherAddressOrder) {
  for (const char* client : {"198.18.0.10", "198.18.0.250"}) {
    SCOPED_TRACE(client);
    inspector_ = std::make_unique<Inspector>(1024, 1'000'000, ports_.get());
    const Tcp t{client, "198.18.0.200", 50000, 502};
    Inspection in = Feed(t, true, 1000, ReadHolding(1));
    ASSERT_NE(in.flow, nullptr);
    EXPECT_EQ(in.protocol, ics::Protocol::kModbus);
    EXPECT_TRUE(in.from_client);
    EXPECT_EQ(in.feed, ics::FeedStatus::kOk);
    ASSERT_EQ(ops_.size(), 1u);
    EXPECT_EQ(ops_[0].direction, ics::Direction::kRequest);
    FlowEntry* flow = in.flow;

    in = Feed(t, false, 7000, ReadHoldingResponse(1));
    EXPECT_EQ(in.flow, flow);
    EXPECT_FALSE(in.from_client);
    ASSERT_EQ(ops_.size(), 1u);
    EXPECT_EQ(ops_[0].direction, ics::Direction::kResponse);

    in = Feed(t, true, 1012, ReadHolding(2));
    EXPECT_TRUE(in.from_client);
    EXPECT_EQ(ops_.size(), 1u);

    EXPECT_EQ(Counter(InspectCounter::flows_created), 1u);
    EXPECT_EQ(Counter(InspectCounter::ics_packets), 3u);
    EXPECT_EQ(Counter(InspectCounter::ics_pdus), 3u);
    EXPECT_EQ(Counter(InspectCounter::ics_ops), 3u);
    EXPECT_EQ(Counter(InspectCounter::decode_errors), 0u);
    EXPECT_EQ(flow->packets, 3u);
    EXPECT_EQ(flow->bytes, 12u + 13u + 12u);
  }
}

// Picked up mid-stream with the server's packet first: still oriented by port.
TEST_F(InspectorTest, ResponseFirstEitherAddressOrder) {
  for (const char* client : {"198.18.0.10", "198.18.0.250"}) {
    SCOPED_TRACE(client);
    inspector_ = std::make_unique<Inspector>(1024, 1'000'000, ports_.get());
    const Tcp t{client, "198.18.0.200", 50000, 502};
    Inspection in = Feed(t, false, 7000, ReadHoldingResponse(1));
    EXPECT_EQ(in.protocol, ics::Protocol::kModbus);
    EXPECT_FALSE(in.from_client);
    ASSERT_EQ(ops_.size(), 1u);
    EXPECT_EQ(ops_[0].direction, ics::Direction::kResponse);

    in = Feed(t, true, 1000, ReadHolding(2));
    EXPECT_TRUE(in.from_client);
    ASSERT_EQ(ops_.size(), 1u);
    EXPECT_EQ(ops_[0].direction, ics::Direction::kRequest);
    EXPECT_EQ(Counter(InspectCounter::flows_created), 1u);
  }
}

TEST_F(InspectorTest, HandshakeThenData) {
  const Tcp t{"198.18.0.250", "198.18.0.200", 50000, 2404};
  EXPECT_TRUE(Feed(t, true, 999, {}, kTcpSyn).from_client);
  EXPECT_FALSE(Feed(t, false, 4999, {}, kTcpSyn | kTcpAck).from_client);
  Inspection in = Feed(t, true, 1000, {}, kTcpAck);
  EXPECT_TRUE(in.from_client);
  EXPECT_EQ(in.protocol, ics::Protocol::kIec104);
  // STARTDT act / con, starting right after the SYNs: no gap.
  in = Feed(t, true, 1000, {0x68, 0x04, 0x07, 0x00, 0x00, 0x00});
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].kind, ics::OpKind::kIec104Apci);
  in = Feed(t, false, 5000, {0x68, 0x04, 0x0B, 0x00, 0x00, 0x00});
  EXPECT_FALSE(in.from_client);
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].function, 2);  // STARTDT con
  EXPECT_EQ(Counter(InspectCounter::flows_created), 1u);
  EXPECT_EQ(Counter(InspectCounter::tcp_gaps), 0u);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 2u);
}

TEST_F(InspectorTest, SynDataIsDroppedNotDecoded) {
  // A SYN with payload on a known flow would restart the gateway's stream
  // while the connected server ignores it; no ICS stack uses TCP Fast Open.
  const Tcp t{"198.18.0.10", "198.18.0.200", 50000, 502};
  const Inspection in = Feed(t, true, 999, ReadHolding(1), kTcpSyn);
  EXPECT_EQ(in.drop, DropReason::tcp_syn_data);
  EXPECT_TRUE(in.evasion);
  EXPECT_TRUE(ops_.empty());
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 0u);
}

// Unknown ports: the side answering a SYN is the server.
TEST_F(InspectorTest, SynAckHeuristicForUnknownPorts) {
  for (const char* client : {"198.18.0.10", "198.18.0.250"}) {
    SCOPED_TRACE(client);
    inspector_ = std::make_unique<Inspector>(1024, 1'000'000, ports_.get());
    const Tcp t{client, "198.18.0.200", 50000, 40000};
    Inspection in = Feed(t, false, 4999, {}, kTcpSyn | kTcpAck);  // the SYN was not seen
    ASSERT_NE(in.flow, nullptr);
    EXPECT_EQ(in.protocol, ics::Protocol::kUnknown);
    EXPECT_FALSE(in.from_client);
    EXPECT_TRUE(Feed(t, true, 1000, {}, kTcpAck).from_client);
    EXPECT_TRUE(Feed(t, true, 1000, {1, 2, 3}).from_client);
    EXPECT_FALSE(Feed(t, false, 5000, {4, 5}).from_client);
    EXPECT_EQ(Counter(InspectCounter::flows_created), 1u);
    EXPECT_EQ(Counter(InspectCounter::ics_packets), 0u);
    EXPECT_TRUE(ops_.empty());
  }
  // Without a SYN-ACK the first sender is the client.
  const Tcp u{"198.18.0.250", "198.18.0.200", 50001, 40001};
  EXPECT_TRUE(Feed(u, false, 5000, {4, 5}).from_client);
  EXPECT_FALSE(Feed(u, true, 1000, {1}).from_client);
}

TEST_F(InspectorTest, Dnp3OnNonDefaultPortAfterSetTcp) {
  // Request link status (PRM=1, function 9) and its answer, link status (11).
  const Bytes request = {0x05, 0x64, 0x05, 0x49, 0x64, 0x00, 0x01, 0x00, 0x7e, 0x5f};
  const Bytes response = {0x05, 0x64, 0x05, 0x8b, 0x01, 0x00, 0x64, 0x00, 0xa0, 0x97};
  const Tcp before{"198.18.0.10", "198.18.0.200", 50000, 20001};
  Inspection in = Feed(before, true, 1000, request);
  EXPECT_EQ(in.protocol, ics::Protocol::kUnknown);
  EXPECT_TRUE(ops_.empty());

  ports_->SetTcp(20001, ics::Protocol::kDnp3);
  const Tcp t{"198.18.0.10", "198.18.0.200", 50002, 20001};
  in = Feed(t, false, 9000, response);  // the outstation speaks first
  EXPECT_EQ(in.protocol, ics::Protocol::kDnp3);
  EXPECT_FALSE(in.from_client);
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].kind, ics::OpKind::kDnp3Link);
  EXPECT_EQ(ops_[0].function, 11);
  in = Feed(t, true, 1000, request);
  EXPECT_TRUE(in.from_client);
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].function, 9);
  EXPECT_EQ(ops_[0].unit, 100u);
  EXPECT_EQ(Counter(InspectCounter::flows_created), 2u);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 2u);
}

TEST_F(InspectorTest, StreamCounters) {
  const Tcp t{"198.18.0.10", "198.18.0.200", 50000, 502};
  const Bytes a = ReadHolding(1), b = ReadHolding(2), c = ReadHolding(3), d = ReadHolding(4);
  Feed(t, true, 1000, a);
  EXPECT_EQ(Feed(t, true, 1000, a).feed, ics::FeedStatus::kRetransmission);
  EXPECT_EQ(Counter(InspectCounter::retransmissions), 1u);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 1u);

  // b lost before the gateway: c lies beyond a hole the server has not
  // acknowledged, so it is dropped undecoded; the sender resends b, then c.
  Inspection ahead = Feed(t, true, 1024, c);
  EXPECT_EQ(ahead.drop, DropReason::tcp_out_of_order);
  EXPECT_TRUE(ops_.empty());
  EXPECT_EQ(Counter(InspectCounter::tcp_gaps), 0u);
  EXPECT_EQ(Feed(t, true, 1012, b).drop, DropReason::kCount);
  EXPECT_EQ(Feed(t, true, 1024, c).drop, DropReason::kCount);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 3u);
  // The same bytes again pass; other bytes at the same sequence number do not.
  EXPECT_EQ(Feed(t, true, 1024, c).feed, ics::FeedStatus::kRetransmission);
  EXPECT_EQ(Feed(t, true, 1024, ReadHolding(9)).drop, DropReason::tcp_overlap_conflict);
  ServerAcks(t, 1036);

  // A bad header after sync: framing lost, then unparsable.
  Bytes bad = d;
  bad[2] = 0x7F;
  EXPECT_EQ(Feed(t, true, 1036, bad).feed, ics::FeedStatus::kFramingLost);
  EXPECT_EQ(Feed(t, true, 1048, d).feed, ics::FeedStatus::kUnparsable);
  EXPECT_EQ(Counter(InspectCounter::framing_lost), 1u);
  EXPECT_EQ(Counter(InspectCounter::unparsable_packets), 2u);
  EXPECT_EQ(Counter(InspectCounter::ics_pdus), 3u);
  EXPECT_EQ(Counter(InspectCounter::ics_packets), 10u);
  EXPECT_EQ(Counter(InspectCounter::not_ics_packets), 0u);
}

TEST_F(InspectorTest, NotIcsOnModbusPort) {
  const std::string http = "GET /index.html HTTP/1.1\r\nHost: plc\r\n\r\n";
  const Bytes payload(http.begin(), http.end());
  const Tcp t{"198.18.0.10", "198.18.0.200", 50000, 502};
  uint32_t seq = 1000;
  Inspection in;
  // The server acknowledges each segment (the normalizer holds at most
  // three unacknowledged ones, on such a flow too).
  for (int i = 0; i < 4; ++i, seq += uint32_t(payload.size())) {
    in = Feed(t, true, seq, payload);
    EXPECT_TRUE(ops_.empty());
    const Inspection ack = ServerAcks(t, seq + uint32_t(payload.size()));
    EXPECT_EQ(ack.drop, DropReason::kCount);
  }
  // kMaxSyncAttempts (framer.cc) = 4: segment 4 is judged not ICS.
  EXPECT_EQ(in.feed, ics::FeedStatus::kNotIcs);
  EXPECT_TRUE(in.flow->not_ics);
  EXPECT_EQ(Counter(InspectCounter::not_ics_packets), 1u);
  // Modbus bytes later in the same direction are not decoded as the flow's
  // operations, but found by the scan (the server may find them too).
  in = Feed(t, true, seq, ReadHolding(1));
  EXPECT_EQ(in.feed, ics::FeedStatus::kNotIcs);
  EXPECT_EQ(in.candidates, 1);
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].function, 3);
  EXPECT_EQ(Counter(InspectCounter::not_ics_packets), 2u);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 0u);
  EXPECT_EQ(Counter(InspectCounter::scan_candidates), 1u);
}

TEST_F(InspectorTest, VlanSeparatesStreams) {
  Tcp t10{"198.18.0.10", "198.18.0.200", 50000, 502, 10};
  Tcp t20 = t10;
  t20.vlan = 20;
  const Bytes pdu = ReadHolding(1);
  // The first half on VLAN 10, the second on VLAN 20: neither completes.
  const Inspection a = Feed(t10, true, 1000, Bytes(pdu.begin(), pdu.begin() + 6));
  const Inspection b = Feed(t20, true, 1006, Bytes(pdu.begin() + 6, pdu.end()));
  EXPECT_NE(a.flow, b.flow);
  EXPECT_EQ(Counter(InspectCounter::flows_created), 2u);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 0u);
  Feed(t10, true, 1006, Bytes(pdu.begin() + 6, pdu.end()));
  EXPECT_EQ(ops_.size(), 1u);
}

TEST_F(InspectorTest, BacnetDatagrams) {
  const Bytes who_is = {0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08};
  const auto frame = [](const Bytes& payload, bool from_client) {
    PacketBuilder b;
    b.Eth();
    if (from_client) {
      b.Ipv4("198.18.0.50", "198.18.0.60").Udp(50000, 47808);
    } else {
      b.Ipv4("198.18.0.60", "198.18.0.50").Udp(47808, 50000);
    }
    return b.Payload(payload).Build();
  };
  Inspection in = Feed(frame(who_is, true));
  EXPECT_EQ(in.protocol, ics::Protocol::kBacnet);
  EXPECT_TRUE(in.from_client);
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].kind, ics::OpKind::kBacnetUnconfirmed);
  in = Feed(frame({0x01, 0x02, 0x03, 0x04}, false));
  EXPECT_FALSE(in.from_client);
  EXPECT_EQ(in.feed, ics::FeedStatus::kNotIcs);
  EXPECT_FALSE(in.flow->not_ics);  // a datagram stands alone
  EXPECT_EQ(Counter(InspectCounter::not_ics_packets), 1u);
  Feed(frame(who_is, true));
  EXPECT_EQ(ops_.size(), 1u);
  EXPECT_EQ(Counter(InspectCounter::flows_created), 1u);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 2u);
}

TEST_F(InspectorTest, Ipv6Modbus) {
  const Bytes req = PacketBuilder().Eth().Ipv6("2001:db8::20", "2001:db8::1")
                        .Tcp(50000, 502, 1000, kData).Payload(ReadHolding(1)).Build();
  const Bytes resp = PacketBuilder().Eth().Ipv6("2001:db8::1", "2001:db8::20")
                         .Tcp(502, 50000, 5000, kData).Payload(ReadHoldingResponse(1)).Build();
  const Inspection a = Feed(req);
  const Inspection b = Feed(resp);
  EXPECT_EQ(a.flow, b.flow);
  EXPECT_TRUE(a.from_client);
  EXPECT_FALSE(b.from_client);
  EXPECT_EQ(Counter(InspectCounter::ics_ops), 2u);
}

TEST_F(InspectorTest, NoFlowWithoutPorts) {
  const Bytes icmp = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Icmp().Build();
  EXPECT_EQ(Feed(icmp).flow, nullptr);
  EXPECT_EQ(Counter(InspectCounter::flows_created), 0u);
}

TEST(InspectCounterName, Names) {
  EXPECT_EQ(InspectCounterName(InspectCounter::flows_created), "flows_created");
  EXPECT_EQ(InspectCounterName(InspectCounter::not_ics_packets), "not_ics_packets");
}

}  // namespace
}  // namespace conduit
