// Observation (dataplane/observe/): tuples recorded from real frames through
// JudgeBurst, the table's bounds, and the double buffer's hand-over.
#include <gtest/gtest.h>
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "inspect/inspector.h"
#include "observe/observe_policy.h"
#include "observe/observe_table.h"
#include "packet/packet_builder.h"
#include "policy/policy_builder.h"
#include "verdict/judge_burst.h"

namespace conduit::observe {
namespace {

using conduit::testing::ModbusAdu;
using conduit::testing::PacketBuilder;
using Frame = std::vector<uint8_t>;

std::array<uint8_t, 16> V4(const char* s) {
  std::array<uint8_t, 16> a{};
  a[10] = a[11] = 0xff;
  inet_pton(AF_INET, s, &a[12]);
  return a;
}

// Runs `frames` through JudgeBurst (bursts of `burst`) under `policy`,
// observing into `table` on wire 1.
void Judge(const policy::CompiledPolicy& policy, ObserveTable& table,
           const std::vector<Frame>& frames, Inspector& inspector, size_t burst = 32) {
  auto scratch = std::make_unique<BurstScratch>();
  MatchSet matches;
  for (size_t first = 0; first < frames.size(); first += burst) {
    const uint16_t n = uint16_t(std::min(burst, frames.size() - first));
    const uint64_t now = 1000 + first;
    JudgeContext ctx{policy, *policy.ConduitForWire(0), 0, now * 1000, 0, nullptr, &matches};
    ctx.observe = &table;
    ctx.wire = 1;
    const uint8_t* data[kMaxBurst];
    uint16_t lengths[kMaxBurst];
    for (uint16_t i = 0; i < n; ++i) {
      data[i] = frames[first + i].data();
      lengths[i] = uint16_t(frames[first + i].size());
    }
    JudgeBurst(ctx, inspector, data, lengths, n, now, *scratch);
  }
}

std::vector<ObservedTuple> All(const ObserveTable& t) {
  std::vector<ObservedTuple> out;
  t.ForEach([&](const TupleKey& k, const TupleStats& s) { out.push_back({k, s}); });
  return out;
}

Frame ModbusRequest(uint16_t sport, uint32_t seq, uint16_t tid, uint8_t fn,
                    const std::vector<uint8_t>& data, const char* client = "10.0.0.1") {
  return PacketBuilder().Eth().Ipv4(client, "10.0.0.2").Tcp(sport, 502, seq)
      .Payload(ModbusAdu(tid, 1, fn, data)).Build();
}

class ObserveTest : public ::testing::Test {
 protected:
  std::unique_ptr<const policy::CompiledPolicy> observe_only_ = ObserveOnlyPolicy();
  ics::ProtocolPorts ports_ = ics::ProtocolPorts::Defaults();
  Inspector inspector_{1024, ~0ull, &ports_};
};

TEST_F(ObserveTest, ModbusReadsAndWritesFromOneClientAreTuplesWithTheirRanges) {
  // Reads of 0-9, 12-20 (coalesced: 0-20) and 60000 (a range of its own),
  // one write of register 100, and a response to the first read.
  std::vector<Frame> frames = {
      ModbusRequest(40000, 1000, 1, 3, {0, 0, 0, 10}),
      PacketBuilder().Eth().Ipv4("10.0.0.2", "10.0.0.1").Tcp(502, 40000, 5000)
          .Payload(ModbusAdu(1, 1, 3, [] { std::vector<uint8_t> d(21, 0); d[0] = 20; return d; }())).Build(),
      ModbusRequest(40000, 1012, 2, 3, {0, 12, 0, 9}),
      ModbusRequest(40000, 1024, 3, 6, {0, 100, 0, 1}),
      ModbusRequest(40000, 1036, 4, 3, {0xEA, 0x60, 0, 1}),
  };
  ObserveTable table(64);
  Judge(*observe_only_, table, frames, inspector_);
  const auto tuples = All(table);
  std::map<std::pair<uint16_t, ics::Direction>, ObservedTuple> by;
  for (const auto& t : tuples) by[{t.key.function, t.key.direction}] = t;
  ASSERT_EQ(tuples.size(), 3u);  // read request, read response, write request
  ASSERT_EQ(table.overflow(), 0u);

  const ObservedTuple& read = by.at({3, ics::Direction::kRequest});
  EXPECT_EQ(read.key.client, V4("10.0.0.1"));
  EXPECT_EQ(read.key.server, V4("10.0.0.2"));
  EXPECT_EQ(read.key.protocol, ics::Protocol::kModbus);
  EXPECT_EQ(read.key.kind, ics::OpKind::kModbus);
  EXPECT_EQ(read.key.server_port, 502);
  EXPECT_EQ(read.key.l4_proto, 6);
  EXPECT_EQ(read.key.wire, 1);
  EXPECT_EQ(read.key.has_unit, 1);
  EXPECT_EQ(read.key.unit, 1u);
  EXPECT_EQ(read.stats.count, 3u);
  EXPECT_EQ(read.stats.first_seen_ns, 1000u * 1000);
  ASSERT_EQ(read.stats.range_count, 2);
  EXPECT_EQ(read.stats.ranges[0].lo, 0u);
  EXPECT_EQ(read.stats.ranges[0].hi, 20u);
  EXPECT_EQ(read.stats.ranges[1].lo, 60000u);
  EXPECT_EQ(read.stats.ranges[1].hi, 60000u);

  const ObservedTuple& write = by.at({6, ics::Direction::kRequest});
  EXPECT_EQ(write.key.client, V4("10.0.0.1"));
  EXPECT_EQ(write.stats.count, 1u);
  ASSERT_EQ(write.stats.range_count, 1);
  EXPECT_EQ(write.stats.ranges[0].lo, 100u);
  EXPECT_EQ(write.stats.ranges[0].hi, 100u);

  // The response: same client (the initiator) and server, direction response.
  const ObservedTuple& response = by.at({3, ics::Direction::kResponse});
  EXPECT_EQ(response.key.client, V4("10.0.0.1"));
  EXPECT_EQ(response.key.server, V4("10.0.0.2"));
  EXPECT_EQ(response.key.server_port, 502);
  EXPECT_EQ(response.stats.count, 1u);
}

TEST_F(ObserveTest, NonIcsTrafficIsOneTuplePerClientServerProtocolAndPort) {
  const std::vector<Frame> frames = {
      PacketBuilder().Eth().Ipv4("10.0.0.1", "10.0.0.3").Tcp(40001, 80, 1, 0x02).Build(),  // SYN
      PacketBuilder().Eth().Ipv4("10.0.0.3", "10.0.0.1").Tcp(80, 40001, 9, 0x12).Build(),  // SYN-ACK
      PacketBuilder().Eth().Ipv4("10.0.0.1", "10.0.0.3").Tcp(40001, 80, 2).Payload({'G', 'E', 'T'}).Build(),
      PacketBuilder().Eth().Ipv4("10.0.0.1", "10.0.0.3").Udp(5353, 53).Payload({1, 2}).Build(),
      PacketBuilder().Eth().Ipv4("10.0.0.1", "10.0.0.3").Icmp().Build(),
      PacketBuilder().Eth().Arp().Build(),  // not IP: by its ethertype
  };
  ObserveTable table(64);
  Judge(*observe_only_, table, frames, inspector_);
  std::map<uint8_t, ObservedTuple> by_proto;
  for (const auto& t : All(table)) by_proto[t.key.l4_proto] = t;
  ASSERT_EQ(by_proto.size(), 4u);
  // ARP: ip_version 0, no addresses, the ethertype where a port would be.
  const ObservedTuple& arp = by_proto.at(0);
  EXPECT_EQ(arp.key.ip_version, 0);
  EXPECT_EQ(arp.key.server_port, 0x0806);
  EXPECT_EQ(arp.key.client, (std::array<uint8_t, 16>{}));
  EXPECT_EQ(arp.stats.count, 1u);
  const ObservedTuple& tcp = by_proto.at(6);
  EXPECT_FALSE(tcp.key.is_ics());
  EXPECT_EQ(tcp.key.kind, ics::OpKind::kNone);
  EXPECT_EQ(tcp.key.client, V4("10.0.0.1"));
  EXPECT_EQ(tcp.key.server, V4("10.0.0.3"));
  EXPECT_EQ(tcp.key.server_port, 80);
  EXPECT_EQ(tcp.key.function, 0);
  EXPECT_EQ(tcp.stats.count, 3u);  // both directions of the flow
  EXPECT_EQ(tcp.stats.range_count, 0);
  EXPECT_EQ(by_proto.at(17).key.server_port, 53);
  EXPECT_EQ(by_proto.at(1).key.server_port, 0);  // no ports
  EXPECT_EQ(by_proto.at(1).key.client, V4("10.0.0.1"));
}

TEST_F(ObserveTest, PacketsTheNormalizerDropsAreNotObserved) {
  policy::PolicyBuilder b("allow-all", policy::Mode::kEnforce);
  policy::ConduitPolicy c;
  c.name = "test";
  c.default_action = c.non_ics = c.unparsable = policy::Action::kAllow;
  b.AddConduit(c);
  const auto enforce = b.Build();
  // TCP data without ACK: every stack discards it, the normalizer drops it.
  Frame no_ack = PacketBuilder().Eth().Ipv4("10.0.0.1", "10.0.0.2").Tcp(40000, 502, 1000, 0x08)
                     .Payload(ModbusAdu(1, 1, 6, {0, 1, 0, 1})).Build();
  ObserveTable table(64);
  Judge(*enforce, table, {no_ack, ModbusRequest(40000, 1000, 2, 3, {0, 0, 0, 1})}, inspector_);
  const auto tuples = All(table);
  ASSERT_EQ(tuples.size(), 1u);
  EXPECT_EQ(tuples[0].key.function, 3);
}

TEST_F(ObserveTest, ANewTupleWithNoRoomIsCountedAsOverflowAndOldOnesStillCount) {
  ObserveTable table(4);
  std::vector<Frame> frames;
  for (int i = 0; i < 10; ++i) {
    frames.push_back(PacketBuilder().Eth().Ipv4("10.0.0.1", "10.0.0.3").Udp(5000, uint16_t(100 + i))
                         .Payload({1}).Build());
  }
  frames.push_back(frames[0]);  // the first tuple again
  Judge(*observe_only_, table, frames, inspector_);
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.overflow(), 6u);
  std::map<uint16_t, uint64_t> counts;
  for (const auto& t : All(table)) counts[t.key.server_port] = t.stats.count;
  EXPECT_EQ(counts, (std::map<uint16_t, uint64_t>{{100, 2}, {101, 1}, {102, 1}, {103, 1}}));
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.overflow(), 6u);  // counted for good
  EXPECT_NE(table.Touch(TupleKey{}, 1), nullptr);
}

