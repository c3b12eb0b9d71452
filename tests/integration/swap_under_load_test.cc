// Policy swaps under traffic, end to end on a real EAL: a Dataplane worker
// on lcore 1 forwards Modbus writes between two net_ring ports while the
// PolicyManager publishes 1,000 snapshots into it, alternating between
//   P_allow   "allow-<k>":   the write is allowed (as an alert, so that
//                            every verdict leaves an event), and
//   P_monitor "monitor-<k>": the write is denied in monitor mode: forwarded
//                            with a would-block event.
// Each packet is its own TCP flow (source port = 1024 + packet id), so each
// is judged afresh by whatever policy its burst loaded.
//
// What must hold, and what would break it:
// - every packet comes out exactly once (a swap loses or duplicates none);
// - every packet has exactly one event, and the event's verdict is what the
//   policy of its epoch says (a worker mixing one policy's tables with
//   another's epoch, or reloading the pointer mid-burst, breaks this);
// - the event was judged (its timestamp, converted back to the TSC) while
//   its epoch was active: after Push(k) was called and before Push(k+1)
//   returned; and its packet was sent by port B between those two points
//   (counted on the TX ring's producer tail). A Publish that returned
//   before its grace period lets a burst judged by the old policy leave
//   after the swap was acknowledged, which breaks this;
// - all events of one burst (same timestamp) carry one epoch;
// - after Push returns, a fresh packet is judged by the new epoch.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "events/event_ring.h"
#include "gateway/policy_manager.h"
#include "packet/packet_builder.h"
#include "policy/policy_yaml.h"
#include "runtime/dataplane.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;
using testing::PacketBuilder;

constexpr int kPushes = 1000;
constexpr int kPacketsPerPush = 40;  // the generator keeps pace with the pushes
constexpr int kPackets = kPushes * kPacketsPerPush;
constexpr int kBatch = 8;  // packets enqueued at once: bursts hold several
constexpr uint16_t kFirstSport = 1024;
constexpr int kFreshChecks = 6;

std::string PolicyYaml(bool monitor, int k) {
  std::string yaml = std::string("version: \"") + (monitor ? "monitor-" : "allow-") +
                     std::to_string(k) + "\"\nmode: " + (monitor ? "monitor" : "enforce") + R"(
zones:
  corporate: [198.18.0.0/25]
  plant: [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: deny
    on_deny: reset
)";
  if (!monitor) {
    yaml += R"(    rules:
      - id: eng-write
        protocol: modbus
        from: [198.18.0.10/32]
        to: [198.18.0.200/32]
        functions: [write_single_register]
        action: alert
)";
  }
  return yaml;
}

v1::PolicySnapshot Policy(bool monitor, int k) {
  auto p = policy::LoadPolicyYaml(PolicyYaml(monitor, k));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : v1::PolicySnapshot();
}

std::vector<uint8_t> WriteRequest(int id) {
  return PacketBuilder().Eth().Ipv4("198.18.0.10", "198.18.0.200")
      .Tcp(static_cast<uint16_t>(kFirstSport + id), 502, 1000, testing::kTcpAck | testing::kTcpPsh)
      .Payload(testing::ModbusAdu(static_cast<uint16_t>(id), 1, 6, {0, 100, 0x12, 0x34}))
      .Build();
}

struct PushRecord {
  bool monitor = false;
  uint32_t epoch = 0;
  uint64_t call_tsc = 0;    // before Push
  uint64_t return_tsc = 0;  // after Push returned
  uint32_t sent_before = 0;  // packets port B had sent before Push ...
  uint32_t sent_after = 0;   // ... and once it returned
};

struct PacketRecord {
  uint64_t inject_tsc = 0;  // before it was enqueued on port A's RX ring
  uint64_t exit_tsc = 0;    // after it was dequeued from port B's TX ring
  uint32_t exit_seq = 0;    // its place in port B's output
  int exits = 0;
};

class SwapUnderLoadTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    // The EAL leaves its runtime directory behind; one per run would pile up.
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  }

  void SetUp() override {
    // DPDK names are process-wide and outlive a test: one set per test.
    const std::string n = std::to_string(instance_++);
    pool_ = rte_pktmbuf_pool_create(("swap_pool" + n).c_str(), 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
    const unsigned f = RING_F_SP_ENQ | RING_F_SC_DEQ;
    a_rx_ = rte_ring_create(("swap_arx" + n).c_str(), 1024, SOCKET_ID_ANY, f);
    a_tx_ = rte_ring_create(("swap_atx" + n).c_str(), 1024, SOCKET_ID_ANY, f);
    b_rx_ = rte_ring_create(("swap_brx" + n).c_str(), 1024, SOCKET_ID_ANY, f);
    b_tx_ = rte_ring_create(("swap_btx" + n).c_str(), 65536, SOCKET_ID_ANY, f);
    ASSERT_TRUE(a_rx_ && a_tx_ && b_rx_ && b_tx_);
    ASSERT_GE(rte_eth_from_rings(("swapa" + n).c_str(), &a_rx_, 1, &a_tx_, 1, SOCKET_ID_ANY), 0);
    ASSERT_GE(rte_eth_from_rings(("swapb" + n).c_str(), &b_rx_, 1, &b_tx_, 1, SOCKET_ID_ANY), 0);

    DataplaneSpec spec;
    spec.worker_lcores = {1};
    spec.wires = {WireSpec{"corp-plant", "swapa" + n, "swapb" + n}};
    spec.mbufs = 2047;
    spec.mbuf_cache = 0;
    spec.flow_capacity = 1 << 17;  // every packet is a new flow: no eviction
    auto dp = Dataplane::Create(spec);
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = std::move(*dp);
    ring_ = dp_->event_rings()[0];
    pm_ = std::make_unique<PolicyManager>(
        PolicyManager::Options{1, 1, ""},
        [this](std::unique_ptr<const policy::CompiledPolicy> next) {
          return dp_->Publish(std::move(next));
        });
    ASSERT_TRUE(dp_->Launch().ok());
  }

  void TearDown() override {
    pm_.reset();
    dp_.reset();  // stops the worker, then the ports
    void* obj;
    for (rte_ring* r : {a_rx_, a_tx_, b_rx_, b_tx_}) {
      while (r != nullptr && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    }
  }

  // Enqueues packets [first, first + n) on port A's RX ring.
  void Inject(int first, int n) {
    rte_mbuf* batch[kBatch];
    for (int i = 0; i < n; ++i) {
      const std::vector<uint8_t> frame = WriteRequest(first + i);
      rte_mbuf* m;
      while ((m = rte_pktmbuf_alloc(pool_)) == nullptr) std::this_thread::yield();
      std::memcpy(rte_pktmbuf_append(m, frame.size()), frame.data(), frame.size());
      batch[i] = m;
    }
    const uint64_t now = rte_rdtsc();
    for (int i = 0; i < n; ++i) packets_[first + i].inject_tsc = now;
    while (rte_ring_enqueue_bulk(a_rx_, reinterpret_cast<void**>(batch), n, nullptr) == 0) {
      std::this_thread::yield();
    }
  }

  // Takes what port B sent and what the worker reported; returns how many
  // packets came out.
  int CollectOnce() {
    void* objs[64];
    const unsigned n = rte_ring_dequeue_burst(b_tx_, objs, 64, nullptr);
    const uint64_t now = rte_rdtsc();
    int ours = 0;
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = static_cast<rte_mbuf*>(objs[i]);
      const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
      const int id = ((p[34] << 8) | p[35]) - kFirstSport;  // TCP source port
      if (id >= 0 && id < static_cast<int>(packets_.size())) {
        packets_[id].exit_tsc = now;
        packets_[id].exit_seq = sent_seen_;
        ++packets_[id].exits;
        ++ours;
      } else {
        ++strays_;
      }
      ++sent_seen_;
      rte_pktmbuf_free(m);
    }
    EventRecord ev[256];
    const size_t ne = ring_->PopBatch(ev, 256);
    events_.insert(events_.end(), ev, ev + ne);
    return ours;
  }

  // Collects until `expected` packets in all came out (or a generous bound).
  void CollectUntil(int expected, const std::atomic<bool>* generating = nullptr) {
    const uint64_t give_up = rte_rdtsc() + 60 * rte_get_tsc_hz();
    while ((generating != nullptr && generating->load()) || collected_ < expected) {
      const int n = CollectOnce();
      collected_ += n;
      // Every control thread shares lcore 0's CPU with this one: do not spin it.
      if (n == 0) std::this_thread::sleep_for(std::chrono::microseconds(20));
      if (rte_rdtsc() > give_up) break;
    }
    // Events are written before their burst is sent: take the stragglers.
    for (int n; (n = CollectOnce()) != 0 || ring_->size() != 0;) collected_ += n;
  }

  // How many packets the worker has put on port B's TX ring so far: the
  // ring's producer tail (port B sends nothing else in these tests).
  uint32_t SentByPortB() const { return __atomic_load_n(&b_tx_->prod.tail, __ATOMIC_ACQUIRE); }

  // The worker's judgement time of an event, back on the TSC.
  uint64_t JudgedTsc(const EventRecord& e) const {
    const WallClock& c = dp_->worker(0).clock;
    return c.tsc_base + static_cast<uint64_t>(static_cast<double>(e.ts_ns - c.ns_base) / c.ns_per_tsc);
  }

  const PushRecord& Pushed(bool monitor, int k) {
    PushRecord r;
    r.monitor = monitor;
    const v1::PolicySnapshot snapshot = Policy(monitor, k);
    r.sent_before = SentByPortB();
    r.call_tsc = rte_rdtsc();
    const PushOutcome out = pm_->Push(snapshot);
    r.return_tsc = rte_rdtsc();
    r.sent_after = SentByPortB();
    EXPECT_TRUE(out.accepted) << policy::FormatPolicyErrors(out.errors);
    r.epoch = pm_->Status().epoch;  // this thread alone pushes
    pushes_.push_back(r);
    by_epoch_[r.epoch] = pushes_.size() - 1;
    return pushes_.back();
  }

  static int instance_;
  rte_mempool* pool_ = nullptr;
  rte_ring *a_rx_ = nullptr, *a_tx_ = nullptr, *b_rx_ = nullptr, *b_tx_ = nullptr;
  std::unique_ptr<Dataplane> dp_;
  EventRing* ring_ = nullptr;
  std::unique_ptr<PolicyManager> pm_;

  std::vector<PacketRecord> packets_ = std::vector<PacketRecord>(kPackets + kFreshChecks);
  std::vector<EventRecord> events_;
  std::vector<PushRecord> pushes_;
  std::map<uint32_t, size_t> by_epoch_;
  int collected_ = 0;
  int strays_ = 0;
  uint32_t sent_seen_ = 0;  // packets dequeued from port B, in order
};
int SwapUnderLoadTest::instance_ = 0;

