// Per-worker observation: what crossed the wire, as TupleKey -> TupleStats
// (observation.h), in a table of fixed capacity that only its worker writes.
//
// ObserveTable is the table: open addressing over a power-of-two bucket
// array (tag + entry index, 8 bytes a bucket, at most half full) in front
// of a dense entry array, both allocated at construction. Recording does
// no allocation, locking or system call; a tuple that finds no room (the
// table holds `capacity` tuples, or its probe sequence is longer than
// kMaxProbe) is not stored and counts as overflow, while the tuples
// already held go on counting.
//
// ObserveBuffers is the pair of tables a worker records into, and the
// lock-free hand-over that lets the control thread collect one while the
// worker fills the other (see the class comment for the memory ordering).
//
// Pure C++ (no DPDK): the offline proposal engine and the tests record
// through the same code as the workers.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "observe/observation.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"
#include "stats/counters.h"

namespace conduit::observe {

inline constexpr uint32_t kDefaultObserveCapacity = 16384;  // tuples per table

struct ObservedTuple {
  TupleKey key;
  TupleStats stats;
};

// The key of a non-ICS packet / of one ICS operation, as Record builds
// them (exposed for the offline engine and the tests). `from_client`: the
// packet was sent by the flow's initiator (Inspection::from_client; true
// for packets without a flow: the sender counts as the client).
TupleKey NonIcsKey(uint8_t wire, const PacketMeta& meta, bool has_flow, bool from_client);
TupleKey IcsKey(uint8_t wire, const PacketMeta& meta, bool from_client, const ics::IcsOp& op);

class ObserveTable {
 public:
  // Longest probe sequence before a new tuple counts as overflow (bounds
  // the cost of a lookup whatever the keys).
  static constexpr uint32_t kMaxProbe = 32;

  // `capacity`: tuples held (at least 1). `overflow`: where overflow is
  // counted (null: a counter of the table's own). Allocates everything.
  explicit ObserveTable(uint32_t capacity = kDefaultObserveCapacity, Counter* overflow = nullptr);
  ObserveTable(const ObserveTable&) = delete;
  ObserveTable& operator=(const ObserveTable&) = delete;

  // One inspected packet (worker, hot path). `parsed`/`meta`/`frame` as
  // parsed, `in`/`ops` as Inspector::Inspect left them. Non-IP and
  // unparsable packets are not observed. ICS flows: one tuple per decoded
  // operation (requests and responses alike; the client is the flow's
  // initiator either way); their packets without operations (handshakes,
  // ACKs, undecodable bytes) add nothing. Other IP traffic (no flow, not an
  // ICS flow, or a datagram that is not the port's protocol): one tuple
  // (client, server, L4 protocol, server port) per packet. `now_ns`: wall
  // clock (first/last seen).
  void Record(uint8_t wire, ParseResult parsed, const PacketMeta& meta, const Inspection& in,
              const ics::OpList& ops, uint64_t now_ns);

  // The same, deferred: the packet's tuples are staged, and Flush() (at the
  // end of the burst: JudgeBurst calls it) applies everything staged in
  // three passes, so the table's cache misses overlap instead of queueing
  // (hash and prefetch every bucket, read the tags and prefetch the
  // entries, then update). Staging more than kStaged tuples flushes early.
  void Defer(uint8_t wire, ParseResult parsed, const PacketMeta& meta, const Inspection& in,
             const ics::OpList& ops, uint64_t now_ns);
  void Flush();
  static constexpr uint32_t kStaged = 128;

  // Counts one sighting of `key` at `now_ns`. Returns its stats (to add
  // ranges to), or null when it did not fit (counted as overflow).
  TupleStats* Touch(const TupleKey& key, uint64_t now_ns) { return Touch(key, Hash(key), now_ns); }

  // Reading and clearing: only while no one records (the worker has moved
  // to the other table, or the table is not a worker's).
  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  const ObservedTuple& entry(uint32_t i) const { return entries_[i]; }
  template <typename F>
  void ForEach(F&& f) const {
    for (uint32_t i = 0; i < size_; ++i) f(entries_[i].key, entries_[i].stats);
  }
  void Clear();

  // Tuples that did not fit, ever (not reset by Clear). Any thread.
  uint64_t overflow() const { return overflow_->Load(); }

