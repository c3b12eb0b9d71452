// Internet checksums (RFC 1071) verified in software, for ports that cannot
// tell GOOD from BAD. DPDK-free so conduitctl simulate runs the same code.
#pragma once

#include <cstdint>

#include "parse/packet_meta.h"

namespace conduit::normalize {

// The IPv4 header at frame + meta.l3_offset sums to 0xFFFF.
bool Ipv4HeaderChecksumOk(const uint8_t* frame, const PacketMeta& meta);

// Writes the IPv4 header checksum of the header at `ip` (its IHL says how
// long it is).
void SetIpv4HeaderChecksum(uint8_t* ip);

// The TCP or UDP checksum of a parsed packet (kPktHasL4, not a fragment)
// over its pseudo-header, header and payload. A zero UDP checksum over IPv4
// means "none" and passes; over IPv6 it is invalid (RFC 8200).
bool L4ChecksumOk(const uint8_t* frame, const PacketMeta& meta);

}  // namespace conduit::normalize
