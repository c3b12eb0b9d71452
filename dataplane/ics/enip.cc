#include "ics/enip.h"

#include <algorithm>

namespace conduit::ics::enip {
namespace {

// Nesting allowed below a top-level CIP message (MSP in UCS in MSP ...).
constexpr int kMaxDepth = 3;
// CPF items looked at per message (real messages carry 2).
constexpr size_t kMaxCpfItems = 8;

// A slice of the PDU: `avail` bytes are present, the slice is `full` long.
struct Slice {
  const uint8_t* p = nullptr;
  size_t avail = 0;
  size_t full = 0;
  bool Has(size_t off, size_t n) const { return off + n <= avail; }
  Slice Sub(size_t off, size_t len) const {
    Slice s;
    s.p = p + (off < avail ? off : avail);
    s.avail = off < avail ? (avail - off < len ? avail - off : len) : 0;
    s.full = len;
    return s;
  }
};

bool ValidCommand(uint16_t c) {
  switch (c) {
    case kNop: case kListTargets: case kListServices: case kListIdentity:
    case kListInterfaces: case kRegisterSession: case kUnregisterSession:
    case kSendRRData: case kSendUnitData: case kIndicateStatus: case kCancel:
      return true;
    default:
      return false;
  }
}

struct Path {
  bool has_class = false, has_instance = false, has_attribute = false;
  uint32_t cls = 0, instance = 0, attribute = 0;
};

// EPATH: logical class/instance/attribute segments; skips port, symbolic,
// data and electronic-key segments; stops at anything else.
void ParsePath(const uint8_t* p, size_t n, Path& out) {
  size_t i = 0;
  while (i + 1 < n) {
    const uint8_t t = p[i];
    if ((t & 0xE0) == 0x20) {  // logical segment
      const uint8_t type = (t >> 2) & 7;
      const uint8_t format = t & 3;
      if (type == 5) {  // special: electronic key (format 4) is 10 bytes
        i += 10;
        continue;
      }
      uint32_t v;
      if (format == 0) {
        v = p[i + 1];
        i += 2;
      } else if (format == 1 && i + 4 <= n) {
        v = Le16(p + i + 2);
        i += 4;
      } else if (format == 2 && i + 6 <= n) {
        v = Le32(p + i + 2);
        i += 6;
      } else {
        return;
      }
      if (type == 0 && !out.has_class) {
        out.has_class = true;
        out.cls = v;
      } else if (type == 1 && !out.has_instance) {
        out.has_instance = true;
        out.instance = v;
      } else if (type == 4 && !out.has_attribute) {
        out.has_attribute = true;
        out.attribute = v;
      }
    } else if (t == 0x91) {  // ANSI extended symbolic (tag name), padded
      const size_t len = p[i + 1];
      i += 2 + len + (len & 1);
    } else if ((t & 0xE0) == 0x00) {  // port segment
      if (t & 0x10) {
        const size_t len = p[i + 1];
        i += 2 + len + (len & 1);
      } else {
        i += 2;
      }
      if ((t & 0x0F) == 0x0F) i += 2;  // 16-bit port number follows
    } else if (t == 0x80) {  // simple data segment, length in words
      i += 2 + 2 * size_t(p[i + 1]);
    } else {
      return;
    }
  }
}

struct Ctx {
  OpList& ops;
  uint32_t unit = 0;
  bool has_unit = false;
  uint8_t extra_flags = 0;  // e.g. kOpTruncated when the route was cut
};

bool DecodeCip(const Slice& m, int depth, const Ctx& ctx);

// Multiple Service Packet body at `off`: count, offsets (relative to `off`),
// services. Returns false when some embedded service was cut short.
bool DecodeMsp(const Slice& m, size_t off, int depth, const Ctx& ctx) {
  if (off + 2 > m.full) return true;  // empty/malformed body: nothing inside
  if (!m.Has(off, 2)) return false;
  const size_t count = Le16(m.p + off);
  const size_t body = m.full - off;
  if (2 + 2 * count > body) return true;  // offsets overrun: malformed
  size_t prev = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!m.Has(off + 2 + 2 * i, 2)) return false;
    const size_t start = Le16(m.p + off + 2 + 2 * i);
    size_t end = body;
    if (i + 1 < count) {
      if (!m.Has(off + 4 + 2 * i, 2)) return false;
      end = Le16(m.p + off + 4 + 2 * i);
    }
    // Offsets must increase and stay inside the body: slices are disjoint,
    // so nested decoding is linear in the bytes.
    if (start < 2 + 2 * count || start <= prev || start >= end || end > body) return true;
    prev = start;
    if (!DecodeCip(m.Sub(off + start, end - start), depth + 1, ctx)) return false;
  }
  return true;
}

