// OPC UA binary (UA TCP / UA Secure Conversation) decoder, TCP port 4840.
//
// One PDU = one message chunk: 8-byte header (3-char message type, chunk
// type F/C/A, uint32 LE chunk size including the header) + body. For
// OPN/MSG/CLO the body starts with the security header (asymmetric for OPN,
// symmetric token id for MSG/CLO) and the sequence header, then the service
// message whose first field is its type id: the NodeId of the encoding
// (e.g. ns=0;i=631 ReadRequest_Encoding_DefaultBinary).
//
// IcsOp fields filled (one op per chunk, kind kOpcua):
//   function       the service type id (encoding NodeId numeric) when it is
//                  visible, else the OpcuaMessageType of the chunk (below).
//                  Visible means: a numeric NodeId form (two-byte, four-byte
//                  or numeric, as tshark) that fits 16 bits and, unless this
//                  flow direction opened its channel with SecurityPolicy#None,
//                  is a known namespace-0 service id (an encrypted body is
//                  random bytes: reporting whatever number it starts with
//                  would be noise).
//   sub_function   the OpcuaMessageType of the chunk (kOpHasSubFunction), so
//                  function == sub_function means "service not visible"
//   object_group   namespace index and full numeric id of the type id when
//   object_instance  it is visible (kOpHasObject)
//   direction      from the service (…_request / …_response / service_fault)
//                  or the message type (HEL/RHE request, ACK/ERR response);
//                  else from pdu.from_client
//   flags          kOpException for ERR, abort ('A') chunks and ServiceFault;
//                  kOpTruncated when the type id lies beyond the bytes kept.
//
// Strict sizes (kOpcuaSize): ACK is exactly 28 bytes; HEL (5 uint32 +
// EndpointUrl), ERR (Error + Reason) and RHE (ServerUri + EndpointUrl) are
// exactly their fields, strings at most 4096 bytes; an OPN's security header
// strings and the sequence header after them fit in its chunk. Frame()
// reports a mismatch as kMalformed, Decode() as kMalformed with its op.
//
// Multi-chunk messages: the first 'C' chunk carries the type id; it is kept in
// StreamState and reported again on every later chunk of that request id, so
// a policy can drop a message from its first chunk on (tshark reports the
// service only on the final chunk).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::opcua {

inline constexpr uint16_t kTcpPort = 4840;
inline constexpr uint16_t kUdpPort = 0;

inline constexpr size_t kHeaderSize = 8;
// Largest chunk accepted by Frame(): UA TCP negotiates buffer sizes, and
// stacks use up to a few MiB; anything larger is taken for garbage.
inline constexpr uint32_t kMaxChunkSize = 16u << 20;

// function / sub_function values for the transport message types. Chosen
// above every namespace-0 service encoding id (those are < 0xFF00).
enum OpcuaMessageType : uint16_t {
  kHel = 0xFF01,  // Hello
  kAck = 0xFF02,  // Acknowledge
  kErr = 0xFF03,  // Error
  kRhe = 0xFF04,  // ReverseHello
  kOpn = 0xFF05,  // OpenSecureChannel
  kMsg = 0xFF06,  // secure conversation message
  kClo = 0xFF07,  // CloseSecureChannel
};

// "HEL", "ACK", ... for an OpcuaMessageType value ("" otherwise): the string
// tshark (and the corpus oracle) prints when no service id is visible.
std::string_view MessageTypeTag(uint16_t function);

FrameResult Frame(std::span<const uint8_t> head, bool from_client);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
// Services: "read_request", "read_response", "service_fault", ...; message
// types: "hello", "acknowledge", "error", "reverse_hello",
// "open_secure_channel", "secure_message", "close_secure_channel".
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::opcua
