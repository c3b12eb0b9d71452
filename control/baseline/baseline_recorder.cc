#include "baseline/baseline_recorder.h"

#include <cstring>
#include <map>
#include <utility>

#include "common/log.h"

namespace conduit::baseline {

uint64_t WallClockNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

namespace {

struct KeyLess {
  bool operator()(const observe::TupleKey& a, const observe::TupleKey& b) const {
    return std::memcmp(&a, &b, sizeof(a)) < 0;
  }
};

// A new tuple as an event: its client and server, server port and, for an
// ICS operation, protocol, function, unit and direction.
EventRecord NewBehaviourRecord(const ObservedTuple& t, uint16_t conduit) {
  EventRecord e;
  e.kind = EventKind::kNewBehaviour;
  e.ts_ns = t.stats.first_seen_ns;
  e.src = t.key.client;
  e.dst = t.key.server;
  e.dport = t.key.server_port;
  e.l4_proto = t.key.l4_proto;
  e.ip_version = t.key.ip_version;
  e.conduit = conduit;
  if (t.key.is_ics()) {
    e.op.kind = t.key.kind;
    e.op.direction = t.key.direction;
    e.op.function = t.key.function;
    if (t.key.has_unit != 0) {
      e.op.flags |= ics::kOpHasUnit;
      e.op.unit = t.key.unit;
    }
  }
  return e;
}

}  // namespace

BaselineRecorder::BaselineRecorder(std::unique_ptr<BaselineStore> store, DrainFn drain,
                                   ConduitOfWire conduit_of, EventRing* events, Options options)
    : store_(std::move(store)),
      drain_(std::move(drain)),
      conduit_of_(std::move(conduit_of)),
      events_(events),
      options_(options) {}

BaselineRecorder::~BaselineRecorder() { Stop(); }

void BaselineRecorder::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepted_.assign(options_.wires, false);
    for (uint32_t w = 0; w < options_.wires; ++w) {
      auto summary = store_->Summary(w);
      accepted_[w] = summary.ok() && summary->accepted_at_ns != 0;
    }
  }
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void BaselineRecorder::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (auto s = Flush(); !s.ok()) LogWarning("baseline: last flush: ", s.status().message());
}

void BaselineRecorder::Run() {
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stopping_) {
    if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) break;
    lock.unlock();
    if (auto s = Flush(); !s.ok()) {
      merge_failures_.fetch_add(1, std::memory_order_relaxed);
      LogWarning("baseline: ", s.status().message());
    }
    lock.lock();
  }
}

absl::StatusOr<size_t> BaselineRecorder::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  return FlushLocked();
}

absl::StatusOr<size_t> BaselineRecorder::FlushLocked() {
  // Workers' tables overlap (a tuple seen by two workers, or twice across a
  // swap): fold them first, so the store sees each tuple once.
  std::map<observe::TupleKey, observe::TupleStats, KeyLess> merged;
  drain_([&merged](const observe::TupleKey& k, const observe::TupleStats& s) {
    observe::MergeStats(merged[k], s);
  });
  const uint64_t now = WallClockNs();
  if (now > options_.retention_ns) {
    auto pruned = store_->Prune(now - options_.retention_ns);
    if (!pruned.ok()) return pruned.status();
  }
  if (merged.empty()) return 0;
  std::vector<ObservedTuple> tuples;
  tuples.reserve(merged.size());
  for (const auto& [k, s] : merged) tuples.push_back(ObservedTuple{k, s});
  auto fresh = store_->Merge(tuples);
  if (!fresh.ok()) return fresh.status();
  Report(*fresh);
  return fresh->size();
}

void BaselineRecorder::Report(const std::vector<ObservedTuple>& fresh) {
  if (events_ == nullptr) return;
  for (const ObservedTuple& t : fresh) {
    // Responses follow their request: the request is the news.
    if (t.key.is_ics() && t.key.direction == ics::Direction::kResponse) continue;
    if (t.key.ip_version == 0) continue;  // a new ethertype: no endpoints to report
    const uint32_t wire = t.key.wire;
    if (wire >= accepted_.size() || !accepted_[wire]) continue;
    const std::optional<uint16_t> conduit = conduit_of_(wire);
    EventRecord e = NewBehaviourRecord(t, conduit.value_or(kGatewayScope));
    if (!events_->TryPush(e)) LogWarning("baseline: event ring full, a new_behaviour event was lost");
  }
}

absl::StatusOr<std::vector<ObservedTuple>> BaselineRecorder::Load(std::optional<uint32_t> wire,
                                                                   uint64_t since_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto s = FlushLocked(); !s.ok()) return s.status();  // what the workers hold now too
  return store_->Load(wire, since_ns);
}

absl::StatusOr<WireSummary> BaselineRecorder::Summary(uint32_t wire) {
  std::lock_guard<std::mutex> lock(mu_);
  return store_->Summary(wire);
}

absl::Status BaselineRecorder::Accept(uint32_t wire) {
  std::lock_guard<std::mutex> lock(mu_);
  // What the workers saw up to now belongs to the accepted baseline.
  if (auto s = FlushLocked(); !s.ok()) return s.status();
  if (absl::Status s = store_->Accept(wire, WallClockNs()); !s.ok()) return s;
  if (accepted_.size() <= wire) accepted_.resize(wire + 1, false);
  accepted_[wire] = true;
  return absl::OkStatus();
}

}  // namespace conduit::baseline