// Unconnected Send request data at `off`: priority/tick, timeout, message
// size, message, pad, route path size (words), reserved, route path.
bool DecodeUcs(const Slice& m, size_t off, int depth, const Ctx& ctx) {
  if (off + 4 > m.full) return true;
  if (!m.Has(off, 4)) return false;
  const size_t size = Le16(m.p + off + 2);
  const size_t msg = off + 4;
  if (msg + size > m.full) return true;
  Ctx inner{ctx.ops};
  const size_t route = msg + size + (size & 1);
  if (route + 4 <= m.full) {
    if (m.Has(route, 4)) {
      const uint8_t seg = m.p[route + 2];
      if (seg == 0x01) {  // port 1 (backplane), one-byte link address
        inner.unit = m.p[route + 3];
        inner.has_unit = true;
      }
    } else {
      inner.extra_flags = kOpTruncated;
    }
  }
  const bool complete = DecodeCip(m.Sub(msg, size), depth + 1, inner);
  return complete && inner.extra_flags == 0;
}

// One CIP message (request or reply). Returns false when it, or something
// embedded in it, was cut short.
bool DecodeCip(const Slice& m, int depth, const Ctx& ctx) {
  if (m.full == 0) return true;
  if (m.avail == 0) return false;
  IcsOp op;
  op.kind = OpKind::kCip;
  op.function = m.p[0] & 0x7F;
  op.flags = ctx.extra_flags;
  if (ctx.has_unit) {
    op.unit = ctx.unit;
    op.flags |= kOpHasUnit;
  }
  if (m.p[0] & 0x80) {
    // Reply: service, reserved, general status, additional status words.
    op.direction = Direction::kResponse;
    if (!m.Has(0, 4)) {
      if (m.full >= 4) op.flags |= kOpTruncated;
      ctx.ops.Push(op);
      return m.full < 4;
    }
    if (m.p[2] != 0) {
      op.flags |= kOpException;
      op.exception_code = m.p[2];
    }
    const size_t data = 4 + 2 * size_t(m.p[3]);
    const bool pushed = ctx.ops.Push(op);
    const size_t idx = ctx.ops.size() - 1;
    bool complete = true;
    if (op.function == kMultipleServicePacket && depth < kMaxDepth) {
      complete = DecodeMsp(m, data, depth, ctx);
    }
    if (!complete && pushed) ctx.ops[idx].flags |= kOpTruncated;
    return complete;
  }

  op.direction = Direction::kRequest;
  if (!m.Has(0, 2)) {
    if (m.full >= 2) op.flags |= kOpTruncated;
    ctx.ops.Push(op);
    return m.full < 2;
  }
  const size_t path_end = 2 + 2 * size_t(m.p[1]);
  bool complete = true;
  Path path;
  if (path_end <= m.full) {
    if (!m.Has(0, path_end)) {
      op.flags |= kOpTruncated;
      complete = false;
    }
    ParsePath(m.p + 2, (path_end < m.avail ? path_end : m.avail) - 2, path);
  }
  if (path.has_class) {
    op.sub_function = uint16_t(path.cls);
    op.object_group = uint16_t(path.cls);
    op.object_instance = path.instance;
    op.object_variation = uint16_t(path.attribute);
    op.flags |= kOpHasSubFunction | kOpHasObject;
  }
  const bool pushed = ctx.ops.Push(op);
  const size_t idx = ctx.ops.size() - 1;
  if (path_end > m.full || depth >= kMaxDepth) return complete;
  bool inner = true;
  if (op.function == kMultipleServicePacket) {
    inner = DecodeMsp(m, path_end, depth, ctx);
  } else if (op.function == kUnconnectedSend && path.has_class &&
             path.cls == kClassConnectionManager) {
    inner = DecodeUcs(m, path_end, depth, ctx);
  }
  if (!inner && pushed) ctx.ops[idx].flags |= kOpTruncated;
  return complete && inner;
}

