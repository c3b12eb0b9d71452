// What a worker remembers about one flow.
#pragma once

#include <array>
#include <cstdint>

#include "flow/flow_key.h"
#include "ics/framer.h"
#include "ics/ics_op.h"

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
};

struct FlowEntry {
  FlowKey key;
  uint64_t last_seen = 0;      // caller's clock (TSC or capture time)
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint32_t policy_epoch = 0;   // the policy version `l4_decision` came from
  ics::Protocol protocol = ics::Protocol::kUnknown;
  bool client_is_lo = false;   // the initiator is key.addr_lo/port_lo
  bool not_ics = false;        // on an ICS port, but the payload is not that protocol
  bool blocked = false;        // an enforced deny dropped a packet: drop the rest
  bool occupied = false;
  FlowDecision l4_decision;    // non-ICS flows: judged once per policy epoch
  FlowDecision request;        // the last request's verdict: its response follows it
  FlowDecision block;          // why the flow is blocked (when `blocked`)
  RequestCache last_request;
  std::array<ics::StreamDirection, 2> dir{};  // [0] client → server, [1] server → client
};

}  // namespace conduit
