#include "events/event_drain.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace conduit {

EventSink::~EventSink() = default;

// ---------------------------------------------------------------------------
// EventSubscription

EventSubscription::EventSubscription(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

bool EventSubscription::Push(std::string line) {
  bool dropped = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return true;  // the reader left; nothing to count
    if (lines_.size() >= capacity_) {
      // Drop the oldest: a live stream is more useful with recent events.
      lines_.pop_front();
      dropped = true;
    }
    lines_.push_back(std::move(line));
  }
  if (dropped) dropped_.fetch_add(1, std::memory_order_relaxed);
  cv_.notify_one();
  return !dropped;
}

bool EventSubscription::Next(std::string* line, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return !lines_.empty() || closed_; });
  if (lines_.empty()) return false;
  *line = std::move(lines_.front());
  lines_.pop_front();
  return true;
}

size_t EventSubscription::PopBatch(std::vector<std::string>* out, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  while (n < max && !lines_.empty()) {
    out->push_back(std::move(lines_.front()));
    lines_.pop_front();
    ++n;
  }
  return n;
}

void EventSubscription::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool EventSubscription::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

// ---------------------------------------------------------------------------
// EventDrain

bool EventDrain::RepeatKey::operator==(const RepeatKey& o) const {
  return std::memcmp(this, &o, sizeof(RepeatKey)) == 0;
}

size_t EventDrain::RepeatKeyHash::operator()(const RepeatKey& k) const {
  static_assert(std::has_unique_object_representations_v<RepeatKey>,
                "RepeatKey must have no padding: it is hashed and compared bytewise");
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(&k), sizeof(k)));
}

EventDrain::RepeatKey EventDrain::KeyOf(const EventRecord& e) {
  RepeatKey k;
  k.src = e.src;
  k.dst = e.dst;
  k.rule = e.rule;
  k.policy_epoch = e.policy_epoch;  // indices mean something else after a reload
  k.conduit = e.conduit;
  k.dport = e.dport;
  k.function = e.op.function;
  k.l4_proto = e.l4_proto;
  k.op_kind = static_cast<uint8_t>(e.op.kind);
  k.verdict = static_cast<uint8_t>(e.verdict);
  k.mode = static_cast<uint8_t>(e.mode);
  k.enforced = e.enforced ? 1 : 0;
  k.ip_version = e.ip_version;
  return k;
}

EventDrain::EventDrain(EventDrainOptions options) : options_(options) {}

EventDrain::~EventDrain() { Stop(); }

void EventDrain::AddRing(EventRing* ring) { rings_.push_back(ring); }

void EventDrain::AddSink(std::shared_ptr<EventSink> sink) { sinks_.push_back(std::move(sink)); }

void EventDrain::SetNames(NamesFn names) { names_ = std::move(names); }

void EventDrain::Start() {
  if (started_) return;
  started_ = true;
  stop_.store(false, std::memory_order_relaxed);
  batch_.resize(std::max<size_t>(options_.batch, 1));
  repeats_.reserve(options_.max_repeat_keys);  // no rehash on the drain's path
  window_start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { Run(); });
}

void EventDrain::Stop() {
  if (!started_) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
  started_ = false;
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  for (auto& s : subscribers_) s->Close();
  subscribers_.clear();
}

std::shared_ptr<EventSubscription> EventDrain::Subscribe(size_t capacity) {
  auto sub = std::make_shared<EventSubscription>(capacity != 0 ? capacity
                                                               : options_.subscriber_capacity);
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  subscribers_.push_back(sub);
  return sub;
}

EventDrainCounters EventDrain::counters() const {
  EventDrainCounters c;
  c.events_written = events_written_.load(std::memory_order_relaxed);
  c.events_suppressed = events_suppressed_.load(std::memory_order_relaxed);
  c.summaries_written = summaries_written_.load(std::memory_order_relaxed);
  c.repeat_table_full = repeat_table_full_.load(std::memory_order_relaxed);
  c.subscriber_dropped = subscriber_dropped_.load(std::memory_order_relaxed);
  c.posted_dropped = posted_dropped_.load(std::memory_order_relaxed);
  for (const EventRing* r : rings_) c.ring_dropped += r->dropped();
  return c;
}

