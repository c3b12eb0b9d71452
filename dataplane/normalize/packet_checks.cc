#include "normalize/packet_checks.h"

#include "normalize/checksum.h"

namespace conduit::normalize {
namespace {

// A fragment toward (or from) an ICS service is dropped: ICS PDUs are far
// below any MTU, and a PLC's reassembly need not agree with the gateway's.
// TCP fragments are dropped whatever their ports (a later fragment can
// rewrite the TCP header: RFC 1858); a later UDP fragment has no header to
// judge and cannot be delivered without its (dropped) first fragment.
bool FragmentToIcs(const PacketMeta& meta, const ics::ProtocolPorts& ports) {
  if (meta.l4_proto == kIpProtoTcp) return true;
  if (meta.l4_proto != kIpProtoUdp || meta.Has(kPktLaterFragment)) return false;
  return ports.Udp(meta.dst_port) != ics::Protocol::kUnknown ||
         ports.Udp(meta.src_port) != ics::Protocol::kUnknown;
}

}  // namespace

DropReason CheckPacket(const uint8_t* frame, ParseResult parsed, const PacketMeta& meta,
                       uint8_t hint, const PacketCheckConfig& config,
                       const ics::ProtocolPorts& ports) {
  if (parsed == ParseResult::kTruncatedIpv4 || parsed == ParseResult::kTruncatedIpv6) {
    return DropReason::ip_truncated;
  }
  if (parsed != ParseResult::kOk) {
    // A first TCP fragment too short for its header (the tiny-fragment
    // attack) does not parse, but it is still a TCP fragment.
    const bool tcp_fragment = meta.Has(kPktFragment) && meta.l4_proto == kIpProtoTcp;
    return tcp_fragment ? DropReason::ip_fragment : DropReason::kCount;
  }
  if (meta.ip_version == 4) {
    if (hint & kIpChecksumBad) return DropReason::bad_ip_checksum;
    if (!(hint & kIpChecksumGood) && config.verify_checksums &&
        !Ipv4HeaderChecksumOk(frame, meta)) {
      return DropReason::bad_ip_checksum;
    }
  }
  if (meta.Has(kPktFragment)) {
    return FragmentToIcs(meta, ports) ? DropReason::ip_fragment : DropReason::kCount;
  }
  if (meta.Has(kPktHasL4)) {
    if (hint & kL4ChecksumBad) return DropReason::bad_l4_checksum;
    if (!(hint & kL4ChecksumGood) && config.verify_checksums && !L4ChecksumOk(frame, meta)) {
      return DropReason::bad_l4_checksum;
    }
  }
  return DropReason::kCount;
}

}  // namespace conduit::normalize
