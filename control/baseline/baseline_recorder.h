// Keeps the baseline store current: every `interval` it drains the workers'
// observation tables, merges them into the store (BaselineStore::Merge),
// prunes what retention says is too old, and reports each tuple that is new
// on a wire whose baseline was accepted as an `"event":"new_behaviour"`.
// A thread of the control plane; the hot path only fills its own tables.
//
// Thread safety: Start/Stop from the owner. Flush, Load, Summary and Accept
// from any thread (one mutex: they are rare and short next to a flush).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "baseline/baseline_store.h"
#include "events/event_ring.h"

namespace conduit::baseline {

class BaselineRecorder {
 public:
  // Collects every worker's tuples through `callback` (Dataplane::DrainObservations).
  using Callback = std::function<void(const observe::TupleKey&, const observe::TupleStats&)>;
  using DrainFn = std::function<void(const Callback&)>;
  // The active policy's conduit index for a wire, if a conduit covers it.
  using ConduitOfWire = std::function<std::optional<uint16_t>(uint32_t wire)>;

  struct Options {
    std::chrono::milliseconds interval{10000};
    uint64_t retention_ns = 90ull * 86400 * 1000000000;
    uint64_t stable_after_ns = 7ull * 86400 * 1000000000;
    uint32_t wires = 1;  // the daemon's wires (their accepted marks are read at Start)
  };

  // `events` receives new_behaviour records (this thread is its only
  // producer); it may be null.
  BaselineRecorder(std::unique_ptr<BaselineStore> store, DrainFn drain, ConduitOfWire conduit_of,
                   EventRing* events, Options options);
  ~BaselineRecorder();  // Stop()s

  void Start();
  // Stops the thread after one last flush (nothing drained is lost).
  void Stop();

  // Drains, merges and reports now. Returns the number of new tuples.
  absl::StatusOr<size_t> Flush();

  absl::StatusOr<std::vector<ObservedTuple>> Load(std::optional<uint32_t> wire, uint64_t since_ns);
  absl::StatusOr<WireSummary> Summary(uint32_t wire);
  // Accepts `wire`'s baseline as it stands after a flush: from now on, a
  // tuple not in it is new behaviour.
  absl::Status Accept(uint32_t wire);

  const Options& options() const { return options_; }
  uint64_t merge_failures() const { return merge_failures_.load(std::memory_order_relaxed); }

 private:
  absl::StatusOr<size_t> FlushLocked();
  void Report(const std::vector<ObservedTuple>& fresh);
  void Run();

  std::mutex mu_;
  std::unique_ptr<BaselineStore> store_;  // guarded by mu_
  std::vector<bool> accepted_;            // per wire, mirrors the store; guarded by mu_
  DrainFn drain_;
  ConduitOfWire conduit_of_;
  EventRing* events_;
  Options options_;

  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by wake_mu_
  std::thread thread_;
  std::atomic<uint64_t> merge_failures_{0};
};

// Wall clock, ns since the epoch (tuples' first/last seen are on it).
uint64_t WallClockNs();

}  // namespace conduit::baseline
