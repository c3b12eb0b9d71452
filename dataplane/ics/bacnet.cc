#include "ics/bacnet.h"

#include <algorithm>
#include <array>

namespace conduit::ics::bacnet {
namespace {

// ---- BVLC / NPDU constants ---------------------------------------------------

constexpr uint8_t kBvlcType = 0x81;  // BACnet/IP (Annex J)
constexpr size_t kBvlcHeaderLen = 4;
constexpr uint8_t kBvlcResult = 0x00;
constexpr uint8_t kBvlcReadBdtAck = 0x03;
constexpr uint8_t kBvlcForwardedNpdu = 0x04;
constexpr uint8_t kBvlcReadFdtAck = 0x07;
constexpr uint8_t kBvlcDistributeBroadcast = 0x09;
constexpr uint8_t kBvlcOriginalUnicast = 0x0A;
constexpr uint8_t kBvlcOriginalBroadcast = 0x0B;
constexpr uint8_t kBvlcMaxFunction = 0x0C;  // Secure-BVLL

constexpr uint8_t kNpduVersion = 1;
constexpr uint8_t kNpduNetworkMessage = 0x80;
constexpr uint8_t kNpduDnet = 0x20;
constexpr uint8_t kNpduSnet = 0x08;

enum ApduType : uint8_t {
  kConfirmedRequest = 0,
  kUnconfirmedRequest = 1,
  kSimpleAck = 2,
  kComplexAck = 3,
  kSegmentAck = 4,
  kError = 5,
  kReject = 6,
  kAbort = 7,
};

// ---- Tag reader -------------------------------------------------------------

struct Tag {
  uint8_t number = 0;
  bool context = false;
  bool opening = false;
  bool closing = false;
  uint32_t len = 0;  // bytes of value that follow the tag header
};

// Reads the tag header at d[p] and advances p past it (not past the value).
bool ReadTag(const uint8_t* d, size_t n, size_t& p, Tag& t) {
  if (p >= n) return false;
  const uint8_t b = d[p++];
  t = Tag{};
  t.number = b >> 4;
  t.context = b & 0x08;
  const uint8_t lvt = b & 0x07;
  if (t.number == 15) {
    if (p >= n) return false;
    t.number = d[p++];
  }
  if (t.context && lvt == 6) {
    t.opening = true;
  } else if (t.context && lvt == 7) {
    t.closing = true;
  } else if (!t.context && t.number == 1) {
    t.len = 0;  // application boolean: the value is in the tag itself
  } else if (lvt == 5) {
    if (p >= n) return false;
    const uint8_t ext = d[p++];
    if (ext == 254) {
      if (n - p < 2) return false;
      t.len = Be16(d + p);
      p += 2;
    } else if (ext == 255) {
      if (n - p < 4) return false;
      t.len = Be32(d + p);
      p += 4;
    } else {
      t.len = ext;
    }
  } else {
    t.len = lvt;
  }
  return true;
}

// Big-endian unsigned of up to 4 bytes (longer values keep the low 32 bits).
uint32_t ReadUnsigned(const uint8_t* d, uint32_t len) {
  uint32_t v = 0;
  for (uint32_t i = 0; i < len; ++i) v = v << 8 | d[i];
  return v;
}

constexpr uint8_t kAppObjectId = 12;
constexpr uint8_t kAppEnumerated = 9;
constexpr int kMaxTags = 32;  // bound on tags walked per PDU

// Where a service's first object identifier sits.
struct ObjectSpec {
  uint8_t tag = 0xFF;  // 0xFF: the service names no object
  bool context = true;
  bool property = false;  // a property identifier follows the object
};

ObjectSpec ConfirmedSpec(uint8_t service) {
  switch (service) {
    case 0: return {1, true, false};    // acknowledge-alarm
    case 1: return {2, true, false};    // confirmed-cov-notification
    case 2: return {2, true, false};    // confirmed-event-notification
    case 5: return {1, true, false};    // subscribe-cov
    case 6: case 7: case 11:            // atomic read/write file, delete
      return {kAppObjectId, false, false};
    case 8: case 9: return {0, true, true};   // add/remove list element
    case 12: case 14: case 15: case 16: case 26:
      return {0, true, true};           // read/write property [multiple], range
    case 27: return {3, true, false};   // life-safety-operation
    case 28: return {1, true, false};   // subscribe-cov-property
    default: return {};
  }
}

ObjectSpec UnconfirmedSpec(uint8_t service) {
  switch (service) {
    case 0: case 1: return {kAppObjectId, false, false};  // I-Am, I-Have
    case 2: case 3: return {2, true, false};  // COV / event notification
    case 7: return {2, true, false};          // who-has (object id choice)
    default: return {};
  }
}

// Fills the object fields of `op` from service data `d[0..n)`. Returns false
// when the data ran out before the object was found.
bool FindObject(const uint8_t* d, size_t n, ObjectSpec spec, IcsOp& op) {
  if (spec.tag == 0xFF) return true;
  size_t p = 0;
  int depth = 0;
  Tag t;
  for (int i = 0; i < kMaxTags; ++i) {
    if (!ReadTag(d, n, p, t)) return false;
    if (t.opening) {
      ++depth;
      continue;
    }
    if (t.closing) {
      --depth;
      continue;
    }
    if (n - p < t.len) return false;
    if (depth == 0 && t.number == spec.tag && t.context == spec.context && t.len == 4) {
      const uint32_t id = Be32(d + p);
      op.object_group = uint16_t(id >> 22);
      op.object_instance = id & 0x3FFFFF;
      op.address_first = op.address_last = op.object_instance;
      op.flags |= kOpHasObject | kOpHasAddress;
      p += 4;
      if (!spec.property) return true;
      // Property: [1] directly (RP/WP/read-range), or inside [1] { [0]/[2] }
      // (RPM/WPM request, RPM ack).
      if (!ReadTag(d, n, p, t)) return true;
      if (t.opening && t.number == 1 && !ReadTag(d, n, p, t)) return true;
      if (t.context && !t.opening && !t.closing && t.len >= 1 && t.len <= 4 &&
          n - p >= t.len) {
        op.object_variation = uint16_t(ReadUnsigned(d + p, t.len));
      }
      return true;
    }
    p += t.len;
  }
  return true;
}

// Who-Is / Who-Has device instance range limits: [0] low, [1] high.
void FindLimits(const uint8_t* d, size_t n, IcsOp& op) {
  size_t p = 0;
  Tag lo, hi;
  if (!ReadTag(d, n, p, lo) || !lo.context || lo.number != 0 || lo.len < 1 ||
      lo.len > 4 || n - p < lo.len) {
    return;
  }
  const uint32_t low = ReadUnsigned(d + p, lo.len);
  p += lo.len;
  if (!ReadTag(d, n, p, hi) || !hi.context || hi.number != 1 || hi.len < 1 ||
      hi.len > 4 || n - p < hi.len) {
    return;
  }
  const uint32_t high = ReadUnsigned(d + p, hi.len);
  if (low > high) return;
  op.address_first = low;
  op.address_last = high;
  op.flags |= kOpHasAddress;
}

// Error PDU payload: error class and error code (application enumerated),
// possibly wrapped in a context tag. Returns the error code if found.
bool FindErrorCode(const uint8_t* d, size_t n, uint32_t& code) {
  size_t p = 0;
  int seen = 0;
  Tag t;
  for (int i = 0; i < kMaxTags; ++i) {
    if (!ReadTag(d, n, p, t)) return false;
    if (t.opening || t.closing) continue;
    if (n - p < t.len) return false;
    if (!t.context && t.number == kAppEnumerated && t.len >= 1 && t.len <= 4) {
      if (++seen == 2) {
        code = ReadUnsigned(d + p, t.len);
        return true;
      }
    }
    p += t.len;
  }
  return false;
}

bool IsNotification(bool confirmed, uint8_t service) {
  return confirmed ? (service == 1 || service == 2 || service == 31)
                   : (service == 2 || service == 3 || service == 11);
}

// ---- APDU --------------------------------------------------------------------

// Decodes the APDU a[0..n). `short_status`: what to return when required
// header bytes are missing. (Decode flags the op when the bytes were cut.)
DecodeStatus DecodeApdu(const uint8_t* a, size_t n, DecodeStatus short_status, IcsOp& op,
                        OpList& ops) {
  if (n == 0) return short_status;
  const uint8_t type = a[0] >> 4;
  // SEG only exists in confirmed requests and complex acks.
  const bool seg = (type == kConfirmedRequest || type == kComplexAck) && (a[0] & 0x08);
  const bool srv = a[0] & 0x01;
  size_t service_at = 0;
  size_t data_at = 0;
  switch (type) {
    case kConfirmedRequest:
      service_at = seg ? 5 : 3;
      break;
    case kUnconfirmedRequest:
      service_at = 1;
      break;
    case kSimpleAck:
    case kError:
      service_at = 2;
      break;
    case kComplexAck:
      service_at = seg ? 4 : 2;
      break;
    default: {  // segment-ack, reject, abort, reserved types
      op.kind = OpKind::kBacnetApdu;
      op.function = type;
      op.direction = (type == kReject || ((type == kSegmentAck || type == kAbort) && srv))
                         ? Direction::kResponse
                         : Direction::kRequest;
      if (n >= 2) {
        op.sub_function = a[1];
        op.flags |= kOpHasSubFunction;
      }
      if (type == kReject || type == kAbort) {
        if (n >= 3) {
          op.flags |= kOpException;
          op.exception_code = a[2];
        } else {
          op.flags |= kOpTruncated;
        }
      } else if (type == kSegmentAck && n < 4) {
        op.flags |= kOpTruncated;
      }
      ops.Push(op);
      if (type > kAbort) return DecodeStatus::kMalformed;
      return (op.flags & kOpTruncated) ? short_status : DecodeStatus::kOk;
    }
  }
  if (n <= service_at) return short_status;
  const uint8_t service = a[service_at];
  data_at = service_at + 1;
  const bool confirmed = type != kUnconfirmedRequest;
  op.kind = confirmed ? OpKind::kBacnetConfirmed : OpKind::kBacnetUnconfirmed;
  op.function = service;
  op.direction = (type == kConfirmedRequest || type == kUnconfirmedRequest)
                     ? Direction::kRequest
                     : Direction::kResponse;
  if (confirmed) {
    op.sub_function = type == kConfirmedRequest ? a[2] : a[1];
    op.flags |= kOpHasSubFunction;
  }
  if ((type == kConfirmedRequest || type == kUnconfirmedRequest) &&
      IsNotification(confirmed, service)) {
    op.flags |= kOpUnsolicited;
  }
  const uint8_t* d = a + data_at;
  const size_t dn = n - data_at;
  // Service parameters start in the first segment only (sequence number 0,
  // two bytes before the service choice).
  const bool first_segment = !seg || a[service_at - 2] == 0;
  if (type == kError) {
    uint32_t code = 0;
    op.flags |= kOpException;
    if (FindErrorCode(d, dn, code)) op.exception_code = uint8_t(code);
  } else if (first_segment) {
    if (type == kConfirmedRequest) {
      FindObject(d, dn, ConfirmedSpec(service), op);
    } else if (type == kUnconfirmedRequest) {
      if (service == 7 || service == 8) FindLimits(d, dn, op);
      FindObject(d, dn, UnconfirmedSpec(service), op);
    } else if (type == kComplexAck && (service == 12 || service == 14 || service == 26)) {
      FindObject(d, dn, ObjectSpec{0, true, true}, op);
    }
  }
  ops.Push(op);
  return DecodeStatus::kOk;
}

Direction NetworkMessageDirection(uint8_t type) {
  switch (type) {
    case 0x01: case 0x02: case 0x03: case 0x07: case 0x0C: case 0x13:
      return Direction::kResponse;  // I-Am/I-Could-Be-Router, Reject, acks
    default:
      return Direction::kRequest;
  }
}

// Whether a network layer message's body (the `n` octets after its type)
// has the length its type requires (135 clause 6.4): fixed fields, lists
// of 2-octet network numbers, or the routing table's port entries, each
// carrying its own port info length. A router acts on these (Initialize-
// Routing-Table rewrites its table), so octets its own parser would read
// differently must not pass. Security (0x0A-0x11), reserved and
// proprietary types are not sized.
bool NetworkMessageFits(uint8_t type, const uint8_t* body, size_t n) {
  switch (type) {
    case 0x00: return n == 0 || n == 2;           // Who-Is-Router: optional DNET
    case 0x01: return n >= 2 && n % 2 == 0;       // I-Am-Router: DNETs
    case 0x02:                                    // I-Could-Be-Router: DNET, performance
    case 0x03:                                    // Reject-Message: reason, DNET
    case 0x08:                                    // Establish-Connection: DNET, time
    case 0x13:                                    // Network-Number-Is: number, flag
      return n == 3;
    case 0x04: case 0x05: return n % 2 == 0;      // Router-Busy/-Available: DNETs
    case 0x06: case 0x07: {                       // Initialize-Routing-Table(-Ack)
      if (n < 1) return false;
      size_t at = 1;
      for (size_t port = 0; port < body[0]; ++port) {
        if (at + 4 > n) return false;             // DNET, port id, port info length
        at += 4 + body[at + 3];
      }
      return at == n;
    }
    case 0x09: return n == 2;                     // Disconnect-Connection: DNET
    case 0x12: return n == 0;                     // What-Is-Network-Number
    default: return true;
  }
}

// ---- Names ---------------------------------------------------------------------// ---- Names ---------------------------------------------------------------------

constexpr std::array<std::string_view, 34> kConfirmedNames = {
    "acknowledge_alarm",
    "confirmed_cov_notification",
    "confirmed_event_notification",
    "get_alarm_summary",
    "get_enrollment_summary",
    "subscribe_cov",
    "atomic_read_file",
    "atomic_write_file",
    "add_list_element",
    "remove_list_element",
    "create_object",
    "delete_object",
    "read_property",
    "read_property_conditional",
    "read_property_multiple",
    "write_property",
    "write_property_multiple",
    "device_communication_control",
    "confirmed_private_transfer",
    "confirmed_text_message",
    "reinitialize_device",
    "vt_open",
    "vt_close",
    "vt_data",
    "authenticate",
    "request_key",
    "read_range",
    "life_safety_operation",
    "subscribe_cov_property",
    "get_event_information",
    "subscribe_cov_property_multiple",
    "confirmed_cov_notification_multiple",
    "confirmed_audit_notification",
    "audit_log_query",
};

constexpr std::array<std::string_view, 15> kUnconfirmedNames = {
    "i_am",
    "i_have",
    "unconfirmed_cov_notification",
    "unconfirmed_event_notification",
    "unconfirmed_private_transfer",
    "unconfirmed_text_message",
    "time_synchronization",
    "who_has",
    "who_is",
    "utc_time_synchronization",
    "write_group",
    "unconfirmed_cov_notification_multiple",
    "unconfirmed_audit_notification",
    "who_am_i",
    "you_are",
};

constexpr std::array<std::string_view, 8> kApduNames = {
    "confirmed_request", "unconfirmed_request", "simple_ack", "complex_ack",
    "segment_ack",       "error",               "reject",     "abort",
};

constexpr std::array<std::string_view, 20> kNetworkNames = {
    "who_is_router_to_network",
    "i_am_router_to_network",
    "i_could_be_router_to_network",
    "reject_message_to_network",
    "router_busy_to_network",
    "router_available_to_network",
    "initialize_routing_table",
    "initialize_routing_table_ack",
    "establish_connection_to_network",
    "disconnect_connection_to_network",
    "challenge_request",
    "security_payload",
    "security_response",
    "request_key_update",
    "update_key_set",
    "update_distribution_key",
    "request_master_key",
    "set_master_key",
    "what_is_network_number",
    "network_number_is",
};

constexpr std::array<std::string_view, 13> kBvlcNames = {
    "bvlc_result",
    "write_broadcast_distribution_table",
    "read_broadcast_distribution_table",
    "read_broadcast_distribution_table_ack",
    "forwarded_npdu",
    "register_foreign_device",
    "read_foreign_device_table",
    "read_foreign_device_table_ack",
    "delete_foreign_device_table_entry",
    "distribute_broadcast_to_network",
    "original_unicast_npdu",
    "original_broadcast_npdu",
    "secure_bvll",
};

std::span<const std::string_view> NamesFor(OpKind kind) {
  switch (kind) {
    case OpKind::kBacnetConfirmed: return kConfirmedNames;
    case OpKind::kBacnetUnconfirmed: return kUnconfirmedNames;
    case OpKind::kBacnetApdu: return kApduNames;
    case OpKind::kBacnetNpdu: return kNetworkNames;
    case OpKind::kBacnetBvlc: return kBvlcNames;
    default: return {};
  }
}

// Whether a BVLC length is what its function requires (Annex J.2): the
// result, register-foreign-device and delete-FDT-entry messages are fixed,
// the table messages carry 10-octet entries, the NPDU carriers at least the
// NPDU's version and control octets. A length no function allows leaves
// octets the receiver's BVLL would parse differently (or not at all).
bool BvlcLengthFits(uint8_t function, uint16_t length) {
  constexpr size_t kNpduMin = 2;       // version, control
  constexpr size_t kBipAddress = 6;    // B/IP address and port
  constexpr size_t kTableEntry = 10;   // BDT: address + mask; FDT: address + TTL + remaining
  switch (function) {
    case 0x00: return length == kBvlcHeaderLen + 2;            // BVLC-Result: result code
    case 0x01:                                                 // Write-BDT
    case 0x03:                                                 // Read-BDT-Ack
    case 0x07:                                                 // Read-FDT-Ack
      return (length - kBvlcHeaderLen) % kTableEntry == 0;
    case 0x02:                                                 // Read-BDT
    case 0x06:                                                 // Read-FDT
      return length == kBvlcHeaderLen;
    case 0x04: return length >= kBvlcHeaderLen + kBipAddress + kNpduMin;  // Forwarded-NPDU
    case 0x05: return length == kBvlcHeaderLen + 2;            // Register-Foreign-Device: TTL
    case 0x08: return length == kBvlcHeaderLen + kBipAddress;  // Delete-FDT-Entry
    case 0x09:                                                 // Distribute-Broadcast-To-Network
    case 0x0A:                                                 // Original-Unicast-NPDU
    case 0x0B:                                                 // Original-Broadcast-NPDU
      return length >= kBvlcHeaderLen + kNpduMin;
    default: return true;                                      // Secure-BVLL: its own wrapper
  }
}

DecodeStatus DecodeMessage(const PduView& pdu, OpList& ops) {
  const std::span<const uint8_t> b = pdu.bytes;
  if (b.empty() || b[0] != kBvlcType) return DecodeStatus::kNotThisProtocol;
  if (b.size() < kBvlcHeaderLen) return DecodeStatus::kTruncated;
  const uint8_t function = b[1];
  const uint16_t bvlc_len = Be16(b.data() + 2);
  if (function > kBvlcMaxFunction || bvlc_len < kBvlcHeaderLen) {
    return DecodeStatus::kNotThisProtocol;
  }
  // Bytes of this message we can read, and what to say when a header field
  // is missing: truncated when the bytes end before the BVLC length does,
  // malformed when the message itself is too short for its headers.
  const size_t end = std::min<size_t>(bvlc_len, b.size());
  const bool cut = end < bvlc_len;
  const DecodeStatus short_status = cut ? DecodeStatus::kTruncated : DecodeStatus::kMalformed;
  const uint8_t* d = b.data();

  IcsOp op;
  size_t p = 0;
  switch (function) {
    case kBvlcForwardedNpdu:
      p = kBvlcHeaderLen + 6;  // original source B/IP address
      break;
    case kBvlcDistributeBroadcast:
    case kBvlcOriginalUnicast:
    case kBvlcOriginalBroadcast:
      p = kBvlcHeaderLen;
      break;
    default:
      op.kind = OpKind::kBacnetBvlc;
      op.function = function;
      op.direction = (function == kBvlcResult || function == kBvlcReadBdtAck ||
                      function == kBvlcReadFdtAck)
                         ? Direction::kResponse
                         : Direction::kRequest;
      ops.Push(op);
      return DecodeStatus::kOk;
  }

  // NPDU. A kMalformed from here on is the NPDU's (then the APDU's).
  pdu.malformed = MalformedReason::kBacnetNpdu;
  if (end < p + 2) return short_status;
  if (d[p] != kNpduVersion) return DecodeStatus::kMalformed;
  const uint8_t control = d[p + 1];
  p += 2;
  if (control & kNpduDnet) {
    if (end < p + 3) return short_status;
    op.unit = Be16(d + p);
    op.flags |= kOpHasUnit;
    p += 3 + d[p + 2];
  }
  if (control & kNpduSnet) {
    if (end < p + 3) return short_status;
    if (d[p + 2] == 0) return DecodeStatus::kMalformed;  // SLEN 0 is invalid (6.2.2)
    p += 3 + d[p + 2];
  }
  if (control & kNpduDnet) ++p;  // hop count
  if (control & kNpduNetworkMessage) {
    if (end <= p) return short_status;
    op.kind = OpKind::kBacnetNpdu;
    op.function = d[p];
    op.direction = NetworkMessageDirection(d[p]);
    ops.Push(op);
    if (!cut && !NetworkMessageFits(d[p], d + p + 1, end - p - 1)) return DecodeStatus::kMalformed;
    return DecodeStatus::kOk;
  }
  if (end <= p) return short_status;
  pdu.malformed = MalformedReason::kBacnetApdu;
  return DecodeApdu(d + p, end - p, short_status, op, ops);
}

}  // namespace

// BACnet/IP has no TCP framing; over UDP the datagram is the PDU, and the
// framer asks this only to name why a datagram was malformed: its BVLC
// length must be the datagram's length.
FrameResult Frame(std::span<const uint8_t> head, bool /*from_client*/) {
  if (head.size() < kBvlcHeaderLen || head[0] != kBvlcType) return Invalid();
  const uint16_t bvlc_len = Be16(head.data() + 2);
  if (bvlc_len != head.size()) return Malformed(MalformedReason::kBacnetBvlcLength);
  if (!BvlcLengthFits(head[1], bvlc_len)) return Malformed(MalformedReason::kBacnetBvlcLength);
  return Pdu(bvlc_len);
}

DecodeStatus Decode(const PduView& pdu, StreamState& /*state*/, OpList& ops) {
  const size_t before = ops.size();
  DecodeStatus status = DecodeMessage(pdu, ops);
  // Ops from a message cut short (by the view or by the datagram) say so.
  const std::span<const uint8_t> b = pdu.bytes;
  if (b.size() >= kBvlcHeaderLen && Be16(b.data() + 2) > b.size()) {
    for (size_t i = before; i < ops.size(); ++i) ops[i].flags |= kOpTruncated;
  }
  // Over UDP the BVLC length must be the datagram's length (Annex J): a
  // message shorter or longer than its datagram is malformed.
  const uint32_t datagram = std::max<uint32_t>(pdu.length, uint32_t(b.size()));
  if (status == DecodeStatus::kOk && b.size() >= kBvlcHeaderLen &&
      (Be16(b.data() + 2) != datagram || !BvlcLengthFits(b[1], Be16(b.data() + 2)))) {
    status = RefusePdu(pdu, MalformedReason::kBacnetBvlcLength);
  }
  return status;
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  const auto names = NamesFor(kind);
  return function < names.size() ? names[function] : std::string_view();
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (name.empty()) return std::nullopt;
  const auto names = NamesFor(kind);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return uint16_t(i);
  }
  return std::nullopt;
}

}  // namespace conduit::ics::bacnet
