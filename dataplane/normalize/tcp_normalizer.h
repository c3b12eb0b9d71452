// TCP stream normalization for ICS flows: the gateway forwards a byte only
// if it equals the byte judged at that sequence number, and only bytes the
// receiving stack will take in the order they were judged.
//
// Per direction, TcpSegments remembers the judged segments the receiver has
// not acknowledged yet as (length, keyed hash) records, contiguous from
// `base_seq`. A retransmission that overlaps them must carry the same bytes
// (hashes compared per record); identical retransmissions pass, different
// ones are dropped as an evasion attempt. Data beyond a hole is dropped (the
// sender retransmits in order), unless the receiver has already acknowledged
// past it (the gateway missed those bytes while bypassing: availability
// first, framing restarts there). The receiver's ACKs free records, when
// their direction next sends; when all kRecords are in use, new data waits
// (dropped, retransmitted by the sender once the receiver acknowledges):
// request/response protocols keep one or two segments in flight, so this
// bounds memory at 24 + 8 bytes a direction without ever forwarding
// unverifiable bytes.
//
// Also dropped (never fed to a decoder): data without ACK, URG, data beyond
// the receiver's advertised window (when the handshake was seen and the
// scale is known). A segment acknowledging data its peer never sent (Linux
// discards it) is not dropped: the gateway cannot tell it from data it
// missed while bypassing, and the record check already stops the bytes
// that would follow such an insertion.
//
// The state is split by who writes it, so that a segment touches no cache
// line its flow's other state does not already bring: a direction's
// records (written by its own segments) share its stream's first line, and
// what the receiver acknowledged of it (written by the other direction's
// segments) lives with both directions' in the flow's verdict line.
#pragma once

#include <array>
#include <cstdint>

#include "normalize/segment_hash.h"
#include "parse/packet_meta.h"
#include "stats/counters.h"

namespace conduit::normalize {

// The judged, unacknowledged segments one direction sent.
struct TcpSegments {
  static constexpr int kRecords = 3;
  // A judged segment: its length and a 32-bit keyed hash of its bytes
  // (segment_hash.h: different bytes of the same length pass one time in
  // 2^32, and every miss is a counted drop and an evasion event). Three
  // 16-bit fields: 2-byte aligned, so three records fill what the header
  // leaves of 24 bytes.
  struct Record {
    uint16_t len;
    uint16_t hash_hi;
    uint16_t hash_lo;
  };

  uint32_t base_seq = 0;      // sequence number of records[0]'s first byte
  bool started : 1 = false;   // base_seq is set: bytes are being recorded
  uint8_t count : 3 = 0;      // records in use
  std::array<Record, kRecords> records;  // oldest first; uninitialised beyond count

  // The next byte this direction will send: judged bytes end here.
  uint32_t NextSeq() const {
    uint32_t next = base_seq;
    for (int i = 0; i < count; ++i) next += records[i].len;
    return next;
  }
};
static_assert(sizeof(TcpSegments) == 24, "fits a flow direction's first line beside its stream");

// What the receiver acknowledged of one direction's bytes and the window it
// offers them, and that direction's own handshake (its SYN's window scale,
// which applies to the windows it advertises).
struct TcpAcks {
  enum Flag : uint8_t {
    kAcked = 1 << 0,         // `ack` is the receiver's latest ACK
    kWindowKnown = 1 << 1,   // `window << shift` is its true window (scale known)
    kSynSeen = 1 << 2,       // this direction's SYN was seen (wscale valid)
    kWscaleOffered = 1 << 3, // ... and it carried a window scale option
  };

  uint32_t ack = 0;
  uint16_t window = 0;        // as the receiver sent it: scaled by `shift`
  uint8_t shift : 4 = 0;      // the receiver's scale for `window` (0: a SYN's, or unscaled)
  uint8_t flags : 4 = 0;
  uint8_t wscale = 0;         // this direction's window scale option

  bool Has(Flag f) const { return (flags & f) != 0; }
  void Set(Flag f) { flags = static_cast<uint8_t>(flags | f); }
  // The first byte the receiver refuses (with kWindowKnown).
  uint32_t WindowEnd() const { return ack + (uint32_t{window} << shift); }
};
static_assert(sizeof(TcpAcks) == 8, "both directions fit 16 bytes of a flow's verdict line");

using TcpAckPair = std::array<TcpAcks, 2>;  // a flow's directions, as FlowEntry::dir

struct TcpVerdict {
  DropReason drop = DropReason::kCount;  // kCount: passes
  bool evasion = false;  // a reason worth an evasion event (not just noise)
  bool Drops() const { return drop != DropReason::kCount; }
};

// One TCP segment of an ICS flow in direction `d` (0 or 1), which `sent`
// belongs to; acks[d] is what the receiver acknowledged of it, acks[1 - d]
// what this segment's ACK updates. `frame`/`meta` as parsed; `enforce`:
// drop what fails (monitor: only report, and keep the records consistent
// with what was forwarded). lcore (hot path): no allocation.
TcpVerdict NormalizeTcpSegment(const SegmentHashKey& key, TcpSegments& sent, TcpAckPair& acks,
                               int d, const uint8_t* frame, const PacketMeta& meta,
                               bool enforce);

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
