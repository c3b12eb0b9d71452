#include "verdict/judge.h"

#include <span>

namespace conduit {
namespace {

using policy::Action;
using policy::Decision;
using policy::RuleHits;
using policy::Mode;

FlowDecision ToFlow(const Decision& d) {
  return FlowDecision{d.rule, static_cast<uint8_t>(d.action), static_cast<uint8_t>(d.mode), 0};
}
Decision FromFlow(const FlowDecision& f) {
  return Decision{static_cast<Action>(f.action), static_cast<Mode>(f.mode), f.rule};
}

EventVerdict ToEventVerdict(Action a) {
  switch (a) {
    case Action::kAllow: return EventVerdict::kAllow;
    case Action::kDeny: return EventVerdict::kDeny;
    case Action::kAlert: return EventVerdict::kAlert;
  }
  return EventVerdict::kNone;
}

// Why a packet is judged `unparsable`, for its event (event_record.h).
struct Unparsable {
  UnparsableCause cause = UnparsableCause::kNone;
  uint8_t detail = 0;
};

Unparsable RefusedPdu(ics::MalformedReason r) {
  return {UnparsableCause::kMalformedPdu, static_cast<uint8_t>(r)};
}

// A flow whose framing the inspector could not keep (JudgeIcs' first case).
Unparsable WhyUnframed(const Inspection& in) {
  if (in.MalformedPdu()) return RefusedPdu(in.malformed);
  switch (in.feed) {
    case ics::FeedStatus::kFramingLost:
      return {in.gap ? UnparsableCause::kStreamGap : UnparsableCause::kInvalidHeader};
    case ics::FeedStatus::kUnframed: return {UnparsableCause::kUnframed};
    case ics::FeedStatus::kHoleFill: return {UnparsableCause::kHoleFill};
    default: return {UnparsableCause::kFramingLost};
  }
}

void Emit(const JudgeContext& ctx, const PacketMeta& meta, const Decision& d,
          const ics::IcsOp* op, Unparsable why = {}) {
  // Every decision passes here once (a request, a flow, a signature match):
  // the rule's hit. A response follows its request's decision: no hit.
  if (RuleHits* hits = ctx.policy.hits();
      hits != nullptr && (op == nullptr || op->direction != ics::Direction::kResponse)) {
    hits->Record(ctx.worker, d.rule, ctx.now_ns);
  }
  if (ctx.events == nullptr || (!d.Reported() && !ctx.report_all)) return;
  EventRecord e = EventForPacket(meta, ctx.now_ns, ctx.frame);
  e.verdict = ToEventVerdict(d.action);
  e.mode = static_cast<EventMode>(d.mode);
  e.enforced = d.Drops();
  e.conduit = ctx.policy.ConduitIndex(&ctx.conduit);
  e.rule = d.rule;
  e.policy_epoch = ctx.policy.epoch();
  e.unparsable = why.cause;
  e.unparsable_detail = why.detail;
  if (op != nullptr) e.op = *op;
  ctx.events->TryPush(e);  // a full ring drops (and counts) the event, never the packet
}

// A shadow candidate's decision beside the active one's: counted in the
// candidate's hits (would_block when it denies), and where the two differ
// on blocking, a disagreement and an "event":"shadow".
void JudgeShadow(const JudgeContext& ctx, const PacketMeta& meta, const Decision& active,
                 const Decision& candidate, const ics::IcsOp* op) {
  const bool blocks = candidate.action == Action::kDeny;
  RuleHits* hits = ctx.shadow->hits();
  if (hits != nullptr) hits->Record(ctx.worker, candidate.rule, ctx.now_ns, blocks);
  if (blocks == (active.action == Action::kDeny)) return;
  if (hits != nullptr) hits->RecordDisagreement(ctx.worker, blocks);
  EventRing* events = ctx.shadow_events != nullptr ? ctx.shadow_events : ctx.events;
  if (events == nullptr) return;
  EventRecord e = EventForPacket(meta, ctx.now_ns, ctx.frame);
  e.kind = EventKind::kShadow;
  e.verdict = ToEventVerdict(candidate.action);
  e.mode = static_cast<EventMode>(candidate.mode);
  e.conduit = ctx.shadow->ConduitIndex(ctx.shadow_conduit);
  e.rule = candidate.rule;
  e.policy_epoch = ctx.shadow->epoch();
  e.drop_reason = static_cast<uint8_t>(ToEventVerdict(active.action));  // kShadow: the active verdict
  if (op != nullptr) e.op = *op;
  events->TryPush(e);
}

// simulate: what the flow's peers went on asking after the flow was cut.
// Every decoded request is reported as denied by the cut; responses are not
// (the gateway dropped the requests they answer).
void EmitCutRequests(const JudgeContext& ctx, const PacketMeta& meta, const Decision& block,
                     const ics::OpList& ops) {
  if (ctx.events == nullptr) return;
  for (const ics::IcsOp& op : ops) {
    if (op.direction == ics::Direction::kResponse) continue;
    EventRecord e = EventForPacket(meta, ctx.now_ns, ctx.frame);
    e.verdict = EventVerdict::kDeny;
    e.mode = EventMode::kEnforce;
    e.enforced = true;
    e.cut = true;
    e.conduit = ctx.policy.ConduitIndex(&ctx.conduit);
    e.rule = block.rule;
    e.policy_epoch = ctx.policy.epoch();
    e.op = op;
    ctx.events->TryPush(e);
  }
}

// A packet the normalizer stops: an "evasion" event naming the reason
// (with the flow's protocol, so a SIEM can tell an attack on a PLC from a
// broken device elsewhere).
void EmitNormalized(const JudgeContext& ctx, const PacketMeta& meta, const Inspection& in,
                    bool enforced) {
  if (ctx.events == nullptr) return;
  EventRecord e = EventForPacket(meta, ctx.now_ns, ctx.frame);
  e.kind = EventKind::kEvasion;
  e.verdict = EventVerdict::kDeny;
  e.mode = enforced ? EventMode::kEnforce : EventMode::kMonitor;
  e.enforced = enforced;
  e.conduit = ctx.policy.ConduitIndex(&ctx.conduit);
  e.rule = policy::kRuleNormalize;
  e.policy_epoch = ctx.policy.epoch();
  e.drop_reason = static_cast<uint8_t>(in.drop);
  e.suspicious = in.evasion;
  ctx.events->TryPush(e);
}

// The endpoints of the flow as (client, server) and the server's port.
struct Endpoints {
  policy::Address client;
  policy::Address server;
  uint16_t server_port;
};
Endpoints EndpointsOf(const PacketMeta& meta, bool from_client) {
  const policy::Address src = policy::AddressFrom(meta.src_addr);
  const policy::Address dst = policy::AddressFrom(meta.dst_addr);
  return from_client ? Endpoints{src, dst, meta.dst_port} : Endpoints{dst, src, meta.src_port};
}

void ScanSignatures(const JudgeContext& ctx, const SignatureSet* signatures, const PacketMeta& meta,
                    const uint8_t* frame, Decision& verdict) {
  if (signatures == nullptr || meta.payload_len == 0 || ctx.matches == nullptr) return;
  ctx.matches->Clear();
  if (signatures->Scan(ctx.worker, {frame + meta.payload_offset, meta.payload_len}, *ctx.matches) == 0) {
    return;
  }
  for (uint32_t id : ctx.matches->matches()) {
    const Decision& d = ctx.policy.SignatureDecision(id);
    Emit(ctx, meta, d, nullptr);
    verdict = policy::Stricter(verdict, d);
  }
}

// A packet whose framing is lost still carries what its peer may execute:
// requests decoded before the framing broke, and candidates found by
// scanning past it (framer.h). A denied or alerted one counts even where
// the conduit lets unparsable bytes pass; allowed ones change nothing (no
// hit, no event: a candidate may be a chance match).
// `first`: where in `ops` they begin.
void JudgeUnframedRequests(const JudgeContext& ctx, const PacketMeta& meta, const Inspection& in,
                           const ics::OpList& ops, size_t first, Decision& verdict) {
  if (first == ops.size() && ops.overflowed() == 0) [[likely]] return;
  const Endpoints ends = EndpointsOf(meta, in.from_client);
  for (const ics::IcsOp& op : std::span<const ics::IcsOp>(ops.begin() + first, ops.end())) {
    if (op.direction == ics::Direction::kResponse) continue;
    const Decision d =
        ctx.policy.JudgeRequest(ctx.conduit, op, ends.client, ends.server, ends.server_port);
    if (d.action == Action::kAllow) continue;
    Emit(ctx, meta, d, &op);
    verdict = policy::Stricter(verdict, d);
  }
  if (ops.overflowed() != 0) [[unlikely]] {
    // More candidates than one packet's list holds: the rest were never
    // judged, so the packet cannot pass on the judged ones' account.
    const Decision d{Action::kDeny, ctx.conduit.mode, policy::kRuleUnparsable};
    Emit(ctx, meta, d, nullptr, {UnparsableCause::kTooManyOps});
    verdict = policy::Stricter(verdict, d);
  }
}

Decision JudgeIcs(const JudgeContext& ctx, const PacketMeta& meta, const uint8_t* frame,
                  const Inspection& in, const ics::OpList& ops) {
  FlowEntry& flow = *in.flow;
  const policy::ConduitPolicy& conduit = ctx.conduit;
  switch (in.feed) {
    case ics::FeedStatus::kFramingLost:
    case ics::FeedStatus::kUnparsable:
    case ics::FeedStatus::kUnframed:
    case ics::FeedStatus::kHoleFill: {
      Decision d = ctx.policy.Builtin(conduit, conduit.unparsable, policy::kRuleUnparsable);
      Emit(ctx, meta, d, nullptr, WhyUnframed(in));
      JudgeUnframedRequests(ctx, meta, in, ops, 0, d);
      // Undecodable bytes are still scanned: with `unparsable: allow`,
      // breaking the framing on purpose must not hide a payload from the
      // protocol's signatures.
      ScanSignatures(ctx, conduit.signatures[static_cast<size_t>(flow.protocol)], meta, frame, d);
      return d;
    }
    default: break;
  }
  Decision verdict{Action::kAllow, conduit.mode, policy::kRuleDefault};
  if (ops.overflowed() != 0 || in.MalformedPdu()) [[unlikely]] {
    // More operations than one packet's op list holds, or a PDU its decoder
    // refused as malformed (what the peer makes of it was never judged):
    // the packet cannot be allowed on the other operations' account.
    verdict = ctx.policy.Builtin(conduit, conduit.unparsable, policy::kRuleUnparsable);
    Emit(ctx, meta, verdict, nullptr,
         in.MalformedPdu() ? RefusedPdu(in.malformed) : Unparsable{UnparsableCause::kTooManyOps});
  }
  const Endpoints ends = EndpointsOf(meta, in.from_client);
  const size_t framed = ops.size() - in.candidates;
  for (const ics::IcsOp& op : std::span<const ics::IcsOp>(ops.begin(), framed)) {
    Decision d;
    if (op.direction == ics::Direction::kResponse) {
      if (flow.last_request.decision.action != 0) {
        d = FromFlow(flow.last_request.decision);
      } else {
        d = Decision{Action::kAlert, conduit.mode, policy::kRuleUnsolicited};
      }
    } else {
      RequestCache& cache = flow.last_request;
      if (cache.epoch == ctx.policy.epoch() && cache.kind == static_cast<uint8_t>(op.kind) &&
          cache.function == ics::PolicyFunction(op) && cache.unit == op.unit &&
          cache.address_first == op.address_first && cache.address_last == op.address_last &&
          cache.flags == op.flags) {
        d = FromFlow(cache.decision);
      } else {
        uint32_t entry_hint;
        d = ctx.policy.JudgeRequest(conduit, op, ends.client, ends.server, ends.server_port,
                                    &entry_hint);
        cache = RequestCache{ctx.policy.epoch(), op.unit,     op.address_first,
                             op.address_last,    ics::PolicyFunction(op), static_cast<uint8_t>(op.kind),
                             op.flags,           ToFlow(d),   entry_hint};
      }
      if (ctx.shadow_conduit != nullptr) [[unlikely]] {
        JudgeShadow(ctx, meta, d,
                    ctx.shadow->JudgeRequest(*ctx.shadow_conduit, op, ends.client, ends.server,
                                             ends.server_port),
                    &op);
      }
    }
    Emit(ctx, meta, d, &op);
    verdict = policy::Stricter(verdict, d);
  }
  if (in.candidates != 0) [[unlikely]] {
    // Found inside a PDU its decoder refused, where the peer may resync.
    JudgeUnframedRequests(ctx, meta, in, ops, framed, verdict);
  }
  ScanSignatures(ctx, conduit.signatures[static_cast<size_t>(flow.protocol)], meta, frame, verdict);
  return verdict;
}

Decision JudgeNonIcs(const JudgeContext& ctx, const PacketMeta& meta, const uint8_t* frame,
                     const Inspection& in) {
  const policy::ConduitPolicy& conduit = ctx.conduit;
  Decision verdict;
  if (in.flow != nullptr) {
    FlowEntry& flow = *in.flow;
    // Judged once per flow and policy epoch: a policy swap re-judges it.
    if (flow.flow_verdict.action == 0 || flow.policy_epoch != ctx.policy.epoch()) {
      const Endpoints ends = EndpointsOf(meta, in.from_client);
      const Decision d = ctx.policy.JudgeL4(conduit, meta.l4_proto, ends.client, ends.server,
                                            ends.server_port);
      flow.flow_verdict = ToFlow(d);
      flow.policy_epoch = ctx.policy.epoch();
      Emit(ctx, meta, d, nullptr);  // reported once per flow, not per packet
      if (ctx.shadow_conduit != nullptr) [[unlikely]] {
        JudgeShadow(ctx, meta, d,
                    ctx.shadow->JudgeL4(*ctx.shadow_conduit, meta.l4_proto, ends.client,
                                        ends.server, ends.server_port),
                    nullptr);
      }
    }
    verdict = FromFlow(flow.flow_verdict);
  } else {
    // No ports (ICMP, later fragments, other IP protocols): judged per packet.
    const policy::Address src = policy::AddressFrom(meta.src_addr);
    const policy::Address dst = policy::AddressFrom(meta.dst_addr);
    verdict = ctx.policy.JudgeL4(conduit, meta.l4_proto, src, dst, 0);
    Emit(ctx, meta, verdict, nullptr);
  }
  const SignatureSet* signatures = meta.l4_proto == kIpProtoTcp ? conduit.tcp_signatures
                                   : meta.l4_proto == kIpProtoUdp ? conduit.udp_signatures
                                                                : nullptr;
  ScanSignatures(ctx, signatures, meta, frame, verdict);
  return verdict;
}

}  // namespace

void PrefetchVerdict(const JudgeContext& ctx, const PacketMeta& meta, const Inspection& inspection,
                     const ics::OpList& ops) {
  // Responses follow their request's verdict: no policy lookup.
  if (inspection.flow == nullptr || !inspection.from_client || ops.empty()) return;
  const ics::IcsOp& op = ops[0];
  const RequestCache& last = inspection.flow->last_request;
  const bool same_kind = last.epoch == ctx.policy.epoch() && last.kind == static_cast<uint8_t>(op.kind);
  const Endpoints ends = EndpointsOf(meta, /*from_client=*/true);
  ctx.policy.PrefetchRequest(ctx.conduit, static_cast<uint8_t>(op.kind), ics::PolicyFunction(op), ends.client,
                             ends.server, same_kind ? last.entry_hint : ~0u);
  if (ctx.shadow_conduit != nullptr) [[unlikely]] {
    // The candidate keeps no per-flow cache: its lookup always walks the
    // table, so its lines load a packet ahead too.
    ctx.shadow->PrefetchRequest(*ctx.shadow_conduit, static_cast<uint8_t>(op.kind),
                                ics::PolicyFunction(op), ends.client, ends.server, ~0u);
  }
}

PacketVerdict JudgePacket(const JudgeContext& ctx, ParseResult parsed, const PacketMeta& meta,
                          const uint8_t* frame, const Inspection& inspection,
                          const ics::OpList& ops) {
  const policy::ConduitPolicy& conduit = ctx.conduit;
  if (inspection.drop != DropReason::kCount) [[unlikely]] {
    const bool enforce = conduit.mode == Mode::kEnforce;
    EmitNormalized(ctx, meta, inspection, enforce);
    if (enforce) {
      PacketVerdict out;
      out.decision = Decision{Action::kDeny, Mode::kEnforce, policy::kRuleNormalize};
      out.drop = true;  // silently, as the receiving host would: no reset
      out.normalized = inspection.drop;
      return out;
    }
    // monitor: reported as a would-drop; judged as usual below
  }
  Decision verdict;
  if (parsed == ParseResult::kNonIp) {
    verdict = ctx.policy.NonIp(conduit, meta.ethertype);
    Emit(ctx, meta, verdict, nullptr);
  } else if (parsed != ParseResult::kOk) [[unlikely]] {
    verdict = ctx.policy.Builtin(conduit, conduit.unparsable, policy::kRuleUnparsable);
    Emit(ctx, meta, verdict, nullptr, {UnparsableCause::kBadHeaders, static_cast<uint8_t>(parsed)});
  } else if (inspection.flow != nullptr && inspection.flow->blocked) {
    // The flow already lost a packet to an enforced deny (and, with
    // on_deny: reset, both ends were told): keep it closed.
    verdict = FromFlow(inspection.flow->flow_verdict);
    verdict.action = Action::kDeny;
    verdict.mode = Mode::kEnforce;
    if (ctx.report_cut_requests) [[unlikely]] EmitCutRequests(ctx, meta, verdict, ops);
  } else if (inspection.flow != nullptr && inspection.flow->protocol != ics::Protocol::kUnknown &&
             !inspection.flow->not_ics && inspection.feed != ics::FeedStatus::kNotIcs) {
    // (A UDP datagram that is not the port's protocol leaves the flow ICS,
    // since each datagram stands alone, but is itself judged as non-ICS.)
    verdict = JudgeIcs(ctx, meta, frame, inspection, ops);
  } else {
    verdict = JudgeNonIcs(ctx, meta, frame, inspection);
    if (inspection.candidates != 0) [[unlikely]] {
      // On an ICS port, bytes that are not the port's protocol to the
      // gateway may still hold a request the server finds in them.
      JudgeUnframedRequests(ctx, meta, inspection, ops, ops.size() - inspection.candidates, verdict);
    }
  }
  PacketVerdict out;
  out.decision = verdict;
  out.drop = verdict.Drops();
  if (out.drop) {
    if (inspection.flow != nullptr && !inspection.flow->blocked) {
      inspection.flow->blocked = true;
      inspection.flow->flow_verdict = ToFlow(verdict);
    }
    out.reset = meta.l4_proto == kIpProtoTcp && meta.Has(kPktHasL4) &&
                conduit.on_deny == policy::OnDeny::kReset;
  }
  return out;
}

}  // namespace conduit
