// Per-lcore state, owned by that lcore alone (l3fwd's lcore_conf).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "bypass/overload.h"
#include "classify/signatures.h"
#include "events/event_ring.h"
#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "observe/observe_table.h"
#include "parse/packet_meta.h"
#include "policy/compiled_policy.h"
#include "stats/counters.h"
#include "verdict/judge_burst.h"

struct rte_mempool;
struct rte_rcu_qsbr;

namespace conduit {

inline constexpr int kMaxPathsPerWorker = 16;  // 8 wires, both directions

// One direction of one wire as a worker sees it: its RX queue on one port,
// its TX queue (same index) on the peer port.
struct ForwardPath {
  uint16_t rx_port = 0;
  uint16_t tx_port = 0;
  uint16_t queue = 0;
  uint16_t wire = 0;  // the policy's `wire:` index
};

// Converts the TSC read once per burst into wall-clock time for events.
struct WallClock {
  uint64_t tsc_base = 0;
  uint64_t ns_base = 0;
  double ns_per_tsc = 0;
  uint64_t Now(uint64_t tsc) const {
    return ns_base + static_cast<uint64_t>(static_cast<double>(tsc - tsc_base) * ns_per_tsc);
  }
};

struct alignas(64) WorkerContext {
  // Set once at start-up by the control thread, read-only after.
  unsigned lcore = 0;
  uint16_t burst = 32;
  uint16_t path_count = 0;
  std::array<ForwardPath, kMaxPathsPerWorker> paths{};
  uint16_t index = 0;              // worker number: this worker's Hyperscan scratch
  const std::atomic<bool>* stop = nullptr;
  Inspector* inspector = nullptr;  // this worker's flow table and decoders
  // The active policy: acquire-loaded once per burst, so a burst sees
  // exactly one policy. Null: no policy, forward everything uninspected.
  const std::atomic<const policy::CompiledPolicy*>* policy = nullptr;
  // A shadow candidate judged beside it (push --shadow), loaded the same
  // way; null: none. It never decides what happens to a packet.
  const std::atomic<const policy::CompiledPolicy*>* shadow = nullptr;
  EventRing* events = nullptr;     // this worker's event ring (single producer)
  rte_mempool* reset_pool = nullptr;  // mbufs for TCP resets
  rte_rcu_qsbr* qsbr = nullptr;    // reports quiescent states (null: not running under RCU)
  WallClock clock;
  OverloadGuard overload;          // this worker's overload hysteresis
  bool report_allowed = false;     // events for allowed operations too (events.allowed)
  // Observation: this worker's two tuple tables (observe/observe_table.h;
  // null: nothing observed). The worker records into Active() and swaps at
  // PollOnce when control asks; control drains the other one.
  std::unique_ptr<observe::ObserveBuffers> observe;
  // Judges the bursts that no policy covers (no policy, no conduit on the
  // wire, or a bypass conduit) so they are still observed: monitor mode,
  // everything allowed, no events, every packet forwarded as it came.
  // Null: such bursts are forwarded uninspected. Owned by the Dataplane.
  const policy::CompiledPolicy* observe_policy = nullptr;
  // Test-only: set by a control thread to make this worker stop looping (a
  // stalled worker for the watchdog to find). Never set in production.
  std::atomic<bool>* stall_for_test = nullptr;

  // Written by the worker, read by control (watchdog, stats).
  alignas(64) std::atomic<uint64_t> heartbeat{0};
  WorkerCounters counters;

  // Scratch for one burst; never read outside PollOnce().
  BurstScratch burst_scratch;
  MatchSet matches;
};

}  // namespace conduit