TEST_F(SwapUnderLoadTest, EveryPacketOnceJudgedByAnActivePolicy) {
  Pushed(false, 0);
  // Lockstep, loosely: push k waits until half of its share of packets is
  // in, and the generator may run at most one share ahead of the pushes,
  // so packets are in flight during every swap.
  std::atomic<int> pushes_done{0};
  std::atomic<int> injected{0};
  std::atomic<bool> generating{true};
  std::thread pusher([&] {
    for (int k = 1; k <= kPushes; ++k) {
      while (injected.load(std::memory_order_acquire) < (k - 1) * kPacketsPerPush + kPacketsPerPush / 2) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      Pushed(k % 2 == 1, k);
      pushes_done.store(k, std::memory_order_release);
    }
  });
  std::thread generator([&] {
    for (int next = 0; next < kPackets;) {
      if (next >= (pushes_done.load(std::memory_order_acquire) + 1) * kPacketsPerPush) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        continue;
      }
      const int n = std::min(kBatch, kPackets - next);
      Inject(next, n);
      next += n;
      injected.store(next, std::memory_order_release);
    }
    generating = false;
  });
  CollectUntil(kPackets, &generating);  // this thread: port B and the event ring
  pusher.join();
  generator.join();

  // Exactly once, nothing else, nothing back toward A.
  ASSERT_EQ(collected_, kPackets);
  EXPECT_EQ(strays_, 0);
  int missing = 0, duplicated = 0;
  for (int id = 0; id < kPackets; ++id) {
    missing += packets_[id].exits == 0;
    duplicated += packets_[id].exits > 1;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(rte_ring_count(a_tx_), 0u);
  const CounterSnapshot c = dp_->CountersPerWorker()[0];
  EXPECT_EQ(c[WorkerCounter::rx_packets], uint64_t(kPackets));
  EXPECT_EQ(c[WorkerCounter::tx_packets], uint64_t(kPackets));
  EXPECT_EQ(c[WorkerCounter::dropped_packets], 0u);
  EXPECT_EQ(c[WorkerCounter::inspected_packets], uint64_t(kPackets));
  EXPECT_EQ(ring_->dropped(), 0u) << "the event ring overflowed: verdicts cannot be checked";
  ASSERT_EQ(pushes_.size(), size_t(kPushes + 1));

  // Every packet: one event, consistent with a policy active while it was judged.
  std::vector<int> events_of(kPackets, 0);
  std::map<uint64_t, uint32_t> epoch_of_burst;
  int wrong_verdict = 0, outside_window = 0, outside_sent = 0, outside_packet = 0, mixed_burst = 0;
  int monitor_events = 0, allow_events = 0;
  for (const EventRecord& e : events_) {
    const int id = e.sport - kFirstSport;
    ASSERT_TRUE(id >= 0 && id < kPackets) << "event for sport " << e.sport;
    ++events_of[id];
    auto it = by_epoch_.find(e.policy_epoch);
    ASSERT_NE(it, by_epoch_.end()) << "event of epoch " << e.policy_epoch << " nobody pushed";
    const size_t k = it->second;
    const PushRecord& p = pushes_[k];
    const bool would_block = e.verdict == EventVerdict::kDeny && !e.enforced &&
                             e.mode == EventMode::kMonitor;
    const bool alert = e.verdict == EventVerdict::kAlert && e.mode == EventMode::kEnforce;
    if (p.monitor ? !would_block : !alert) ++wrong_verdict;
    (p.monitor ? monitor_events : allow_events)++;
    EXPECT_EQ(e.op.function, 6);
    const uint64_t judged = JudgedTsc(e);
    const uint64_t retired = k + 1 < pushes_.size() ? pushes_[k + 1].return_tsc : UINT64_MAX;
    if (judged < p.call_tsc || judged > retired) {
      if (++outside_window <= 5) {
        ADD_FAILURE() << "packet " << id << " judged by epoch " << e.policy_epoch << " at tsc "
                      << judged << ", outside [" << p.call_tsc << ", " << retired << "]";
      }
    }
    if (judged < packets_[id].inject_tsc || judged > packets_[id].exit_tsc) ++outside_packet;
    // The grace period's promise, counted in packets rather than time: all
    // that epoch k judged was sent before Push(k+1) returned, and none of
    // it before Push(k) was called.
    const uint32_t seq = packets_[id].exit_seq;
    const uint32_t sent_by_retire = k + 1 < pushes_.size() ? pushes_[k + 1].sent_after : UINT32_MAX;
    if (seq < p.sent_before || seq >= sent_by_retire) {
      if (++outside_sent <= 5) {
        ADD_FAILURE() << "packet " << id << " (output #" << seq << ") judged by epoch "
                      << e.policy_epoch << " but sent outside [" << p.sent_before << ", "
                      << sent_by_retire << ")";
      }
    }
    auto [b, inserted] = epoch_of_burst.emplace(e.ts_ns, e.policy_epoch);
    if (!inserted && b->second != e.policy_epoch) ++mixed_burst;
  }
  int without_event = 0, several_events = 0;
  for (int id = 0; id < kPackets; ++id) {
    without_event += events_of[id] == 0;
    several_events += events_of[id] > 1;
  }
  EXPECT_EQ(without_event, 0);
  EXPECT_EQ(several_events, 0);
  EXPECT_EQ(wrong_verdict, 0);
  EXPECT_EQ(outside_window, 0);
  EXPECT_EQ(outside_sent, 0);
  EXPECT_EQ(outside_packet, 0) << "TSC readings disagree between cores";
  EXPECT_EQ(mixed_burst, 0);
  // The run exercised both policies, and swaps happened under traffic.
  EXPECT_GT(monitor_events, kPackets / 10);
  EXPECT_GT(allow_events, kPackets / 10);
  std::map<uint32_t, int> epochs_seen;
  for (const EventRecord& e : events_) ++epochs_seen[e.policy_epoch];
  EXPECT_GT(epochs_seen.size(), size_t(kPushes / 2));
  std::printf("[ swap ] %d packets, %d pushes, %zu epochs seen in events, %zu bursts, "
              "%d monitor / %d alert events\n",
              kPackets, kPushes, epochs_seen.size(), epoch_of_burst.size(), monitor_events,
              allow_events);
}

