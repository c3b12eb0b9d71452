// IEC 60870-5-104 decoder (APCI + ASDU), TCP port 2404.
//
// One PDU = one APDU: start byte 0x68, length byte L (4..253), four control
// octets, then for I-format an ASDU. Frame() cuts exactly one APDU; the flow
// layer loops over several APDUs in a segment. Leading garbage before 0x68
// is not skipped (tshark resyncs on it; an enforcement point must not).
//
// Strict length: S- and U-format APDUs have L = 4. For an I-format APDU
// whose type identification has a fixed element size (IEC 60870-5-101/104),
// L must be 4 + 6 (ASDU header) + the objects its VSQ declares, N = VSQ &
// 0x7F: SQ=0 N x (3-octet IOA + element), SQ=1 IOA + N x element; N = 0 is
// malformed. Frame() reports a disagreeing L as kMalformed
// (MalformedReason::kIec104Length) and Decode() as DecodeStatus::kMalformed.
// Types with length octets inside are sized by them: F_SG_NA_1 is one
// object (VSQ = 1) whose LOS octet gives the segment's length; the IEC
// 60870-5-7 security ASDUs (no IOA) by their CLN/HLN/WKL/ELN fields (and
// S_KS_NA_1's MAC algorithm) when the message is sent whole, S_KR_NA_1 is
// a 2-octet user number; S_IT_TC_1 has a 14-octet element. Private type
// ids, S_AR_NA_1 (its MAC length is the session's) and the segments of a
// segmented security message are not sized; the update-key types 88-95 are
// treated as private.
//
// IcsOp fields filled (one op per APDU):
//   I-format, kind kIec104:
//     function       ASDU type identification (1..127, e.g. 45 C_SC_NA_1)
//     sub_function   cause of transmission, 6 bits (kOpHasSubFunction);
//                    the P/N bit sets kOpException with exception_code = the
//                    cause (a negative confirmation); the T (test) bit is
//                    dropped.
//     unit           common address of the ASDU (kOpHasUnit)
//     address_first  information object addresses, inclusive range over all
//     address_last   objects (kOpHasAddress): one object: its IOA; SQ=1:
//                    IOA..IOA + N - 1; SQ=0: min..max over the objects
//                    present when the element size of the type is known,
//                    else 0..0xFFFFFF (cannot walk them: any address);
//                    the security types 81-87 have no IOA (no kOpHasAddress)
//     object_instance number of information objects (VSQ & 0x7F)
//     direction      from pdu.from_client (the controlling station is the
//                    TCP client); COT is semantic, not a direction bit
//   S-format, kind kIec104Apci:
//     function       kApciS (0): tshark/the oracle shows it as "S"
//     sub_function   kFormatS (kOpHasSubFunction)
//     direction      from pdu.from_client
//   U-format, kind kIec104Apci:
//     function       U type as tshark's iec60870_104.utype = control octet 1
//                    >> 2: 1 STARTDT act, 2 STARTDT con, 4 STOPDT act,
//                    8 STOPDT con, 16 TESTFR act, 32 TESTFR con (other
//                    values: malformed, still reported)
//     sub_function   kFormatU (kOpHasSubFunction)
//     direction      act: request, con: response; kOpConfirm on con
//   kOpTruncated     the ASDU fields lie beyond the bytes available.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics::iec104 {

inline constexpr uint16_t kTcpPort = 2404;
inline constexpr uint16_t kUdpPort = 0;

inline constexpr uint8_t kStartByte = 0x68;
inline constexpr uint8_t kMinApduLength = 4;    // APCI control octets only
inline constexpr uint8_t kMaxApduLength = 253;  // IEC 60870-5-104 5.1

// APCI frame formats, as tshark's iec60870_104.type; kept in sub_function of
// kIec104Apci ops.
enum ApciFormat : uint16_t { kFormatI = 0, kFormatS = 1, kFormatU = 3 };

// kIec104Apci function values: S-format, and the U-format types.
enum ApciFunction : uint16_t {
  kApciS = 0,
  kStartDtAct = 1,
  kStartDtCon = 2,
  kStopDtAct = 4,
  kStopDtCon = 8,
  kTestFrAct = 16,
  kTestFrCon = 32,
};

FrameResult Frame(std::span<const uint8_t> head, bool from_client);
DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
// kIec104: "m_sp_na_1", "c_sc_na_1", ... (type ids lowercased);
// kIec104Apci: "s_frame", "startdt_act", "startdt_con", "stopdt_act", ...
std::string_view FunctionName(OpKind kind, uint16_t function);
std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);

}  // namespace conduit::ics::iec104
