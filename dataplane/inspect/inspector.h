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
#include "stats/counters.h"

namespace conduit {

// Sets a new flow's protocol and which side is its client, from the first
// packet seen (`lo_to_hi`: it travels from the key's lo to its hi endpoint).
void ClassifyNewFlow(FlowEntry& flow, const PacketMeta& meta, bool lo_to_hi,
                     const ics::ProtocolPorts& ports);

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

  // Prefetches the flow slot `meta` will use (a burst's first pass).
  void Prefetch(const PacketMeta& meta) const {
    if (!meta.Has(kPktHasL4)) return;
    bool lo_to_hi;
    flows_.Prefetch(HashFlowKey(MakeFlowKey(meta, &lo_to_hi)));
  }

  const FlowTable& flows() const { return flows_; }
  // The detection table new flows are classified with: the active policy's
  // (its `ports:` overrides included). Set by the worker once per burst.
  void set_ports(const ics::ProtocolPorts* ports) { ports_ = ports; }
  // Adds this inspector's counters to `out` (control thread; any time).
  void AccumulateInto(CounterSnapshot& out) const {
    for (int i = 0; i < kInspectCounterCount; ++i) out.inspect[i] += counters_[i].Load();
  }
  // Safe to call from another thread (control reading a worker's counters).
  uint64_t counter(InspectCounter c) const { return counters_[static_cast<int>(c)].Load(); }

 private:
  void Count(InspectCounter c, uint64_t n = 1) { counters_[static_cast<int>(c)].Add(n); }

  FlowTable flows_;
  const ics::ProtocolPorts* ports_;
  Counter counters_[kInspectCounterCount];
};

}  // namespace conduit
