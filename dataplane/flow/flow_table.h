// A per-worker flow table: exact match, bounded, no allocation after Create.
//
// Open addressing over a power-of-two array; a key lives within a window of
// kProbe slots from its hash. Insert takes the first never-used slot in the
// window, else replaces the least recently seen entry there (an expiration
// if it was idle past the timeout, else an eviction; both counted):
// under pressure old flows make room for new ones rather than new flows being
// refused, because a refused flow would lose its framing state anyway.
// Entries are never emptied, only replaced, so a probe can stop at the first
// never-used slot.
#pragma once

#include <cstdint>
#include <memory>

#include "flow/flow_entry.h"

namespace conduit {

struct FlowTableStats {
  uint64_t inserts = 0;
  uint64_t evictions = 0;   // live entries replaced because their window was full
  uint64_t expirations = 0; // idle entries replaced after the timeout
};

class FlowTable {
 public:
  static constexpr uint32_t kProbe = 8;

  // `capacity` is rounded up to a power of two; `idle_timeout` is in the
  // caller's clock units.
  FlowTable(uint32_t capacity, uint64_t idle_timeout);

  // Finds the flow or creates it. `created` tells which. Never fails.
  FlowEntry& FindOrInsert(const FlowKey& key, uint64_t hash, uint64_t now, bool* created);
  FlowEntry* Find(const FlowKey& key, uint64_t hash);
  // Starts loading the first slot of `hash`'s window into the cache: called
  // for a whole burst before any of it is processed, so the misses overlap.
  void Prefetch(uint64_t hash) const {
    const FlowEntry* e = &slots_[hash & mask_];
    __builtin_prefetch(e);
    __builtin_prefetch(reinterpret_cast<const char*>(e) + 64);
  }

  uint32_t capacity() const { return mask_ + 1; }
  uint32_t live(uint64_t now) const;
  const FlowTableStats& stats() const { return stats_; }

 private:
  std::unique_ptr<FlowEntry[]> slots_;
  uint32_t mask_;
  uint64_t idle_timeout_;
  FlowTableStats stats_;
};

}  // namespace conduit
