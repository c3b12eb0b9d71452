// A per-worker flow table: exact match, bounded, no allocation after Create.
//
// Buckets of kProbe slots over power-of-two arrays (rte_hash's layout): a
// key lives in the bucket its hash names. Each slot has a 16-bit tag from
// the hash's high bits, kept apart from the entries in a dense array, so a
// lookup reads one cache line of tags and then only the entry whose tag
// matches: a burst can prefetch the tags of all its packets, then the
// matching entries, before it touches any of them.
//
// Insert takes the bucket's first never-used slot, else replaces its least
// recently seen entry (an expiration if it was idle past the timeout, else
// an eviction; both counted): under pressure old flows make room for new
// ones rather than new flows being refused, because a refused flow would
// lose its framing state anyway. Slots are never emptied, only replaced.
#pragma once

#include <cstdint>
#include <memory>

#include "flow/flow_entry.h"

namespace conduit {

struct FlowTableStats {
  uint64_t inserts = 0;
  uint64_t evictions = 0;   // live entries replaced because their bucket was full
  uint64_t expirations = 0; // idle entries replaced after the timeout
};

class FlowTable {
 public:
  static constexpr uint32_t kProbe = 8;  // slots per bucket

  // `capacity` is rounded up to a power of two; `idle_timeout` is in the
  // caller's clock units.
  FlowTable(uint32_t capacity, uint64_t idle_timeout);

  // A burst's first pass: start loading the tags of `hash`'s bucket.
  void PrefetchBucket(uint64_t hash) const { __builtin_prefetch(&tags_[FirstSlot(hash)]); }
  // A burst's second pass: read the bucket's tags and start loading the
  // entries whose tag matches (another key's tag matches 1 time in 8,000):
  // their identity and verdict lines and the first line of the packet's
  // direction (`lo_to_hi`: from the key's addr_lo).
  void PrefetchEntries(uint64_t hash, bool lo_to_hi) const;

  // Finds the flow or creates it. `created` tells which. Never fails. (The
  // tags are read again here, not carried over from PrefetchEntries: an
  // earlier packet of the same burst may have inserted into the bucket.)
  FlowEntry& FindOrInsert(const FlowKey& key, uint64_t hash, uint64_t now, bool* created);
  FlowEntry* Find(const FlowKey& key, uint64_t hash);
  // The key's entry if it is live at `now` (FindOrInsert would return it
  // without creating anything), else null.
  FlowEntry* FindLive(const FlowKey& key, uint64_t hash, uint64_t now) {
    FlowEntry* e = Find(key, hash);
    return e != nullptr && now - e->last_seen <= idle_timeout_ ? e : nullptr;
  }

  uint32_t capacity() const { return mask_ + 1; }
  uint32_t live(uint64_t now) const;
  const FlowTableStats& stats() const { return stats_; }

 private:
  uint32_t FirstSlot(uint64_t hash) const {
    return static_cast<uint32_t>(hash) & mask_ & ~(kProbe - 1);
  }
  // Never 0: a zero tag marks a slot never used.
  static uint16_t TagOf(uint64_t hash) { return static_cast<uint16_t>(hash >> 48) | 1; }

  // Entries and tags live in memory that asks for transparent huge pages:
  // a packet lands on a random entry, and with 4 KiB pages nearly every one
  // would also miss the TLB.
  struct FreeHuge {
    void operator()(void* p) const;
  };
  std::unique_ptr<FlowEntry[], FreeHuge> slots_;
  std::unique_ptr<uint16_t[], FreeHuge> tags_;
  uint32_t mask_;
  uint64_t idle_timeout_;
  FlowTableStats stats_;
};

}  // namespace conduit
