#include "ics/framer.h"

#include <algorithm>
#include <cstring>

#include "ics/registry.h"

namespace conduit::ics {
namespace {

constexpr uint32_t kCarry = StreamDirection::kCarryBytes;
// A flow picked up mid-stream may first show a keep-alive byte or the tail of
// a PDU; a few segment starts may fail to frame before the flow is judged
// "not this protocol".
constexpr uint8_t kMaxSyncAttempts = 4;

// Framing is gone: before the first PDU that means "not this protocol",
// after it "lost" (from now on the flow is unparsable).
FeedStatus LoseFraming(StreamDirection& s) {
  s.carry_len = 0;
  s.pdu_length = 0;
  s.pdu_received = 0;
  if (s.sync == StreamSync::kUnsynced) {
    if (++s.sync_attempts < kMaxSyncAttempts) return FeedStatus::kUnframed;  // retry at the next segment
    if (!s.was_synced) {
      s.sync = StreamSync::kNotIcs;
      return FeedStatus::kNotIcs;
    }
  }
  s.sync = StreamSync::kLost;
  return FeedStatus::kFramingLost;
}

// Decodes one complete PDU (or the kept prefix of one). Returns false when
// the stream turned out not to be this protocol.
bool DecodePdu(const ProtocolModule& m, StreamDirection& s, std::span<const uint8_t> bytes,
               uint32_t length, bool from_client, bool udp, OpList& ops, FeedResult& r) {
  const PduView view{bytes, length, from_client, udp};
  const DecodeStatus status = m.decode(view, s.decoder, ops);
  ++r.pdus;
  if (status != DecodeStatus::kOk) [[unlikely]] {
    ++r.decode_errors;
    r.last_error = status;
    if (status == DecodeStatus::kMalformed && r.malformed == MalformedReason::kNone) {
      // Name the length the decoder refused where Frame can (for a UDP
      // datagram, BACnet's Frame checks the BVLC length against it; a
      // flawed kPdu names it too, e.g. an EtherNet/IP CPF whose item
      // headers were not in view when the PDU was framed); otherwise a
      // field value.
      const FrameResult f = m.frame(bytes, from_client);
      r.malformed = f.reason != MalformedReason::kNone ? f.reason : MalformedReason::kDecodeInvalidField;
    }
    if (status == DecodeStatus::kNotThisProtocol && s.sync == StreamSync::kUnsynced) {
      return false;
    }
  }
  if (!udp) {
    s.sync = StreamSync::kSynced;
    s.was_synced = true;
    s.sync_attempts = 0;
  }
  return true;
}

// Frames the in-order bytes of one segment.
void FrameBytes(const ProtocolModule& m, StreamDirection& s, std::span<const uint8_t> data,
                bool from_client, OpList& ops, FeedResult& r) {
  size_t pos = 0;
  const size_t n = data.size();
  while (pos < n) {
    if (s.pdu_length != 0) {
      // The rest of a PDU that began in an earlier segment.
      const uint32_t take = static_cast<uint32_t>(std::min<size_t>(s.pdu_length - s.pdu_received, n - pos));
      const uint32_t keep = std::min<uint32_t>(take, kCarry - s.carry_len);
      std::memcpy(s.carry.data() + s.carry_len, data.data() + pos, keep);
      s.carry_len = static_cast<uint8_t>(s.carry_len + keep);
      s.pdu_received += take;
      pos += take;
      if (s.pdu_received == s.pdu_length) {
        const uint32_t length = s.pdu_length;
        s.pdu_length = s.pdu_received = 0;
        const uint8_t kept = s.carry_len;
        s.carry_len = 0;
        if (!DecodePdu(m, s, {s.carry.data(), kept}, length, from_client, false, ops, r)) {
          r.status = LoseFraming(s);
          return;
        }
      }
      continue;
    }

    std::span<const uint8_t> head = data.subspan(pos);
    uint32_t already = 0;  // bytes of this PDU's header carried from before
    if (s.carry_len != 0) {
      // A header split across segments: complete it in the carry buffer.
      already = s.carry_len;
      const uint32_t add = static_cast<uint32_t>(std::min<size_t>(kCarry - already, n - pos));
      std::memcpy(s.carry.data() + already, data.data() + pos, add);
      s.carry_len = static_cast<uint8_t>(already + add);
      head = {s.carry.data(), s.carry_len};
    }
    const FrameResult f = m.frame(head, from_client);
    if (f.status == FrameStatus::kMalformed) [[unlikely]] {
      // This protocol, but a length its function does not allow: never frame
      // on it (the PLC may cut the stream elsewhere).
      r.malformed = f.reason;
      r.status = LoseFraming(s);
      return;
    }
    if (f.status == FrameStatus::kInvalid || (f.status == FrameStatus::kPdu && f.length == 0))
        [[unlikely]] {
      r.status = LoseFraming(s);
      return;
    }
    if (f.status == FrameStatus::kNeedMore) {
      if (head.size() >= kCarry) [[unlikely]] {  // no protocol has a header this long
        r.status = LoseFraming(s);
        return;
      }
      if (already == 0) {
        std::memcpy(s.carry.data(), head.data(), head.size());
        s.carry_len = static_cast<uint8_t>(head.size());
      }
      return;  // every byte is in the carry now
    }
    if (f.reason != MalformedReason::kNone) [[unlikely]] {
      // Framed where every stack frames it, but a field is out of range.
      if (r.malformed == MalformedReason::kNone) r.malformed = f.reason;
      ++r.decode_errors;
      r.last_error = DecodeStatus::kMalformed;
    }
    if (f.length < already) [[unlikely]] {  // shorter than its own header
      r.status = LoseFraming(s);
      return;
    }
    if (f.length <= head.size()) {
      // The whole PDU is here: decode in place.
      const uint32_t from_this_segment = f.length - already;
      s.carry_len = 0;
      if (!DecodePdu(m, s, head.first(f.length), f.length, from_client, false, ops, r)) {
        r.status = LoseFraming(s);
        return;
      }
      pos += from_this_segment;
      continue;
    }
    // The PDU continues past `head`: keep its prefix.
    s.pdu_length = f.length;
    if (already == 0) {
      const uint32_t keep = static_cast<uint32_t>(std::min<size_t>(kCarry, head.size()));
      std::memcpy(s.carry.data(), head.data(), keep);
      s.carry_len = static_cast<uint8_t>(keep);
      s.pdu_received = static_cast<uint32_t>(head.size());
      return;
    }
    // `head` is the carry, not the rest of the segment: the PDU may still end
    // in this segment (past the carry). Count what the carry took and let
    // the loop take the rest up to the PDU's end.
    s.pdu_received = s.carry_len;
    pos += s.carry_len - already;
  }
}

inline int32_t SeqDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

}  // namespace

FeedResult FeedTcpSegment(const ProtocolModule& module, StreamDirection& s, uint32_t seq,
                          bool syn, std::span<const uint8_t> payload, bool from_client,
                          OpList& ops) {
  FeedResult r;
  if (syn) {
    // Only the first SYN starts the stream: a duplicate SYN after data must
    // not rewind it (the same bytes would be decoded twice).
    if (!s.seq_valid) {
      s.next_seq = seq + 1;
      s.seq_valid = true;
    }
    if (payload.empty()) return r;
    ++seq;  // SYN data (TCP Fast Open) follows the SYN's own sequence number
  }
  if (payload.empty()) return r;
  if (s.sync == StreamSync::kLost) {
    r.status = FeedStatus::kUnparsable;
    return r;
  }
  if (s.sync == StreamSync::kNotIcs) {
    r.status = FeedStatus::kNotIcs;
    return r;
  }
  if (!s.seq_valid) {
    s.next_seq = seq;
    s.seq_valid = true;
  }
  const int32_t ahead = SeqDiff(seq, s.next_seq);
  if (ahead > 0) {
    // A gap: remember the hole and look for a PDU boundary from here on.
    if (!s.has_hole) s.hole_start = s.next_seq;
    s.has_hole = true;
    s.hole_end = seq;
    s.carry_len = 0;
    s.pdu_length = s.pdu_received = 0;
    s.sync = StreamSync::kUnsynced;
    s.sync_attempts = 0;
    r.gap = true;
  } else if (ahead < 0) {
    const uint32_t end = seq + static_cast<uint32_t>(payload.size());
    if (s.has_hole && SeqDiff(seq, s.hole_end) < 0 && SeqDiff(end, s.hole_start) > 0) {
      r.status = FeedStatus::kHoleFill;
      return r;
    }
    const uint32_t seen = s.next_seq - seq;  // not -ahead: ahead may be INT32_MIN
    if (seen >= payload.size()) {
      r.status = FeedStatus::kRetransmission;
      return r;
    }
    payload = payload.subspan(seen);  // keep only the new tail
    seq += seen;
  }
  s.next_seq = seq + static_cast<uint32_t>(payload.size());
  FrameBytes(module, s, payload, from_client, ops, r);
  return r;
}

FeedResult FeedDatagram(const ProtocolModule& module, StreamDirection& s,
                        std::span<const uint8_t> payload, bool from_client, OpList& ops) {
  FeedResult r;
  if (payload.empty()) return r;
  if (!DecodePdu(module, s, payload, static_cast<uint32_t>(payload.size()), from_client, true,
                 ops, r)) {
    r.status = FeedStatus::kNotIcs;
  }
  return r;
}

}  // namespace conduit::ics
