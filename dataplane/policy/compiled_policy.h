// CompiledPolicy: the immutable, self-contained form of a policy snapshot
// that workers consult per packet. Built by control/policy/compiler.cc off
// the hot path; never modified after it is published; holds no pointers into
// the protobuf it came from.
//
// Thread safety: const methods may be called from any number of workers at
// once. Nothing here allocates, locks or throws.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ics/ics_op.h"
#include "ics/ports.h"
#include "policy/rule_hits.h"
#include "policy/address_range.h"
#include "policy/address_set.h"

namespace conduit {
class SignatureSet;
}

namespace conduit::policy {

enum class Action : uint8_t { kAllow = 1, kDeny = 2, kAlert = 3 };
enum class Mode : uint8_t { kEnforce = 1, kMonitor = 2, kBypass = 3 };
enum class OnDeny : uint8_t { kReset = 1, kDrop = 2 };

// Rule indices below kFirstRuleIndex name the built-in reasons a verdict can
// have; rule ids from the policy follow them (CompiledPolicy::rule_names()).
enum BuiltinRule : uint32_t {
  kRuleDefault = 0,      // no rule matched an ICS operation
  kRuleNonIcs = 1,       // IP traffic that is not a recognised ICS protocol
  kRuleUnparsable = 2,   // malformed headers, or ICS framing lost
  kRuleNonIp = 3,        // an ethertype outside allow_non_ip
  kRuleUnsolicited = 4,  // a response with no request on its flow
  kRuleNormalize = 5,    // the normalizer dropped it (DropReason says why)
  kFirstRuleIndex = 6,
};

struct Decision {
  Action action = Action::kAllow;
  Mode mode = Mode::kEnforce;
  uint32_t rule = kRuleDefault;

  // Whether the packet must be dropped (a deny that is enforced).
  bool Drops() const { return action == Action::kDeny && mode == Mode::kEnforce; }
  // Whether the decision is worth an event (deny, alert, would-block).
  bool Reported() const { return action != Action::kAllow; }
};

// The strictest of two decisions: an enforced deny beats a reported one,
// which beats an alert, which beats an allow.
inline Decision Stricter(const Decision& a, const Decision& b) {
  auto rank = [](const Decision& d) {
    if (d.action == Action::kDeny) return d.mode == Mode::kEnforce ? 3 : 2;
    return d.action == Action::kAlert ? 1 : 0;
  };
  return rank(b) > rank(a) ? b : a;
}

// One compiled rule: what it matches beyond its hash key, and its decision.
struct RuleEntry {
  static constexpr uint32_t kAnySet = 0;  // address set 0 contains everything

  uint32_t rule = 0;          // index into rule_names()
  Action action = Action::kAllow;
  Mode mode = Mode::kEnforce; // resolved: rule → conduit → gateway
  uint16_t port = 0;          // server port; 0: any
  uint32_t from_set = kAnySet;
  uint32_t to_set = kAnySet;
  uint32_t units_begin = 0;   // into units_; count 0: any unit
  uint16_t units_count = 0;
  uint16_t ranges_count = 0;  // into ranges_; count 0: any address
  uint32_t ranges_begin = 0;
  // A single unit or range (nearly every rule) is kept here as well, so
  // matching it reads no other cache line than the entry's own.
  uint32_t unit = 0;
  AddressRange range;
};

struct ConduitPolicy {
  std::string name;
  uint32_t wire = 0;
  Action default_action = Action::kDeny;
  Action non_ics = Action::kDeny;
  Action unparsable = Action::kDeny;
  OnDeny on_deny = OnDeny::kReset;
  Mode mode = Mode::kEnforce;          // resolved: conduit → gateway
  // `fragments: reassemble`: IPv4 fragments are rebuilt (normalize/
  // ip_reassembly.h) and judged and forwarded whole; otherwise fragments
  // toward ICS services are dropped.
  bool reassemble_fragments = false;
  std::vector<uint16_t> allow_non_ip;  // ethertypes
  // Hyperscan signatures per ICS protocol (index Protocol); null: none, and
  // the scan is skipped entirely.
  std::array<const SignatureSet*, static_cast<size_t>(ics::Protocol::kCount)> signatures{};
  // Signatures for non-ICS payloads: protocol "tcp" scans TCP only, "udp"
  // UDP only.
  const SignatureSet* tcp_signatures = nullptr;
  const SignatureSet* udp_signatures = nullptr;
};

class CompiledPolicy {
 public:
  // control thread (compiler) -------------------------------------------------
  CompiledPolicy();
  ~CompiledPolicy();

