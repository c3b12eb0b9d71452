// Builds a CompiledPolicy piece by piece (control thread only). The control
// plane's compiler translates the protobuf snapshot into these calls; tests
// and benchmarks may call them directly.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ics/ics_op.h"
#include "policy/compiled_policy.h"

namespace conduit::policy {

struct RuleSpec {
  std::string id;
  // ICS rules: the (kind, function) pairs named, or, when empty, every
  // function of `kinds`. `session_kind` is the protocol's main kind, whose
  // session list decides housekeeping ops.
  std::vector<std::pair<ics::OpKind, uint16_t>> functions;
  std::vector<ics::OpKind> kinds;
  ics::OpKind session_kind = ics::OpKind::kNone;
  uint8_t l4_proto = 0;  // tcp/udp rules: 6 or 17 (ICS fields unused)
  std::vector<Prefix> from;  // empty: any initiator
  std::vector<Prefix> to;    // empty: any responder
  uint16_t port = 0;         // server port; 0: any
  std::vector<uint32_t> units;
  std::vector<AddressRange> ranges;
  Action action = Action::kAllow;
  std::optional<Mode> mode;  // unset: the conduit's
};

class PolicyBuilder {
 public:
  PolicyBuilder(std::string version, Mode mode);

  void SetHash(std::string hash) { policy_->hash_ = std::move(hash); }
  void SetEpoch(uint32_t epoch) { policy_->epoch_ = epoch; }
  ics::ProtocolPorts& ports() { return policy_->ports_; }

  // Returns the conduit's index. `conduit.mode` must already be resolved.
  uint16_t AddConduit(ConduitPolicy conduit);
  // Rules are matched in the order they are added.
  void AddRule(uint16_t conduit, const RuleSpec& rule);
  // A name for a non-rule reason (a signature id); returns its rule index.
  uint32_t AddName(std::string name);
  // Registers a signature's decision; returns the match id to compile it with.
  uint32_t AddSignatureDecision(std::string id, Action action, Mode mode);
  // Hands a signature set to the policy (it lives and dies with it) and
  // attaches it to a conduit for one ICS protocol, or (protocol kUnknown)
  // for non-ICS payloads of `l4_proto` (6 TCP, 17 UDP).
  void AttachSignatures(uint16_t conduit, ics::Protocol protocol, uint8_t l4_proto,
                        std::unique_ptr<SignatureSet> signatures);

  std::unique_ptr<CompiledPolicy> Build();

 private:
  uint32_t AddressSetFor(const std::vector<Prefix>& prefixes);

  std::unique_ptr<CompiledPolicy> policy_;
  struct PendingEntry {
    CompiledPolicy::Key key;
    RuleEntry entry;
    Address server;  // :: unless the rule is filed under a responder host
    Address client;  // :: unless also under an initiator host
  };
  std::vector<PendingEntry> pending_;
};

}  // namespace conduit::policy
