#include "policy/policy_builder.h"

#include <algorithm>

#include "classify/signatures.h"
#include "parse/packet_meta.h"

namespace conduit::policy {

PolicyBuilder::PolicyBuilder(std::string version, Mode mode)
    : policy_(std::make_unique<CompiledPolicy>()) {
  policy_->version_ = std::move(version);
  policy_->mode_ = mode;
  policy_->ports_ = ics::ProtocolPorts::Defaults();
  policy_->rule_names_ = {"default", "non_ics", "unparsable", "non_ip", "unsolicited",
                          "normalize"};
  policy_->address_sets_.emplace_back();  // set 0: any address (never consulted)
}

uint16_t PolicyBuilder::AddConduit(ConduitPolicy conduit) {
  const uint32_t wire = conduit.wire;
  policy_->conduits_.push_back(std::move(conduit));
  const int32_t index = static_cast<int32_t>(policy_->conduits_.size() - 1);
  if (policy_->conduit_by_wire_.size() <= wire) policy_->conduit_by_wire_.resize(wire + 1, -1);
  policy_->conduit_by_wire_[wire] = index;
  return static_cast<uint16_t>(index);
}

uint32_t PolicyBuilder::AddName(std::string name) {
  policy_->rule_names_.push_back(std::move(name));
  return static_cast<uint32_t>(policy_->rule_names_.size() - 1);
}

uint32_t PolicyBuilder::AddressSetFor(const std::vector<Prefix>& prefixes) {
  if (prefixes.empty()) return RuleEntry::kAnySet;
  AddressSet set;
  for (const Prefix& p : prefixes) set.Add(p);
  set.Build();
  policy_->address_sets_.push_back(std::move(set));
  return static_cast<uint32_t>(policy_->address_sets_.size() - 1);
}

void PolicyBuilder::AddRule(uint16_t conduit, const RuleSpec& rule) {
  RuleEntry e;
  e.rule = AddName(rule.id);
  e.action = rule.action;
  e.mode = rule.mode.value_or(policy_->conduits_[conduit].mode);
  e.port = rule.port;
  e.from_set = AddressSetFor(rule.from);
  e.to_set = AddressSetFor(rule.to);
  e.units_begin = static_cast<uint32_t>(policy_->units_.size());
  e.units_count = static_cast<uint16_t>(rule.units.size());
  policy_->units_.insert(policy_->units_.end(), rule.units.begin(), rule.units.end());
  e.ranges_begin = static_cast<uint32_t>(policy_->ranges_.size());
  e.ranges_count = static_cast<uint16_t>(rule.ranges.size());
  policy_->ranges_.insert(policy_->ranges_.end(), rule.ranges.begin(), rule.ranges.end());
  if (rule.units.size() == 1) e.unit = rule.units[0];
  if (rule.ranges.size() == 1) e.range = rule.ranges[0];

  using Key = CompiledPolicy::Key;
  // A rule whose responders are all single hosts is filed under each of
  // them (its `to` is then implied by the lookup), and under each (server,
  // client) pair when its initiators are single hosts too and the pairs are
  // few; any other rule is filed once, under ::.
  auto hosts_only = [](const std::vector<Prefix>& v) {
    return !v.empty() && std::all_of(v.begin(), v.end(), [](const Prefix& p) { return p.length == 128; });
  };
  constexpr size_t kMaxPairs = 64;
  const bool by_host = hosts_only(rule.to);
  const bool by_pair = by_host && hosts_only(rule.from) && rule.to.size() * rule.from.size() <= kMaxPairs;
  RuleEntry filed = e;
  if (by_host) filed.to_set = RuleEntry::kAnySet;
  if (by_pair) filed.from_set = RuleEntry::kAnySet;
  auto file = [&](const Key& key, const RuleEntry& entry) {
    if (!by_host) {
      pending_.push_back({key, entry, Address{}, Address{}});
      return;
    }
    for (const Prefix& server : rule.to) {
      if (!by_pair) {
        pending_.push_back({key, entry, server.first, Address{}});
        continue;
      }
      for (const Prefix& client : rule.from) pending_.push_back({key, entry, server.first, client.first});
    }
  };
  if (rule.l4_proto != 0) {
    const uint8_t kind = static_cast<uint8_t>(0xF0 | (rule.l4_proto & 0x0F));
    if (rule.port != 0) {
      file(Key{conduit, kind, CompiledPolicy::kExact, rule.port}, filed);
    } else {
      file(Key{conduit, kind, CompiledPolicy::kAnyFunction, 0}, filed);
    }
    return;
  }
  if (rule.functions.empty()) {
    for (ics::OpKind k : rule.kinds) {
      file(Key{conduit, static_cast<uint8_t>(k), CompiledPolicy::kAnyFunction, 0}, filed);
    }
  } else {
    for (const auto& [k, f] : rule.functions) {
      file(Key{conduit, static_cast<uint8_t>(k), CompiledPolicy::kExact, f}, filed);
    }
  }
  // Housekeeping rides on what the pair may do: only rules that let traffic
  // through (allow, alert) open it. A deny rule for one function (a leading
  // "no PLC stop from anywhere") must not cut every session it names.
  if (rule.session_kind != ics::OpKind::kNone && rule.action != Action::kDeny) {
    file(Key{conduit, static_cast<uint8_t>(rule.session_kind), CompiledPolicy::kSession, 0}, filed);
  }
}

uint32_t PolicyBuilder::AddSignatureDecision(std::string id, Action action, Mode mode) {
  const uint32_t rule = AddName(std::move(id));
  policy_->signature_decisions_.push_back(Decision{action, mode, rule});
  return static_cast<uint32_t>(policy_->signature_decisions_.size() - 1);
}

void PolicyBuilder::AttachSignatures(uint16_t conduit, ics::Protocol protocol, uint8_t l4_proto,
                                     std::unique_ptr<SignatureSet> signatures) {
  ConduitPolicy& c = policy_->conduits_[conduit];
  if (protocol == ics::Protocol::kUnknown) {
    (l4_proto == kIpProtoTcp ? c.tcp_signatures : c.udp_signatures) = signatures.get();
  } else {
    c.signatures[static_cast<size_t>(protocol)] = signatures.get();
  }
  policy_->signature_sets_.push_back(std::move(signatures));
}

std::unique_ptr<CompiledPolicy> PolicyBuilder::Build() {
  // Group entries by key and hosts; within a group, policy order (stable
  // sort). Groups of the same hosts sit next to each other whatever the
  // function, so a flow's requests for FC 3 and FC 4 read neighbouring
  // entries (PrefetchRequest loads the neighbours of the last one).
  std::stable_sort(pending_.begin(), pending_.end(), [](const PendingEntry& a, const PendingEntry& b) {
    return std::tie(a.key.conduit, a.key.kind, a.server, a.client, a.key.any, a.key.function) <
           std::tie(b.key.conduit, b.key.kind, b.server, b.client, b.key.any, b.key.function);
  });
  auto same = [](const PendingEntry& a, const PendingEntry& b) {
    return a.key == b.key && a.server == b.server && a.client == b.client;
  };
  size_t keys = 0;
  for (size_t i = 0; i < pending_.size(); ++i) keys += i == 0 || !same(pending_[i], pending_[i - 1]);
  size_t size = 16;
  while (size < keys * 2) size <<= 1;
  CompiledPolicy& p = *policy_;
  p.slots_.assign(size, CompiledPolicy::Slot{});
  p.slot_mask_ = size - 1;
  p.entries_.clear();
  p.entries_.reserve(pending_.size());
  for (size_t i = 0; i < pending_.size();) {
    size_t j = i;
    while (j < pending_.size() && same(pending_[j], pending_[i])) ++j;
    const uint32_t begin = static_cast<uint32_t>(p.entries_.size());
    for (size_t k = i; k < j; ++k) p.entries_.push_back(pending_[k].entry);
    uint64_t slot =
        CompiledPolicy::HashKey(pending_[i].key, pending_[i].server, pending_[i].client) & p.slot_mask_;
    while (p.slots_[slot].count != 0) slot = (slot + 1) & p.slot_mask_;
    p.slots_[slot] = CompiledPolicy::Slot{pending_[i].key, begin, static_cast<uint32_t>(j - i),
                                          pending_[i].server, pending_[i].client};
    i = j;
  }
  // The per-key summary of which lists exist (entries are not sorted by
  // key alone, so collect, sort by key, merge).
  using Key = CompiledPolicy::Key;
  std::vector<std::pair<Key, uint8_t>> bits_of;
  bits_of.reserve(pending_.size());
  for (const PendingEntry& e : pending_) {
    bits_of.push_back({e.key, e.client != Address{}   ? CompiledPolicy::kHasPair
                              : e.server != Address{} ? CompiledPolicy::kHasServer
                                                      : CompiledPolicy::kHasGeneric});
  }
  auto key_tuple = [](const Key& k) { return std::tie(k.conduit, k.kind, k.any, k.function); };
  std::sort(bits_of.begin(), bits_of.end(), [&](const auto& a, const auto& b) {
    return key_tuple(a.first) < key_tuple(b.first);
  });
  std::vector<std::pair<Key, uint8_t>> summary;
  for (const auto& [key, bit] : bits_of) {
    if (!summary.empty() && summary.back().first == key) {
      summary.back().second |= bit;
    } else {
      summary.push_back({key, bit});
    }
  }
  size_t lists_size = 16;
  while (lists_size < summary.size() * 2) lists_size <<= 1;
  p.key_lists_.assign(lists_size, CompiledPolicy::KeyLists{});
  p.key_lists_mask_ = lists_size - 1;
  p.function_free_lists_.assign(p.conduits_.size() * 2 * 256, 0);
  for (const auto& [key, bits] : summary) {
    if (key.any != CompiledPolicy::kExact) {
      p.function_free_lists_[CompiledPolicy::FunctionFreeIndex(key)] = bits;
      continue;
    }
    uint64_t i = CompiledPolicy::HashKey(key, Address{}, Address{}) & p.key_lists_mask_;
    while (p.key_lists_[i].lists != 0) i = (i + 1) & p.key_lists_mask_;
    p.key_lists_[i] = CompiledPolicy::KeyLists{key, bits};
  }
  pending_.clear();
  return std::move(policy_);
}

}  // namespace conduit::policy
