// Per-packet normalization, before any flow state is touched: frames the
// receiving host would discard (truncated, bad checksums) and IP fragments
// toward ICS services never reach a decoder. DPDK-free: the worker passes
// what the port's checksum offload says, simulate passes nothing.
#pragma once

#include <cstdint>

#include "ics/ports.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"
#include "stats/counters.h"

namespace conduit::normalize {

// What the port says about a packet's checksums (mbuf ol_flags, condensed).
enum ChecksumHint : uint8_t {
  kIpChecksumGood = 1 << 0,
  kIpChecksumBad = 1 << 1,
  kL4ChecksumGood = 1 << 2,
  kL4ChecksumBad = 1 << 3,
};

struct PacketCheckConfig {
  // Verify checksums in software where the port did not say GOOD or BAD.
  bool verify_checksums = true;
};

// DropReason::kCount: the packet passes (it may still be unparsable, which
// the policy judges). Cost: ~10 ns for a short TCP segment verified in
// software; nothing when the port says GOOD.
DropReason CheckPacket(const uint8_t* frame, ParseResult parsed, const PacketMeta& meta,
                       uint8_t checksum_hint, const PacketCheckConfig& config,
                       const ics::ProtocolPorts& ports);

// Whether a normalizer drop is reported as an evasion attempt: everything
// but a truncated frame (which a broken link makes as well as an attacker)
// and a fragment held for reassembly (its bytes leave in the datagram).
inline bool IsEvasion(DropReason r) {
  return r != DropReason::ip_truncated && r != DropReason::ip_fragment_held;
}

}  // namespace conduit::normalize
