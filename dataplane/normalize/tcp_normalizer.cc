#include "normalize/tcp_normalizer.h"

#include "parse/byte_order.h"

namespace conduit::normalize {
namespace {

constexpr uint8_t kTcpFlagUrg = 0x20;
constexpr uint8_t kTcpOptionEnd = 0, kTcpOptionNop = 1, kTcpOptionWscale = 3;
constexpr uint8_t kMaxWscale = 14;  // RFC 7323

inline int32_t SeqDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

TcpSegments::Record RecordOf(const SegmentHashKey& key, const uint8_t* bytes, uint32_t len) {
  const uint32_t h = HashSegment(key, bytes, len);
  return {static_cast<uint16_t>(len), static_cast<uint16_t>(h >> 16), static_cast<uint16_t>(h)};
}

bool SameBytes(const TcpSegments::Record& r, const SegmentHashKey& key,
               const uint8_t* bytes) {
  const TcpSegments::Record now = RecordOf(key, bytes, r.len);
  return now.hash_hi == r.hash_hi && now.hash_lo == r.hash_lo;
}

// A SYN's window scale option (RFC 7323), if any.
void ReadSynOptions(const uint8_t* frame, const PacketMeta& meta, TcpAcks& own) {
  own.Set(TcpAcks::kSynSeen);
  const uint8_t* p = frame + meta.l4_offset + 20;
  const uint8_t* end = frame + meta.payload_offset;
  while (p < end) {
    const uint8_t kind = p[0];
    if (kind == kTcpOptionEnd) break;
    if (kind == kTcpOptionNop) { ++p; continue; }
    if (end - p < 2 || p[1] < 2 || p[1] > end - p) break;
    if (kind == kTcpOptionWscale && p[1] == 3) {
      own.Set(TcpAcks::kWscaleOffered);
      own.wscale = p[2] > kMaxWscale ? kMaxWscale : p[2];
    }
    p += p[1];
  }
}

// Drops the records the receiver has acknowledged in full (its ACKs are
// noted by the other direction's segments; the records go when their own
// direction next sends, so an ACK writes nothing of this direction's line).
void FreeAcknowledged(TcpSegments& t, const TcpAcks& acked) {
  if (!acked.Has(TcpAcks::kAcked)) return;
  int freed = 0;
  while (freed < t.count && SeqDiff(acked.ack, t.base_seq + t.records[freed].len) >= 0) {
    t.base_seq += t.records[freed].len;
    ++freed;
  }
  if (freed == 0) return;
  for (int i = freed; i < t.count; ++i) t.records[i - freed] = t.records[i];
  t.count = static_cast<uint8_t>(t.count - freed);
}

// What the segment's sender acknowledges of the other direction, and the
// window it offers, recorded in `receiver` (whose data it concerns).
void NoteAck(const uint8_t* frame, const PacketMeta& meta, const TcpAcks& sender,
             TcpAcks& receiver) {
  if ((meta.tcp_flags & kTcpFlagAck) == 0) return;
  const bool syn = (meta.tcp_flags & kTcpFlagSyn) != 0;
  const bool both_syns = sender.Has(TcpAcks::kSynSeen) && receiver.Has(TcpAcks::kSynSeen);
  const bool scaled = both_syns && sender.Has(TcpAcks::kWscaleOffered) &&
                      receiver.Has(TcpAcks::kWscaleOffered);
  // An ACK never moves back (a reordered old ACK says nothing new).
  if (!receiver.Has(TcpAcks::kAcked) || SeqDiff(meta.tcp_ack, receiver.ack) >= 0) {
    receiver.ack = meta.tcp_ack;
    receiver.window = LoadBigEndian16(frame + meta.l4_offset + 14);
    receiver.shift = syn || !scaled ? 0 : sender.wscale;  // a SYN's own window is never scaled (RFC 7323 2.2)
    receiver.Set(TcpAcks::kAcked);
    if (both_syns || syn) receiver.Set(TcpAcks::kWindowKnown);
  }
}

TcpVerdict Fail(DropReason why, bool evasion) { return {why, evasion}; }

// Checks the segment's bytes against the judged records they overlap.
// [seq, end) is the segment; records start at t.base_seq.
TcpVerdict CheckOverlap(const SegmentHashKey& key, const TcpSegments& t,
                        const uint8_t* payload, uint32_t seq, uint32_t end) {
  uint32_t rs = t.base_seq;
  for (int i = 0; i < t.count; ++i) {
    const TcpSegments::Record& r = t.records[i];
    const uint32_t re = rs + r.len;
    if (SeqDiff(rs, end) >= 0) break;         // this record and the rest lie after it
    if (SeqDiff(re, seq) > 0) {               // they overlap
      if (SeqDiff(rs, seq) >= 0 && SeqDiff(re, end) <= 0) {
        if (!SameBytes(r, key, payload + (rs - seq))) {
          return Fail(DropReason::tcp_overlap_conflict, true);
        }
      } else {
        // Only part of a judged segment: it cannot be compared. (Linux
        // retransmits whole segments from the last ACK, so this is rare.)
        return Fail(DropReason::tcp_overlap_unverifiable, true);
      }
    }
    rs = re;
  }
  return {};
}

}  // namespace

TcpVerdict NormalizeTcpSegment(const SegmentHashKey& key, TcpSegments& sent, TcpAckPair& acks,
                               int d, const uint8_t* frame, const PacketMeta& meta,
                               bool enforce) {
  TcpAcks& acked = acks[d];
  const bool syn = (meta.tcp_flags & kTcpFlagSyn) != 0;
  if (syn) {
    ReadSynOptions(frame, meta, acked);
    // The stream starts after the SYN's own sequence number.
    sent.base_seq = meta.tcp_seq + 1;
    sent.count = 0;
    sent.started = true;
  }
  TcpVerdict v;
  const uint32_t len = meta.payload_len;
  if (len != 0 && !syn) {
    const uint32_t seq = meta.tcp_seq;
    const uint32_t end = seq + len;
    const uint8_t* payload = frame + meta.payload_offset;
    if ((meta.tcp_flags & kTcpFlagAck) == 0) {
      v = Fail(DropReason::tcp_no_ack, true);
    } else if (meta.tcp_flags & kTcpFlagUrg) {
      v = Fail(DropReason::tcp_urgent, true);
    } else if (acked.Has(TcpAcks::kWindowKnown) && SeqDiff(end, acked.WindowEnd()) > 0) {
      v = Fail(DropReason::tcp_outside_window, true);
    } else {
      if (!sent.started) {
        sent.base_seq = seq;  // picked up mid-stream (or after a restart)
        sent.count = 0;
        sent.started = true;
      }
      FreeAcknowledged(sent, acked);
      const uint32_t next = sent.NextSeq();
      const int32_t ahead = SeqDiff(seq, next);
      if (ahead > 0) {
        if (!(acked.Has(TcpAcks::kAcked) && SeqDiff(acked.ack, seq) >= 0)) {
          v = Fail(DropReason::tcp_out_of_order, false);
        }
      } else if (ahead < 0) {
        v = CheckOverlap(key, sent, payload, seq, end);
      }
      if (!v.Drops() || !enforce) {
        // Forwarded: record the new bytes it brings.
        uint32_t now_next = next;
        if (ahead > 0) {
          sent.base_seq = now_next = seq;  // a gap the receiver already holds, or monitor
          sent.count = 0;
        }
        if (SeqDiff(end, now_next) > 0) {
          const uint32_t fresh = end - now_next;
          if (sent.count == TcpSegments::kRecords) {
            if (enforce) {
              v = Fail(DropReason::tcp_unacked_limit, false);
            } else {
              sent.base_seq = end;  // monitor: stop verifying what came before
              sent.count = 0;
            }
          } else {
            sent.records[sent.count++] = RecordOf(key, payload + (now_next - seq), fresh);
          }
        }
      }
    }
  }
  if (!v.Drops() || !enforce) NoteAck(frame, meta, acked, acks[1 - d]);
  return v;
}

}  // namespace conduit::normalize
