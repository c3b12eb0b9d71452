#include "policy/address_set.h"

#include <algorithm>

#include "parse/byte_order.h"

namespace conduit::policy {
namespace {

// The address after `a` (saturating at the top of the space).
bool Next(Address a, Address* out) {
  if (a.lo != ~0ull) {
    *out = {a.hi, a.lo + 1};
    return true;
  }
  if (a.hi != ~0ull) {
    *out = {a.hi + 1, 0};
    return true;
  }
  return false;
}

}  // namespace

Address AddressFrom(const std::array<uint8_t, 16>& b) {
  return {LoadBigEndian64(b.data()), LoadBigEndian64(b.data() + 8)};
}

Prefix MakePrefix(const uint8_t* bytes, bool v6, int length) {
  std::array<uint8_t, 16> full{};
  if (v6) {
    std::copy(bytes, bytes + 16, full.begin());
  } else {
    full[10] = full[11] = 0xFF;  // ::ffff:a.b.c.d
    std::copy(bytes, bytes + 4, full.begin() + 12);
  }
  const int total = (v6 ? 0 : 96) + length;
  // Host bits of the 128-bit space: cleared for `first`, set for `last`.
  const uint64_t host_hi = total >= 64 ? 0 : (total == 0 ? ~0ull : ~0ull >> total);
  const uint64_t host_lo = total >= 128 ? 0 : (total <= 64 ? ~0ull : ~0ull >> (total - 64));
  const Address a = AddressFrom(full);
  return Prefix{{a.hi & ~host_hi, a.lo & ~host_lo}, {a.hi | host_hi, a.lo | host_lo}, total};
}

void PrefixMap::Build() {
  // Paint prefixes from shortest to longest over the elementary intervals
  // their boundaries cut the space into: the longest prefix paints last.
  std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& x, const Pending& y) {
    return x.prefix.length < y.prefix.length;
  });
  std::vector<Address> cuts;
  for (const Pending& p : pending_) {
    cuts.push_back(p.prefix.first);
    Address after;
    if (Next(p.prefix.last, &after)) cuts.push_back(after);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<int32_t> values(cuts.size(), kNone);
  for (const Pending& p : pending_) {
    auto begin = std::lower_bound(cuts.begin(), cuts.end(), p.prefix.first);
    for (auto it = begin; it != cuts.end() && *it <= p.prefix.last; ++it) {
      values[it - cuts.begin()] = p.value;
    }
  }
  // Merge neighbours with the same value.
  starts_.clear();
  values_.clear();
  for (size_t i = 0; i < cuts.size(); ++i) {
    if (!values_.empty() && values_.back() == values[i]) continue;
    starts_.push_back(cuts[i]);
    values_.push_back(values[i]);
  }
  pending_.clear();
  pending_.shrink_to_fit();
}

int32_t PrefixMap::Lookup(Address a) const {
  // The last interval starting at or before `a`.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), a);
  if (it == starts_.begin()) return kNone;
  return values_[(it - starts_.begin()) - 1];
}

}  // namespace conduit::policy
