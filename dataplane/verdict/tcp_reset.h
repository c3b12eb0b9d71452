// TCP resets for a denied segment (on_deny: reset): one to the receiver in
// the segment's own direction, one back to its sender, so neither the HMI nor
// the PLC waits on retransmissions of a session the gateway closed.
#pragma once

#include <cstdint>

#include "parse/packet_meta.h"

struct rte_mbuf;
struct rte_mempool;

namespace conduit {

// Builds a RST from the denied frame (`frame`, parsed into `meta`, TCP).
// `to_sender` false: same addresses as the frame, seq = its seq (goes on
// toward the receiver). true: addresses, ports and MACs swapped, seq = its
// ack, ack = seq + payload (goes back out of the ingress port). VLAN tags are
// kept. Returns null if the pool is empty (the reset is skipped, counted by
// the caller). lcore (hot path): one mbuf from the pool's per-lcore cache.
rte_mbuf* BuildTcpReset(rte_mempool* pool, const uint8_t* frame, const PacketMeta& meta,
                        bool to_sender);

}  // namespace conduit
