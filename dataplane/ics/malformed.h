// Why a PDU was judged malformed: a header of the right protocol whose
// declared length (or a length-bearing field) disagrees with what its
// function requires. Framing on such a PDU would let the gateway and the PLC
// cut the stream differently (a desync), so the framer stops framing instead
// and reports the reason. Names are stable: they appear in events and counters.
#pragma once

#include <cstdint>
#include <string_view>

namespace conduit::ics {

#define CONDUIT_MALFORMED_REASONS(X)                                                      \
  X(kNone, "none")                                                                        \
  X(kModbusLengthMismatch, "modbus_length_mismatch") /* MBAP length != function's size */ \
  X(kModbusByteCount, "modbus_byte_count")           /* byte count != quantity's bytes */ \
  X(kModbusQuantity, "modbus_quantity")              /* quantity/value out of range */    \
  X(kModbusLength, "modbus_length")                  /* MBAP length out of 2..254(255) */ \
  X(kTpktLength, "tpkt_length")                      /* TPKT length < COTP + header */    \
  X(kCotpLength, "cotp_length")                      /* COTP length indicator */          \
  X(kS7Length, "s7_length")                          /* S7 header param + data lengths */ \
  X(kS7Header, "s7_header")                          /* ROSCTR, parameter block size */   \
  X(kS7Items, "s7_items")                            /* var items != parameter block */   \
  X(kS7PlusLength, "s7plus_length")                  /* S7comm-plus length / trailer */   \
  X(kIec104Length, "iec104_length")                  /* APDU length vs format / ASDU */   \
  X(kDnp3Length, "dnp3_length")                      /* link LEN field */                 \
  X(kDnp3Crc, "dnp3_crc")                            /* header or block CRC */            \
  X(kDnp3Application, "dnp3_application")            /* no function, or objects cut */    \
  X(kEnipLength, "enip_length")                      /* encapsulation length vs data */   \
  X(kOpcuaSize, "opcua_size")                        /* message size vs header */         \
  X(kBacnetBvlcLength, "bacnet_bvlc_length")         /* BVLC length != datagram */        \
  X(kBacnetNpdu, "bacnet_npdu")                      /* NPDU version, addresses, body */  \
  X(kBacnetApdu, "bacnet_apdu")                      /* APDU type or header */            \
  X(kDecodeInvalidField, "invalid_field")            /* a decoder refused a field */

enum class MalformedReason : uint8_t {
#define X(e, s) e,
  CONDUIT_MALFORMED_REASONS(X)
#undef X
      kCount
};
inline constexpr int kMalformedReasonCount = static_cast<int>(MalformedReason::kCount);

constexpr std::string_view MalformedReasonName(MalformedReason r) {
  switch (r) {
#define X(e, s) \
  case MalformedReason::e: return s;
    CONDUIT_MALFORMED_REASONS(X)
#undef X
    default: return "unknown";
  }
}

}  // namespace conduit::ics
