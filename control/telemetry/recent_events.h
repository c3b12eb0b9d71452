// The last blocked operations, for the status page: a thread reads its own
// EventDrain subscription (bounded; a slow page never slows the drain) and
// keeps the newest `capacity` deny events.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/event_drain.h"

namespace conduit::telemetry {

class RecentEvents {
 public:
  RecentEvents(EventDrain* drain, size_t capacity = 20);
  ~RecentEvents();  // stops the reader

  // Newest first.
  std::vector<std::string> Blocked() const;

 private:
  void Run();

  const size_t capacity_;
  std::shared_ptr<EventSubscription> subscription_;
  mutable std::mutex mu_;
  std::deque<std::string> blocked_;  // guarded by mu_, newest at the front
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

}  // namespace conduit::telemetry
