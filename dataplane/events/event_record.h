// One event: an ICS operation (or a non-ICS packet) and what was decided
// about it. Fixed-size POD written by workers into their event ring and
// rendered to the stable JSON line by control (control/events/event_json.h).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ics/ics_op.h"
#include "ics/malformed.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"

namespace conduit {

enum class EventVerdict : uint8_t { kNone = 0, kAllow, kDeny, kAlert };
// What the record reports: a verdict (the usual), or a change of state.
enum class EventKind : uint8_t {
  kVerdict = 0,
  kOverloadEnter,   // a worker stopped inspecting: overloaded
  kOverloadExit,    // ... and resumed
  kPolicyChange,    // a pushed policy became active (mode: its gateway mode)
  kModeChange,      // an operator changed a mode (conduit 0xFFFF: the gateway)
  kPolicyRefused,   // a start-up policy was refused (rule: the refusal's id, for its text)
  kEvasion,         // the normalizer stopped a packet (drop_reason: a DropReason)
  kNewBehaviour,    // a tuple not in the conduit's accepted baseline (control side)
  kShadow,          // a shadow candidate disagrees (drop_reason: the active EventVerdict)
  kPolicyConfirmed, // the operator confirmed a policy pushed with a deadline (control side)
  kPolicyReverted,  // its confirm deadline passed: the previous policy is active again
  kControlLine,     // rendered on the control side (EventDrain::Post): audit, grants
};
inline constexpr uint16_t kGatewayScope = 0xFFFF;
// Why a packet was judged `unparsable` (rule kRuleUnparsable), shown as the
// event's "reason": `detail` names a PDU's flaw (ics::MalformedReason) or a
// header's (ParseResult); the others are the state of the flow's framing.
enum class UnparsableCause : uint8_t {
  kNone = 0,
  kMalformedPdu,     // detail: the ics::MalformedReason
  kBadHeaders,       // detail: the ParseResult (L2-L4 headers)
  kInvalidHeader,    // bytes that are not the protocol's header in a framed flow
  kStreamGap,        // bytes after a gap in the stream: their PDU boundary is unknown
  kFramingLost,      // the flow's framing was lost earlier
  kUnframed,         // no PDU boundary found yet (still trying to sync)
  kHoleFill,         // bytes of an earlier gap, never inspected
  kTooManyOps,       // more operations than one packet's list holds
};
enum class EventMode : uint8_t { kNone = 0, kEnforce, kMonitor, kBypass };

struct EventRecord {
  uint64_t ts_ns = 0;                 // wall clock, ns since the epoch
  uint64_t frame = 0;                 // 1-based capture frame (simulate only; 0 = none)
  std::array<uint8_t, 16> src{};      // IPv6 form, IPv4 mapped
  std::array<uint8_t, 16> dst{};
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t l4_proto = 0;
  uint8_t ip_version = 0;
  EventVerdict verdict = EventVerdict::kNone;  // kNone: decode only, no policy
  EventMode mode = EventMode::kNone;
  bool enforced = false;              // false when a deny was only reported
  bool cut = false;                   // simulate: a request of a flow already cut by `rule`
  uint8_t drop_reason = 0;            // kEvasion: the DropReason
  bool suspicious = false;            // kEvasion: a reason only an attack (or a broken stack) gives
  uint16_t conduit = 0;               // index into the policy's conduits
  EventKind kind = EventKind::kVerdict;
  uint8_t worker = 0;                 // state changes: which worker
  uint32_t rule = 0;                  // index into the policy's rule ids (0: default);
                                      // kPolicyChange: confirm_within seconds (0: none)
  uint32_t policy_epoch = 0;
  uint32_t bytes = 0;                 // payload bytes of the packet
  UnparsableCause unparsable = UnparsableCause::kNone;  // rule kRuleUnparsable: why
  uint8_t unparsable_detail = 0;      // ... a MalformedReason or ParseResult
  ics::IcsOp op;                      // op.kind == kNone: not an ICS operation
};

// The "reason" of an unparsable verdict ("" for other records).
inline std::string_view UnparsableReason(const EventRecord& e) {
  switch (e.unparsable) {
    case UnparsableCause::kNone: return "";
    case UnparsableCause::kMalformedPdu:
      return ics::MalformedReasonName(static_cast<ics::MalformedReason>(e.unparsable_detail));
    case UnparsableCause::kBadHeaders:
      return ParseResultName(static_cast<ParseResult>(e.unparsable_detail));
    case UnparsableCause::kInvalidHeader: return "invalid_header";
    case UnparsableCause::kStreamGap: return "stream_gap";
    case UnparsableCause::kFramingLost: return "framing_lost";
    case UnparsableCause::kUnframed: return "unframed";
    case UnparsableCause::kHoleFill: return "hole_fill";
    case UnparsableCause::kTooManyOps: return "too_many_operations";
  }
  return "unknown";
}

// A record of `meta`'s endpoints and size; the caller adds what was decided.
inline EventRecord EventForPacket(const PacketMeta& meta, uint64_t ts_ns, uint64_t frame) {
  EventRecord e;
  e.ts_ns = ts_ns;
  e.frame = frame;
  e.src = meta.src_addr;
  e.dst = meta.dst_addr;
  e.sport = meta.src_port;
  e.dport = meta.dst_port;
  e.l4_proto = meta.l4_proto;
  e.ip_version = meta.ip_version;
  e.bytes = meta.payload_len;
  return e;
}

}  // namespace conduit