  // lcore (hot path) -----------------------------------------------------------

  // The conduit of a wire, or null when no conduit covers it (bypass).
  const ConduitPolicy* ConduitForWire(uint32_t wire) const {
    return wire < conduit_by_wire_.size() && conduit_by_wire_[wire] >= 0
               ? &conduits_[conduit_by_wire_[wire]]
               : nullptr;
  }
  uint16_t ConduitIndex(const ConduitPolicy* c) const {
    return static_cast<uint16_t>(c - conduits_.data());
  }

  // Judges one ICS request by its initiator. `client`/`server` are the
  // flow's endpoints, `server_port` its server port.
  // `entry_hint`, when given, receives the deciding rule entry's index
  // (~0u: the default decided) for PrefetchRequest.
  Decision JudgeRequest(const ConduitPolicy& conduit, const ics::IcsOp& op, Address client,
                        Address server, uint16_t server_port, uint32_t* entry_hint = nullptr) const;

  // Starts loading what JudgeRequest will read for a request of (kind,
  // function) between these hosts: the host-pair and server lists' slots,
  // and the entry that decided last time. A burst calls it for the next
  // packet while it judges this one, so the policy's cache misses overlap
  // with work instead of stalling it.
  void PrefetchRequest(const ConduitPolicy& conduit, uint8_t kind, uint16_t function,
                       Address client, Address server, uint32_t entry_hint) const;

  // Judges a flow that is not ICS (protocol tcp/udp rules) once; workers
  // cache the result in the flow with the policy epoch.
  Decision JudgeL4(const ConduitPolicy& conduit, uint8_t l4_proto, Address client,
                   Address server, uint16_t server_port) const;

  Decision NonIp(const ConduitPolicy& conduit, uint16_t ethertype) const;
  // The decision of a signature match (SignatureSet match ids index this).
  const Decision& SignatureDecision(uint32_t match_id) const { return signature_decisions_[match_id]; }
  Decision Builtin(const ConduitPolicy& conduit, Action action, uint32_t rule) const {
    return Decision{action, conduit.mode, rule};
  }

  // Identity and names (events, status).
  const std::string& version() const { return version_; }
  const std::string& hash() const { return hash_; }
  uint32_t epoch() const { return epoch_; }
  Mode mode() const { return mode_; }
  const ics::ProtocolPorts& ports() const { return ports_; }
  const std::vector<std::string>& rule_names() const { return rule_names_; }
  const std::vector<ConduitPolicy>& conduits() const { return conduits_; }
  size_t rule_entry_count() const { return entries_.size(); }

  // Per-rule hits (rule_hits.h): written by workers, read by control.
  // Null until the compiler attaches them (unit tests and benchmarks that
  // build policies by hand count nothing).
  RuleHits* hits() const { return hits_.get(); }
  const std::shared_ptr<RuleHits>& shared_hits() const { return hits_; }
  void AttachHits(std::shared_ptr<RuleHits> hits) { hits_ = std::move(hits); }

 private:
  friend class PolicyBuilder;

