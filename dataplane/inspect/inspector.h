// Flow lookup + ICS decode for one parsed packet: the part of the worker's
// pipeline between parse and verdict. Pure C++ (no DPDK), so conduitctl
// simulate and the corpus tests run exactly the worker's code.
#pragma once

#include <cstdint>

#include "flow/flow_table.h"
#include "ics/framer.h"
#include "ics/ics_op.h"
#include "ics/ports.h"
#include "parse/packet_meta.h"

namespace conduit {

#define CONDUIT_INSPECT_COUNTERS(X)                                          \
  X(flows_created)                                                           \
  X(ics_packets)       /* packets of flows on an ICS port */                 \
  X(ics_pdus)          /* PDUs handed to a decoder */                        \
  X(ics_ops)           /* operations decoded */                              \
  X(decode_errors)     /* PDUs a decoder refused (truncated, malformed) */   \
  X(ops_overflow)      /* ops beyond OpList capacity in one packet */        \
  X(retransmissions)                                                         \
  X(tcp_gaps)          /* segments after bytes the gateway never saw */      \
  X(hole_fills)        /* late bytes of such a gap: not inspected */         \
  X(framing_lost)      /* flows whose framing was lost (gap, bad header) */  \
  X(unparsable_packets)/* packets of flows whose framing was lost */         \
  X(not_ics_packets)   /* on an ICS port but not that protocol */

enum class InspectCounter : uint8_t {
#define X(name) name,
  CONDUIT_INSPECT_COUNTERS(X)
#undef X
      kCount
};
inline constexpr int kInspectCounterCount = static_cast<int>(InspectCounter::kCount);
std::string_view InspectCounterName(InspectCounter c);

struct Inspection {
  FlowEntry* flow = nullptr;              // null for packets without L4 ports
  ics::Protocol protocol = ics::Protocol::kUnknown;
  bool from_client = false;               // sent by the flow's initiator
  ics::FeedStatus feed = ics::FeedStatus::kOk;
};

class Inspector {
 public:
  Inspector(uint32_t flow_capacity, uint64_t idle_timeout, const ics::ProtocolPorts* ports)
      : flows_(flow_capacity, idle_timeout), ports_(ports) {}

  // `frame` holds the bytes ParsePacket parsed into `meta` (result kOk).
  // Decoded operations are appended to `ops`. lcore (hot path).
  Inspection Inspect(const uint8_t* frame, const PacketMeta& meta, uint64_t now,
                     ics::OpList& ops);

  const FlowTable& flows() const { return flows_; }
  uint64_t counter(InspectCounter c) const { return counters_[static_cast<int>(c)]; }

 private:
  void Count(InspectCounter c, uint64_t n = 1) { counters_[static_cast<int>(c)] += n; }

  FlowTable flows_;
  const ics::ProtocolPorts* ports_;
  uint64_t counters_[kInspectCounterCount] = {};
};

}  // namespace conduit
