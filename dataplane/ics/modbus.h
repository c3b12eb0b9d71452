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
//   sub_function   FC 8 diagnostic sub-function, FC 43 MEI type, FC 90
//                  (Schneider UMAS) the UMAS function of a request or the
//                  0xFE (ok) / 0xFD (error) status of a response
//                  (kOpHasSubFunction). Policy names UMAS requests by their
//                  UMAS function (ics::PolicyFunction, "umas_*" names).
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
// MBAP length counts unit id + PDU; a PDU is 1..253 bytes. Vendor functions
// (Schneider UMAS, function 90, among them) reach 255 on real devices, and
// tshark frames them: they are allowed kMaxVendorLength.
inline constexpr uint16_t kMinLength = 2;
inline constexpr uint16_t kMaxLength = 254;
inline constexpr uint16_t kMaxVendorLength = 255;
inline constexpr uint8_t kUmas = 90;
// The most header bytes Frame() asks for to frame a fixed-layout request
// (FC 23's byte count). File records (FC 20/21) may ask for up to 64 bytes
// to judge their sub-requests, never more than the PDU holds.
inline constexpr size_t kMaxFrameHead = 17;

// Strict framing (Modbus Application Protocol v1.1b3): the MBAP length must
// be the length the function code and its quantity / byte count require;
// otherwise kMalformed with the reason. Functions without a public length
// rule are framed by the MBAP length (as tshark frames them). File record
// sub-requests (FC 20/21) and read sub-responses must fill their byte count
// exactly (reference type 6; a write's record length in registers): a
// mismatch is framed by the byte count and reported kModbusByteCount
// (judged within the first 64 bytes; Decode() returns kMalformed for it
// anywhere in the PDU).
FrameResult Frame(std::span<const uint8_t> head, bool from_client);
// A request as libmodbus's server frames it (PeerFrameFn): MBAP header and
// function code, then the bytes the function needs (the byte count of
// FC 15/16/23), whatever the MBAP protocol id and length say; kInvalid for
// a function libmodbus does not size (it answers those after 8 bytes, but
// a server that executes them frames them some other way). `view` gets the
// request with protocol id 0 and the MBAP length it should have had.
FrameResult FrameByFunction(std::span<const uint8_t> head, std::span<uint8_t> view);
// A request as a server framing by MBAP length alone (pymodbus) cuts it:
// 6 + the MBAP length, whatever the function needs; `view` gets it as is.
FrameResult FrameByLength(std::span<const uint8_t> head, std::span<uint8_t> view);
// The largest MBAP length allowed for a function code (254, or 255 for a
// vendor / unknown function).
uint16_t MaxLengthFor(uint8_t fc);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::modbus