 private:
  struct Bucket {
    uint32_t tag = 0;    // 0: empty; else the key hash's high half | 1
    uint32_t entry = 0;  // index into entries_
  };
  struct Staged {
    TupleKey key;
    uint64_t hash;
    uint64_t now_ns;
    AddressRange range;
    bool has_range;
  };
  static constexpr uint32_t kEntryPrefetchDistance = 2;  // staged tuples
  void PrefetchEntry(const Staged& st) const;
  uint64_t Hash(const TupleKey& key) const;
  TupleStats* Touch(const TupleKey& key, uint64_t hash, uint64_t now_ns);
  // Calls f(key, op) for each tuple of the packet (op null: non-ICS).
  template <typename F>
  static void ForEachTuple(uint8_t wire, ParseResult parsed, const PacketMeta& meta,
                           const Inspection& in, const ics::OpList& ops, F&& f);

  uint32_t capacity_;
  uint32_t mask_;  // buckets - 1
  uint32_t size_ = 0;
  uint64_t seed_;
  std::unique_ptr<Bucket[]> buckets_;
  std::unique_ptr<ObservedTuple[]> entries_;
  uint32_t staged_count_ = 0;
  std::unique_ptr<Staged[]> staged_;
  Counter own_overflow_;
  Counter* overflow_;
};

// A worker's two tables and the hand-over between worker and control.
//
// The worker records into Active(). To collect, the control thread calls
// Drain(): it raises `request_` (release) and waits for the worker to
// acknowledge. The worker calls ServiceSwapOnWorker() at every burst
// boundary (PollOnce): one acquire load of `request_`; when it moved, the
// worker makes the spare table active and stores the request's number in
// `ack_` (release). Ordering:
//  - control's writes to the spare table (its Clear after the previous
//    drain) happen before its release store of `request_`; the worker's
//    acquire load of `request_` precedes its first write to that table, so
//    the worker never sees a half-cleared table;
//  - the worker's writes to the table it retires happen before its release
//    store of `ack_`; control reads the table only after an acquire load of
//    `ack_` returned that number, and the worker never touches the retired
//    table again until the next request, so control reads it whole with
//    plain loads, hands each tuple to the callback once, and clears it.
// Requests are numbered; a request the worker has not acknowledged when
// Drain gives up ("not now": the worker is stalled) stays pending, and the
// next Drain waits for that one instead of raising another, so no table
// is ever activated while control still reads it and no tuple is reported
// twice or lost. Only when the caller knows the worker is not running may
// Drain make the swap itself.
class ObserveBuffers {
 public:
  using Callback = std::function<void(const TupleKey&, const TupleStats&)>;
  enum class DrainResult { kDrained, kNotNow };

  explicit ObserveBuffers(uint32_t capacity = kDefaultObserveCapacity);
  ObserveBuffers(const ObserveBuffers&) = delete;
  ObserveBuffers& operator=(const ObserveBuffers&) = delete;

  // Worker ----------------------------------------------------------------
  ObserveTable* Active() { return active_.load(std::memory_order_relaxed); }
  // At a burst boundary: swaps the tables when control asked for it.
  void ServiceSwapOnWorker() {
    const uint64_t r = request_.load(std::memory_order_acquire);
    if (r == serviced_) [[likely]] return;
    Swap(r);
  }

  // Control (one thread at a time) ------------------------------------------
  // Collects everything recorded since the previous drain: each tuple once,
  // through `callback`, then clears it. Waits up to `timeout` for the worker
  // to swap; `worker_stopped`: the worker is known not to run (not
  // launched, or stopped), so Drain may swap itself. kNotNow: the worker
  // did not answer in time (nothing was reported; ask again later).
  DrainResult Drain(const Callback& callback, std::chrono::nanoseconds timeout,
                    bool worker_stopped = false);

  // Any thread.
  uint64_t overflow() const { return overflow_.Load(); }
  uint32_t capacity() const { return tables_[0]->capacity(); }

 private:
  void Swap(uint64_t request);

  Counter overflow_;  // both tables count here
  std::unique_ptr<ObserveTable> tables_[2];
  std::atomic<ObserveTable*> active_;  // written by the worker (or a stopped worker's control)
  // Written by control (release), read by the worker (acquire).
  alignas(64) std::atomic<uint64_t> request_{0};
  // Written by the worker (release), read by control (acquire).
  alignas(64) std::atomic<uint64_t> ack_{0};
  uint64_t serviced_ = 0;  // worker's own: the last request it swapped for
  uint64_t drained_ = 0;   // control's own: the last request whose table it drained
};

}  // namespace conduit::observe
