#include "watchdog/watchdog.h"

namespace conduit {

using Clock = std::chrono::steady_clock;

Watchdog::Watchdog(size_t workers, HeartbeatFn heartbeat, StallFn on_stall,
                   std::chrono::milliseconds stall, std::chrono::milliseconds period)
    : workers_(workers),
      heartbeat_(std::move(heartbeat)),
      on_stall_(std::move(on_stall)),
      stall_(stall),
      period_(period),
      last_beat_(workers, 0),
      last_change_(workers, Clock::now()),
      reported_(workers, false) {}

Watchdog::~Watchdog() { Stop(); }

void Watchdog::Start() {
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < workers_; ++i) {
    last_beat_[i] = heartbeat_(i);
    last_change_[i] = now;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Watchdog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
    const Clock::time_point now = Clock::now();
    for (size_t i = 0; i < workers_; ++i) {
      const uint64_t beat = heartbeat_(i);
      if (beat != last_beat_[i]) {
        last_beat_[i] = beat;
        last_change_[i] = now;
        reported_[i] = false;
        continue;
      }
      const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_change_[i]);
      if (age >= stall_ && !reported_[i]) {
        reported_[i] = true;
        lock.unlock();  // the handler may log, exit, or ask for status
        on_stall_(i, age);
        lock.lock();
      }
    }
  }
}

std::vector<std::chrono::microseconds> Watchdog::Ages() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::chrono::microseconds> out;
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < workers_; ++i) {
    out.push_back(std::chrono::duration_cast<std::chrono::microseconds>(now - last_change_[i]));
  }
  return out;
}

}  // namespace conduit
