// The real worker loop on real DPDK ports (net_ring vdevs over rte_rings):
// every packet in comes out of the peer port byte for byte, in order, and
// every mbuf leaves by exactly one exit.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "events/event_ring.h"
#include "inspect/inspector.h"
#include "packet/packet_builder.h"
#include "policy/policy_builder.h"
#include "port/wire.h"
#include "unit/dataplane/eal_fixture.h"
#include "worker/worker.h"

namespace conduit {
namespace {

using testing::PacketBuilder;

// Two ring-backed ports. Frames enqueued on `a_rx` are received by port A;
// what port B transmits lands in `b_tx` (and the other way round).
class RingWire {
 public:
  RingWire(const std::string& name, unsigned tx_ring_size) {
    a_rx = Ring(name + "_arx", 1024);
    a_tx = Ring(name + "_atx", tx_ring_size);
    b_rx = Ring(name + "_brx", 1024);
    b_tx = Ring(name + "_btx", tx_ring_size);
    port_a = rte_eth_from_rings((name + "a").c_str(), &a_rx, 1, &a_tx, 1, 0);
    port_b = rte_eth_from_rings((name + "b").c_str(), &b_rx, 1, &b_tx, 1, 0);
  }
  static rte_ring* Ring(const std::string& name, unsigned size) {
    return rte_ring_create(name.c_str(), size, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  }
  rte_ring *a_rx, *a_tx, *b_rx, *b_tx;
  int port_a, port_b;
};

class WorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pool_ = rte_pktmbuf_pool_create("worker_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }

  // An inspecting worker: its own flow table, event ring and policy slot.
  void Inspecting(std::unique_ptr<policy::CompiledPolicy> p) {
    policy_ = std::move(p);
    slot_.store(policy_.get());
    ctx_.policy = &slot_;
    ctx_.inspector = &inspector_;
    ctx_.events = &events_;
    ctx_.reset_pool = pool_;
  }

  static std::unique_ptr<policy::CompiledPolicy> AllowAll() {
    policy::PolicyBuilder b("allow-all", policy::Mode::kEnforce);
    policy::ConduitPolicy c;
    c.name = "test";
    c.default_action = c.non_ics = c.unparsable = policy::Action::kAllow;
    c.allow_non_ip = {0x0806};
    b.AddConduit(c);
    return b.Build();
  }

  // Reads of holding registers from 198.18.0.10 allowed; everything else of
  // Modbus denied with a reset; non-ICS allowed.
  static std::unique_ptr<policy::CompiledPolicy> ReadsOnly() {
    policy::PolicyBuilder b("reads-only", policy::Mode::kEnforce);
    policy::ConduitPolicy c;
    c.name = "test";
    c.default_action = policy::Action::kDeny;
    c.non_ics = c.unparsable = policy::Action::kAllow;
    c.on_deny = policy::OnDeny::kReset;
    const uint16_t ci = b.AddConduit(c);
    policy::RuleSpec r;
    r.id = "historian-read";
    r.functions = {{ics::OpKind::kModbus, 3}};
    r.kinds = {ics::OpKind::kModbus};
    r.session_kind = ics::OpKind::kModbus;
    r.action = policy::Action::kAllow;
    b.AddRule(ci, r);
    return b.Build();
  }

  void Start(RingWire& w) {
    ASSERT_GE(w.port_a, 0);
    ASSERT_GE(w.port_b, 0);
    ASSERT_TRUE(StartPort(w.port_a, PortSettings{256, 256, 1}, pool_).ok());
    ASSERT_TRUE(StartPort(w.port_b, PortSettings{256, 256, 1}, pool_).ok());
    ctx_.paths[0] = ForwardPath{uint16_t(w.port_a), uint16_t(w.port_b), 0};
    ctx_.paths[1] = ForwardPath{uint16_t(w.port_b), uint16_t(w.port_a), 0};
    ctx_.path_count = 2;
    ctx_.burst = 32;
  }

  rte_mbuf* Mbuf(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, frame.size()), frame.data(), frame.size());
    return m;
  }

