// Modbus/TCP decoder (MBAP + PDU), TCP port 502.
//
// One PDU = MBAP header (7 bytes: transaction id, protocol id 0, length,
// unit id) + function code + data; `length` counts unit id onwards.
//
// IcsOp fields filled (one op per PDU, kind kModbus):
//   function       function code without the 0x80 exception bit (as tshark)
//   direction      from pdu.from_client (Modbus has no in-band direction)
//   unit           MBAP unit id (kOpHasUnit, always)
//   flags          kOpException + exception_code for FC|0x80 responses
//   sub_function   FC 8 diagnostic sub-function, FC 43 MEI type
//                  (kOpHasSubFunction)
//   address_first  data address range touched, inclusive (kOpHasAddress):
//   address_last     requests: FC 1-4, 15, 16 start..start+qty-1; FC 5, 6, 22
//                    the single address; FC 24 the FIFO pointer address;
//                    FC 23 the union of the read and the write range (so an
//                    address constraint covers every register it touches).
//                    Responses: FC 5, 6, 15, 16, 22 echo their range.
//                    Quantity 0 gives first == last == start. The end is not
//                    clamped to 0xFFFF (start + qty - 1 may exceed it).
//   object_group   FC 23 requests only: the exact write range, start in
//   object_variation object_group, last in object_variation (saturated at
//                    0xFFFF) with kOpHasObject; FC 20/21 requests: file
//                    number of the first sub-request in object_group and its
//                    record range in address_first..address_last.
//   kOpTruncated   the fields the function code implies lie beyond the bytes
//                  available (a cut prefix) or beyond the MBAP length.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::modbus {

inline constexpr uint16_t kTcpPort = 502;
inline constexpr uint16_t kUdpPort = 0;

inline constexpr size_t kMbapSize = 7;
// MBAP length counts unit id + PDU; a PDU is 1..253 bytes.
inline constexpr uint16_t kMinLength = 2;
inline constexpr uint16_t kMaxLength = 254;

FrameResult Frame(std::span<const uint8_t> head);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::modbus
