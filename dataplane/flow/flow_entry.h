// What a worker remembers about one flow.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>

#include "flow/flow_key.h"
#include "ics/framer.h"
#include "ics/ics_op.h"
#include "normalize/tcp_normalizer.h"

namespace conduit {

// A verdict remembered by a flow (policy::Decision without the policy types).
struct FlowDecision {
  uint32_t rule = 0;
  uint8_t action = 0;  // policy::Action; 0: none yet
  uint8_t mode = 0;    // policy::Mode
  uint16_t pad = 0;
};

// The last request judged on a flow and its verdict: steady polling repeats
// the same request, and the flow's hosts and port never change, so the same
// (operation, policy epoch) needs no second lookup.
struct RequestCache {
  uint32_t epoch = 0;  // 0: empty
  uint32_t unit = 0;
  uint32_t address_first = 0;
  uint32_t address_last = 0;
  uint16_t function = 0;
  uint8_t kind = 0;
  uint8_t flags = 0;
  FlowDecision decision;
  // The policy rule entry that decided it (CompiledPolicy::JudgeRequest's
  // hint; ~0u: none): the flow's next request will likely consult it again,
  // so a burst prefetches it.
  uint32_t entry_hint = ~0u;
};

// Laid out by cache line, in the order a packet reads them: identity and
// accounting (line 0), verdict state (line 1), then each direction's stream
// state, whose first line holds everything but the rarely used carry bytes.
// A packet touches three of the nine lines; a TCP segment of an ICS flow
// also touches the normalizer line (the last: both directions' judged,
// unacknowledged segments and peer windows). FlowTable prefetches them.
struct alignas(64) FlowEntry {
  FlowKey key;
  uint64_t last_seen = 0;      // caller's clock (TSC or capture time)
  uint64_t packets = 0;
  uint64_t bytes = 0;

  uint32_t policy_epoch = 0;   // the policy version `l4_decision` came from
  ics::Protocol protocol = ics::Protocol::kUnknown;
  bool client_is_lo = false;   // the initiator is key.addr_lo/port_lo
  bool not_ics = false;        // on an ICS port, but the payload is not that protocol
  bool blocked = false;        // an enforced deny dropped a packet: drop the rest
  FlowDecision l4_decision;    // non-ICS flows: judged once per policy epoch
  FlowDecision request;        // the last request's verdict: its response follows it
  FlowDecision block;          // why the flow is blocked (when `blocked`)
  RequestCache last_request;

  // [0] key.addr_lo → addr_hi, [1] the other way: known from the key
  // alone, so a lookup can prefetch the one stream a packet needs. Not
  // value-initialised, so a reset leaves the carry bytes alone (carry_len
  // = 0 says they are unused).
  std::array<ics::StreamDirection, 2> dir;
  // [0] / [1] as `dir`: the TCP normalizer's state per direction (ICS
  // flows), both in one line (a segment's ACK concerns the other direction).
  std::array<normalize::TcpTrack, 2> tcp;
};
static_assert(offsetof(FlowEntry, last_request) + sizeof(RequestCache) <= 128,
              "verdict state fits lines 0-1");
static_assert(offsetof(FlowEntry, dir) == 128);
static_assert(offsetof(FlowEntry, tcp) % 64 == 0, "the normalizer's two tracks share one line");
static_assert(sizeof(FlowEntry) == 576, "README states 576 bytes a slot");

// Makes `e` a new flow for `key`, seen at `now`: every field back to its
// default except the carry bytes, which a new flow never reads (writing
// them would cost four more cache lines per new flow).
inline void ResetFlow(FlowEntry& e, const FlowKey& key, uint64_t now) {
  ::new (static_cast<void*>(&e)) FlowEntry;  // default-initialisation, not value-
  e.key = key;
  e.last_seen = now;
}

}  // namespace conduit
