// Cuts a TCP byte stream (one direction of a flow) into PDUs and decodes
// them; decodes UDP datagrams. The one place where decoders are called.
//
// Several PDUs in one segment are decoded in place (no copy). A PDU that
// spans segments keeps a bounded prefix in the flow's carry buffer and is
// decoded when its last byte arrives, so its ops belong to the completing
// segment (as in Wireshark). Retransmitted bytes are skipped. After a gap (a
// segment lost before the gateway, or reordered) framing restarts at the next
// segment that begins a valid PDU, and the hole is remembered: bytes that
// later arrive inside it were never inspected and are reported unparsable,
// so a reordering trick cannot slip a PDU past the decoder. An invalid header
// inside a synced stream loses framing for good, and so does a malformed one
// (a declared length its function does not allow: framing on it would let a
// PDU swallow the next one, a desync); FeedResult::malformed says why.
//
// Once framing is lost the peer still finds PDUs somewhere in the bytes
// that follow (a PLC re-frames by TPKT, an outstation resyncs on 05 64, a
// Modbus server cuts by MBAP length or by function), and the gateway cannot
// know where. So the client's bytes are scanned: every offset where the
// protocol's strict Frame accepts a header is decoded as a candidate PDU,
// and its operations are judged (a denied one blocks the packet, whatever
// the conduit's `unparsable` action). A candidate whose header spans
// segments is completed from a short tail kept in the carry buffer. Where
// servers are known to cut the stream by one field alone (Modbus: libmodbus
// by function code, ignoring the MBAP protocol id and length; pymodbus by
// MBAP length), each such server's chain of requests is followed from the
// point of loss and each request judged as it reads it, malformed header
// or not; a free-scan candidate inside a strictly valid request is then a
// chance match and is skipped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ics/ics_op.h"

namespace conduit::ics {

struct ProtocolModule;

enum class StreamSync : uint8_t {
  kUnsynced,  // no PDU boundary known (flow just opened, picked up mid-stream, or after a gap)
  kSynced,    // framing PDUs
  kLost,      // a gap or an invalid header after sync: judged as unparsable
  kNotIcs,    // the first bytes were not this protocol: judged as non-ICS
};

// Per direction of a flow: framing state plus the decoder's scratch in its
// first kHotBytes (a flow keeps them in one cache line with the direction's
// TCP records, flow_entry.h), then the carry bytes and the lost-framing scan
// state (touched only by PDUs split across segments and by lost flows).
// Flags are one bit each: the hot fields must fit 40 bytes.
struct StreamDirection {
  static constexpr uint32_t kCarryBytes = 96;
  static constexpr size_t kHotBytes = 40;

  uint32_t next_seq = 0;       // next expected TCP sequence number
  uint32_t pdu_length = 0;     // length of the PDU in progress (0: at a boundary)
  uint32_t pdu_received = 0;   // bytes of it seen so far
  uint8_t carry_len = 0;       // bytes of its prefix (or split header) in `carry`
  StreamSync sync = StreamSync::kUnsynced;
  uint8_t sync_attempts = 0;   // segment starts that failed to frame while unsynced
  bool seq_valid : 1 = false;
  bool was_synced : 1 = false; // framed at least one PDU (so not "not ICS" any more)
  bool has_hole : 1 = false;   // [hole_start, hole_end) was skipped by a gap
  bool syn_seen : 1 = false;   // next_seq started at this side's SYN
  // Framing lost (or never found), for a protocol some of whose peers
  // frame by function (ProtocolModule::frame_by_function): while
  // `peer_chain`, such a peer's next request begins at `peer_next`. Its
  // requests are judged as it reads them, whatever their declared length.
  bool peer_chain : 1 = false;
  // Framing lost, Modbus (frame_by_length): while `length_chain`, a server
  // framing by MBAP length (pymodbus) has its next request at `length_next`.
  bool length_chain : 1 = false;
  StreamState decoder;         // the protocol decoder's own scratch
  // Enough of a PDU's prefix for every decoder to reach its function code.
  // Left uninitialised by default-initialisation (see ResetFlow): only the
  // first carry_len bytes are ever read.
  std::array<uint8_t, kCarryBytes> carry;
  // Framing lost (kLost): bit i set when the candidate PDU at carry[i]
  // could not be judged yet (its header or function code lay beyond the
  // bytes seen). Only the first carry_len bits are meaningful.
  std::array<uint32_t, 3> scan_pending;
  uint32_t length_next;
  // Free-scan candidates starting before `covered_end`, inside a strictly
  // valid candidate both kinds of server frame whole, are chance matches
  // inside it (a read of address 0 with transaction id 0x??08 looks like a
  // diagnostics request 6 bytes in) and are not judged.
  uint32_t covered_end;
  // Read only while has_hole / peer_chain, which set them: uninitialised
  // (as the carry), so a new flow writes only its directions' first line.
  uint32_t hole_start;
  uint32_t hole_end;
  uint32_t peer_next;
};
static_assert(offsetof(StreamDirection, carry) == StreamDirection::kHotBytes,
              "hot fields fit what a flow direction's first line leaves");
static_assert(StreamDirection::kCarryBytes <= 3 * 32, "scan_pending has a bit per carry byte");
static_assert(sizeof(StreamDirection) == 168, "a flow direction is three cache lines");

// What one segment or datagram did to its stream.
enum class FeedStatus : uint8_t {
  kOk,              // in order; zero or more PDUs decoded
  kRetransmission,  // nothing new: every byte was seen before
  kHoleFill,        // bytes of an earlier gap, never inspected: unparsable
  kFramingLost,     // this segment lost framing (gap or invalid header)
  kUnparsable,      // framing was lost earlier
  kNotIcs,          // not this protocol (first bytes failed the sanity check)
  kUnframed,        // no PDU boundary found in it yet (still trying to sync):
                    // its bytes were not inspected, so it is judged unparsable
};

struct FeedResult {
  FeedStatus status = FeedStatus::kOk;
  uint8_t pdus = 0;               // PDUs decoded from this segment
  uint8_t decode_errors = 0;      // of those, how many decoders refused
  bool gap = false;               // bytes before this segment were never seen
  DecodeStatus last_error = DecodeStatus::kOk;
  // Why a PDU of this segment was malformed: a declared length that
  // disagrees with its function (framing is lost, status kFramingLost or
  // kUnframed), or a decoder's refusal of a complete PDU. kNone when fine.
  MalformedReason malformed = MalformedReason::kNone;
  // Operations found by scanning bytes the framing no longer covers
  // (candidates, see above): the last `candidates` ops appended. Judged
  // (and observed) like the others, but only a deny or an alert counts:
  // allowed ones record no rule hit.
  uint8_t candidates = 0;
};

// One TCP segment of one direction. `syn` marks a SYN (its sequence number
// starts the stream). lcore (hot path): no allocation.
FeedResult FeedTcpSegment(const ProtocolModule& module, StreamDirection& stream,
                          uint32_t seq, bool syn, std::span<const uint8_t> payload,
                          bool from_client, OpList& ops);

// One UDP datagram: the datagram is the PDU.
FeedResult FeedDatagram(const ProtocolModule& module, StreamDirection& stream,
                        std::span<const uint8_t> payload, bool from_client, OpList& ops);

}  // namespace conduit::ics
