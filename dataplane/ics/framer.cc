#include "ics/framer.h"

#include <algorithm>
#include <cstring>

#include "ics/registry.h"

namespace conduit::ics {
namespace {

constexpr uint32_t kCarry = StreamDirection::kCarryBytes;

inline int32_t SeqDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
// A flow picked up mid-stream may first show a keep-alive byte or the tail of
// a PDU; a few segment starts may fail to frame before the flow is judged
// "not this protocol".
constexpr uint8_t kMaxSyncAttempts = 4;

// Framing is gone: before the first PDU that means "not this protocol",
// after it "lost" (from now on the flow is unparsable).
FeedStatus LoseFraming(StreamDirection& s) {
  s.carry_len = 0;
  s.covered_end = s.next_seq;  // (LoseFramingAt moves it back to where it scans)
  if (!s.peer_chain) s.length_chain = false;  // both start (and stop) together
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
      // headers were not in view when the PDU was framed); otherwise what
      // the decoder named, or a field value.
      const FrameResult f = m.frame(bytes, from_client);
      r.malformed = f.reason != MalformedReason::kNone      ? f.reason
                    : view.malformed != MalformedReason::kNone ? view.malformed
                                                               : MalformedReason::kDecodeInvalidField;
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

// ---- After framing is lost: scanning for the PDUs the peer may find -------

enum class Candidate : uint8_t { kNone, kFound, kPending };

// Keeps, of the ops appended after `before`, those with a known function:
// a chance match inside data (or a fuzzer's garbage) rarely names one with
// a consistent length, and an allowlist would deny every unknown code it
// made up. Returns whether any is left.
bool KeepNamedOps(OpList& ops, size_t before) {
  size_t kept = before;
  for (size_t i = before; i < ops.size(); ++i) {
    if (!FunctionName(ops[i]).empty()) ops[kept++] = ops[i];
  }
  ops.Truncate(kept);
  return kept > before;
}

// What a candidate's decode (`status`, ops appended after `before`) comes
// to, with `seen` of its `length` bytes in view. Cut short where more of it
// may still come (fields past the bytes seen): kPending, its ops dropped,
// to be judged once they are here or once the carry cannot wait any longer.
Candidate Settle(DecodeStatus status, OpList& ops, size_t before, size_t seen, uint32_t length) {
  if (status == DecodeStatus::kNotThisProtocol) {
    ops.Truncate(before);
    return Candidate::kNone;
  }
  bool cut = status == DecodeStatus::kTruncated;
  for (size_t i = before; i < ops.size(); ++i) cut |= ops[i].Has(kOpTruncated);
  if (cut && seen < length && seen < kCarry) {
    ops.Truncate(before);
    return Candidate::kPending;
  }
  return KeepNamedOps(ops, before) ? Candidate::kFound : Candidate::kNone;
}

// Whether a PDU may begin at `bytes[0]` (`bytes`: what follows it in the
// stream, as far as seen). Decodes it with `state` (the peer's view of the
// stream goes on across the bytes it skipped: a DNP3 outstation completes a
// transport message from frames it found by resyncing) and appends its
// ops. kPending, with `state` as it was, when its header or a field lies
// beyond the bytes seen and the carry can wait for them. `valid_length`
// gets the PDU's length where strict Frame found nothing to object to.
Candidate TryCandidate(const ProtocolModule& m, StreamState& state, std::span<const uint8_t> bytes,
                       bool from_client, OpList& ops, uint32_t* valid_length = nullptr) {
  const FrameResult f = m.frame(bytes, from_client);
  if (f.status == FrameStatus::kNeedMore) {
    return bytes.size() < kCarry ? Candidate::kPending : Candidate::kNone;
  }
  if (f.status != FrameStatus::kPdu || f.length == 0) return Candidate::kNone;
  const StreamState saved = state;
  const size_t before = ops.size();
  const PduView view{bytes.first(std::min<size_t>(f.length, bytes.size())), f.length, from_client,
                     false};
  const DecodeStatus status = m.decode(view, state, ops);
  const Candidate c = Settle(status, ops, before, bytes.size(), f.length);
  // Not this protocol: as if never decoded; pending: decoded again, whole.
  if (status == DecodeStatus::kNotThisProtocol || c == Candidate::kPending) state = saved;
  if (c == Candidate::kFound && valid_length != nullptr && f.reason == MalformedReason::kNone) {
    *valid_length = f.length;
  }
  return c;
}

// The request a peer framing its own way reads at `bytes[0]`, the next one
// on its chain (`peer_frame`: ProtocolModule::frame_by_function or
// frame_by_length), decoded as it reads it. `length` gets its length when
// it was judged (0: kPending, or a request it cannot size).
Candidate TryPeerRequest(const ProtocolModule& m, PeerFrameFn peer_frame,
                         std::span<const uint8_t> bytes, OpList& ops, uint32_t* length) {
  *length = 0;
  std::array<uint8_t, kCarry> view;
  const FrameResult f = peer_frame(bytes, view);
  if (f.status == FrameStatus::kNeedMore) {
    return bytes.size() < kCarry ? Candidate::kPending : Candidate::kNone;
  }
  if (f.status != FrameStatus::kPdu || f.length == 0) return Candidate::kNone;
  StreamState scratch{};
  const size_t before = ops.size();
  const size_t n = std::min<size_t>({f.length, bytes.size(), view.size()});
  const Candidate c = Settle(
      m.decode(PduView{std::span<const uint8_t>(view.data(), n), f.length, true, false}, scratch, ops),
      ops, before, bytes.size(), f.length);
  if (c != Candidate::kPending) *length = f.length;
  return c;
}

// Scans the client's bytes of a stream whose framing is lost: every offset
// of carry + `data` where a PDU may begin (TryCandidate); offsets of the
// carry only where they were still pending. Keeps in the carry the tail
// from the first candidate still pending (shorter than kCarry by
// construction). Cost: one Frame call per offset whose start byte fits
// (ProtocolModule::start_byte), only on such flows.
void ScanLostBytes(const ProtocolModule& m, StreamDirection& s, StreamState& state,
                   std::span<const uint8_t> data, uint32_t data_seq, bool from_client, OpList& ops,
                   FeedResult& r) {
  const size_t ops_before = ops.size();
  const size_t old = s.carry_len;
  const size_t total = old + data.size();
  // A candidate that begins in the carry sees the carry and the start of
  // `data` joined (kCarry bytes of `data` decide it either way).
  std::array<uint8_t, 2 * kCarry> joined;
  const size_t head = std::min<size_t>(data.size(), kCarry);
  std::memcpy(joined.data(), s.carry.data(), old);
  std::memcpy(joined.data() + old, data.data(), head);
  std::array<uint32_t, 3> pending{};
  size_t first_pending = total;
  const uint32_t base_seq = data_seq - static_cast<uint32_t>(old);
  // The chains' flags are bits of the stream (not addressable): followed
  // here, stored back after the scan.
  bool peer_chain = s.peer_chain, length_chain = s.length_chain;
  for (size_t o = 0; o < total; ++o) {
    if (o < old && ((s.scan_pending[o / 32] >> (o % 32)) & 1) == 0) continue;  // judged before
    const std::span<const uint8_t> bytes =
        o < old ? std::span<const uint8_t>(joined.data() + o, old + head - o) : data.subspan(o - old);
    const uint32_t at = base_seq + static_cast<uint32_t>(o);
    bool wait = false;
    bool judged = false;
    // The peers whose framing is modelled: each chain's next request.
    uint32_t judged_length = 0;  // of the request a chain judged here
    auto follow = [&](bool& on, uint32_t& next, PeerFrameFn peer_frame) {
      if (!on || at != next) return;
      if (judged_length != 0) {
        // Both peers cut the same request here: judged once.
        std::array<uint8_t, kCarry> view;
        const FrameResult f = peer_frame(bytes, view);
        if (f.status == FrameStatus::kPdu && f.length == judged_length) {
          next += f.length;
          return;
        }
      }
      uint32_t length = 0;
      const Candidate c = TryPeerRequest(m, peer_frame, bytes, ops, &length);
      wait |= c == Candidate::kPending;
      judged = true;
      if (length != 0) {
        next += length;
        judged_length = length;
      } else if (c != Candidate::kPending) {
        on = false;  // a request it cannot size: not followed further
      }
    };
    follow(peer_chain, s.peer_next, m.frame_by_function);
    follow(length_chain, s.length_next, m.frame_by_length);
    // Then any other server: a free-scan candidate, unless a modelled peer
    // read a request here or it lies inside a valid one (see covered_end).
    if (!judged && !(m.frame_by_length != nullptr && SeqDiff(at, s.covered_end) < 0) &&
        !m.start_byte.Excludes(bytes)) {
      uint32_t valid_length = 0;
      const Candidate c = TryCandidate(m, state, bytes, from_client, ops, &valid_length);
      wait |= c == Candidate::kPending;
      if (valid_length != 0 && m.frame_by_length != nullptr) s.covered_end = at + valid_length;
    }
    if (!wait) continue;
    if (first_pending == total) first_pending = o;
    const size_t bit = o - first_pending;  // < kCarry: a pending candidate sees < kCarry bytes
    pending[bit / 32] |= uint32_t{1} << (bit % 32);
  }
  const size_t keep = total - first_pending;
  if (first_pending < old) {
    std::memmove(s.carry.data(), s.carry.data() + first_pending, old - first_pending);
    std::memcpy(s.carry.data() + (old - first_pending), data.data(), data.size());
  } else if (keep != 0) {
    std::memcpy(s.carry.data(), data.data() + (first_pending - old), keep);
  }
  s.carry_len = static_cast<uint8_t>(keep);
  s.scan_pending = pending;
  s.peer_chain = peer_chain;
  s.length_chain = length_chain;
  r.candidates = static_cast<uint8_t>(r.candidates + (ops.size() - ops_before));
}

// Framing was lost at `rest[0]` (with `carried` bytes of the failing header
// from earlier segments still at the start of the carry). Sets the status;
// a client's bytes from there on are scanned for candidate PDUs, and a
// function-framing peer's requests are followed from the failing header
// (every PDU before it agreed on its length, or it is where this sync
// attempt, the stream's start for a new flow, put a PDU boundary). Lost
// for good (or judged not this protocol), the scan goes on with the
// stream's decoder state and its carry; while still unsynced, they are the
// next sync attempt's, so the scan keeps neither.
void LoseFramingAt(const ProtocolModule& m, StreamDirection& s, std::span<const uint8_t> rest,
                   uint32_t carried, bool from_client, OpList& ops, FeedResult& r) {
  // The stream's first byte, on a flow seen from its SYN with no gap: every
  // peer starts framing there.
  const bool stream_start = s.sync == StreamSync::kUnsynced && !s.was_synced &&
                            s.sync_attempts == 0 && s.syn_seen && !s.has_hole;
  const bool was_synced = s.sync == StreamSync::kSynced;
  r.status = LoseFraming(s);
  if (!from_client) return;
  s.carry_len = static_cast<uint8_t>(carried);  // LoseFraming left the bytes in place
  s.scan_pending = {~0u, ~0u, ~0u};  // none of them judged as a start yet
  // The rest of the segment ends at next_seq (set before framing).
  const uint32_t rest_seq = s.next_seq - static_cast<uint32_t>(rest.size());
  s.covered_end = rest_seq - carried;
  if (was_synced || stream_start) {
    // Every PDU before agreed on its length (or there was none): a peer
    // framing by function, or by declared length, is where the framing
    // broke. Otherwise (after a gap, or a flow picked up mid-stream) its
    // place is unknown and an earlier chain goes on, if any.
    s.peer_chain = m.frame_by_function != nullptr;
    s.peer_next = rest_seq - carried;
    s.length_chain = m.frame_by_length != nullptr;
    s.length_next = rest_seq - carried;
  }
  if (r.status != FeedStatus::kUnframed) {
    ScanLostBytes(m, s, s.decoder, rest, rest_seq, from_client, ops, r);
    return;
  }
  StreamState scratch = s.decoder;
  ScanLostBytes(m, s, scratch, rest, rest_seq, from_client, ops, r);
  s.carry_len = 0;  // a chain point left in it is not reached again: the chain stops
}

// Whether the decode since `errors_before` refused a PDU as malformed.
bool Refused(const FeedResult& r, uint8_t errors_before) {
  return r.decode_errors != errors_before && r.last_error == DecodeStatus::kMalformed;
}

// A client PDU its decoder refused while the framing holds: the peer may
// resync inside it (a DNP3 outstation drops a frame with a bad block CRC
// and looks for 05 64 from the next byte), so every later offset of its
// bytes here is a candidate too, decoded on a copy of the state (the
// framing, and the stream's state, go on after the PDU).
// `bytes`: the PDU's bytes here and what follows them in the segment.
void ScanInsideRefusedPdu(const ProtocolModule& m, const StreamDirection& s,
                          std::span<const uint8_t> bytes, uint32_t pdu_length, bool from_client,
                          OpList& ops, FeedResult& r) {
  StreamState scratch = s.decoder;
  const size_t before = ops.size();
  const size_t end = std::min<size_t>(pdu_length, bytes.size());
  for (size_t o = 1; o < end; ++o) TryCandidate(m, scratch, bytes.subspan(o), from_client, ops);
  r.candidates = static_cast<uint8_t>(r.candidates + (ops.size() - before));
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
        const uint8_t errors = r.decode_errors;
        if (!DecodePdu(m, s, {s.carry.data(), kept}, length, from_client, false, ops, r)) {
          r.status = LoseFraming(s);
          return;
        }
        if (from_client && Refused(r, errors)) [[unlikely]] {
          ScanInsideRefusedPdu(m, s, {s.carry.data(), kept}, length, from_client, ops, r);
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
    const std::span<const uint8_t> rest = data.subspan(pos);
    if (f.status == FrameStatus::kMalformed) [[unlikely]] {
      // This protocol, but a length its function does not allow: never frame
      // on it (the PLC may cut the stream elsewhere).
      r.malformed = f.reason;
      LoseFramingAt(m, s, rest, already, from_client, ops, r);
      return;
    }
    if (f.status == FrameStatus::kInvalid || (f.status == FrameStatus::kPdu && f.length == 0))
        [[unlikely]] {
      LoseFramingAt(m, s, rest, already, from_client, ops, r);
      return;
    }
    if (f.status == FrameStatus::kNeedMore) {
      if (head.size() >= kCarry) [[unlikely]] {  // no protocol has a header this long
        LoseFramingAt(m, s, rest, already, from_client, ops, r);
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
      LoseFramingAt(m, s, rest, already, from_client, ops, r);
      return;
    }
    if (f.length <= head.size()) {
      // The whole PDU is here: decode in place.
      const uint32_t from_this_segment = f.length - already;
      s.carry_len = 0;
      const uint8_t errors = r.decode_errors;
      if (!DecodePdu(m, s, head.first(f.length), f.length, from_client, false, ops, r)) {
        LoseFramingAt(m, s, rest, already, from_client, ops, r);
        return;
      }
      if (from_client && Refused(r, errors)) [[unlikely]] {
        ScanInsideRefusedPdu(m, s, head, f.length, from_client, ops, r);
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
      s.syn_seen = true;
    }
    if (payload.empty()) return r;
    ++seq;  // SYN data (TCP Fast Open) follows the SYN's own sequence number
  }
  if (payload.empty()) return r;
  if (!s.seq_valid) {
    s.next_seq = seq;
    s.seq_valid = true;
  }
  const int32_t ahead = SeqDiff(seq, s.next_seq);
  if (s.sync == StreamSync::kLost || s.sync == StreamSync::kNotIcs) {
    // Unparsable (or not this protocol) from now on; the client's new bytes
    // are still scanned, in stream order (the normalizer forwards nothing
    // beyond a hole): on an ICS port, bytes that do not frame are no proof
    // that the server will not find a request in them.
    r.status = s.sync == StreamSync::kLost ? FeedStatus::kUnparsable : FeedStatus::kNotIcs;
    if (ahead > 0) {
      s.carry_len = 0;  // bytes missed: no candidate spans them
      s.peer_chain = s.length_chain = false;
    } else if (ahead < 0) {
      const uint32_t seen = s.next_seq - seq;
      if (seen >= payload.size()) return r;  // identical retransmission (normalizer)
      payload = payload.subspan(seen);
      seq += seen;
    }
    s.next_seq = seq + static_cast<uint32_t>(payload.size());
    if (from_client) ScanLostBytes(module, s, s.decoder, payload, seq, from_client, ops, r);
    return r;
  }
  if (ahead > 0) {
    // A gap: remember the hole and look for a PDU boundary from here on.
    if (!s.has_hole) s.hole_start = s.next_seq;
    s.has_hole = true;
    s.peer_chain = s.length_chain = false;
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
