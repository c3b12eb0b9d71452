#include "inspect/inspector.h"

#include "ics/registry.h"

namespace conduit {
void ClassifyNewFlow(FlowEntry& flow, const PacketMeta& meta, bool lo_to_hi,
                     const ics::ProtocolPorts& ports) {
  // The server is the side on a known ICS port; else, for TCP, the side
  // that answers a SYN; else whoever was sent the first packet.
  const bool tcp = meta.l4_proto == kIpProtoTcp;
  const ics::Protocol to_dst = tcp ? ports.Tcp(meta.dst_port) : ports.Udp(meta.dst_port);
  const ics::Protocol to_src = tcp ? ports.Tcp(meta.src_port) : ports.Udp(meta.src_port);
  bool src_is_client = true;
  if (to_dst != ics::Protocol::kUnknown) {
    flow.protocol = to_dst;
  } else if (to_src != ics::Protocol::kUnknown) {
    flow.protocol = to_src;
    src_is_client = false;
  } else if (tcp && (meta.tcp_flags & (kTcpFlagSyn | kTcpFlagAck)) == (kTcpFlagSyn | kTcpFlagAck)) {
    src_is_client = false;
  }
  flow.client_is_lo = src_is_client == lo_to_hi;
}

Inspection Inspector::Inspect(const uint8_t* frame, const PacketMeta& meta, const FlowRef& ref,
                              uint64_t now, ics::OpList& ops) {
  Inspection result;
  if (!ref.tracked) return result;
  const bool tcp = meta.l4_proto == kIpProtoTcp;
  if (tcp && normalize::TcpSynWithData(meta)) {
    result.drop = DropReason::tcp_syn_data;
    result.evasion = true;
    if (enforce_) return result;
  }
  if (tcp && normalize::TcpDataWithoutAck(meta)) {
    // Every stack discards it: judging it would let it stand for the bytes
    // that come next at the same sequence number.
    result.drop = DropReason::tcp_no_ack;
    result.evasion = true;
    if (enforce_) return result;
  }
  const FlowKey& key = ref.key;
  const bool lo_to_hi = ref.lo_to_hi;
  bool created = false;
  FlowEntry& flow =
      ref.existing != nullptr ? *ref.existing : flows_.FindOrInsert(key, ref.hash, now, &created);
  if (!created && meta.IsTcpSyn()) {
    // A SYN on a known 5-tuple whose stream has moved past its own SYN is a
    // new connection reusing the client port: it starts from a clean flow
    // (a retransmitted SYN, before any data, changes nothing).
    const ics::StreamDirection& s = flow.dir[lo_to_hi ? 0 : 1].stream;
    if (s.seq_valid && s.next_seq != meta.tcp_seq + 1) {
      ResetFlow(flow, key, now);
      created = true;
    }
  }
  if (created) {
    Count(InspectCounter::flows_created);
    ClassifyNewFlow(flow, meta, lo_to_hi, *ports_);
  }
  flow.last_seen = now;
  ++flow.packets;
  flow.bytes += meta.payload_len;

  result.flow = &flow;
  result.protocol = flow.protocol;
  result.from_client = lo_to_hi == flow.client_is_lo;
  const ics::ProtocolModule* module = ics::ModuleFor(flow.protocol);
  if (module == nullptr) return result;

  Count(InspectCounter::ics_packets);
  const int d = lo_to_hi ? 0 : 1;
  ics::StreamDirection& stream = flow.dir[d].stream;
  if (tcp && normalize_tcp_) {
    // Only bytes the server's stack will take, in the order judged, and
    // equal to what was judged, reach the decoder (and the wire). Also on
    // a flow whose bytes are not the port's protocol: they are still
    // scanned for requests the server may find (framer.h).
    const normalize::TcpVerdict n =
        normalize::NormalizeTcpSegment(key_, flow.dir[d].tcp, flow.tcp_acks, d, frame, meta, enforce_);
    if (n.Drops()) {
      result.drop = n.drop;
      result.evasion = n.evasion;
      if (enforce_) return result;
    }
  }
  const std::span<const uint8_t> payload(frame + meta.payload_offset, meta.payload_len);
  const size_t ops_before = ops.size();
  const size_t overflow_before = ops.overflowed();
  ics::FeedResult fed;
  if (tcp) {
    const bool syn = (meta.tcp_flags & kTcpFlagSyn) != 0;
    fed = ics::FeedTcpSegment(*module, stream, meta.tcp_seq, syn, payload, result.from_client, ops);
  } else {
    fed = ics::FeedDatagram(*module, stream, payload, result.from_client, ops);
  }
  result.feed = fed.status;
  result.malformed = fed.malformed;
  result.gap = fed.gap;
  if (result.MalformedPdu()) [[unlikely]] malformed_[static_cast<int>(fed.malformed)].Add(1);
  result.candidates = fed.candidates;
  if (fed.candidates != 0) [[unlikely]] Count(InspectCounter::scan_candidates, fed.candidates);
  Count(InspectCounter::ics_pdus, fed.pdus);
  Count(InspectCounter::decode_errors, fed.decode_errors);
  Count(InspectCounter::ics_ops, ops.size() - ops_before - fed.candidates);
  Count(InspectCounter::ops_overflow, ops.overflowed() - overflow_before);
  if (fed.gap) Count(InspectCounter::tcp_gaps);
  switch (fed.status) {
    case ics::FeedStatus::kOk: break;
    case ics::FeedStatus::kHoleFill: Count(InspectCounter::hole_fills); break;
    case ics::FeedStatus::kRetransmission: Count(InspectCounter::retransmissions); break;
    case ics::FeedStatus::kFramingLost:
      Count(InspectCounter::framing_lost);
      Count(InspectCounter::unparsable_packets);
      break;
    case ics::FeedStatus::kUnparsable:
    case ics::FeedStatus::kUnframed: Count(InspectCounter::unparsable_packets); break;
    case ics::FeedStatus::kNotIcs:
      flow.not_ics = tcp;  // a UDP datagram stands alone
      Count(InspectCounter::not_ics_packets);
      break;
  }
  return result;
}

}  // namespace conduit