TEST_F(SwapUnderLoadTest, AnAcknowledgedPushJudgesTheNextPacket) {
  packets_.assign(kFreshChecks, PacketRecord());
  for (int i = 0; i < kFreshChecks; ++i) {
    const bool monitor = i % 2 == 0;
    const PushRecord p = Pushed(monitor, 5000 + i);
    const size_t before = events_.size();
    Inject(i, 1);
    CollectUntil(i + 1);
    ASSERT_EQ(packets_[i].exits, 1);
    ASSERT_EQ(events_.size(), before + 1);
    const EventRecord& e = events_.back();
    EXPECT_EQ(e.sport, kFirstSport + i);
    EXPECT_EQ(e.policy_epoch, p.epoch) << "judged by an older policy after Push returned";
    EXPECT_EQ(e.verdict, monitor ? EventVerdict::kDeny : EventVerdict::kAlert);
    EXPECT_FALSE(e.enforced && monitor);
  }
}

}  // namespace
}  // namespace conduit

// The EAL comes up before any test: without a second CPU for the worker's
// lcore there is nothing to test, and meson hears "skipped" (77).
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "conduit_swap_" + std::to_string(getpid());
  std::vector<std::string> args = {"test", "--no-huge", "-m", "512", "--no-pci",
                                   "--file-prefix", prefix, "-l", "0,1", "--log-level=error"};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "skipped: the EAL did not start with lcores 0,1 (needs 2 CPUs)\n");
    return 77;
  }
  return RUN_ALL_TESTS();
}
