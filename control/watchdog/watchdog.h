// Watches worker heartbeats from a control thread. A worker whose heartbeat
// has not moved for `stall` is stuck (a livelock, a bug, a hung PMD call):
// it forwards nothing, so the wire is down even though the process lives.
// The watchdog reports it once through `on_stall`; conduitd then exits so
// the supervisor applies the failure policy (fail-open bridges the wire).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace conduit {

class Watchdog {
 public:
  using HeartbeatFn = std::function<uint64_t(size_t worker)>;
  using StallFn = std::function<void(size_t worker, std::chrono::milliseconds age)>;

  Watchdog(size_t workers, HeartbeatFn heartbeat, StallFn on_stall,
           std::chrono::milliseconds stall, std::chrono::milliseconds period = std::chrono::milliseconds(50));
  ~Watchdog();

  void Start();
  void Stop();

  // How long ago each worker's heartbeat last moved (any thread).
  std::vector<std::chrono::microseconds> Ages() const;

 private:
  void Loop();

  const size_t workers_;
  HeartbeatFn heartbeat_;
  StallFn on_stall_;
  const std::chrono::milliseconds stall_;
  const std::chrono::milliseconds period_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<uint64_t> last_beat_;
  std::vector<std::chrono::steady_clock::time_point> last_change_;
  std::vector<bool> reported_;
  std::thread thread_;
};

}  // namespace conduit
