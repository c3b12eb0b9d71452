// S7comm (S7-300/400 "classic"), S7comm-plus and bare COTP over ISO-on-TCP
// (RFC 1006 TPKT + ISO 8073 COTP class 0) on TCP 102.
//
// One framed PDU is one TPKT. Decode yields at most one op per TPKT:
//
//   COTP CR/CC/DR/DC/ER/... and empty DT (the S7 "keep-alive" DT with no
//   payload): kind kCotp, function = TPDU code >> 4 (14 CR, 13 CC, 15 DT,
//   8 DR, 12 DC, ...; what tshark prints as cotp.type). direction from
//   from_client. CR/CC also record the called TSAP (parameter 0xC2) in the
//   per-direction StreamState, see `unit` below.
//
//   S7comm (DT payload starting 0x32): kind kS7comm.
//     function      job / ack-data: the parameter function code (Function
//                   below). userdata (ROSCTR 7): kUserdataBase | group, e.g.
//                   0x104 = CPU functions (tshark prints "-" here). ack or
//                   ack-data without a parameter block: kNoParameter (0x200,
//                   tshark "-"). So function >= 0x100 <=> oracle "-".
//     sub_function  userdata subfunction (kOpHasSubFunction); PLC control:
//                   the PI service (PiService below) when recognised.
//     direction     from ROSCTR: job = request, ack/ack-data = response;
//                   userdata: type 4 = request, 8 = response, 0 = push
//                   (response + kOpUnsolicited).
//     exception     ack/ack-data error class/code != 0: kOpException,
//                   exception_code = error class (0x81..0x87, 0xD2, ...);
//                   userdata parameter error code != 0: kOpException,
//                   exception_code = its high byte (the same class space).
//     object_*      read/write var requests: object_group = memory area
//                   (0x81 I, 0x82 Q, 0x83 M, 0x84 DB, 0x1C C, 0x1D T, ...),
//                   object_instance = DB number, and address_first..last =
//                   the byte range (inclusive) -- set only when every item is
//                   an S7ANY item in the same area and DB, the range then being
//                   the union of the items. Block functions (request
//                   download, download block, download ended, start upload)
//                   and PLC control _INSE/_DELE: object_group = block type
//                   (0x08 OB, 0x0A DB, 0x0B SDB, 0x0C FC, 0x0D SFC, 0x0E FB,
//                   0x0F SFB), object_instance = block number. Userdata:
//                   object_group = function group.
//
//   S7comm-plus (DT payload starting 0x72): kind kS7commPlus, function = 0
//     (tshark 4.0 does not dissect it: "-"), sub_function = protocol version
//     (2nd payload byte: 1, 2, 3 or 0xFE keep-alive). When visible (versions
//     1-3; version 3 after the 32-byte header digest): object_group = opcode
//     (0x31 request, 0x32 response, 0x33 notification) and object_variation =
//     the S7comm-plus function code (0x04BB explore, 0x04CA create object,
//     0x04D4 delete object, 0x04F2 set variable, 0x0542 set multi variables,
//     0x054C get multi variables, 0x056B invoke, ...; not for notifications),
//     with kOpHasObject; direction from the opcode (notification = response +
//     kOpUnsolicited), else from from_client.
//
//   unit: the low byte of the called TSAP seen in this direction's COTP CR/CC
//     (rack * 32 + slot for S7 classic, e.g. 2 = rack 0 slot 2), kOpHasUnit,
//     on every later op of the flow direction. Unset when the connection
//     set-up was not seen or the TSAP is not 2 bytes (S7comm-plus names it
//     with a string such as "SIMATIC-ROOT-HMI").
//
// COTP segmentation: a DT without EOT starts (or continues) a message the
// peer reassembles; the op is decoded from the first segment (it holds the
// S7 header, and the peer acts on nothing before the last segment anyway)
// and the continuation segments yield no op. tshark instead shows the op in
// the frame of the last segment; no capture in the corpus segments a
// non-empty message.
//
// Strict length: the S7comm header's lengths are the whole TPDU payload,
// header (10; 12 for ack/ack-data) + parameter length + data length == TPKT
// length - 7, with no trailing bytes allowed (no capture in the corpus has
// any, and bytes past the data block would reach the PLC unjudged). Frame()
// asks for the first 17 bytes (never more than the TPKT length) and reports
// a final DT (EOT) whose payload is an S7 header (0x32, ROSCTR 1/2/3/7,
// redundancy id 0) with other lengths as kMalformed
// (MalformedReason::kS7Length); Decode() returns kMalformed on any final
// segment's mismatch (it knows the segment state Frame does not). Read/write
// var jobs: the announced item count's items (0x12, spec length, spec) fill
// the parameter block exactly, or Decode() returns kMalformed (named
// s7_items: Frame sees only the first 17 bytes). S7comm-plus (versions
// 1-3): a final DT is the 4-byte header (0x72, version, data length), that
// many bytes, and on a message's last fragment the 4-byte trailer (0x72,
// version, 0x0000) -- nothing else (every S7-1200/1500 TPDU in the corpus);
// Decode() returns kMalformed otherwise (s7plus_length: a stateless Frame
// could take a continuation that starts with 0x72 for a header).
//
// A DT payload that is neither S7comm nor S7comm-plus (e.g. MMS/IEC 61850,
// which shares port 102) returns kNotThisProtocol.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::s7comm {

