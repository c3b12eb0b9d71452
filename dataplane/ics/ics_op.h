// The vocabulary every ICS decoder speaks: one IcsOp per decoded operation.
//
// Decoders are pure functions over byte spans (no DPDK, no allocation, no
// exceptions); they depend on nothing but the standard library so they can be
// unit-tested, fuzzed and benchmarked on their own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ics/malformed.h"

namespace conduit::ics {

// Protocols Conduit can decode. Values are stable (they appear in flow state
// and compiled policy).
#define CONDUIT_ICS_PROTOCOLS(X) \
  X(kUnknown, "unknown")         \
  X(kModbus, "modbus")           \
  X(kDnp3, "dnp3")               \
  X(kS7comm, "s7comm")           \
  X(kS7commPlus, "s7comm-plus")  \
  X(kEnip, "enip")               \
  X(kIec104, "iec104")           \
  X(kOpcua, "opcua")             \
  X(kBacnet, "bacnet")

enum class Protocol : uint8_t {
#define X(e, s) e,
  CONDUIT_ICS_PROTOCOLS(X)
#undef X
      kCount
};

// The layer a decoded function code belongs to. The label is the protocol
// label used by the corpus oracle (shared/corpus/oracle.sh), so a decoded op
// compares one-to-one with what tshark reports.
#define CONDUIT_ICS_OP_KINDS(X)                                                   \
  X(kNone, kUnknown, "none")                                                      \
  X(kModbus, kModbus, "modbus")                /* Modbus function code */          \
  X(kDnp3, kDnp3, "dnp3")                      /* application function code */     \
  X(kDnp3Link, kDnp3, "dnp3.link")             /* link-only frame: link function */\
  X(kS7comm, kS7comm, "s7comm")                /* S7 parameter function code */    \
  X(kS7commPlus, kS7commPlus, "s7comm-plus")   /* S7comm-plus (0x72) PDU */        \
  X(kCotp, kS7comm, "cotp")                    /* COTP PDU without S7 payload */   \
  X(kEnip, kEnip, "enip")                      /* encapsulation command */         \
  X(kCip, kEnip, "cip")                        /* CIP service code (no 0x80 bit) */\
  X(kIec104, kIec104, "iec104")                /* I-format: ASDU type id */        \
  X(kIec104Apci, kIec104, "iec104.apci")       /* S/U-format APCI */               \
  X(kOpcua, kOpcua, "opcua")                   /* service node id or msg type */   \
  X(kBacnetConfirmed, kBacnet, "bacnet.confirmed")                                 \
  X(kBacnetUnconfirmed, kBacnet, "bacnet.unconfirmed")                             \
  X(kBacnetApdu, kBacnet, "bacnet.apdu")       /* APDU without service choice */   \
  X(kBacnetNpdu, kBacnet, "bacnet.npdu")       /* network-layer message */         \
  X(kBacnetBvlc, kBacnet, "bacnet.bvlc")       /* BVLC only */

enum class OpKind : uint8_t {
#define X(e, p, s) e,
  CONDUIT_ICS_OP_KINDS(X)
#undef X
      kCount
};

enum class Direction : uint8_t { kUnknown = 0, kRequest, kResponse };

// IcsOp::flags bits.
enum OpFlag : uint8_t {
  kOpHasUnit = 1 << 0,         // unit holds a unit id / station / common address
  kOpHasAddress = 1 << 1,      // address_first..address_last (inclusive) valid
  kOpHasObject = 1 << 2,       // object_group/variation/instance valid
  kOpHasSubFunction = 1 << 3,  // sub_function valid
  kOpException = 1 << 4,       // exception / error response (exception_code)
  kOpUnsolicited = 1 << 5,     // unsolicited response (DNP3, BACnet, ...)
  kOpConfirm = 1 << 6,         // confirmation requested / is a confirm
  kOpTruncated = 1 << 7,       // the PDU was cut short: fields after it unknown
};

// One decoded operation. 32 bytes, trivially copyable, no pointers.
//
// Field use by protocol (documented in each decoder's header):
//   function      the function code in the OpKind's layer (OPC UA message
//                 types use opcua::OpcuaMessageType, see opcua.h)
//   sub_function  Modbus FC 8 sub-function / FC 43 MEI type, S7 userdata
//                 subfunction, CIP class of the request path, OPC UA ...
//   unit          Modbus unit id, DNP3 destination, IEC 104 common address, ...
//   object_*      DNP3 first object group/variation, S7 userdata group, CIP
//                 class/instance/attribute, ...
struct IcsOp {
  OpKind kind = OpKind::kNone;
  Direction direction = Direction::kUnknown;
  uint8_t flags = 0;
  uint8_t exception_code = 0;
  uint16_t function = 0;
  uint16_t sub_function = 0;
  uint32_t unit = 0;
  uint32_t address_first = 0;
  uint32_t address_last = 0;
  uint16_t object_group = 0;
  uint16_t object_variation = 0;
  uint32_t object_instance = 0;
  uint32_t reserved = 0;

