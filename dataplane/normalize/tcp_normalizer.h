// TCP stream normalization for ICS flows: the gateway forwards a byte only
// if it equals the byte judged at that sequence number, and only bytes the
// receiving stack will take in the order they were judged.
//
// Per direction, a TcpTrack remembers the judged segments the receiver has
// not acknowledged yet as (length, keyed hash) records, contiguous from
// `base_seq`. A retransmission that overlaps them must carry the same bytes
// (hashes compared per record); identical retransmissions pass, different
// ones are dropped as an evasion attempt. Data beyond a hole is dropped (the
// sender retransmits in order), unless the receiver has already acknowledged
// past it (the gateway missed those bytes while bypassing: availability
// first, framing restarts there). Records are freed by the receiver's ACKs;
// when all kRecords are in use, new data waits (dropped, retransmitted by the
// sender once the receiver acknowledges): request/response protocols keep one
// or two segments in flight, so this bounds memory at 32 bytes a direction
// without ever forwarding unverifiable bytes.
//
// Also dropped (never fed to a decoder): data without ACK, URG, data beyond
// the receiver's advertised window (when the handshake was seen and the
// scale is known). A segment acknowledging data its peer never sent (Linux
// discards it) is not dropped: the gateway cannot tell it from data it
// missed while bypassing, and the record check already stops the bytes
// that would follow such an insertion.
#pragma once

#include <array>
#include <cstdint>

#include "normalize/siphash.h"
#include "parse/packet_meta.h"
#include "stats/counters.h"

namespace conduit::normalize {

// Half a cache line: a flow's two directions share one line, so a segment
// reads and writes a single line for both its own bytes and its ACK of the
// other direction.
struct alignas(32) TcpTrack {
  static constexpr int kRecords = 3;
  // A judged segment: its length and a 32-bit keyed hash of its bytes (a
  // blind guess passes one time in 2^32, and every miss is a counted drop
  // and an evasion event). Three 16-bit fields: 2-byte aligned, so three
  // records fill what the header leaves of 32 bytes.
  struct Record {
    uint16_t len;
    uint16_t hash_hi;
    uint16_t hash_lo;
  };
  enum Flag : uint8_t {
    kStarted = 1 << 0,       // base_seq is set: bytes are being recorded
    kPeerAck = 1 << 1,       // peer_ack: the receiver acknowledged this far
    kPeerWindow = 1 << 2,    // peer_wnd_end is meaningful (scale known)
    kSynSeen = 1 << 3,       // this side's SYN was seen (wscale valid)
    kWscaleOffered = 1 << 4, // ... and it carried a window scale option
  };

  uint32_t peer_ack = 0;      // the receiver's latest ACK of this direction's bytes
  uint32_t peer_wnd_end = 0;  // ... plus its scaled window: first byte it refuses
  uint32_t base_seq = 0;      // sequence number of records[0]'s first byte
  uint8_t flags : 5 = 0;
  uint8_t count : 3 = 0;      // records in use
  uint8_t wscale = 0;         // this side's window scale option
  std::array<Record, kRecords> records;  // oldest first; uninitialised beyond count

  bool Has(Flag f) const { return (flags & f) != 0; }
  void Set(Flag f) { flags = static_cast<uint8_t>(flags | f); }
  // The next byte this direction will send: judged bytes end here.
  uint32_t NextSeq() const {
    uint32_t next = base_seq;
    for (int i = 0; i < count; ++i) next += records[i].len;
    return next;
  }
};
static_assert(sizeof(TcpTrack) == 32, "a flow's two directions share one cache line");

struct TcpVerdict {
  DropReason drop = DropReason::kCount;  // kCount: passes
  bool evasion = false;  // a reason worth an evasion event (not just noise)
  bool Drops() const { return drop != DropReason::kCount; }
};

// One TCP segment of an ICS flow, in direction `sender` (its track) against
// `receiver` (the other direction's track). `frame`/`meta` as parsed;
// `enforce`: drop what fails (monitor: only report, and keep the tracks
// consistent with what was forwarded). lcore (hot path): no allocation.
TcpVerdict NormalizeTcpSegment(const SipKey& key, TcpTrack& sender, TcpTrack& receiver,
                               const uint8_t* frame, const PacketMeta& meta, bool enforce);

// Data without ACK: checked on every inspected TCP flow (ICS or not).
// A SYN with payload. On a known flow it would reset the gateway's stream
// state (a SYN is a new connection) while the connected server ignores it,
// so the real bytes that follow would pass as unjudged retransmissions;
// on a new flow only TCP Fast Open (not used by ICS stacks) keeps the data.
inline bool TcpSynWithData(const PacketMeta& meta) {
  return meta.payload_len != 0 && (meta.tcp_flags & kTcpFlagSyn) != 0;
}

inline bool TcpDataWithoutAck(const PacketMeta& meta) {
  return meta.payload_len != 0 && (meta.tcp_flags & (kTcpFlagAck | kTcpFlagSyn)) == 0;
}

}  // namespace conduit::normalize
