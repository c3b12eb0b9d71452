#include "policy/compiled_policy.h"

#include <cstdint>
#include <initializer_list>

#include "classify/signatures.h"
#include "ics/opcua.h"
#include "parse/packet_meta.h"

namespace conduit::policy {
namespace {

// The kind whose rules decide a housekeeping op's session, or kNone when
// the op is an operation of its own.
ics::OpKind SessionKindOf(const ics::IcsOp& op) {
  switch (op.kind) {
    case ics::OpKind::kDnp3Link: return ics::OpKind::kDnp3;
    case ics::OpKind::kCotp: return ics::OpKind::kS7comm;
    case ics::OpKind::kIec104Apci: return ics::OpKind::kIec104;
    case ics::OpKind::kEnip: return ics::OpKind::kCip;
    case ics::OpKind::kBacnetApdu:
    case ics::OpKind::kBacnetNpdu:
    case ics::OpKind::kBacnetBvlc: return ics::OpKind::kBacnetConfirmed;
    case ics::OpKind::kOpcua:
      // Transport and channel messages (HEL, ACK, OPN, CLO, ...), even when
      // their service id is visible (an OPN under SecurityPolicy#None shows
      // OpenSecureChannelRequest, 446), and MSG chunks whose service is not
      // visible (encrypted). Only a MSG's visible service is an operation.
      return (op.Has(ics::kOpHasSubFunction) && op.sub_function != ics::opcua::kMsg) ||
                     !ics::opcua::MessageTypeTag(op.function).empty()
                 ? ics::OpKind::kOpcua
                 : ics::OpKind::kNone;
    default: return ics::OpKind::kNone;
  }
}

}  // namespace

CompiledPolicy::CompiledPolicy() = default;
CompiledPolicy::~CompiledPolicy() = default;

uint64_t CompiledPolicy::HashKey(const Key& k, Address server, Address client) {
  uint64_t x;
  static_assert(sizeof(x) == sizeof(k));
  __builtin_memcpy(&x, &k, sizeof(x));
  x ^= server.hi * 0x9E3779B97F4A7C15ull;
  x ^= (server.lo + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  x ^= (client.lo + 0x94D049BB133111EBull) * 0xD6E8FEB86659FD93ull;
  x ^= client.hi * 0xA0761D6478BD642Full;
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  return x ^ (x >> 33);
}

const CompiledPolicy::Slot* CompiledPolicy::Find(const Key& key, Address server,
                                                 Address client) const {
  if (slots_.empty()) return nullptr;
  for (uint64_t i = HashKey(key, server, client) & slot_mask_;; i = (i + 1) & slot_mask_) {
    const Slot& s = slots_[i];
    if (s.count == 0) return nullptr;  // the table is never full (load <= 1/2)
    if (s.key == key && s.server == server && s.client == client) return &s;
  }
}

uint8_t CompiledPolicy::ListsOf(const Key& key) const {
  if (key.any != kExact) {
    const size_t i = FunctionFreeIndex(key);
    return i < function_free_lists_.size() ? function_free_lists_[i] : 0;
  }
  if (key_lists_.empty()) return 0;
  for (uint64_t i = HashKey(key, Address{}, Address{}) & key_lists_mask_;; i = (i + 1) & key_lists_mask_) {
    const KeyLists& k = key_lists_[i];
    if (k.lists == 0) return 0;
    if (k.key == key) return k.lists;
  }
}

const RuleEntry* CompiledPolicy::Match(const Key& key, Address client, Address server,
                                       uint16_t server_port, const ics::IcsOp* op) const {
  const uint8_t lists = ListsOf(key);
  if (lists == 0) return nullptr;
  const RuleEntry* best = nullptr;
  auto consider = [&](const RuleEntry* e) {
    if (e != nullptr && (best == nullptr || e->rule < best->rule)) best = e;
  };
  if (lists & kHasPair) consider(MatchEntries(Find(key, server, client), client, server, server_port, op));
  if (lists & kHasServer) {
    consider(MatchEntries(Find(key, server, Address{}), client, server, server_port, op));
  }
  if (lists & kHasGeneric) {
    consider(MatchEntries(Find(key, Address{}, Address{}), client, server, server_port, op));
  }
  return best;
}

bool CompiledPolicy::EntryMatches(const RuleEntry& e, Address client, Address server,
                                  uint16_t server_port, const ics::IcsOp* op) const {
  if (e.port != 0 && e.port != server_port) return false;
  if (e.from_set != RuleEntry::kAnySet && !address_sets_[e.from_set].Contains(client)) return false;
  if (e.to_set != RuleEntry::kAnySet && !address_sets_[e.to_set].Contains(server)) return false;
  if (op == nullptr) return true;  // a session check: hosts and port only
  if (e.units_count != 0) {
    if (!op->Has(ics::kOpHasUnit)) return false;
    const uint32_t* units = e.units_count == 1 ? &e.unit : &units_[e.units_begin];
    bool found = false;
    for (uint32_t i = 0; i < e.units_count && !found; ++i) found = units[i] == op->unit;
    if (!found) return false;
  }
  if (e.ranges_count != 0) {
    // An op whose address range is unknown or cut short cannot be proven to
    // stay inside the allowed ranges.
    if (!op->Has(ics::kOpHasAddress) || op->Has(ics::kOpTruncated)) return false;
    const AddressRange* ranges = e.ranges_count == 1 ? &e.range : &ranges_[e.ranges_begin];
    bool inside = false;
    for (uint32_t i = 0; i < e.ranges_count && !inside; ++i) {
      const AddressRange& r = ranges[i];
      inside = op->address_first >= r.first && op->address_last <= r.last;
    }
    if (!inside) return false;
  }
  return true;
}

const RuleEntry* CompiledPolicy::MatchEntries(const Slot* slot, Address client, Address server,
                                              uint16_t server_port, const ics::IcsOp* op) const {
  if (slot == nullptr) return nullptr;
  for (uint32_t i = 0; i < slot->count; ++i) {
    const RuleEntry& e = entries_[slot->begin + i];
    if (EntryMatches(e, client, server, server_port, op)) return &e;
  }
  return nullptr;
}

void CompiledPolicy::PrefetchRequest(const ConduitPolicy& conduit, uint8_t kind,
                                     uint16_t function, Address client, Address server,
                                     uint32_t entry_hint) const {
  if (slots_.empty() || key_lists_.empty()) return;
  const Key key{ConduitIndex(&conduit), kind, kExact, function};
  const uint8_t lists = ListsOf(key);  // a small table, nearly always cached
  if (lists & kHasPair) __builtin_prefetch(&slots_[HashKey(key, server, client) & slot_mask_]);
  if (lists & kHasServer) __builtin_prefetch(&slots_[HashKey(key, server, Address{}) & slot_mask_]);
  if (entry_hint < entries_.size()) {
    // The same hosts' entries for the kind's other functions are its
    // neighbours (PolicyBuilder::Build's order).
    // (Integer arithmetic: the neighbours' lines may lie outside the array,
    // which a prefetch may touch but a pointer may not point to.)
    const uintptr_t e = reinterpret_cast<uintptr_t>(&entries_[entry_hint]);
    for (const uintptr_t line : {e - 64, e, e + 64}) {
      __builtin_prefetch(reinterpret_cast<const void*>(line));
    }
  }
}

Decision CompiledPolicy::JudgeRequest(const ConduitPolicy& conduit, const ics::IcsOp& op,
                                      Address client, Address server, uint16_t server_port,
                                      uint32_t* entry_hint) const {
  const uint16_t c = ConduitIndex(&conduit);
  // First match in policy order across the rules naming this function and
  // the rules naming none: entries carry their policy position.
  // A UMAS request's key names its UMAS function (PolicyFunction); rules
  // naming Modbus function 90 ("umas") cover every UMAS function too.
  const uint16_t function = ics::PolicyFunction(op);
  const RuleEntry* exact =
      Match(Key{c, static_cast<uint8_t>(op.kind), kExact, function}, client, server, server_port, &op);
  if (function != op.function) [[unlikely]] {
    const RuleEntry* whole = Match(Key{c, static_cast<uint8_t>(op.kind), kExact, op.function}, client,
                                   server, server_port, &op);
    if (whole != nullptr && (exact == nullptr || whole->rule < exact->rule)) exact = whole;
  }
  const RuleEntry* any =
      Match(Key{c, static_cast<uint8_t>(op.kind), kAnyFunction, 0}, client, server, server_port, &op);
  const RuleEntry* best = exact;
  if (any != nullptr && (best == nullptr || any->rule < best->rule)) best = any;
  if (best == nullptr) {
    const ics::OpKind session = SessionKindOf(op);
    if (session != ics::OpKind::kNone) {
      best = Match(Key{c, static_cast<uint8_t>(session), kSession, 0}, client, server, server_port,
                   nullptr);
    }
  }
  if (entry_hint != nullptr) {
    *entry_hint = best != nullptr ? static_cast<uint32_t>(best - entries_.data()) : ~0u;
  }
  if (best == nullptr) return Decision{conduit.default_action, conduit.mode, kRuleDefault};
  return Decision{best->action, best->mode, best->rule};
}

Decision CompiledPolicy::JudgeL4(const ConduitPolicy& conduit, uint8_t l4_proto, Address client,
                                 Address server, uint16_t server_port) const {
  // Rules name tcp or udp only. Without this check the key's low nibble
  // would let ICMP (1) match udp rules (17) and IP protocol 22 tcp rules (6).
  if (l4_proto != kIpProtoTcp && l4_proto != kIpProtoUdp) return Decision{conduit.non_ics, conduit.mode, kRuleNonIcs};
  const uint16_t c = ConduitIndex(&conduit);
  const uint8_t kind = static_cast<uint8_t>(0xF0 | (l4_proto & 0x0F));
  const RuleEntry* exact = Match(Key{c, kind, kExact, server_port}, client, server, server_port, nullptr);
  const RuleEntry* any = Match(Key{c, kind, kAnyFunction, 0}, client, server, server_port, nullptr);
  const RuleEntry* best = exact;
  if (any != nullptr && (best == nullptr || any->rule < best->rule)) best = any;
  if (best == nullptr) return Decision{conduit.non_ics, conduit.mode, kRuleNonIcs};
  return Decision{best->action, best->mode, best->rule};
}

Decision CompiledPolicy::NonIp(const ConduitPolicy& conduit, uint16_t ethertype) const {
  for (uint16_t t : conduit.allow_non_ip) {
    if (t == ethertype) return Decision{Action::kAllow, conduit.mode, kRuleNonIp};
  }
  return Decision{Action::kDeny, conduit.mode, kRuleNonIp};
}

}  // namespace conduit::policy