  bool Has(OpFlag f) const { return (flags & f) != 0; }
};
static_assert(sizeof(IcsOp) == 32);

// Fixed-capacity output of one decode call: several PDUs in a segment, or the
// services inside a CIP Multiple Service Packet, each give one op.
class OpList {
 public:
  // A CIP Multiple Service Packet can carry dozens of services (66 in one
  // corpus frame); ops that do not fit are counted, and the flow layer treats
  // an overflowing packet as unparsable rather than judging half of it.
  static constexpr size_t kCapacity = 128;

  // Returns false (and counts the overflow) when full; the op is not stored.
  bool Push(const IcsOp& op) {
    if (size_ == kCapacity) [[unlikely]] {
      ++overflowed_;
      return false;
    }
    ops_[size_++] = op;
    return true;
  }
  void Clear() { size_ = 0; overflowed_ = 0; }
  // Forgets the ops pushed after the first `n` (a candidate decode that
  // turned out too short to judge).
  void Truncate(size_t n) {
    if (n < size_) size_ = n;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t overflowed() const { return overflowed_; }
  const IcsOp& operator[](size_t i) const { return ops_[i]; }
  IcsOp& operator[](size_t i) { return ops_[i]; }
  const IcsOp* begin() const { return ops_.data(); }
  const IcsOp* end() const { return ops_.data() + size_; }

 private:
  std::array<IcsOp, kCapacity> ops_{};
  size_t size_ = 0;
  size_t overflowed_ = 0;
};

// What a decode call concluded. Counted per worker; never thrown.
#define CONDUIT_DECODE_STATUSES(X)                                      \
  X(kOk, "ok")                      /* ops pushed (possibly zero) */   \
  X(kNotThisProtocol, "not_this_protocol") /* payload sanity failed */ \
  X(kTruncated, "truncated")        /* shorter than its header says */ \
  X(kMalformed, "malformed")        /* a field holds an invalid value */

enum class DecodeStatus : uint8_t {
#define X(e, s) e,
  CONDUIT_DECODE_STATUSES(X)
#undef X
};

// One PDU handed to a decoder. For TCP protocols the framer (framer.h) has
// already cut the byte stream at PDU boundaries using the protocol's Frame
// function; for UDP protocols a PDU is one datagram payload.
//
// `bytes` starts at the PDU's first byte. When a PDU spans TCP segments only a
// bounded prefix of it is kept, so bytes.size() may be smaller than `length`:
// decoders must bounds-check against bytes.size(), never against `length`, and
// set kOpTruncated on ops whose fields lay beyond the prefix.
struct PduView {
  std::span<const uint8_t> bytes;
  uint32_t length = 0;       // full PDU length as framed (>= bytes.size())
  bool from_client = false;  // sent by the initiator / toward the server port
  bool udp = false;          // carried in a UDP datagram (not a TCP stream)
  // A decoder that returns kMalformed for a field Frame cannot see names
  // it here (RefusePdu); the framer reports it (else invalid_field).
  mutable MalformedReason malformed = MalformedReason::kNone;
};

inline DecodeStatus RefusePdu(const PduView& pdu, MalformedReason why) {
  pdu.malformed = why;
  return DecodeStatus::kMalformed;
}

// Per flow-direction scratch a decoder may keep between PDUs (e.g. DNP3
// transport reassembly: the application header seen in the FIR segment).
// Zero-initialised when a flow is created; decoders own its layout.
struct StreamState {
  alignas(8) std::array<uint8_t, 24> bytes{};
};

// Result of asking a TCP protocol's framer where the next PDU ends.
enum class FrameStatus : uint8_t {
  kNeedMore,   // fewer than the header's bytes are available
  kPdu,        // `length` is the whole PDU's length (header included)
  kInvalid,    // not this protocol's header: framing is lost
  kMalformed,  // this protocol's header, but its declared length disagrees
               // with what its function requires (`reason`): framing is lost
};
// A kPdu may carry a reason too: the length is consistent (every stack
// cuts the stream at the same place) but a field is out of its range (a
// quantity, a byte count that disagrees with its quantity): the PDU is framed
// and decoded, and reported malformed.
struct FrameResult {
  FrameStatus status = FrameStatus::kNeedMore;
  uint32_t length = 0;
  MalformedReason reason = MalformedReason::kNone;  // set with kMalformed (or a flawed kPdu)
};
inline FrameResult NeedMore() { return {FrameStatus::kNeedMore, 0, MalformedReason::kNone}; }
inline FrameResult Invalid() { return {FrameStatus::kInvalid, 0, MalformedReason::kNone}; }
inline FrameResult Pdu(uint32_t length) { return {FrameStatus::kPdu, length, MalformedReason::kNone}; }
inline FrameResult Malformed(MalformedReason reason) { return {FrameStatus::kMalformed, 0, reason}; }
inline FrameResult FlawedPdu(uint32_t length, MalformedReason reason) {
  return {FrameStatus::kPdu, length, reason};
}

// Signatures every protocol module provides (see registry.h). Framing is
// strict, so it depends on the direction: a request and a response of the
// same function have different fixed lengths.
using FrameFn = FrameResult (*)(std::span<const uint8_t> head, bool from_client);
using DecodeFn = DecodeStatus (*)(const PduView& pdu, StreamState& state,
                                  OpList& ops);
// Optional, for a protocol some of whose peers cut the stream by function
// code alone, ignoring the length the header declares (libmodbus ignores the
// MBAP protocol id and length): where such a peer's request at `head` ends
// (kNeedMore, kInvalid where it cannot size it, or kPdu with `length`), and
// in `view` its first bytes as that peer reads them, with the header fields
// it ignores rewritten to agree, so the strict decoder reads the same.
using PeerFrameFn = FrameResult (*)(std::span<const uint8_t> head, std::span<uint8_t> view);

// Big/little-endian readers. Callers check bounds first.
inline uint16_t Be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint16_t Le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }
inline uint32_t Be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint32_t Le32(const uint8_t* p) {
  return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

// The function code policy rules name an op by (the allowlist key): the
// op's function, except for Schneider UMAS (Modbus function 90) requests,
// which are named by their own UMAS function so a rule can tell a variable
// read from a PLC stop or a program download: 0x5A00 | UMAS function
// (modbus::FunctionName knows these as "umas_*"). Modbus codes are < 256,
// so the two never collide.
inline constexpr uint16_t kModbusUmasFunction = 90;
inline constexpr uint16_t UmasPolicyFunction(uint8_t umas_function) {
  return uint16_t(kModbusUmasFunction << 8 | umas_function);
}
inline uint16_t PolicyFunction(const IcsOp& op) {
  if (op.kind == OpKind::kModbus && op.function == kModbusUmasFunction &&
      op.Has(kOpHasSubFunction)) [[unlikely]] {
    return UmasPolicyFunction(uint8_t(op.sub_function));
  }
  return op.function;
}

std::string_view ProtocolName(Protocol p);
std::string_view OpKindLabel(OpKind k);
Protocol ProtocolOf(OpKind k);

}  // namespace conduit::ics