TEST(ObserveTableTest, ManyTuplesAllFoundAgain) {
  // Room for twice the tuples (a quarter of the buckets used): with the
  // table's random seed, a full table at half load can meet a probe run
  // longer than kMaxProbe by chance (counted overflow, by design), which
  // this test is not about.
  ObserveTable table(32768);
  for (int round = 0; round < 2; ++round) {
    for (uint32_t i = 0; i < 16384; ++i) {
      TupleKey k;
      k.unit = i;
      k.server_port = uint16_t(i * 7);
      ASSERT_NE(table.Touch(k, 10 + round), nullptr) << i;
    }
  }
  EXPECT_EQ(table.size(), 16384u);
  EXPECT_EQ(table.overflow(), 0u);
  table.ForEach([](const TupleKey&, const TupleStats& s) {
    EXPECT_EQ(s.count, 2u);
    EXPECT_EQ(s.first_seen_ns, 10u);
    EXPECT_EQ(s.last_seen_ns, 11u);
  });
}

TEST(ObserveTableTest, RangesCoalesceAndStayBounded) {
  TupleStats s;
  AddRange(s, {0, 9});
  AddRange(s, {12, 20});  // within the gap: one range
  ASSERT_EQ(s.range_count, 1);
  EXPECT_EQ(s.ranges[0].hi, 20u);
  for (uint32_t a : {1000u, 2000u, 3000u, 4000u, 4010u}) AddRange(s, {a, a});
  ASSERT_EQ(s.range_count, kMaxRanges);
  EXPECT_EQ(s.ranges[0].lo, 0u);
  EXPECT_EQ(s.ranges[kMaxRanges - 1].hi, 4010u);
}