  static std::vector<uint8_t> Bytes(rte_mbuf* m) {
    const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
    return {p, p + m->data_len};
  }

  // Polls until nothing more arrives.
  void Drain() {
    for (int idle = 0; idle < 4;) idle = PollOnce(ctx_) == 0 ? idle + 1 : 0;
  }

  static rte_mempool* pool_;
  WorkerContext ctx_;
  ics::ProtocolPorts ports_ = ics::ProtocolPorts::Defaults();
  Inspector inspector_{1024, ~0ull, &ports_};
  EventRing events_{1024};
  std::unique_ptr<policy::CompiledPolicy> policy_;
  std::atomic<const policy::CompiledPolicy*> slot_{nullptr};
};
rte_mempool* WorkerTest::pool_ = nullptr;

std::vector<std::vector<uint8_t>> MixedFrames(int n) {
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < n; ++i) {
    switch (i % 6) {
      case 0: frames.push_back(PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
                                   .Tcp(uint16_t(50000 + i / 6), 502, 1000)  // a request per flow (no server
                                                                           // ACKs here to free the normalizer's records)
                                   .Payload(testing::ModbusAdu(i, 1, 3, {0, 0, 0, 10})).Build()); break;
      case 1: frames.push_back(PacketBuilder().Eth().Arp().Build()); break;
      case 2: frames.push_back(PacketBuilder().Eth().Vlan(7).Ipv4("198.18.0.10", "198.18.0.201").Udp(1234, 47808)
                                   .Payload(std::vector<uint8_t>(i % 50, uint8_t(i))).Build()); break;
      case 3: frames.push_back(PacketBuilder().Eth().Ipv6("2001:db8::1", "2001:db8::2").Tcp(1, 2, i).Build()); break;
      case 4: {  // malformed: forwarded untouched all the same (no policy yet)
        auto f = PacketBuilder().Eth().Ipv4("198.18.0.1", "198.18.0.2").Tcp(1, 2).Build();
        f[14] = 0x41;
        frames.push_back(f);
        break;
      }
      default: frames.push_back(std::vector<uint8_t>(10, 0xEE)); break;  // a runt
    }
  }
  return frames;
}

TEST_F(WorkerTest, EveryPacketOutEqualsThePacketIn) {
  RingWire w("fwd", 1024);
  Start(w);
  Inspecting(AllowAll());
  const auto a_to_b = MixedFrames(300);
  const auto b_to_a = MixedFrames(120);
  const unsigned pool_free = rte_mempool_avail_count(pool_);
  size_t ai = 0, bi = 0;
  // Feed both directions in chunks, as traffic would arrive.
  while (ai < a_to_b.size() || bi < b_to_a.size()) {
    for (int k = 0; k < 50 && ai < a_to_b.size(); ++k) ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(a_to_b[ai++])), 0);
    for (int k = 0; k < 20 && bi < b_to_a.size(); ++k) ASSERT_EQ(rte_ring_enqueue(w.b_rx, Mbuf(b_to_a[bi++])), 0);
    Drain();
  }
  for (auto [ring, expected] : {std::pair{w.b_tx, &a_to_b}, std::pair{w.a_tx, &b_to_a}}) {
    ASSERT_EQ(rte_ring_count(ring), expected->size());
    for (size_t i = 0; i < expected->size(); ++i) {
      void* obj = nullptr;
      ASSERT_EQ(rte_ring_dequeue(ring, &obj), 0);
      rte_mbuf* m = static_cast<rte_mbuf*>(obj);
      EXPECT_EQ(Bytes(m), (*expected)[i]) << "packet " << i;
      rte_pktmbuf_free(m);
    }
  }
  CounterSnapshot c;
  c.Accumulate(ctx_.counters);
  EXPECT_EQ(c[WorkerCounter::rx_packets], 420u);
  EXPECT_EQ(c[WorkerCounter::tx_packets], 420u);
  EXPECT_EQ(c[WorkerCounter::dropped_packets], 0u);
  EXPECT_EQ(c[WorkerCounter::inspected_packets] + c[WorkerCounter::bypassed_packets], 420u);
  EXPECT_EQ(c[WorkerCounter::rx_bytes], c[WorkerCounter::tx_bytes]);
  EXPECT_EQ(c[ParseResult::kNonIp], 70u);                 // ARP: 300/6 + 120/6
  EXPECT_EQ(c[ParseResult::kTruncatedEthernet], 70u);     // runts
  EXPECT_EQ(c[ParseResult::kBadIpv4Header], 70u);
  EXPECT_EQ(c[ParseResult::kOk], 210u);
  EXPECT_EQ(c[WorkerCounter::inspected_packets], 420u);
  EXPECT_EQ(c[WorkerCounter::bypassed_packets], 0u);
  EXPECT_EQ(rte_mempool_avail_count(pool_), pool_free);  // no mbuf leaked
}