  // Exact-match key: (conduit, op kind, function). `any` is kExact for rules
  // naming the function, kAnyFunction for rules naming none (they match every
  // function of the kind), kSession for every allow/alert rule of a protocol: the list
  // that decides housekeeping ops (DNP3 link frames, COTP, IEC 104 S/U
  // frames, ENIP encapsulation, OPC UA transport, BACnet BVLC/NPDU), which
  // ride on whatever the pair of hosts may do with the protocol at all.
  enum KeyKind : uint8_t { kExact = 0, kAnyFunction = 1, kSession = 2 };
  struct Key {
    uint16_t conduit = 0;
    uint8_t kind = 0;  // ics::OpKind, or 0xF0 | l4 proto for tcp/udp rules
    uint8_t any = 0;
    uint16_t function = 0;  // ics::PolicyFunction (UMAS: 0x5A00 | its function), or the
                            // server port for tcp/udp rules
    uint16_t pad = 0;
    bool operator==(const Key&) const = default;
  };
  static_assert(sizeof(Key) == 8);
  // Rules whose responders are all single hosts (the common case: "the
  // historian may read PLC 7") are filed under each host's address, and,
  // when their initiators are single hosts too, under each (server, client)
  // pair; so a lookup scans only the rules that can concern its flow, not
  // every rule of the function. Other rules live under :: (never a real
  // address). A lookup consults the pair, server and generic lists and takes
  // the first match in policy order.
  struct Slot {
    Key key;
    uint32_t begin = 0;  // into entries_
    uint32_t count = 0;  // 0: empty slot
    Address server;      // :: for rules not filed by responder host
    Address client;      // :: for rules not filed by initiator host
  };
  static_assert(sizeof(Slot) == 48);

  const Slot* Find(const Key& key, Address server, Address client) const;
  // Which of a key's three lists exist: a small, cache-resident table
  // (one entry per conduit, kind and function), so a lookup does not probe
  // the big table for lists that are not there.
  enum ListBit : uint8_t { kHasGeneric = 1, kHasServer = 2, kHasPair = 4 };
  struct KeyLists {
    Key key;
    uint8_t lists = 0;  // 0: empty slot
  };
  uint8_t ListsOf(const Key& key) const;
  // The first match in policy order across the host list and the generic list.
  const RuleEntry* Match(const Key& key, Address client, Address server, uint16_t server_port,
                         const ics::IcsOp* op) const;
  const RuleEntry* MatchEntries(const Slot* slot, Address client, Address server,
                                uint16_t server_port, const ics::IcsOp* op) const;
  bool EntryMatches(const RuleEntry& e, Address client, Address server, uint16_t server_port,
                    const ics::IcsOp* op) const;
  static uint64_t HashKey(const Key& k, Address server, Address client);

  std::string version_;
  std::string hash_;
  uint32_t epoch_ = 0;
  Mode mode_ = Mode::kEnforce;
  ics::ProtocolPorts ports_;
  std::vector<ConduitPolicy> conduits_;
  std::vector<int32_t> conduit_by_wire_;
  std::vector<std::string> rule_names_;
  std::shared_ptr<RuleHits> hits_;
  // Open-addressing table: read-only once built, power-of-two sized at most
  // half full, linear probing over 16-byte slots: a lookup touches one or
  // two cache lines, takes no lock and never sees a half-written entry
  // because nothing writes after publication.
  std::vector<Slot> slots_;
  uint64_t slot_mask_ = 0;
  std::vector<KeyLists> key_lists_;
  uint64_t key_lists_mask_ = 0;
  // Keys that name no function (kAnyFunction, kSession: every request asks
  // for the first, so it must be cheap) are few: their list bits sit in a
  // table indexed by (conduit, any, kind), read without hashing.
  static size_t FunctionFreeIndex(const Key& k) {
    return (size_t{k.conduit} * 2 + (k.any - 1)) * 256 + k.kind;
  }
  std::vector<uint8_t> function_free_lists_;
  std::vector<RuleEntry> entries_;  // grouped by key, in policy order
  std::vector<AddressSet> address_sets_;
  std::vector<uint32_t> units_;
  std::vector<AddressRange> ranges_;
  std::vector<std::unique_ptr<SignatureSet>> signature_sets_;
  std::vector<Decision> signature_decisions_;
};

using CompiledPolicyPtr = std::shared_ptr<const CompiledPolicy>;

}  // namespace conduit::policy
