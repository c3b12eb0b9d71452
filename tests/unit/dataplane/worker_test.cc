// The real worker loop on real DPDK ports (net_ring vdevs over rte_rings):
// every packet in comes out of the peer port byte for byte, in order, and
// every mbuf leaves by exactly one exit.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "packet/packet_builder.h"
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
};
rte_mempool* WorkerTest::pool_ = nullptr;

std::vector<std::vector<uint8_t>> MixedFrames(int n) {
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < n; ++i) {
    switch (i % 6) {
      case 0: frames.push_back(PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
                                   .Tcp(50000, 502, i).Payload(testing::ModbusAdu(i, 1, 3, {0, 0, 0, 10})).Build()); break;
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
      void* obj;
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
  EXPECT_EQ(rte_mempool_avail_count(pool_), pool_free);  // no mbuf leaked
}

TEST_F(WorkerTest, WhatTheTxQueueRefusesIsFreedAndCounted) {
  RingWire w("full", 64);  // room for 63 frames on each TX ring
  Start(w);
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
  void* obj;
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
