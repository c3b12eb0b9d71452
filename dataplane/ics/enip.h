// EtherNet/IP encapsulation (TCP 44818, and UDP 44818 for ListIdentity and
// friends) and CIP explicit messages carried in it; class 0/1 I/O datagrams
// (Common Packet Format without encapsulation header) on UDP 2222.
//
// One framed TCP PDU is one encapsulation message: 24-byte header (command,
// length, session handle, status, sender context, options; all
// little-endian) + `length` bytes. Ops, in order (what tshark lists as the
// frame's enip row, then its cip row):
//
// Strict length: RegisterSession carries exactly 4 bytes; SendRRData and
// SendUnitData at least 8, and their Common Packet Format (interface handle
// 4, timeout 2, item count 2, then each item's type 2 + length 2 + data)
// must end exactly at the encapsulation length -- no trailing bytes, no item
// past it. A CPF mismatch is framed at the encapsulation length (the target
// cuts there too) and reported malformed (MalformedReason::kEnipLength):
// Frame() asks for the PDU's first 64 bytes (no more than the PDU) and
// judges the item headers that lie within them (a FlawedPdu, the same
// verdict however the stream is cut); Decode() returns kMalformed for a
// mismatch further on (TCP: only there, so a PDU is reported once; UDP:
// any), named enip_length either way. The CIP message in each
// data item (unconnected 0xB2; connected 0xB1 after its sequence count) must
// agree with the item's length the same way: a request's path fits in it, a
// reply's additional status fits, an Unconnected Send to the Connection
// Manager is exactly priority/tick, timeout, message size, the message, its
// pad, route path size, reserved and route path, and a Multiple Service
// Packet's offsets put the first service right after them and each next one
// where the previous ends.
//
//   kEnip, one per encapsulation message
//     function      encapsulation command (Command below)
//     direction     from_client (the encapsulation has no request bit)
//     exception     status != 0: kOpException, exception_code = status
//                   (saturated at 0xFF)
//     unit          not set: the session handle is a per-session nonce, of no
//                   use in a policy
//     kOpTruncated  the message's CIP part lies beyond the bytes kept
//
//   kCip, for SendRRData / SendUnitData: one per CIP message in the Common
//   Packet Format data items (unconnected 0xB2; connected 0xB1 after its
//   2-byte sequence count), then, depth first, one per service embedded in a
//   Multiple Service Packet (0x0A; requests and replies) and for the message
//   inside an Unconnected Send (0x52 to the Connection Manager, class 6)
//     function      service code without the response bit (0x80)
//     direction     response bit set = response, else request
//     exception     general status != 0: kOpException, exception_code =
//                   general status (0x1E for a Multiple Service Packet
//                   reply some of whose services failed)
//     sub_function  requests: class of the request path (kOpHasSubFunction)
//     object_group  requests: class, object_instance: instance,
//     object_variation  attribute (0 if none) of the request path, 8/16/32-bit
//                   logical segments (kOpHasObject when it names a class).
//                   Symbolic (tag name) paths leave them unset. Replies carry
//                   no path, so no class either.
//     unit          services inside an Unconnected Send whose route path starts
//                   with a backplane port segment (port 1): the slot, i.e. the
//                   link address (kOpHasUnit). Unset otherwise.
//     kOpTruncated  the service's request path lies beyond the bytes kept, or
//                   (on a Multiple Service Packet / Unconnected Send) some
//                   embedded service does.
//   More than OpList::kCapacity services overflow the list (counted there).
//
//   UDP 2222 (no encapsulation header): one kEnip op, function = kIoData
//   (pseudo command "io"), object_instance = connection id from the sequenced
//   address item (kOpHasObject), direction from from_client. tshark shows such
//   datagrams as enip with no command ("-").
//
// Service codes 0x4B..0x63 are object specific; names follow the Connection
// Manager where it defines the code (0x4E forward_close, 0x52
// unconnected_send, 0x54 forward_open, ...), else Logix (0x4C read_tag,
// 0x4D write_tag, ...). The numeric code is what ops carry either way.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::enip {

inline constexpr uint16_t kTcpPort = 44818;
inline constexpr uint16_t kUdpPort = 2222;
// Encapsulation over UDP also runs on 44818 (ListIdentity broadcasts); Decode
// accepts both forms on any UDP port.
inline constexpr uint16_t kUdpEncapsulationPort = 44818;

inline constexpr size_t kHeaderSize = 24;
inline constexpr uint32_t kMaxLength = 65511;  // 65535 - header

enum Command : uint16_t {
  kNop = 0x0000,
  kListTargets = 0x0001,  // legacy (Rockwell), still seen from RSLinx
  kListServices = 0x0004,
  kListIdentity = 0x0063,
  kListInterfaces = 0x0064,
  kRegisterSession = 0x0065,
  kUnregisterSession = 0x0066,
  kSendRRData = 0x006F,
  kSendUnitData = 0x0070,
  kIndicateStatus = 0x0072,
  kCancel = 0x0073,
  kIoData = 0xFF00,  // pseudo command: UDP 2222 class 0/1 I/O datagram
};

// CPF item type ids.
enum CpfItem : uint16_t {
  kItemNullAddress = 0x0000,
  kItemConnectedAddress = 0x00A1,
  kItemConnectedData = 0x00B1,
  kItemUnconnectedData = 0x00B2,
  kItemSequencedAddress = 0x8002,
};

enum Service : uint16_t {
  kGetAttributesAll = 0x01,
  kSetAttributesAll = 0x02,
  kGetAttributeList = 0x03,
  kSetAttributeList = 0x04,
  kReset = 0x05,
  kStart = 0x06,
  kStop = 0x07,
  kCreate = 0x08,
  kDelete = 0x09,
  kMultipleServicePacket = 0x0A,
  kApplyAttributes = 0x0D,
  kGetAttributeSingle = 0x0E,
  kSetAttributeSingle = 0x10,
  kFindNextObjectInstance = 0x11,
  kErrorResponse = 0x14,
  kRestore = 0x15,
  kSave = 0x16,
  kNopService = 0x17,
  kGetMember = 0x18,
  kSetMember = 0x19,
  kInsertMember = 0x1A,
  kRemoveMember = 0x1B,
  kGroupSync = 0x1C,
  kExecutePccc = 0x4B,
  kReadTag = 0x4C,
  kWriteTag = 0x4D,
  kForwardClose = 0x4E,
  kUnconnectedSend = 0x52,
  kWriteTagFragmented = 0x53,
  kForwardOpen = 0x54,
  kGetInstanceAttributeList = 0x55,
  kGetConnectionData = 0x56,
  kSearchConnectionData = 0x57,
  kGetConnectionOwner = 0x5A,
  kLargeForwardOpen = 0x5B,
};

inline constexpr uint16_t kClassMessageRouter = 0x02;
inline constexpr uint16_t kClassConnectionManager = 0x06;

FrameResult Frame(std::span<const uint8_t> head, bool from_client);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::enip
