#include "events/event_json.h"

#include <arpa/inet.h>


#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/time_text.h"
#include "ics/registry.h"
#include "stats/counters.h"

namespace conduit {
namespace {

constexpr const char* kVerdicts[] = {"", "allow", "deny", "alert"};
constexpr const char* kModes[] = {"", "enforce", "monitor", "bypass"};

void Field(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() > 1 ? ",\"" : "\"";
  out.append(key.data(), key.size());
  out += "\":";
  AppendJsonString(out, value);
}

void Field(std::string& out, std::string_view key, uint64_t value) {
  out += out.size() > 1 ? ",\"" : "\"";
  out.append(key.data(), key.size());
  absl::StrAppend(&out, "\":", value);
}

std::string_view L4Name(uint8_t proto) {
  switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    default: return "other";
  }
}

}  // namespace

std::string AddressText(const std::array<uint8_t, 16>& addr, uint8_t ip_version) {
  char buf[INET6_ADDRSTRLEN];
  if (ip_version == 4) {
    inet_ntop(AF_INET, addr.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf));
  }
  return buf;
}

std::string RenderEventJson(const EventRecord& e, const EventNames& names) {
  std::string out = "{";
  Field(out, "ts", Rfc3339Micros(e.ts_ns));
  if (e.kind == EventKind::kOverloadEnter || e.kind == EventKind::kOverloadExit) {
    // A worker changed state: overload bypass entered or left.
    Field(out, "event", e.kind == EventKind::kOverloadEnter ? "overload_bypass_enter"
                                                            : "overload_bypass_exit");
    Field(out, "worker", e.worker);
    Field(out, "cause", e.kind == EventKind::kOverloadEnter
                            ? "RX backlog or inspection cost above the high watermark"
                            : "below the low watermark: inspecting again");
    return out + "}";
  }
  if (e.kind == EventKind::kPolicyChange || e.kind == EventKind::kModeChange) {
    Field(out, "event", e.kind == EventKind::kPolicyChange ? "policy_change" : "mode_change");
    Field(out, "scope", e.conduit == kGatewayScope ? std::string("gateway") : "conduit " + names.conduit);
    Field(out, "mode", kModes[static_cast<int>(e.mode)]);
    Field(out, "cause", e.kind == EventKind::kPolicyChange ? "policy pushed" : "operator (SetMode)");
    if (!names.policy_version.empty()) Field(out, "policy_version", names.policy_version);
    // A push with a deadline (conduitctl push --confirm-within): reverted unless confirmed.
    if (e.kind == EventKind::kPolicyChange && e.rule != 0) Field(out, "confirm_within_s", e.rule);
    return out + "}";
  }
  if (e.kind == EventKind::kPolicyConfirmed || e.kind == EventKind::kPolicyReverted) {
    // Confirm or roll back: policy_version is the policy running from now on.
    const bool confirmed = e.kind == EventKind::kPolicyConfirmed;
    Field(out, "event", confirmed ? "policy_confirmed" : "policy_reverted");
    Field(out, "scope", "gateway");
    Field(out, "policy_version", names.policy_version);
    if (!confirmed && !names.reverted_from.empty()) Field(out, "unconfirmed_version", names.reverted_from);
    Field(out, "cause", confirmed ? std::string("operator (conduitctl confirm)")
                                  : "confirm deadline passed: reverted to " + names.policy_version);
    return out + "}";
  }
  if (e.kind == EventKind::kPolicyRefused) {
    // A start-up policy was refused: the gateway runs without it.
    Field(out, "event", "policy_refused");
    Field(out, "scope", "gateway");
    Field(out, "error", names.error);
    Field(out, "cause", names.policy_version.empty() ? "start-up: no policy, forwarding uninspected"
                                                     : "start-up: running policy_version instead");
    if (!names.policy_version.empty()) Field(out, "policy_version", names.policy_version);
    return out + "}";
  }
  if (e.kind == EventKind::kEvasion) {
    // The normalizer stopped a packet the PLC would have read differently
    // from the gateway (or would have discarded): what and why, then the
    // packet's endpoints as for any verdict.
    Field(out, "event", "evasion");
    Field(out, "reason", DropReasonName(static_cast<DropReason>(e.drop_reason)));
    absl::StrAppend(&out, ",\"suspicious\":", e.suspicious ? "true" : "false");
  }
  if (e.kind == EventKind::kNewBehaviour) {
    // "This is unusual", apart from policy denies ("this is wrong"): a
    // client, server and operation the accepted baseline never had.
    Field(out, "event", "new_behaviour");
    Field(out, "cause", "not in the accepted baseline");
  }
  if (e.kind == EventKind::kShadow) {
    // The candidate (push --shadow) would decide otherwise than the active
    // policy: verdict, rule and policy_version below are the candidate's.
    Field(out, "event", "shadow");
    Field(out, "change", e.verdict == EventVerdict::kDeny ? "newly_blocked" : "newly_allowed");
    Field(out, "active_verdict", kVerdicts[e.drop_reason < 4 ? e.drop_reason : 0]);
  }
  if (e.frame != 0) Field(out, "frame", e.frame);
  if (!names.conduit.empty()) Field(out, "conduit", names.conduit);
  Field(out, "src", AddressText(e.src, e.ip_version));
  Field(out, "sport", e.sport);
  Field(out, "dst", AddressText(e.dst, e.ip_version));
  Field(out, "dport", e.dport);
  Field(out, "l4", L4Name(e.l4_proto));
  const ics::IcsOp& op = e.op;
  if (op.kind != ics::OpKind::kNone) {
    ics::Protocol p = ics::ProtocolOf(op.kind);
    Field(out, "protocol", ics::ProtocolName(p));
    if (ics::OpKindLabel(op.kind) != ics::ProtocolName(p)) Field(out, "layer", ics::OpKindLabel(op.kind));
    Field(out, "direction", op.direction == ics::Direction::kRequest    ? "request"
                            : op.direction == ics::Direction::kResponse ? "response"
                                                                        : "unknown");
    Field(out, "function", op.function);
    const std::string_view name = ics::FunctionName(op);
    if (!name.empty()) Field(out, "function_name", name);
    if (op.Has(ics::kOpHasSubFunction)) Field(out, "sub_function", op.sub_function);
    if (op.Has(ics::kOpHasUnit)) Field(out, "unit", op.unit);
    if (op.Has(ics::kOpHasAddress)) {
      absl::StrAppend(&out, ",\"address\":[", op.address_first, ",", op.address_last, "]");
    }
    if (op.Has(ics::kOpHasObject)) {
      absl::StrAppend(&out, ",\"object\":{\"group\":", op.object_group, ",\"variation\":",
                      op.object_variation, ",\"instance\":", op.object_instance, "}");
    }
    if (op.Has(ics::kOpException)) Field(out, "exception", op.exception_code);
    if (op.Has(ics::kOpUnsolicited)) absl::StrAppend(&out, ",\"unsolicited\":true");
    if (op.Has(ics::kOpTruncated)) absl::StrAppend(&out, ",\"truncated\":true");
  } else {
    Field(out, "protocol", L4Name(e.l4_proto));
  }
  if (e.bytes != 0) Field(out, "bytes", e.bytes);
  if (e.verdict != EventVerdict::kNone) {
    Field(out, "verdict", kVerdicts[static_cast<int>(e.verdict)]);
    absl::StrAppend(&out, ",\"enforced\":", e.enforced ? "true" : "false");
    Field(out, "mode", kModes[static_cast<int>(e.mode)]);
    Field(out, "rule", names.rule.empty() ? "default" : names.rule);
    if (e.unparsable != UnparsableCause::kNone) Field(out, "reason", UnparsableReason(e));
    if (e.cut) absl::StrAppend(&out, ",\"session_cut\":true");  // simulate: denied by an earlier cut
  }
  if (!names.policy_version.empty()) Field(out, "policy_version", names.policy_version);
  out += "}";
  return out;
}

}  // namespace conduit