// Common Packet Format of SendRRData/SendUnitData at `off` (after interface
// handle and timeout): CIP in each data item. False when cut short.
bool DecodeCpf(const Slice& s, size_t off, OpList& ops) {
  if (off + 2 > s.full) return true;
  if (!s.Has(off, 2)) return false;
  const size_t count = Le16(s.p + off);
  size_t at = off + 2;
  for (size_t i = 0; i < count && i < kMaxCpfItems; ++i) {
    if (at + 4 > s.full) return true;
    if (!s.Has(at, 4)) return false;
    const uint16_t type = Le16(s.p + at);
    const size_t len = Le16(s.p + at + 2);
    if (at + 4 + len > s.full) return true;
    const Ctx ctx{ops};
    if (type == kItemUnconnectedData) {
      if (!DecodeCip(s.Sub(at + 4, len), 0, ctx)) return false;
    } else if (type == kItemConnectedData && len >= 2) {
      if (!DecodeCip(s.Sub(at + 6, len - 2), 0, ctx)) return false;
    }
    at += 4 + len;
  }
  return true;
}

// How a SendRRData/SendUnitData body fits its encapsulation length.
enum class CpfFit : uint8_t { kExact, kMismatch, kUnknown };

// A mismatch anywhere is a mismatch; else what could not be seen is unknown.
CpfFit Worse(CpfFit a, CpfFit b) {
  if (a == CpfFit::kMismatch || b == CpfFit::kMismatch) return CpfFit::kMismatch;
  return a == CpfFit::kUnknown || b == CpfFit::kUnknown ? CpfFit::kUnknown : CpfFit::kExact;
}

// Bytes of `avail` left in view from `off` on.
size_t Rest(size_t avail, size_t off) { return avail > off ? avail - off : 0; }

CpfFit CipFits(const uint8_t* p, size_t avail, size_t n, int depth);

// Multiple Service Packet request data (`n` bytes): count, offsets from the
// count, then the services back to back: the first right after the
// offsets, each ending where the next begins, the last at the end. A gap or
// an overlap is bytes one parser gives a service and another does not.
CpfFit MspFits(const uint8_t* p, size_t avail, size_t n, int depth) {
  if (n < 2) return CpfFit::kMismatch;
  if (avail < 2) return CpfFit::kUnknown;
  const size_t count = Le16(p);
  size_t start = 2 + 2 * count;
  if (start > n) return CpfFit::kMismatch;
  if (count == 0) return start == n ? CpfFit::kExact : CpfFit::kMismatch;
  CpfFit fit = CpfFit::kExact;
  for (size_t i = 0; i < count; ++i) {
    const size_t at = 2 + 2 * i;
    if (avail < at + 2) return Worse(fit, CpfFit::kUnknown);
    if (Le16(p + at) != start) return CpfFit::kMismatch;
    size_t end = n;
    if (i + 1 < count) {
      if (avail < at + 4) return Worse(fit, CpfFit::kUnknown);
      end = Le16(p + at + 2);
      if (end <= start || end > n) return CpfFit::kMismatch;
    }
    fit = Worse(fit, CipFits(p + start, Rest(avail, start), end - start, depth + 1));
    if (fit == CpfFit::kMismatch) return fit;
    start = end;
  }
  return fit;
}

// Unconnected Send request data (`n` bytes): priority/tick, timeout,
// message size, the message, a pad byte if its size is odd, route path size
// (words), reserved, route path -- and nothing after it.
CpfFit UcsFits(const uint8_t* p, size_t avail, size_t n, int depth) {
  if (n < 4) return CpfFit::kMismatch;
  if (avail < 4) return CpfFit::kUnknown;
  const size_t size = Le16(p + 2);
  const size_t route = 4 + size + (size & 1);
  if (route + 2 > n) return CpfFit::kMismatch;
  const CpfFit fit = CipFits(p + 4, Rest(avail, 4), size, depth + 1);
  if (fit == CpfFit::kMismatch) return fit;
  if (avail < route + 1) return Worse(fit, CpfFit::kUnknown);
  return route + 2 + 2 * size_t(p[route]) == n ? fit : CpfFit::kMismatch;
}