inline constexpr uint16_t kTcpPort = 102;
inline constexpr uint16_t kUdpPort = 0;

// COTP TPDU codes as the op's function (upper nibble of the TPDU code).
enum CotpType : uint16_t {
  kCotpExpeditedData = 0x1,
  kCotpExpeditedDataAck = 0x2,
  kCotpReject = 0x5,
  kCotpDataAck = 0x6,
  kCotpError = 0x7,
  kCotpDisconnectRequest = 0x8,
  kCotpDisconnectConfirm = 0xC,
  kCotpConnectionConfirm = 0xD,
  kCotpConnectionRequest = 0xE,
  kCotpData = 0xF,
};

// S7comm ROSCTR values.
enum Rosctr : uint8_t {
  kJob = 1,
  kAck = 2,
  kAckData = 3,
  kUserdata = 7,
};

// S7comm op functions: parameter function codes, then pseudo codes for PDUs
// that have none (all >= 0x100).
enum Function : uint16_t {
  kCpuServices = 0x00,
  kReadVar = 0x04,
  kWriteVar = 0x05,
  kRequestDownload = 0x1A,
  kDownloadBlock = 0x1B,
  kDownloadEnded = 0x1C,
  kStartUpload = 0x1D,
  kUpload = 0x1E,
  kEndUpload = 0x1F,
  kPlcControl = 0x28,
  kPlcStop = 0x29,
  kSetupCommunication = 0xF0,
  kUserdataBase = 0x100,  // | userdata function group (0..15)
  kNoParameter = 0x200,   // ack / ack-data without a parameter block
};

// Userdata function groups (low nibble of the type/group byte).
enum UserdataGroup : uint8_t {
  kGroupModeTransition = 0x0,
  kGroupProgrammerCommands = 0x1,
  kGroupCyclicData = 0x2,
  kGroupBlockFunctions = 0x3,
  kGroupCpuFunctions = 0x4,
  kGroupSecurity = 0x5,
  kGroupPbc = 0x6,
  kGroupTimeFunctions = 0x7,
  kGroupNcProgramming = 0xF,
};

// PLC control (0x28) PI services, reported in sub_function.
enum PiService : uint16_t {
  kPiUnknown = 0,
  kPiInsert = 1,        // "_INSE": activate downloaded block(s)
  kPiDelete = 2,        // "_DELE": delete block(s)
  kPiProgram = 3,       // "P_PROGRAM": start (warm/cold restart)
  kPiCopyRamToRom = 4,  // "_MODU"
  kPiCompress = 5,      // "_GARB"
  kPiInsert2 = 6,       // "_INS2"
};

FrameResult Frame(std::span<const uint8_t> head, bool from_client);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::s7comm