// What AddRange's shortcut for a repeated range rests on, over random
// inserts: ranges stay sorted, bounded and never within the gap of each
// other, every address added stays covered, and a range inside a kept one
// changes nothing.
TEST(ObserveTableTest, RangesStayApartCoverWhatWasAddedAndIgnoreRepeats) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    TupleStats s;
    std::vector<AddressRange> added;
    for (int k = 0; k < 12; ++k) {
      const uint32_t lo = rng() % 400, hi = lo + rng() % 12;
      AddRange(s, {lo, hi});
      added.push_back({lo, hi});
      ASSERT_LE(s.range_count, kMaxRanges);
      for (int i = 0; i + 1 < s.range_count; ++i) {
        ASSERT_GT(uint64_t(s.ranges[i + 1].lo), uint64_t(s.ranges[i].hi) + kAddressCoalesceGap)
            << "round " << round << ": ranges " << i << " and " << i + 1 << " are within the gap";
      }
      for (const AddressRange& a : added) {
        bool covered = false;
        for (int i = 0; i < s.range_count; ++i) covered |= s.ranges[i].lo <= a.lo && a.hi <= s.ranges[i].hi;
        ASSERT_TRUE(covered) << "round " << round << ": " << a.lo << "-" << a.hi << " lost";
      }
      const TupleStats before = s;
      const AddressRange kept = s.ranges[rng() % s.range_count];
      const uint32_t from = kept.lo + rng() % (kept.hi - kept.lo + 1);
      AddRange(s, {from, from + rng() % (kept.hi - from + 1)});
      ASSERT_EQ(s.range_count, before.range_count);
      for (int i = 0; i < s.range_count; ++i) {
        ASSERT_EQ(s.ranges[i].lo, before.ranges[i].lo);
        ASSERT_EQ(s.ranges[i].hi, before.ranges[i].hi);
      }
    }
  }
}