// Whether one CIP message of `n` bytes is consistent with its own lengths:
// a request's path fits (and an Unconnected Send to the Connection Manager
// or a Multiple Service Packet accounts for every byte after it), a reply's
// additional status fits. `p` holds `avail` bytes of it.
CpfFit CipFits(const uint8_t* p, size_t avail, size_t n, int depth) {
  if (n < 2) return CpfFit::kMismatch;  // a service and a path size / reserved byte
  if (avail < 2) return CpfFit::kUnknown;
  if (p[0] & 0x80) {  // reply: service, reserved, general status, additional status size
    if (n < 4) return CpfFit::kMismatch;
    if (avail < 4) return CpfFit::kUnknown;
    return 4 + 2 * size_t(p[3]) <= n ? CpfFit::kExact : CpfFit::kMismatch;
  }
  const size_t path_end = 2 + 2 * size_t(p[1]);
  if (path_end > n) return CpfFit::kMismatch;
  if (depth >= kMaxDepth) return CpfFit::kExact;
  const uint8_t service = p[0] & 0x7F;
  if (service == kMultipleServicePacket) {
    return MspFits(p + path_end, Rest(avail, path_end), n - path_end, depth);
  }
  if (service != kUnconnectedSend) return CpfFit::kExact;
  if (avail < path_end) return CpfFit::kUnknown;
  Path path;
  ParsePath(p + 2, path_end - 2, path);
  if (!path.has_class || path.cls != kClassConnectionManager) return CpfFit::kExact;
  return UcsFits(p + path_end, Rest(avail, path_end), n - path_end, depth);
}

// A CPF data item's CIP message: an unconnected item is the message, a
// connected one a 2-byte sequence count and then the message.
CpfFit DataItemFits(uint16_t type, const uint8_t* p, size_t avail, size_t len) {
  if (type == kItemUnconnectedData) return CipFits(p, avail, len, 0);
  if (type != kItemConnectedData) return CpfFit::kExact;
  if (len < 2) return CpfFit::kMismatch;
  return CipFits(p + 2, Rest(avail, 2), len - 2, 0);
}

// Whether the body of a SendRRData/SendUnitData (interface handle 4, timeout
// 2, CPF item count 2, then items of type 2 + length 2 + data) ends exactly
// at the encapsulation length `body_len`: bytes past the last item would
// reach the target unjudged, an item past the end cuts the PDU short. `p`
// holds `avail` bytes of the body; kUnknown when an item header lies beyond
// them (a long PDU's kept prefix). The CIP message in each data item must
// agree with the item's length too (DataItemFits). The walk is bounded:
// every item moves `at` on by 4 or more and `at` never passes body_len
// (<= 65535); nested messages are disjoint slices, at most kMaxDepth deep.
CpfFit CpfFits(const uint8_t* p, size_t avail, size_t body_len) {
  constexpr size_t kCountAt = 6;
  constexpr size_t kItemHeader = 4;
  if (body_len < kCountAt + 2) return CpfFit::kMismatch;
  if (avail < kCountAt + 2) return CpfFit::kUnknown;
  const size_t count = Le16(p + kCountAt);
  size_t at = kCountAt + 2;
  CpfFit cip = CpfFit::kExact;  // the data items' CIP messages, as far as seen
  for (size_t i = 0; i < count; ++i) {
    if (at + kItemHeader > body_len) return CpfFit::kMismatch;
    if (at + kItemHeader > avail) return Worse(cip, CpfFit::kUnknown);
    const uint16_t type = Le16(p + at);
    const size_t len = Le16(p + at + 2);
    at += kItemHeader;
    if (at + len > body_len) return CpfFit::kMismatch;
    cip = Worse(cip, DataItemFits(type, p + at, Rest(avail, at), len));
    if (cip == CpfFit::kMismatch) return cip;
    at += len;
  }
  return at == body_len ? cip : CpfFit::kMismatch;
}

bool CarriesCpf(uint16_t command) { return command == kSendRRData || command == kSendUnitData; }

// Frame judges the CPF on a PDU's first kFrameView bytes exactly (asking for
// them, never for more than the PDU holds; below the framer's 96-byte carry),
// so its verdict does not depend on how the stream was cut: every item
// header of a two-item message (an address item of up to 24 bytes, then the
// data item) lies within them. Decode judges what lies beyond on TCP, and
// everything on UDP (no Frame there): each mismatch is counted once.
constexpr size_t kFrameView = 64;

// The CPF verdict on the first kFrameView bytes (of `avail`) of a PDU whose
// encapsulation length is `length`.
CpfFit FrameViewFit(const uint8_t* pdu, size_t avail, size_t length) {
  const size_t view = std::min({avail, kHeaderSize + length, kFrameView});
  return CpfFits(pdu + kHeaderSize, view - kHeaderSize, length);
}

