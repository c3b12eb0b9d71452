// Flow lookup + ICS decode for one parsed packet: the part of the worker's
// pipeline between parse and verdict. Pure C++ (no DPDK), so conduitctl
// simulate and the corpus tests run exactly the worker's code.
#pragma once

#include <cstdint>
#include <memory>

#include "flow/flow_table.h"
#include "ics/framer.h"
#include "ics/ics_op.h"
#include "ics/ports.h"
#include "normalize/ip_reassembly.h"
#include "normalize/segment_hash.h"
#include "parse/packet_meta.h"
#include "stats/counters.h"

namespace conduit {

// Sets a new flow's protocol and which side is its client, from the first
// packet seen (`lo_to_hi`: it travels from the key's lo to its hi endpoint).
void ClassifyNewFlow(FlowEntry& flow, const PacketMeta& meta, bool lo_to_hi,
                     const ics::ProtocolPorts& ports);

// What a burst's first pass learns about a packet's flow, for the later
// passes (so the key is built and hashed once).
struct FlowRef {
  FlowKey key;
  uint64_t hash = 0;
  bool lo_to_hi = false;  // the packet travels from key.addr_lo to key.addr_hi
  bool tracked = false;   // TCP or UDP with ports: it has a flow
  // Set by Resolve just before Inspect: the live entry Inspect will use,
  // or null when Inspect will create one (or may reset it, for a SYN).
  FlowEntry* existing = nullptr;
};

struct Inspection {
  FlowEntry* flow = nullptr;              // null for packets without L4 ports
  ics::Protocol protocol = ics::Protocol::kUnknown;
  bool from_client = false;               // sent by the flow's initiator
  ics::FeedStatus feed = ics::FeedStatus::kOk;
  // Why a PDU of this packet was malformed (kNone: none was). With the
  // framing held, a decoder refused a complete PDU: its bytes reach the
  // peer, so the packet cannot pass on the other PDUs' account (the judge
  // applies the conduit's `unparsable`); with it lost, why it was.
  ics::MalformedReason malformed = ics::MalformedReason::kNone;
  // The last `candidates` ops were found by scanning bytes whose framing is
  // lost (framer.h): judged, since the peer may execute them.
  uint8_t candidates = 0;
  // The TCP normalizer's verdict (normalize/tcp_normalizer.h): kCount when
  // the segment passes. A dropped segment was not fed to the decoder.
  DropReason drop = DropReason::kCount;
  bool evasion = false;
  // Bytes before this segment were never seen (framing lost to a gap).
  // Also fills the last byte: with 16 bytes of members a copy is two
  // aligned words. (A 15-byte copy reads bytes 7-14 as one word, which the
  // CPU cannot forward from the two stores just made: a stall per packet.)
  bool gap = false;
  bool MalformedPdu() const { return malformed != ics::MalformedReason::kNone; }
};
static_assert(sizeof(Inspection) == 16);

class Inspector {
 public:
  Inspector(uint32_t flow_capacity, uint64_t idle_timeout, const ics::ProtocolPorts* ports)
      : flows_(flow_capacity, idle_timeout),
        ports_(ports),
        key_(normalize::RandomSegmentHashKey()),
        reassembler_(std::make_unique<normalize::IpReassembler>()) {}

  // A burst is inspected in three passes so that its flow-table cache
  // misses overlap instead of queueing one after another (rte_hash's bulk
  // lookup): Prepare every packet (key, hash, prefetch the bucket's tags),
  // then PrefetchFlow every packet (read the tags, prefetch the entry),
  // then Inspect each one.
  void Prepare(const PacketMeta& meta, FlowRef& ref) const {
    ref.existing = nullptr;
    ref.tracked =
        meta.Has(kPktHasL4) && (meta.l4_proto == kIpProtoTcp || meta.l4_proto == kIpProtoUdp);
    if (!ref.tracked) return;
    ref.key = MakeFlowKey(meta, &ref.lo_to_hi);
    ref.hash = HashFlowKey(ref.key);
    flows_.PrefetchBucket(ref.hash);
  }
  void PrefetchFlow(const FlowRef& ref) const {
    if (!ref.tracked) return;
    flows_.PrefetchEntries(ref.hash, ref.lo_to_hi);
  }
  // Finds the live flow Inspect will use for `ref` (ref.existing), or
  // leaves it null when Inspect will create an entry (which may evict
  // another) or, for a SYN, may reset it. Changes nothing in the table;
  // valid until the next Inspect.
  void Resolve(FlowRef& ref, const PacketMeta& meta, uint64_t now) {
    ref.existing = nullptr;
    if (!ref.tracked) return;
    if (meta.IsTcpSyn()) return;
    ref.existing = flows_.FindLive(ref.key, ref.hash, now);
  }
  // `frame` holds the bytes ParsePacket parsed into `meta` (result kOk),
  // `ref` what Prepare (and maybe Resolve) made of it. Decoded operations
  // are appended to `ops`. lcore (hot path).
  Inspection Inspect(const uint8_t* frame, const PacketMeta& meta, const FlowRef& ref,
                     uint64_t now, ics::OpList& ops);
  // One packet on its own (conduitctl simulate, tests).
  Inspection Inspect(const uint8_t* frame, const PacketMeta& meta, uint64_t now,
                     ics::OpList& ops) {
    FlowRef ref;
    Prepare(meta, ref);
    return Inspect(frame, meta, ref, now, ops);
  }

  const FlowTable& flows() const { return flows_; }
  // This worker's IP reassembly table (conduits with `fragments: reassemble`).
  normalize::IpReassembler& reassembler() { return *reassembler_; }
  // The detection table new flows are classified with: the active policy's
  // (its `ports:` overrides included). Set by the worker once per burst.
  void set_ports(const ics::ProtocolPorts* ports) { ports_ = ports; }
  const ics::ProtocolPorts& ports() const { return *ports_; }
  // Whether the TCP normalizer drops what fails (the conduit enforces) or
  // only reports it (monitor). Set by the worker once per burst.
  void set_enforce(bool enforce) { enforce_ = enforce; }
  // Benchmarks only (BM_NormalizeCost measures the TCP normalizer by
  // running without it): a gateway never turns it off.
  void set_tcp_normalization(bool on) { normalize_tcp_ = on; }
  // Adds this inspector's counters to `out` (control thread; any time).
  void AccumulateInto(CounterSnapshot& out) const {
    for (int i = 0; i < kInspectCounterCount; ++i) out.inspect[i] += counters_[i].Load();
    out.inspect[int(InspectCounter::datagrams_reassembled)] += reassembler_->completed();
    out.inspect[int(InspectCounter::datagrams_expired)] += reassembler_->expired();
    for (int i = 0; i < ics::kMalformedReasonCount; ++i) out.malformed[i] += malformed_[i].Load();
  }
  // Safe to call from another thread (control reading a worker's counters).
  uint64_t counter(InspectCounter c) const { return counters_[static_cast<int>(c)].Load(); }

 private:
  void Count(InspectCounter c, uint64_t n = 1) { counters_[static_cast<int>(c)].Add(n); }

  FlowTable flows_;
  const ics::ProtocolPorts* ports_;
  normalize::SegmentHashKey key_;  // random per inspector: retransmission hashes
  bool enforce_ = true;
  bool normalize_tcp_ = true;
  std::unique_ptr<normalize::IpReassembler> reassembler_;
  Counter counters_[kInspectCounterCount];
  Counter malformed_[ics::kMalformedReasonCount];  // packets with a malformed PDU, by why
};

}  // namespace conduit