TupleKey KeyN(uint32_t n) {
  TupleKey k;
  k.unit = n;
  return k;
}

TEST(ObserveBuffersTest, DrainSwapsAndReturnsEverythingOnce) {
  ObserveBuffers buffers(64);
  ObserveTable* first = buffers.Active();
  first->Touch(KeyN(1), 1);
  first->Touch(KeyN(2), 1);
  std::map<uint32_t, uint64_t> got;
  auto collect = [&](const TupleKey& k, const TupleStats& s) { got[k.unit] += s.count; };
  // The worker does not run: Drain swaps itself.
  EXPECT_EQ(buffers.Drain(collect, std::chrono::milliseconds(1), /*worker_stopped=*/true),
            ObserveBuffers::DrainResult::kDrained);
  EXPECT_EQ(got, (std::map<uint32_t, uint64_t>{{1, 1}, {2, 1}}));
  EXPECT_NE(buffers.Active(), first);
  buffers.Active()->Touch(KeyN(3), 2);
  got.clear();
  EXPECT_EQ(buffers.Drain(collect, std::chrono::milliseconds(1), true),
            ObserveBuffers::DrainResult::kDrained);
  EXPECT_EQ(got, (std::map<uint32_t, uint64_t>{{3, 1}}));  // 1 and 2 were cleared
  got.clear();
  EXPECT_EQ(buffers.Drain(collect, std::chrono::milliseconds(1), true),
            ObserveBuffers::DrainResult::kDrained);
  EXPECT_TRUE(got.empty());
}

TEST(ObserveBuffersTest, AWorkerThatDoesNotAnswerIsNotNowAndItsTuplesWait) {
  ObserveBuffers buffers(64);
  buffers.Active()->Touch(KeyN(7), 1);
  int calls = 0;
  auto count = [&](const TupleKey&, const TupleStats&) { ++calls; };
  // A running worker that has not reached a burst boundary.
  EXPECT_EQ(buffers.Drain(count, std::chrono::milliseconds(2)), ObserveBuffers::DrainResult::kNotNow);
  EXPECT_EQ(calls, 0);
  buffers.Active()->Touch(KeyN(7), 2);  // it goes on recording into its table
  buffers.ServiceSwapOnWorker();        // ... and answers at last
  buffers.ServiceSwapOnWorker();        // (no new request: nothing happens)
  EXPECT_EQ(buffers.Drain(count, std::chrono::milliseconds(2)), ObserveBuffers::DrainResult::kDrained);
  EXPECT_EQ(calls, 1);
}

// A worker thread records while control drains: every sighting is
// reported exactly once.
TEST(ObserveBuffersTest, ConcurrentDrainsLoseAndRepeatNothing) {
  ObserveBuffers buffers(1024);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> recorded{0};
  std::thread worker([&] {
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      buffers.ServiceSwapOnWorker();
      for (int i = 0; i < 32; ++i, ++n) buffers.Active()->Touch(KeyN(uint32_t(n % 500)), n);
    }
    recorded.store(n);
  });
  uint64_t seen = 0;
  auto sum = [&](const TupleKey&, const TupleStats& s) { seen += s.count; };
  int drained = 0;
  for (int i = 0; i < 200; ++i) {
    drained += buffers.Drain(sum, std::chrono::seconds(5)) == ObserveBuffers::DrainResult::kDrained;
  }
  stop.store(true);
  worker.join();
  buffers.Drain(sum, std::chrono::milliseconds(1), /*worker_stopped=*/true);
  buffers.Drain(sum, std::chrono::milliseconds(1), /*worker_stopped=*/true);
  EXPECT_EQ(drained, 200);
  EXPECT_EQ(seen, recorded.load());
  EXPECT_EQ(buffers.overflow(), 0u);
}

}  // namespace
}  // namespace conduit::observe