bool LooksLikeEncapsulation(const uint8_t* p, size_t avail, size_t full) {
  return avail >= kHeaderSize && ValidCommand(Le16(p)) &&
         kHeaderSize + Le16(p + 2) == full && Le32(p + 20) == 0;
}

DecodeStatus DecodeEncapsulation(const PduView& pdu, const Slice& s, OpList& ops) {
  if (!s.Has(0, 2)) return DecodeStatus::kTruncated;
  const uint16_t command = Le16(s.p);
  if (!ValidCommand(command)) return DecodeStatus::kNotThisProtocol;
  if (!s.Has(0, kHeaderSize)) return DecodeStatus::kTruncated;
  if (kHeaderSize + Le16(s.p + 2) > s.full) return RefusePdu(pdu, MalformedReason::kEnipLength);
  IcsOp op;
  op.kind = OpKind::kEnip;
  op.function = command;
  op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
  const uint32_t status = Le32(s.p + 8);
  if (status != 0) {
    op.flags |= kOpException;
    op.exception_code = status > 0xFF ? 0xFF : uint8_t(status);
  }
  const bool pushed = ops.Push(op);
  const size_t idx = ops.size() - 1;
  if (!CarriesCpf(command)) return DecodeStatus::kOk;
  // interface handle (4), timeout (2), then the CPF.
  const Slice body = s.Sub(kHeaderSize, Le16(s.p + 2));
  if (!DecodeCpf(body, 6, ops) && pushed) ops[idx].flags |= kOpTruncated;
  // The ops above are reported either way; a CPF that does not fill the
  // encapsulation exactly makes the PDU malformed (on TCP, where Frame
  // already reported it from its view, it is not reported twice).
  if (CpfFits(body.p, body.avail, body.full) != CpfFit::kMismatch) return DecodeStatus::kOk;
  if (!pdu.udp && FrameViewFit(s.p, s.avail, body.full) == CpfFit::kMismatch) return DecodeStatus::kOk;
  return RefusePdu(pdu, MalformedReason::kEnipLength);
}

// Class 0/1 I/O datagram: CPF only (address item + connected data item).
DecodeStatus DecodeIo(const PduView& pdu, const Slice& s, OpList& ops) {
  if (!s.Has(0, 2)) return DecodeStatus::kNotThisProtocol;
  const size_t count = Le16(s.p);
  if (count == 0 || count > 4) return DecodeStatus::kNotThisProtocol;
  IcsOp op;
  op.kind = OpKind::kEnip;
  op.function = kIoData;
  op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
  size_t at = 2;
  for (size_t i = 0; i < count; ++i) {
    if (!s.Has(at, 4)) {
      if (at + 4 > s.full) return DecodeStatus::kNotThisProtocol;
      op.flags |= kOpTruncated;
      break;
    }
    const uint16_t type = Le16(s.p + at);
    const size_t len = Le16(s.p + at + 2);
    if (at + 4 + len > s.full) return DecodeStatus::kNotThisProtocol;
    if ((type == kItemSequencedAddress && len == 8) ||
        (type == kItemConnectedAddress && len == 4)) {
      if (s.Has(at + 4, 4)) {
        op.object_instance = Le32(s.p + at + 4);
        op.flags |= kOpHasObject;
      } else {
        op.flags |= kOpTruncated;
      }
    } else if (type != kItemConnectedData && type != kItemUnconnectedData &&
               type != kItemNullAddress) {
      return DecodeStatus::kNotThisProtocol;
    }
    at += 4 + len;
  }
  if (!(op.flags & kOpTruncated) && at != s.full) return DecodeStatus::kNotThisProtocol;
  ops.Push(op);
  return DecodeStatus::kOk;
}

struct NamedCode {
  uint16_t code;
  std::string_view name;
};

constexpr NamedCode kCommandNames[] = {
    {kNop, "nop"},
    {kListTargets, "list_targets"},
    {kListServices, "list_services"},
    {kListIdentity, "list_identity"},
    {kListInterfaces, "list_interfaces"},
    {kRegisterSession, "register_session"},
    {kUnregisterSession, "unregister_session"},
    {kSendRRData, "send_rr_data"},
    {kSendUnitData, "send_unit_data"},
    {kIndicateStatus, "indicate_status"},
    {kCancel, "cancel"},
    {kIoData, "io"},
};