TEST_F(WorkerTest, WithoutPolicyEverythingIsForwardedUninspected) {
  RingWire w("nopol", 1024);
  Start(w);
  const auto frames = MixedFrames(60);
  for (const auto& f : frames) ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(f)), 0);
  Drain();
  ASSERT_EQ(rte_ring_count(w.b_tx), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    void* obj = nullptr;
    ASSERT_EQ(rte_ring_dequeue(w.b_tx, &obj), 0);
    EXPECT_EQ(Bytes(static_cast<rte_mbuf*>(obj)), frames[i]);
    rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  }
  CounterSnapshot c;
  c.Accumulate(ctx_.counters);
  EXPECT_EQ(c[WorkerCounter::bypassed_packets], 60u);
  EXPECT_EQ(c[WorkerCounter::inspected_packets], 0u);
  EXPECT_EQ(c[ParseResult::kOk], 0u);  // not even parsed
}

TEST_F(WorkerTest, DeniedWriteIsDroppedAndResetBothWays) {
  RingWire w("deny", 1024);
  Start(w);
  Inspecting(ReadsOnly());
  const unsigned pool_free = rte_mempool_avail_count(pool_);
  auto modbus = [](uint32_t seq, uint8_t fc, std::vector<uint8_t> data) {
    return PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
        .Tcp(50000, 502, seq, testing::kTcpAck | testing::kTcpPsh)
        .Payload(testing::ModbusAdu(1, 1, fc, data)).Build();
  };
  const auto read = modbus(1000, 3, {0, 10, 0, 2});
  const auto write = modbus(1000 + 12, 6, {0, 100, 0x10, 0x92});
  ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(read)), 0);
  ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(write)), 0);
  Drain();
  // The read passes; the write does not; a RST goes on to the PLC (port B)
  // and one back to the client (port A).
  ASSERT_EQ(rte_ring_count(w.b_tx), 2u);
  ASSERT_EQ(rte_ring_count(w.a_tx), 1u);
  void* obj = nullptr;
  ASSERT_EQ(rte_ring_dequeue(w.b_tx, &obj), 0);
  EXPECT_EQ(Bytes(static_cast<rte_mbuf*>(obj)), read);
  rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  for (auto [ring, to_sender] : {std::pair{w.b_tx, false}, std::pair{w.a_tx, true}}) {
    ASSERT_EQ(rte_ring_dequeue(ring, &obj), 0);
    rte_mbuf* rst = static_cast<rte_mbuf*>(obj);
    PacketMeta m;
    ASSERT_EQ(ParsePacket(rte_pktmbuf_mtod(rst, const uint8_t*), rst->data_len, m), ParseResult::kOk);
    EXPECT_EQ(m.tcp_flags & 0x04, 0x04) << "RST flag";
    EXPECT_EQ(m.payload_len, 0);
    EXPECT_EQ(m.dst_port, to_sender ? 50000 : 502);
    EXPECT_EQ(m.tcp_seq, to_sender ? 0u : 1012u);  // back: the write's ack (0); on: its seq
    rte_pktmbuf_free(rst);
  }
  CounterSnapshot c;
  c.Accumulate(ctx_.counters);
  EXPECT_EQ(c[WorkerCounter::rx_packets], 2u);
  EXPECT_EQ(c[WorkerCounter::tx_packets], 1u);
  EXPECT_EQ(c[DropReason::policy_deny], 1u);
  EXPECT_EQ(c[WorkerCounter::resets_sent], 2u);
  // The deny is an event naming the default rule and the write.
  EventRecord e;
  ASSERT_EQ(events_.PopBatch(&e, 1), 1u);
  EXPECT_EQ(e.verdict, EventVerdict::kDeny);
  EXPECT_TRUE(e.enforced);
  EXPECT_EQ(e.rule, policy::kRuleDefault);
  EXPECT_EQ(e.op.function, 6);
  // Later segments of the blocked flow are dropped too (a retransmission
  // of the write cannot slip through).
  ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(write)), 0);
  Drain();
  c = {};
  c.Accumulate(ctx_.counters);
  EXPECT_EQ(c[DropReason::policy_deny], 2u);
  EXPECT_EQ(c[WorkerCounter::resets_sent], 4u);  // a peer that keeps sending keeps being reset
  EXPECT_EQ(rte_ring_count(w.b_tx), 1u);          // the RST only, not the write
  for (rte_ring* ring : {w.a_tx, w.b_tx}) {
    while (rte_ring_dequeue(ring, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  }
  EXPECT_EQ(rte_mempool_avail_count(pool_), pool_free);
}

TEST_F(WorkerTest, AllowedOperationsAreEventsOnlyWhenAskedFor) {
  RingWire w("allowev", 1024);
  Start(w);
  Inspecting(ReadsOnly());
  const auto read = PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
                        .Tcp(50001, 502, 1000, testing::kTcpAck | testing::kTcpPsh)
                        .Payload(testing::ModbusAdu(1, 1, 3, {0, 10, 0, 2})).Build();
  ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(read)), 0);
  Drain();
  EventRecord e;
  EXPECT_EQ(events_.PopBatch(&e, 1), 0u);  // default: an allow is counted, not evented
  ctx_.report_allowed = true;
  // The next request of the stream: new bytes, judged again.
  const auto again = PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
                         .Tcp(50001, 502, 1000 + uint32_t(read.size() - 54),
                              testing::kTcpAck | testing::kTcpPsh)
                         .Payload(testing::ModbusAdu(2, 1, 3, {0, 10, 0, 2})).Build();
  ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(again)), 0);
  Drain();
  ASSERT_EQ(events_.PopBatch(&e, 1), 1u);
  EXPECT_EQ(e.verdict, EventVerdict::kAllow);
  EXPECT_EQ(e.op.function, 3);
  void* obj = nullptr;
  while (rte_ring_dequeue(w.b_tx, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
}

TEST_F(WorkerTest, WhatTheTxQueueRefusesIsFreedAndCounted) {
  RingWire w("full", 64);  // room for 63 frames on each TX ring
  Start(w);
  Inspecting(AllowAll());
  const unsigned pool_free = rte_mempool_avail_count(pool_);
  const auto frames = MixedFrames(200);
  for (const auto& f : frames) ASSERT_EQ(rte_ring_enqueue(w.a_rx, Mbuf(f)), 0);
  Drain();
  CounterSnapshot c;
  c.Accumulate(ctx_.counters);
  EXPECT_EQ(c[WorkerCounter::rx_packets], 200u);
  EXPECT_EQ(c[WorkerCounter::tx_packets], rte_ring_count(w.b_tx));
  EXPECT_EQ(c[WorkerCounter::tx_packets], 63u);
  EXPECT_EQ(c[DropReason::tx_full], 137u);
  EXPECT_EQ(c[WorkerCounter::rx_packets],
            c[WorkerCounter::tx_packets] + c[WorkerCounter::dropped_packets]);
  void* obj = nullptr;
  while (rte_ring_dequeue(w.b_tx, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
  EXPECT_EQ(rte_mempool_avail_count(pool_), pool_free);
}

}  // namespace
}  // namespace conduit

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new conduit::testing::EalEnvironment("conduit_worker_test"));
  return RUN_ALL_TESTS();
}
