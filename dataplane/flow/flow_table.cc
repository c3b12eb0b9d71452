#include "flow/flow_table.h"

#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace conduit {
namespace {

// Bit i set where tags[i] == tag (tags holds kProbe entries): one 16-byte
// compare on x86 (a bucket's tags are 16-byte aligned).
uint8_t MatchTags(const uint16_t* tags, uint16_t tag) {
  static_assert(FlowTable::kProbe == 8);
#if defined(__SSE2__)
  const __m128i eq = _mm_cmpeq_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(tags)),
                                     _mm_set1_epi16(static_cast<short>(tag)));
  // Narrow each 16-bit lane (0 or -1) to a byte, then one bit per byte.
  return static_cast<uint8_t>(_mm_movemask_epi8(_mm_packs_epi16(eq, _mm_setzero_si128())));
#else
  uint8_t mask = 0;
  for (uint32_t i = 0; i < FlowTable::kProbe; ++i) mask |= uint8_t(tags[i] == tag) << i;
  return mask;
#endif
}

// Brings the lines a packet reads into the cache: identity, verdicts and
// TCP acknowledgements (lines 0-1), and the first line of its direction.
void PrefetchEntry(const FlowEntry& e, bool lo_to_hi) {
  const char* p = reinterpret_cast<const char*>(&e);
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
  __builtin_prefetch(&e.dir[lo_to_hi ? 0 : 1]);
}

constexpr size_t kHugePage = size_t{2} << 20;

// Zeroed memory of `bytes`, 2 MiB aligned, advised to be backed by huge
// pages (transparent huge pages in "madvise" mode, Debian's default).
// Allocation failure is fatal, as for new[]: tables are built at start-up.
void* AllocateHuge(size_t bytes) {
  bytes = (bytes + kHugePage - 1) & ~(kHugePage - 1);
  void* p = std::aligned_alloc(kHugePage, bytes);
  if (p == nullptr) throw std::bad_alloc();
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without it, 4 KiB pages
  std::memset(p, 0, bytes);
  return p;
}

}  // namespace

void FlowTable::FreeHuge::operator()(void* p) const { std::free(p); }

FlowTable::FlowTable(uint32_t capacity, uint64_t idle_timeout) : idle_timeout_(idle_timeout) {
  uint32_t size = kProbe;
  while (size < capacity) size <<= 1;
  mask_ = size - 1;
  static_assert(std::is_trivially_destructible_v<FlowEntry>, "freed without destructors");
  FlowEntry* slots = static_cast<FlowEntry*>(AllocateHuge(sizeof(FlowEntry) * size));
  for (uint32_t i = 0; i < size; ++i) ::new (static_cast<void*>(&slots[i])) FlowEntry;
  slots_.reset(slots);
  tags_.reset(static_cast<uint16_t*>(AllocateHuge(sizeof(uint16_t) * size)));  // zero: never used
}

void FlowTable::PrefetchEntries(uint64_t hash, bool lo_to_hi) const {
  const uint32_t first = FirstSlot(hash);
  for (uint32_t bits = MatchTags(&tags_[first], TagOf(hash)); bits != 0; bits &= bits - 1) {
    PrefetchEntry(slots_[first + __builtin_ctz(bits)], lo_to_hi);
  }
}

FlowEntry* FlowTable::Find(const FlowKey& key, uint64_t hash) {
  const uint32_t first = FirstSlot(hash);
  for (uint32_t bits = MatchTags(&tags_[first], TagOf(hash)); bits != 0; bits &= bits - 1) {
    FlowEntry& e = slots_[first + __builtin_ctz(bits)];
    if (e.key == key) return &e;
  }
  return nullptr;
}

FlowEntry& FlowTable::FindOrInsert(const FlowKey& key, uint64_t hash, uint64_t now,
                                   bool* created) {
  const uint32_t first = FirstSlot(hash);
  const uint16_t tag = TagOf(hash);
  constexpr uint32_t kNone = ~0u;
  uint32_t slot = kNone;
  for (uint32_t bits = MatchTags(&tags_[first], tag); bits != 0; bits &= bits - 1) {
    const uint32_t i = first + __builtin_ctz(bits);
    FlowEntry& e = slots_[i];
    if (!(e.key == key)) continue;
    if (now - e.last_seen <= idle_timeout_) {
      *created = false;
      return e;
    }
    // The same 5-tuple after the idle timeout is a new flow (a reused
    // client port): it must not inherit the old one's stream state.
    ++stats_.expirations;
    slot = i;
    break;
  }
  if (slot == kNone) {
    const uint8_t unused = MatchTags(&tags_[first], 0);
    if (unused != 0) slot = first + __builtin_ctz(unused);
  }
  if (slot == kNone) {
    // A full bucket gives up its least recently seen entry (expired or not).
    slot = first;
    for (uint32_t i = first + 1; i < first + kProbe; ++i) {
      if (slots_[i].last_seen < slots_[slot].last_seen) slot = i;
    }
    ++(now - slots_[slot].last_seen > idle_timeout_ ? stats_.expirations : stats_.evictions);
  }
  ++stats_.inserts;
  tags_[slot] = tag;
  FlowEntry& fresh = slots_[slot];
  ResetFlow(fresh, key, now);
  *created = true;
  return fresh;
}

uint32_t FlowTable::live(uint64_t now) const {
  uint32_t n = 0;
  for (uint32_t i = 0; i <= mask_; ++i) {
    n += tags_[i] != 0 && now - slots_[i].last_seen <= idle_timeout_;
  }
  return n;
}

}  // namespace conduit
