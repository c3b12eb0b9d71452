// Sets of IP prefixes, flattened at compile time into sorted disjoint
// intervals over 128-bit addresses (IPv4 as ::ffff:a.b.c.d), so a lookup is
// one binary search whatever the prefixes looked like. Immutable after
// Build(); lookups are safe from any number of workers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace conduit::policy {

struct Address {
  uint64_t hi = 0;
  uint64_t lo = 0;
  auto operator<=>(const Address&) const = default;
};

// From PacketMeta's 16-byte IPv6-form address.
Address AddressFrom(const std::array<uint8_t, 16>& bytes);

struct Prefix {
  Address first;
  Address last;
  int length = 0;  // in the 128-bit space (IPv4 /24 is /120)
};

// The prefix of `length` bits (0-32 for IPv4, 0-128 for IPv6) at `bytes`
// (4 or 16 of them, network order). Text is parsed and checked by the
// control plane (control/policy/validate.h), never here.
Prefix MakePrefix(const uint8_t* bytes, bool v6, int length);

// Longest-prefix match of an address to a value (a zone index, ...).
class PrefixMap {
 public:
  static constexpr int32_t kNone = -1;

  // Later Build() calls replace the map. Overlapping prefixes: the longest
  // wins; equal prefixes: the last added wins.
  void Add(const Prefix& prefix, int32_t value) { pending_.push_back({prefix, value}); }
  void Build();

  int32_t Lookup(Address a) const;
  bool empty() const { return starts_.empty(); }
  size_t intervals() const { return starts_.size(); }

 private:
  struct Pending {
    Prefix prefix;
    int32_t value;
  };
  std::vector<Pending> pending_;
  // Interval i covers [starts_[i], starts_[i+1]) and maps to values_[i].
  std::vector<Address> starts_;
  std::vector<int32_t> values_;
};

// A plain membership set (a rule's `from` or `to`).
class AddressSet {
 public:
  void Add(const Prefix& p) { map_.Add(p, 1); }
  void Build() { map_.Build(); }
  bool Contains(Address a) const { return map_.Lookup(a) != PrefixMap::kNone; }

 private:
  PrefixMap map_;
};

}  // namespace conduit::policy
