#include "flow/flow_table.h"

namespace conduit {

FlowTable::FlowTable(uint32_t capacity, uint64_t idle_timeout)
    : idle_timeout_(idle_timeout) {
  uint32_t size = kProbe;
  while (size < capacity) size <<= 1;
  mask_ = size - 1;
  slots_ = std::make_unique<FlowEntry[]>(size);
}

FlowEntry* FlowTable::Find(const FlowKey& key, uint64_t hash) {
  for (uint32_t i = 0; i < kProbe; ++i) {
    FlowEntry& e = slots_[(hash + i) & mask_];
    if (!e.occupied) return nullptr;
    if (e.key == key) return &e;
  }
  return nullptr;
}

FlowEntry& FlowTable::FindOrInsert(const FlowKey& key, uint64_t hash, uint64_t now,
                                   bool* created) {
  FlowEntry* victim = nullptr;
  FlowEntry* oldest = nullptr;
  for (uint32_t i = 0; i < kProbe; ++i) {
    FlowEntry& e = slots_[(hash + i) & mask_];
    if (!e.occupied) {
      victim = &e;
      break;
    }
    if (e.key == key) {
      if (now - e.last_seen <= idle_timeout_) {
        *created = false;
        return e;
      }
      // The same 5-tuple after the idle timeout is a new flow (a reused
      // client port): it must not inherit the old one's stream state.
      ++stats_.expirations;
      victim = &e;
      break;
    }
    if (oldest == nullptr || e.last_seen < oldest->last_seen) oldest = &e;
  }
  // A full window gives up its least recently seen entry (expired or not).
  if (victim == nullptr) victim = oldest;
  if (victim->occupied && !(victim->key == key)) {
    if (now - victim->last_seen > idle_timeout_) {
      ++stats_.expirations;
    } else {
      ++stats_.evictions;
    }
  }
  ++stats_.inserts;
  *victim = FlowEntry{};
  victim->key = key;
  victim->occupied = true;
  victim->last_seen = now;
  *created = true;
  return *victim;
}

uint32_t FlowTable::live(uint64_t now) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    n += slots_[i].occupied && now - slots_[i].last_seen <= idle_timeout_;
  }
  return n;
}

}  // namespace conduit
