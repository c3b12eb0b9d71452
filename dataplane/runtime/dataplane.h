// The running dataplane: its wires, ports and one worker per lcore.
//
// Control thread only. Create() attaches and starts every port; Launch()
// starts the workers on their lcores; Stop() asks them to finish and waits.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "events/event_ring.h"
#include "ics/ports.h"
#include "policy/compiled_policy.h"
#include "inspect/inspector.h"
#include "bypass/overload.h"
#include "observe/observe_table.h"
#include "port/wire.h"
#include "stats/counters.h"
#include "worker/worker_context.h"

struct rte_rcu_qsbr;

namespace conduit {

struct DataplaneSpec {
  std::vector<unsigned> worker_lcores;
  std::vector<WireSpec> wires;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t burst = 32;
  uint32_t mbufs = 8191;
  uint32_t mbuf_cache = 256;
  uint32_t flow_capacity = 65536;     // per worker
  uint32_t flow_idle_timeout_s = 300;
  uint32_t event_ring_size = 16384;   // per worker; a full ring drops events, never packets
  OverloadSettings overload;
  bool report_allowed = false;        // events for allowed operations too
  // Observation: tuples per worker and table (two tables a worker; see
  // observe/observe_table.h). 0: no observation, and bursts no policy
  // covers are forwarded uninspected.
  uint32_t observe_capacity = observe::kDefaultObserveCapacity;
};

class Dataplane {
 public:
  // Errors name the spec field at fault ("wires[0].a: ...", "workers[1]: ...").
  static absl::StatusOr<std::unique_ptr<Dataplane>> Create(const DataplaneSpec& spec);
  ~Dataplane();

  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Starts each worker on its lcore.
  absl::Status Launch();
  // Asks the workers to stop and waits for them. Idempotent.
  void Stop();

  const std::vector<Wire>& wires() const { return wires_; }
  size_t worker_count() const { return workers_.size(); }
  const WorkerContext& worker(size_t i) const { return *workers_[i]; }
  // For tests that drive PollOnce() from their own thread instead of Launch().
  WorkerContext& MutableWorkerForTest(size_t i) { return *workers_[i]; }

  std::vector<CounterSnapshot> CountersPerWorker() const;

  // Publishes `next` (release store), waits for a grace period in which every
  // running worker passes a quiescent state (so none still reads the old
  // policy), and returns the old policy for the caller to free. Null: no
  // policy (forward everything uninspected). Control thread; blocks for about
  // one worker loop iteration, never on a gRPC callback thread.
  std::unique_ptr<const policy::CompiledPolicy> Publish(
      std::unique_ptr<const policy::CompiledPolicy> next);
  const policy::CompiledPolicy* active_policy() const { return active_.get(); }
  // The same for a shadow candidate (null: none): judged beside the active
  // policy, counted and evented, never enforced.
  std::unique_ptr<const policy::CompiledPolicy> PublishShadow(
      std::unique_ptr<const policy::CompiledPolicy> next);

  // A worker's loop counter (read by the watchdog; any thread).
  uint64_t heartbeat(size_t i) const { return workers_[i]->heartbeat.load(std::memory_order_relaxed); }
  bool worker_overloaded(size_t i) const { return workers_[i]->overload.bypassing(); }
  // Test-only hook: worker `i` stops looping (no heartbeat, no packets).
  void StallWorkerForTest(size_t i) { stall_for_test_.store(true); (void)i; }

  // The event rings the control side drains (one per worker).
  std::vector<EventRing*> event_rings() const;

  // Collects every worker's observed tuples since the last call, each once,
  // through `callback` (the same tuple may come from several workers: merge
  // with observe::MergeStats). A running worker swaps its tables at its
  // next poll; one that does not answer within `timeout` (stalled) keeps
  // its tuples for a later call. Workers not launched (or stopped) are
  // drained directly: a test driving PollOnce() itself must not call this
  // at the same time. Returns how many workers were drained. Control
  // thread, one caller at a time; never on the hot path.
  size_t DrainObservations(const observe::ObserveBuffers::Callback& callback,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(100));

 private:
  Dataplane() = default;

  std::vector<Wire> wires_;
  std::vector<uint16_t> started_ports_;
  std::vector<std::unique_ptr<WorkerContext>> workers_;
  std::vector<std::unique_ptr<Inspector>> inspectors_;
  std::unique_ptr<ics::ProtocolPorts> ports_;
  std::vector<std::unique_ptr<EventRing>> rings_;
  std::atomic<const policy::CompiledPolicy*> policy_{nullptr};
  std::atomic<const policy::CompiledPolicy*> shadow_{nullptr};
  std::unique_ptr<const policy::CompiledPolicy> active_shadow_;
  std::unique_ptr<const policy::CompiledPolicy> active_;
  // Judges what no policy covers, for observation (observe/observe_policy.h).
  std::unique_ptr<const policy::CompiledPolicy> observe_policy_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stall_for_test_{false};
  bool launched_ = false;
};

}  // namespace conduit
