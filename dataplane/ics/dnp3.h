// DNP3 (IEEE 1815) over TCP or UDP port 20000: link layer, transport layer
// reassembly state and the application header of each message.
//
// Framing: one PDU is one link frame, 0x05 0x64 LEN CTL DST(le16) SRC(le16)
// CRC, then LEN-5 bytes of user data in blocks of 16, each followed by its
// CRC. Frame() checks the start bytes, LEN >= 5, the header CRC and that LEN
// fits the link function (user data in PRM=1 functions 3 and 4 only, LEN 5
// in every other; else kDnp3Length: the receiver would reject the header
// and resynchronise inside the frame's bytes). Over UDP a
// datagram may hold several link frames; Decode walks them.
//
// Ops (one per link frame, in order):
//   kDnp3       the frame completes an application message (transport FIN,
//               with its FIR segment seen): the message's application
//               function code. Single-segment messages give it at once; for a
//               multi-segment message the FIR segment's header is kept in the
//               StreamState and reported on the FIN segment, as tshark does.
//   kDnp3Link   any other frame: link-only frames (reset link, link status,
//               ack, ...), transport segments that do not complete a message,
//               and frames whose user data fails a CRC. function = the link
//               function code (PRM=1: primary code, PRM=0: secondary code);
//               sub_function = the link control byte (DIR/PRM bits included,
//               since the code alone is ambiguous: 0 is reset-link or ack).
//
// IcsOp fields:
//   unit              link destination address (always, kOpHasUnit)
//   direction         kDnp3: response for 0x81/0x82/0x83, else request.
//                     kDnp3Link: from the message's function when known, else
//                     PRM=0 (secondary) is a response; a PRM=1 frame carrying
//                     data follows the DIR bit (1: from the master).
//   object_group/_variation  first object header of the message (kOpHasObject)
//   address_first/_last      its point range (kOpHasAddress): start/stop
//                     qualifiers (0x00-0x05) give start..stop; count
//                     qualifiers with an index prefix give the lowest..highest
//                     index (every index is walked when the object size is
//                     known, else only a single-object header is used);
//                     qualifier 0x06 (all) and plain counts give no range.
//   sub_function      responses: IIN (IIN1 << 8 | IIN2, kOpHasSubFunction)
//   exception_code    responses whose IIN2 reports no-func-support, unknown
//                     object or parameter error (bits 0-2): IIN2, kOpException
//   flags             kOpConfirm (CON bit), kOpUnsolicited (UNS bit or 0x82),
//                     kOpTruncated: the frame's bytes were cut short of its
//                     length (a bounded PDU prefix or a short datagram), or
//                     the first object header continues in a later segment
//
// Status: kNotThisProtocol for a bad start or header CRC (Frame() rejects
// those too); kMalformed when a data block CRC fails (a kDnp3Link op is still
// pushed: tshark drops such data) or the object header is impossible;
// kTruncated when the frame is shorter than its LEN says.
//
// StreamState (per flow direction, all 24 bytes): the FIR segment's
// decoded header while a multi-segment message is open, and the message a
// later FIR replaced (its function and next sequence number: the receiver
// may have ignored the frame with the new FIR, so a tail continuing the old
// message is judged as it); see dnp3.cc `Reassembly` and `Superseded`. A
// segment without FIR whose sequence number is not the expected one is
// ignored and the message stays open (as the receiver's transport layer
// does): the segment that follows in sequence completes it. Transport
// sequence numbers wrap 63 -> 0 (tshark 4.0 does not follow that wrap; we
// do, so a FIN after the wrap reports the message).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::dnp3 {

inline constexpr uint16_t kTcpPort = 20000;
inline constexpr uint16_t kUdpPort = 20000;

// Link frame sizes.
inline constexpr uint32_t kHeaderLen = 10;
inline constexpr uint32_t kMaxFrameLen = 292;  // LEN 255: 10 + 250 + 2*16

// DNP3 CRC-16 (poly 0x3D65, reflected, complemented) of `bytes`.
uint16_t Crc(std::span<const uint8_t> bytes);

// Whole link frame length for a link header LEN byte (>= 5).
constexpr uint32_t FrameLength(uint8_t len) {
  const uint32_t n = len - 5u;
  return kHeaderLen + n + 2 * ((n + 15) / 16);
}

FrameResult Frame(std::span<const uint8_t> head, bool from_client);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::dnp3
