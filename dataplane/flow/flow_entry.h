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

// One direction of a flow: its first line holds what the direction's own
// segments write (the normalizer's records of what it sent, its framing
// state), the other two its stream's carry bytes and lost-framing state.
struct alignas(64) FlowDirection {
  normalize::TcpSegments tcp;  // TCP flows of an ICS protocol
  ics::StreamDirection stream;
};
static_assert(offsetof(FlowDirection, stream) + ics::StreamDirection::kHotBytes == 64,
              "a direction's normalizer and framing state fill its first line");
static_assert(sizeof(FlowDirection) == 192);

// Laid out by cache line, in the order a packet reads them: identity and
// accounting (line 0), verdict state and both directions' TCP
// acknowledgements (line 1), then each direction's state (FlowDirection).
// A packet touches three of the eight lines (0, 1 and its direction's
// first): FlowTable prefetches them.
struct alignas(64) FlowEntry {
  FlowKey key;
  uint64_t last_seen = 0;      // caller's clock (TSC or capture time)
  uint64_t packets = 0;
  uint64_t bytes = 0;

  uint32_t policy_epoch = 0;   // the policy version `flow_verdict` came from
  ics::Protocol protocol = ics::Protocol::kUnknown;
  bool client_is_lo = false;   // the initiator is key.addr_lo/port_lo
  bool not_ics = false;        // on an ICS port, but the payload is not that protocol
  bool blocked = false;        // an enforced deny dropped a packet: drop the rest
  // The verdict of the flow as a whole: for a non-ICS flow its L4 verdict,
  // judged once per policy epoch; once `blocked` (any flow), why, which a
  // new policy does not change (a blocked flow stays blocked, so its L4
  // verdict is never read again).
  FlowDecision flow_verdict;
  // The last request judged and its verdict, which its response follows.
  RequestCache last_request;
  // What each direction's receiver acknowledged (index as `dir`): a
  // segment reads its own direction's and writes the other's.
  normalize::TcpAckPair tcp_acks;

  // [0] key.addr_lo → addr_hi, [1] the other way: known from the key
  // alone, so a lookup can prefetch the one direction a packet needs. Not
  // value-initialised, so a reset leaves the carry bytes alone (carry_len
  // = 0 says they are unused).
  std::array<FlowDirection, 2> dir;
};
static_assert(offsetof(FlowEntry, tcp_acks) + sizeof(normalize::TcpAckPair) <= 128,
              "verdict state and the TCP acknowledgements fit lines 0-1");
static_assert(offsetof(FlowEntry, dir) == 128);
static_assert(sizeof(FlowEntry) == 512, "README states 512 bytes a slot");

// Makes `e` a new flow for `key`, seen at `now`: every field back to its
// default except the carry bytes and the fields beside them that are read
// only once set, which a new flow never reads (writing them would cost
// four more cache lines per new flow).
inline void ResetFlow(FlowEntry& e, const FlowKey& key, uint64_t now) {
  ::new (static_cast<void*>(&e)) FlowEntry;  // default-initialisation, not value-
  e.key = key;
  e.last_seen = now;
}

}  // namespace conduit
