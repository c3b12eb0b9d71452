// Per-worker event ring: single producer (the worker), single consumer (the
// control side's event drain). DESIGN.md, "The packet path" step 7: when the
// ring is full the *event* is dropped and counted, never the packet, and the
// worker never blocks.
//
// Standard library only (no DPDK) so simulate and tests can use it.
//
// Thread safety: TryPush() from exactly one thread at a time, PopBatch() from
// exactly one (other) thread at a time. dropped(), pushed(), capacity() and
// size() may be read from any thread (relaxed snapshots).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "events/event_record.h"

namespace conduit {

class EventRing {
 public:
  // Rounded up to a power of two (at least 2). Allocates once, here.
  explicit EventRing(size_t capacity)
      : capacity_(RoundUpPow2(capacity)),
        mask_(capacity_ - 1),
        slots_(new EventRecord[capacity_]) {}

  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  // Worker side. Never blocks, never allocates. False (and counted) when full.
  bool TryPush(const EventRecord& event) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - cached_tail_ >= capacity_) [[unlikely]] {
      // Only re-read the consumer's cache line when our stale copy says full.
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head - cached_tail_ >= capacity_) {
        // Single writer: a plain load+store avoids a locked RMW.
        dropped_.store(dropped_.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
        return false;
      }
    }
    slots_[head & mask_] = event;
    head_.store(head + 1, std::memory_order_release);  // publishes the slot
    return true;
  }

  // Consumer side. Copies up to `max` records into `out`, oldest first.
  size_t PopBatch(EventRecord* out, size_t max) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (cached_head_ - tail < max) {
      cached_head_ = head_.load(std::memory_order_acquire);
    }
    const uint64_t available = cached_head_ - tail;
    const size_t n = available < max ? static_cast<size_t>(available) : max;
    for (size_t i = 0; i < n; ++i) out[i] = slots_[(tail + i) & mask_];
    if (n != 0) tail_.store(tail + n, std::memory_order_release);  // frees the slots
    return n;
  }

  // Events lost because the ring was full.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Events accepted since construction.
  uint64_t pushed() const { return head_.load(std::memory_order_relaxed); }
  size_t capacity() const { return capacity_; }
  // Approximate when read concurrently (tail first: head only grows, so the
  // difference never underflows).
  size_t size() const {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    return static_cast<size_t>(head_.load(std::memory_order_acquire) - tail);
  }

 private:
  static constexpr size_t kCacheLine = 64;

  static size_t RoundUpPow2(size_t n) {
    size_t c = 2;
    while (c < n) c <<= 1;
    return c;
  }

  // Read-only after construction: shared by both sides without contention.
  const size_t capacity_;
  const size_t mask_;
  const std::unique_ptr<EventRecord[]> slots_;

  // Producer-written line. head_ counts pushes (monotonic, never wraps in practice).
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  uint64_t cached_tail_ = 0;  // producer's last view of tail_
  std::atomic<uint64_t> dropped_{0};

  // Consumer-written line.
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  uint64_t cached_head_ = 0;  // consumer's last view of head_
  // alignof(EventRing) == kCacheLine rounds sizeof up, so whatever follows
  // this object never shares the consumer's line.
};

}  // namespace conduit
