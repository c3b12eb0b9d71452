// Judges one parsed, inspected packet against the compiled policy: the
// classify + verdict stages of the worker pipeline. Pure C++ (no DPDK), so
// conduitctl simulate runs exactly this code.
//
// Requests are judged by their initiator; a response follows the verdict of
// its flow's last request; a response with no request is reported as
// unsolicited. Once an enforced deny drops a packet, the rest of that flow is
// dropped too, so a retransmission of the denied segment cannot slip through
// (without events, unless report_cut_requests asks for them).
#pragma once

#include <cstdint>

#include "classify/signatures.h"
#include "events/event_ring.h"
#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "normalize/packet_checks.h"
#include "parse/parse.h"
#include "policy/compiled_policy.h"
#include "stats/counters.h"

namespace conduit {

namespace observe {
class ObserveTable;
}

struct PacketVerdict {
  policy::Decision decision;  // the strictest decision over the packet
  bool drop = false;          // an enforced deny
  bool reset = false;         // ... and the conduit says reset (TCP only)
  // Why the normalizer dropped it (kCount: it did not; then a drop is the
  // policy's, counted as policy_deny or unparsable by decision.rule).
  DropReason normalized = DropReason::kCount;
  // A fragment kept for reassembly (enforce): neither forwarded nor dropped.
  bool held = false;
};

struct JudgeContext {
  const policy::CompiledPolicy& policy;
  const policy::ConduitPolicy& conduit;
  size_t worker = 0;           // this worker's Hyperscan scratch
  uint64_t now_ns = 0;         // event timestamps
  uint64_t frame = 0;          // simulate: capture frame number
  EventRing* events = nullptr; // null: no events (benchmarks)
  MatchSet* matches = nullptr; // scratch for signature scans
  bool report_all = false;     // simulate: an event for every decision, allows too
  // simulate: a flow cut by an enforced deny still gets an event for each
  // request it goes on sending (the gateway would drop them: verdict deny by
  // the rule that cut it, `cut` set). The packet is dropped all the same.
  bool report_cut_requests = false;
  // Verify IPv4/TCP/UDP checksums in software where the port did not say
  // GOOD or BAD (simulate: off unless asked; captures taken on the sending
  // host carry checksums left to the NIC).
  normalize::PacketCheckConfig checks;
  // Observation (observe/observe_table.h): JudgeBurst records every packet
  // it judges here, except those the normalizer dropped. Null: not observed.
  observe::ObserveTable* observe = nullptr;
  uint8_t wire = 0;  // the wire the burst came in on (the tuples' `wire`)
  // A shadow candidate (push --shadow) and its conduit for this wire: every
  // request and flow the active policy decides is judged by it too, counted
  // in its RuleHits, and a disagreement is an "event":"shadow". Never
  // changes the packet's verdict. Null: none.
  const policy::CompiledPolicy* shadow = nullptr;
  const policy::ConduitPolicy* shadow_conduit = nullptr;
  // Where "event":"shadow" goes: the worker's ring even when `events` is
  // null because no policy is active (observe-only bursts report nothing
  // of their own).
  EventRing* shadow_events = nullptr;
};

// `frame` holds the bytes that were parsed into `meta`. `inspection` comes
// from Inspector::Inspect (flow may be null for packets without ports).
// lcore (hot path): no allocation; events that do not fit are counted.
PacketVerdict JudgePacket(const JudgeContext& ctx, ParseResult parsed, const PacketMeta& meta,
                          const uint8_t* frame, const Inspection& inspection,
                          const ics::OpList& ops);

// Starts loading what JudgePacket will read from the policy for this
// inspected packet's first request. JudgeBurst calls it a packet ahead:
// the lines load while the previous packet is judged. Reads only.
void PrefetchVerdict(const JudgeContext& ctx, const PacketMeta& meta, const Inspection& inspection,
                     const ics::OpList& ops);

}  // namespace conduit
