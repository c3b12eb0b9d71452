// What a worker remembers about one flow.
#pragma once

#include <array>
#include <cstdint>

#include "flow/flow_key.h"
#include "ics/framer.h"
#include "ics/ics_op.h"

namespace conduit {

struct FlowEntry {
  FlowKey key;
  uint64_t last_seen = 0;      // caller's clock (TSC or capture time)
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint32_t policy_epoch = 0;   // the policy version its cached verdict came from
  ics::Protocol protocol = ics::Protocol::kUnknown;
  bool client_is_lo = false;   // the initiator is key.addr_lo/port_lo
  bool not_ics = false;        // on an ICS port, but the payload is not that protocol
  uint8_t cached_verdict = 0;  // for flows judged once (non-ICS L3/L4 rules)
  bool occupied = false;
  std::array<ics::StreamDirection, 2> dir{};  // [0] client → server, [1] server → client
};

}  // namespace conduit