void EventDrain::Run() {
  using Clock = std::chrono::steady_clock;
  while (!stop_.load(std::memory_order_acquire)) {
    const Clock::time_point now = Clock::now();
    if (options_.repeat_window.count() > 0 && now - window_start_ >= options_.repeat_window) {
      CloseWindow(now);
    }
    PruneSubscribers();
    const size_t handled = DrainRings() + DrainPosted();
    FlushSinks();
    // Busy rings are drained back to back; idle ones are polled every few ms.
    if (handled == 0) std::this_thread::sleep_for(options_.poll_interval);
  }
  // Stop: whatever the workers left, then the open window's summaries.
  while (DrainRings() + DrainPosted() != 0) {
  }
  CloseWindow(Clock::now());
  FlushSinks();
}

size_t EventDrain::DrainRings() {
  size_t total = 0;
  for (EventRing* ring : rings_) {
    const size_t n = ring->PopBatch(batch_.data(), batch_.size());
    for (size_t i = 0; i < n; ++i) Handle(batch_[i]);
    total += n;
  }
  return total;
}

void EventDrain::Post(const EventRecord& e, std::string json_line) {
  std::lock_guard<std::mutex> lock(posted_mu_);
  if (posted_.size() >= options_.max_posted) {
    posted_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  posted_.emplace_back(e, std::move(json_line));
}

size_t EventDrain::DrainPosted() {
  std::deque<std::pair<EventRecord, std::string>> lines;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    lines.swap(posted_);
  }
  for (const auto& [e, line] : lines) Emit(e, line);
  return lines.size();
}

void EventDrain::Handle(const EventRecord& e) {
  if (options_.repeat_window.count() > 0) {
    const RepeatKey key = KeyOf(e);
    auto it = repeats_.find(key);
    if (it != repeats_.end()) {
      ++it->second.repeats;
      it->second.last = e;
      events_suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (repeats_.size() < options_.max_repeat_keys) {
      repeats_.emplace(key, RepeatEntry{});
    } else {
      repeat_table_full_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const EventNames names = names_ ? names_(e) : EventNames{};
  Emit(e, RenderEventJson(e, names));
  events_written_.fetch_add(1, std::memory_order_relaxed);
}

void EventDrain::CloseWindow(std::chrono::steady_clock::time_point now) {
  const auto window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - window_start_).count();
  for (const auto& [key, entry] : repeats_) {
    if (entry.repeats == 0) continue;
    const EventNames names = names_ ? names_(entry.last) : EventNames{};
    std::string line = RenderEventJson(entry.last, names);
    // Same shape as an event line, two fields more: replace the closing brace.
    line.pop_back();
    absl::StrAppend(&line, ",\"repeats\":", entry.repeats, ",\"window_ms\":", window_ms, "}");
    Emit(entry.last, line);
    summaries_written_.fetch_add(1, std::memory_order_relaxed);
  }
  repeats_.clear();  // keeps its buckets: no allocation next window
  window_start_ = now;
}

void EventDrain::Emit(const EventRecord& e, const std::string& line) {
  for (auto& sink : sinks_) sink->Write(e, line);
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  for (auto& sub : subscribers_) {
    if (sub.use_count() == 1) continue;  // reader gone; pruned on the next pass
    if (!sub->Push(line)) subscriber_dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

void EventDrain::FlushSinks() {
  for (auto& sink : sinks_) sink->Flush();
}

void EventDrain::PruneSubscribers() {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  // use_count() == 1: only we hold it, nobody can read it any more.
  std::erase_if(subscribers_, [](const std::shared_ptr<EventSubscription>& s) {
    return s.use_count() == 1 || s->closed();
  });
}

}  // namespace conduit
