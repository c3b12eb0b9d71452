#include "telemetry/recent_events.h"

#include <chrono>

#include "common/json_fields.h"

namespace conduit::telemetry {

RecentEvents::RecentEvents(EventDrain* drain, size_t capacity)
    : capacity_(capacity), subscription_(drain->Subscribe(1024)), reader_([this] { Run(); }) {}

RecentEvents::~RecentEvents() {
  stop_.store(true, std::memory_order_release);
  subscription_->Close();
  reader_.join();
}

void RecentEvents::Run() {
  std::string line;
  while (!stop_.load(std::memory_order_acquire)) {
    if (!subscription_->Next(&line, std::chrono::milliseconds(200))) {
      if (subscription_->closed()) return;
      continue;
    }
    if (JsonFields(line).Get("verdict") != "deny") continue;
    std::lock_guard<std::mutex> lock(mu_);
    blocked_.push_front(line);
    if (blocked_.size() > capacity_) blocked_.pop_back();
  }
}

std::vector<std::string> RecentEvents::Blocked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {blocked_.begin(), blocked_.end()};
}

}  // namespace conduit::telemetry
