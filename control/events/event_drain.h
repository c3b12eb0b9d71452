// The control side of the event path: one thread polls every worker's
// EventRing, renders records as the stable JSON line (event_json.h), folds
// repeats, and hands lines to the sinks and to StreamEvents subscribers.
//
// Rate limiting (DESIGN.md, "The packet path" step 7): within a tumbling
// window (default 1 s, measured on the drain's steady clock) the first event
// of each repeat key is written; later ones with the same key are counted,
// not written. When the window closes, every key with repeats gets one
// summary line: the last repeat rendered in the same shape plus
// "repeats":N (events suppressed) and "window_ms":M (how long the window
// ran). The key is what makes two events "the same" to an operator:
// conduit, rule, src, dst, dport, l4 protocol, ICS op kind and function,
// verdict, mode/enforced and policy epoch -- not sport, ts, frame, unit or
// address. The key table holds at most max_repeat_keys per window; events
// with a new key beyond that pass through unsuppressed (counted in
// repeat_table_full), so memory stays bounded and nothing is hidden.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "events/event_json.h"
#include "events/event_ring.h"
#include "events/event_sink.h"

namespace conduit {

// A bounded queue of rendered lines for one reader (a StreamEvents call).
// The drain pushes; when the reader falls behind the oldest line is dropped
// and counted, so a slow or vanished reader never blocks the drain.
//
// Thread safety: all methods may be called from any thread.
class EventSubscription {
 public:
  explicit EventSubscription(size_t capacity);

  // Reader side. Waits up to `timeout` for a line. False on timeout, or once
  // the subscription is closed and empty.
  bool Next(std::string* line, std::chrono::milliseconds timeout);
  // Reader side. Moves up to `max` queued lines into `out` without waiting.
  size_t PopBatch(std::vector<std::string>* out, size_t max);
  // Either side: no more lines will be queued; wakes a waiting reader.
  // The drain forgets a closed subscription at its next pass (as it does one
  // whose last outside handle was released).
  void Close();
  bool closed() const;
  // Lines dropped because the queue was full.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  // Drain side. Returns false if the oldest line had to be dropped for it.
  bool Push(std::string line);

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;  // guarded by mu_
  bool closed_ = false;            // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
};

struct EventDrainOptions {
  std::chrono::milliseconds poll_interval{2};    // sleep when every ring is empty
  std::chrono::milliseconds repeat_window{1000};  // 0: no rate limiting
  size_t max_repeat_keys = 4096;                  // per window
  size_t batch = 256;                             // records popped per ring per pass
  size_t subscriber_capacity = 4096;              // default Subscribe() queue bound
  size_t max_posted = 4096;                       // Post() lines waiting for the drain
};

struct EventDrainCounters {
  uint64_t events_written = 0;      // event lines emitted (not summaries)
  uint64_t events_suppressed = 0;   // repeats folded into summaries
  uint64_t summaries_written = 0;   // summary lines emitted
  uint64_t ring_dropped = 0;        // sum of the rings' dropped(): lost at the worker
  uint64_t repeat_table_full = 0;   // events passed unsuppressed: key table full
  uint64_t subscriber_dropped = 0;  // lines dropped from slow subscribers' queues
  uint64_t posted_dropped = 0;      // Post() lines dropped: the drain fell behind
};

// Thread safety: AddRing(), AddSink(), SetNames() before Start() only.
// Subscribe(), counters() from any thread at any time. Start()/Stop() from
// the owning thread. The names callback and the sinks run on the drain
// thread only.
class EventDrain {
 public:
  // Names come from the active policy, so the owner supplies them. Called on
  // the drain thread for every line it renders; must be cheap and must not
  // block (e.g. read an RCU-published snapshot). Unset: no names.
  using NamesFn = std::function<EventNames(const EventRecord&)>;

  explicit EventDrain(EventDrainOptions options = {});
  ~EventDrain();  // Stop()s if running.

  EventDrain(const EventDrain&) = delete;
  EventDrain& operator=(const EventDrain&) = delete;

  // Not owned; must outlive the drain (or at least Stop()).
  void AddRing(EventRing* ring);
  void AddSink(std::shared_ptr<EventSink> sink);
  void SetNames(NamesFn names);

  void Start();
  // Drains what is left in the rings (stop the workers' pushes first for a
  // complete drain), writes pending summaries, flushes sinks, closes the
  // subscriptions and joins. Idempotent.
  void Stop();

  // A control-side event already rendered (audit records, grants): the drain
  // thread hands it to the sinks and subscribers as it does a worker's, never
  // folded into repeats. `e` carries what sinks derive from a record (kind,
  // verdict for the syslog severity). Any thread; bounded: beyond
  // max_posted lines waiting, the line is dropped and counted.
  void Post(const EventRecord& e, std::string json_line);

  // A new reader of every line from now on. capacity 0: the options' default.
  // Drop the handle (or Close() it) to leave.
  std::shared_ptr<EventSubscription> Subscribe(size_t capacity = 0);

  EventDrainCounters counters() const;

 private:
  // Repeat key: fixed-size, padding-free, compared bytewise.
  struct RepeatKey {
    std::array<uint8_t, 16> src;
    std::array<uint8_t, 16> dst;
    uint32_t rule;
    uint32_t policy_epoch;
    uint16_t conduit;
    uint16_t dport;
    uint16_t function;
    uint8_t l4_proto;
    uint8_t op_kind;
    uint8_t verdict;
    uint8_t mode;
    uint8_t enforced;
    uint8_t ip_version;
    bool operator==(const RepeatKey& o) const;
  };
  struct RepeatKeyHash {
    size_t operator()(const RepeatKey& k) const;
  };
  struct RepeatEntry {
    uint64_t repeats = 0;
    EventRecord last;  // the latest suppressed repeat, rendered in the summary
  };
  static RepeatKey KeyOf(const EventRecord& e);

  void Run();
  // One pass over every ring; returns the number of records handled.
  size_t DrainRings();
  size_t DrainPosted();
  void Handle(const EventRecord& e);
  void Emit(const EventRecord& e, const std::string& line);
  void CloseWindow(std::chrono::steady_clock::time_point now);
  void FlushSinks();
  void PruneSubscribers();

  const EventDrainOptions options_;
  std::vector<EventRing*> rings_;
  std::vector<std::shared_ptr<EventSink>> sinks_;
  NamesFn names_;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool started_ = false;

  // Drain-thread state.
  std::vector<EventRecord> batch_;
  std::unordered_map<RepeatKey, RepeatEntry, RepeatKeyHash> repeats_;
  std::chrono::steady_clock::time_point window_start_;

  std::mutex subscribers_mu_;
  std::vector<std::shared_ptr<EventSubscription>> subscribers_;  // guarded

  std::atomic<uint64_t> events_written_{0};
  std::atomic<uint64_t> events_suppressed_{0};
  std::atomic<uint64_t> summaries_written_{0};
  std::atomic<uint64_t> repeat_table_full_{0};
  std::atomic<uint64_t> subscriber_dropped_{0};
  std::mutex posted_mu_;
  std::deque<std::pair<EventRecord, std::string>> posted_;  // guarded by posted_mu_
  std::atomic<uint64_t> posted_dropped_{0};
};

}  // namespace conduit
