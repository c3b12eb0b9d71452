// What observation records: one tuple per distinct (who, to whom, what) that
// crossed a wire, with how often and when, and for ICS operations the
// address ranges touched. The vocabulary shared by the per-worker table
// (observe_table.h, hot path), the control plane's baseline store and the
// proposal engine (control/baseline/), so a live gateway and an offline
// capture produce the same tuples. Plain data: no DPDK, no allocation.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "ics/ics_op.h"

namespace conduit::observe {

// The key of one observed tuple. For ICS operations: client, server,
// protocol, op kind, function (ics::PolicyFunction: UMAS requests by their
// own code), unit and direction. For other IP traffic (kind kNone): client,
// server, L4 protocol and the server's port; function/unit/direction zero.
// Non-IP frames: ip_version 0, addresses zero, server_port the ethertype.
// "Client" is the flow's initiator (the side whose SYN or first datagram was
// seen), as rules' `from` means.
struct TupleKey {
  std::array<uint8_t, 16> client{};  // IPv6 form, IPv4 mapped (PacketMeta)
  std::array<uint8_t, 16> server{};
  uint8_t wire = 0;
  uint8_t ip_version = 0;
  uint8_t l4_proto = 0;
  ics::Protocol protocol = ics::Protocol::kUnknown;  // kUnknown: not ICS
  ics::OpKind kind = ics::OpKind::kNone;
  ics::Direction direction = ics::Direction::kUnknown;  // kRequest: client -> server
  uint8_t has_unit = 0;
  uint8_t reserved = 0;
  uint16_t function = 0;     // ics::PolicyFunction(op)
  uint16_t server_port = 0;
  uint32_t unit = 0;

  bool is_ics() const { return protocol != ics::Protocol::kUnknown; }
  bool operator==(const TupleKey& o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};
static_assert(sizeof(TupleKey) == 48);

// An inclusive register/point/object address range.
struct AddressRange {
  uint32_t lo = 0;
  uint32_t hi = 0;
};

// Ranges closer than this are coalesced into one: a poll of 0-9 and another
// of 12-20 is one range 0-20, a read of 0 and another of 60000 stay two.
inline constexpr uint32_t kAddressCoalesceGap = 16;
// Ranges kept per tuple; one more merges the two closest (so the set only
// ever widens, and memory stays fixed).
inline constexpr int kMaxRanges = 4;

struct TupleStats {
  uint64_t count = 0;
  uint64_t first_seen_ns = 0;  // wall clock (Unix epoch, ns)
  uint64_t last_seen_ns = 0;
  uint8_t range_count = 0;
  std::array<AddressRange, kMaxRanges> ranges{};
};

// Adds [r.lo, r.hi] to the tuple's ranges: coalesced with any range within
// kAddressCoalesceGap, and when that leaves more than kMaxRanges, the two
// closest are merged. Ranges stay sorted and disjoint.
inline void AddRange(TupleStats& s, AddressRange r) {
  auto near = [](const AddressRange& a, const AddressRange& b) {
    return uint64_t(b.lo) <= uint64_t(a.hi) + kAddressCoalesceGap &&
           uint64_t(a.lo) <= uint64_t(b.hi) + kAddressCoalesceGap;
  };
  // Steady polling repeats a range already kept. Kept ranges are never
  // within the gap of each other (an insertion absorbs every range near it;
  // merging the closest two keeps their distances to the others), so a
  // range inside a kept one is near no other: nothing changes.
  for (int i = 0; i < s.range_count; ++i) {
    if (s.ranges[i].lo <= r.lo && r.hi <= s.ranges[i].hi) return;
  }
  // Absorb every kept range near r into r, compacting the rest.
  int kept = 0;
  for (int i = 0; i < s.range_count; ++i) {
    if (near(s.ranges[i], r)) {
      r.lo = s.ranges[i].lo < r.lo ? s.ranges[i].lo : r.lo;
      r.hi = s.ranges[i].hi > r.hi ? s.ranges[i].hi : r.hi;
    } else {
      s.ranges[kept++] = s.ranges[i];
    }
  }
  // Insert r in order; one slot past kMaxRanges is held in `all`.
  std::array<AddressRange, kMaxRanges + 1> all{};
  int n = 0;
  bool placed = false;
  for (int i = 0; i < kept; ++i) {
    if (!placed && r.lo < s.ranges[i].lo) { all[n++] = r; placed = true; }
    all[n++] = s.ranges[i];
  }
  if (!placed) all[n++] = r;
  if (n > kMaxRanges) {
    int best = 0;  // the gap between all[best] and all[best + 1] is the smallest
    for (int i = 1; i + 1 < n; ++i) {
      if (all[i + 1].lo - all[i].hi < all[best + 1].lo - all[best].hi) best = i;
    }
    all[best].hi = all[best + 1].hi;
    for (int i = best + 1; i + 1 < n; ++i) all[i] = all[i + 1];
    --n;
  }
  for (int i = 0; i < n; ++i) s.ranges[i] = all[i];
  s.range_count = uint8_t(n);
}

// Folds `from` into `into` (the same tuple seen by two workers, or in two
// drains): counts add, the seen times widen, the ranges join.
inline void MergeStats(TupleStats& into, const TupleStats& from) {
  if (from.count == 0) return;
  if (into.count == 0 || from.first_seen_ns < into.first_seen_ns) {
    into.first_seen_ns = from.first_seen_ns;
  }
  if (from.last_seen_ns > into.last_seen_ns) into.last_seen_ns = from.last_seen_ns;
  into.count += from.count;
  for (int i = 0; i < from.range_count; ++i) AddRange(into, from.ranges[i]);
}

}  // namespace conduit::observe