constexpr NamedCode kServiceNames[] = {
    {kGetAttributesAll, "get_attributes_all"},
    {kSetAttributesAll, "set_attributes_all"},
    {kGetAttributeList, "get_attribute_list"},
    {kSetAttributeList, "set_attribute_list"},
    {kReset, "reset"},
    {kStart, "start"},
    {kStop, "stop"},
    {kCreate, "create"},
    {kDelete, "delete"},
    {kMultipleServicePacket, "multiple_service_packet"},
    {kApplyAttributes, "apply_attributes"},
    {kGetAttributeSingle, "get_attribute_single"},
    {kSetAttributeSingle, "set_attribute_single"},
    {kFindNextObjectInstance, "find_next_object_instance"},
    {kErrorResponse, "error_response"},
    {kRestore, "restore"},
    {kSave, "save"},
    {kNopService, "nop"},
    {kGetMember, "get_member"},
    {kSetMember, "set_member"},
    {kInsertMember, "insert_member"},
    {kRemoveMember, "remove_member"},
    {kGroupSync, "group_sync"},
    {kExecutePccc, "execute_pccc"},
    {kReadTag, "read_tag"},
    {kWriteTag, "write_tag"},
    {kForwardClose, "forward_close"},
    {kUnconnectedSend, "unconnected_send"},
    {kWriteTagFragmented, "write_tag_fragmented"},
    {kForwardOpen, "forward_open"},
    {kGetInstanceAttributeList, "get_instance_attribute_list"},
    {kGetConnectionData, "get_connection_data"},
    {kSearchConnectionData, "search_connection_data"},
    {kGetConnectionOwner, "get_connection_owner"},
    {kLargeForwardOpen, "large_forward_open"},
};

template <size_t N>
std::string_view NameOf(const NamedCode (&table)[N], uint16_t code) {
  for (const auto& e : table) {
    if (e.code == code) return e.name;
  }
  return "";
}

template <size_t N>
std::optional<uint16_t> CodeOf(const NamedCode (&table)[N], std::string_view name) {
  if (name.empty()) return std::nullopt;
  for (const auto& e : table) {
    if (e.name == name) return e.code;
  }
  return std::nullopt;
}

}  // namespace

FrameResult Frame(std::span<const uint8_t> head, bool /*from_client*/) {
  if (head.size() >= 2 && !ValidCommand(Le16(head.data()))) return {FrameStatus::kInvalid, 0};
  if (head.size() < kHeaderSize) return {FrameStatus::kNeedMore, 0};
  const uint16_t command = Le16(head.data());
  const uint32_t length = Le16(head.data() + 2);
  // Options must be zero (receivers discard otherwise); lengths fixed by the
  // command catch a stream that only happens to start with a valid code.
  if (Le32(head.data() + 20) != 0) return {FrameStatus::kInvalid, 0};
  if (command == kRegisterSession && length != 4) return Malformed(MalformedReason::kEnipLength);
  if (CarriesCpf(command) && length < 8) return Malformed(MalformedReason::kEnipLength);
  const uint32_t pdu_length = uint32_t(kHeaderSize) + length;
  // A CPF that disagrees with the encapsulation length: the target cuts the
  // stream at the encapsulation length too, so frame there, but report the
  // PDU malformed. Judged on the first kFrameView bytes (see there).
  if (CarriesCpf(command)) {
    const CpfFit fit = FrameViewFit(head.data(), head.size(), length);
    if (fit == CpfFit::kUnknown && head.size() < std::min<size_t>(pdu_length, kFrameView)) return NeedMore();
    if (fit == CpfFit::kMismatch) return FlawedPdu(pdu_length, MalformedReason::kEnipLength);
  }
  return {FrameStatus::kPdu, pdu_length};
}

DecodeStatus Decode(const PduView& pdu, StreamState& /*state*/, OpList& ops) {
  Slice s;
  s.p = pdu.bytes.data();
  s.avail = pdu.bytes.size();
  s.full = pdu.length > s.avail ? pdu.length : s.avail;
  if (pdu.udp && !LooksLikeEncapsulation(s.p, s.avail, s.full)) return DecodeIo(pdu, s, ops);
  return DecodeEncapsulation(pdu, s, ops);
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  if (kind == OpKind::kEnip) return NameOf(kCommandNames, function);
  if (kind == OpKind::kCip) return NameOf(kServiceNames, function);
  return "";
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (kind == OpKind::kEnip) return CodeOf(kCommandNames, name);
  if (kind == OpKind::kCip) return CodeOf(kServiceNames, name);
  return std::nullopt;
}

}  // namespace conduit::ics::enip
