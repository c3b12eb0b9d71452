#include "ics/dnp3.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace conduit::ics::dnp3 {
namespace {

// ---- CRC -------------------------------------------------------------------

constexpr std::array<uint16_t, 256> MakeCrcTable() {
  std::array<uint16_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint16_t crc = uint16_t(i);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) ? uint16_t((crc >> 1) ^ 0xA6BC) : uint16_t(crc >> 1);
    }
    table[i] = crc;
  }
  return table;
}
constexpr std::array<uint16_t, 256> kCrcTable = MakeCrcTable();

// Slice-by-4 tables: kCrcSlices[k][b] is the CRC state after byte b followed
// by k zero bytes, so four bytes cost four independent lookups instead of a
// chain of four (the byte-wise loop was 63 % of a DNP3 decode).
constexpr std::array<std::array<uint16_t, 256>, 4> MakeCrcSlices() {
  std::array<std::array<uint16_t, 256>, 4> t{};
  t[0] = MakeCrcTable();
  for (int k = 1; k < 4; ++k) {
    for (int i = 0; i < 256; ++i) t[k][i] = uint16_t((t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF]);
  }
  return t;
}
constexpr std::array<std::array<uint16_t, 256>, 4> kCrcSlices = MakeCrcSlices();

// ---- Link layer ------------------------------------------------------------

constexpr uint8_t kStart0 = 0x05;
constexpr uint8_t kStart1 = 0x64;
constexpr uint32_t kBlockLen = 16;
constexpr uint32_t kMaxUserData = 250;

constexpr uint8_t kCtlDir = 0x80;
constexpr uint8_t kCtlPrm = 0x40;
constexpr uint8_t kCtlFunc = 0x0F;

// Link functions that carry no transport/application data (tshark's rule):
// reset link / ack (0), request link status (9), link status (11).
constexpr bool LinkOnly(uint8_t func) { return func == 0 || func == 9 || func == 11; }

constexpr uint8_t kTrFin = 0x80;
constexpr uint8_t kTrFir = 0x40;
constexpr uint8_t kTrSeq = 0x3F;

constexpr uint8_t kAcCon = 0x20;
constexpr uint8_t kAcUns = 0x10;

// The header is ours: start bytes, LEN >= 5 and a good header CRC.
bool HeaderOk(std::span<const uint8_t> b) {
  return b.size() >= kHeaderLen && b[0] == kStart0 && b[1] == kStart1 && b[2] >= 5 &&
         Crc(b.first(8)) == Le16(b.data() + 8);
}

// User data (LEN > 5) in exactly the frames that carry it: PRM=1 confirmed
// and unconfirmed user data (3, 4); every other link function has LEN 5
// (IEEE 1815 9.2.4.1). A receiving link layer rejects any other header and
// resynchronises inside the frame's bytes (opendnp3's LinkLayerParser drops
// one byte and looks for 0x05 0x64 again), so a "request link status" whose
// LEN claims user data would hide whole frames from a gateway that framed
// it as one: a malformed length.
bool LengthFitsFunction(uint8_t ctl, uint8_t len) {
  const uint8_t func = ctl & kCtlFunc;
  const bool carries = (ctl & kCtlPrm) != 0 && (func == 3 || func == 4);
  return carries ? len > 5 : len == 5;
}

// ---- Transport reassembly state (lives in StreamState) ----------------------

// What a FIR segment told us, kept until its FIN segment arrives. tshark
// reassembles consecutive transport sequence numbers from FIR to FIN and shows
// the application layer only on the FIN frame; so do we.
//
// `superseded`: a multi-segment message that a later FIR replaced. We do not
// model the outstation's link state (DIR, reset link, FCB), so we cannot tell
// whether the receiver accepted the frame carrying that later FIR; if it
// ignored it, the receiver still holds the older message and its remaining
// segments (a 1+3 reassembly around an ignored 2) complete it there. So
// segments that continue the older message (and not the current one) are
// followed too, and its FIN reports the older message's function.
struct Superseded {
  uint8_t active = 0;    // 1 while the replaced message could still complete
  uint8_t next_seq = 0;  // its transport sequence number expected next
  uint8_t function = 0;
  uint8_t direction = 0;
};
struct Reassembly {
  uint8_t active = 0;    // 1 while a FIR segment waits for its FIN
  uint8_t next_seq = 0;  // transport sequence number expected next
  uint8_t function = 0;
  uint8_t flags = 0;
  uint8_t exception_code = 0;
  uint8_t direction = 0;
  uint16_t sub_function = 0;
  uint16_t object_group = 0;
  uint16_t object_variation = 0;
  uint32_t address_first = 0;
  uint32_t address_last = 0;
  Superseded superseded;
};
static_assert(sizeof(Reassembly) <= sizeof(StreamState::bytes));

Reassembly Load(const StreamState& st) {
  Reassembly r;
  std::memcpy(&r, st.bytes.data(), sizeof(r));
  return r;
}
void Store(StreamState& st, const Reassembly& r) {
  std::memcpy(st.bytes.data(), &r, sizeof(r));
}
// Ends the current message; a superseded one stays (only its own FIN or a
// newer superseded message ends it).
void Clear(StreamState& st) {
  Reassembly r;
  r.superseded = Load(st).superseded;
  Store(st, r);
}

// ---- Application layer -----------------------------------------------------

uint32_t ReadLe(const uint8_t* p, uint32_t width) {
  switch (width) {
    case 1: return p[0];
    case 2: return Le16(p);
    default: return Le32(p);
  }
}

// Size in bytes of one object of group/variation when it is fixed (0: not
// known here). Covers the objects sent with index prefixes: controls,
// analog outputs, events and frozen values.
uint32_t ObjectSize(uint8_t group, uint8_t variation) {
  if (group >= 110 && group <= 113) return variation;  // octet strings / VT
  switch (group << 8 | variation) {
    // 1: flags only.
    case 0x0102: case 0x0201: case 0x0302: case 0x0401: case 0x0A02:
    case 0x0B01: case 0x0D01:
      return 1;
    // 2: 16-bit value without flags.
    case 0x1406: case 0x150A: case 0x1E04: case 0x2201:
      return 2;
    // 3: flags + 16-bit value / 16-bit relative time.
    case 0x0203: case 0x0403: case 0x1402: case 0x1502: case 0x1602:
    case 0x1702: case 0x1E02: case 0x2002: case 0x2802: case 0x2902:
    case 0x2A02: case 0x2B02:
      return 3;
    // 4: 32-bit value or float without flags.
    case 0x1405: case 0x1509: case 0x1E03: case 0x2202: case 0x2203:
      return 4;
    // 5: flags + 32-bit value or float.
    case 0x1401: case 0x1501: case 0x1601: case 0x1701: case 0x1E01:
    case 0x1E05: case 0x2001: case 0x2005: case 0x2801: case 0x2803:
    case 0x2901: case 0x2903: case 0x2A01: case 0x2A05: case 0x2B01:
    case 0x2B05:
      return 5;
    // 7: flags + 48-bit time.
    case 0x0202: case 0x0402: case 0x0B02: case 0x0D02:
      return 7;
    // 9: flags + 16-bit value + time, or flags + double.
    case 0x1506: case 0x1606: case 0x1706: case 0x1E06: case 0x2004:
    case 0x2006: case 0x2804: case 0x2904: case 0x2A04: case 0x2A06:
    case 0x2B04: case 0x2B06:
      return 9;
    // 11: CROB / pattern control block, flags + 32-bit or float + time.
    case 0x0C01: case 0x0C02: case 0x1505: case 0x1605: case 0x1705:
    case 0x2003: case 0x2007: case 0x2A03: case 0x2A07: case 0x2B03:
    case 0x2B07:
      return 11;
    // 15: flags + double + time.
    case 0x2008: case 0x2A08: case 0x2B08:
      return 15;
    default: return 0;
  }
}

struct AppResult {
  bool has_function = false;  // at least AC and FC were present
  bool malformed = false;     // a field holds an impossible value
};

constexpr uint8_t kFcRead = 0x01;

// Only the first object header is decoded. A request that goes on past it
// (a second header, which the outstation executes too) cannot be proven to
// stay within the first one's points: it loses its address, so a rule that
// names addresses does not admit it.
void WidenPastFirstHeader(bool response, IcsOp& op) {
  if (!response) op.flags &= ~kOpHasAddress;
}

// Fills `op` from an application fragment (AC, FC, [IIN], first object
// header). `more` is true when bytes after `n` exist but are not here (a cut
// PDU prefix, or later transport segments of the message).
AppResult ParseApp(const uint8_t* a, size_t n, bool more, IcsOp& op) {
  AppResult res;
  if (n < 2) return res;
  res.has_function = true;
  const uint8_t ac = a[0];
  const uint8_t fc = a[1];
  op.kind = OpKind::kDnp3;
  op.function = fc;
  if (ac & kAcCon) op.flags |= kOpConfirm;
  if ((ac & kAcUns) || fc == 0x82) op.flags |= kOpUnsolicited;
  const bool response = fc >= 0x81 && fc <= 0x83;
  op.direction = response ? Direction::kResponse : Direction::kRequest;
  size_t p = 2;
  auto short_of = [&](size_t need) {
    if (n - p >= need) return false;
    if (more) op.flags |= kOpTruncated;
    return true;
  };
  if (response) {
    if (short_of(2)) return res;
    op.sub_function = Be16(a + 2);
    op.flags |= kOpHasSubFunction;
    if (a[3] & 0x07) {
      op.flags |= kOpException;
      op.exception_code = a[3];
    }
    p = 4;
  }
  if (p == n) {
    if (more) op.flags |= kOpTruncated;
    return res;
  }
  if (short_of(3)) return res;
  const uint8_t group = a[p];
  const uint8_t variation = a[p + 1];
  const uint8_t qualifier = a[p + 2];
  p += 3;
  op.object_group = group;
  op.object_variation = variation;
  op.flags |= kOpHasObject;
  const uint8_t code = qualifier & 0x0F;
  const uint8_t prefix = (qualifier >> 4) & 0x07;
  if (code <= 5) {
    // Start/stop indices (0-2) or virtual addresses (3-5): 1, 2 or 4 bytes.
    const uint32_t w = 1u << (code % 3);
    if (short_of(2 * w)) return res;
    const uint32_t start = ReadLe(a + p, w);
    const uint32_t stop = ReadLe(a + p + w, w);
    if (stop < start) {
      res.malformed = true;
      return res;
    }
    op.address_first = start;
    op.address_last = stop;
    op.flags |= kOpHasAddress;
    // A read names points only; other requests carry one object per point.
    const uint32_t size = ObjectSize(group, variation);
    const bool objects_follow = fc != kFcRead;
    if (objects_follow && size == 0) {
      if (p + 2 * w < n) WidenPastFirstHeader(response, op);  // cannot step over them
    } else {
      const uint64_t end = p + 2 * w + (objects_follow ? uint64_t(stop - start + 1) * size : 0);
      if (end < n) WidenPastFirstHeader(response, op);
    }
    return res;
  }
  if (code < 7 || code > 9 || prefix < 1 || prefix > 3) return res;
  // Count with an index prefix: walk the indices.
  const uint32_t cw = 1u << (code - 7);
  if (short_of(cw)) return res;
  const uint32_t count = ReadLe(a + p, cw);
  p += cw;
  if (count == 0) return res;
  const uint32_t iw = 1u << (prefix - 1);
  const uint32_t size = ObjectSize(group, variation);
  if (size == 0 && count > 1) return res;  // cannot step over the objects
  uint32_t lo = UINT32_MAX, hi = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (n - p < iw) {
      if (more) {
        op.flags |= kOpTruncated;
      } else {
        res.malformed = true;
      }
      break;
    }
    const uint32_t index = ReadLe(a + p, iw);
    lo = std::min(lo, index);
    hi = std::max(hi, index);
    if (n - p < size_t(iw) + size) {
      if (i + 1 < count) {
        if (more) {
          op.flags |= kOpTruncated;
        } else {
          res.malformed = true;
        }
      }
      break;
    }
    p += iw + size;
  }
  if (lo <= hi) {
    op.address_first = lo;
    op.address_last = hi;
    op.flags |= kOpHasAddress;
    if (p < n) WidenPastFirstHeader(response, op);
  }
  return res;
}

DecodeStatus Worse(DecodeStatus a, DecodeStatus b) {
  return a != DecodeStatus::kOk ? a : b;
}

// Decodes one link frame. `b` holds its first bytes (all of them unless the
// PDU was cut); `full_len` is how long the frame really is in the flow.
// `pdu` is the PDU the frame belongs to, for naming a kMalformed.
DecodeStatus DecodeFrame(const PduView& pdu, std::span<const uint8_t> b, uint32_t full_len,
                         StreamState& st, OpList& ops) {
  if (b.size() < kHeaderLen) {
    if ((!b.empty() && b[0] != kStart0) || (b.size() > 1 && b[1] != kStart1)) {
      return DecodeStatus::kNotThisProtocol;
    }
    return DecodeStatus::kTruncated;
  }
  if (!HeaderOk(b)) return DecodeStatus::kNotThisProtocol;

  const uint8_t ctl = b[3];
  const uint8_t func = ctl & kCtlFunc;
  const uint32_t frame_len = FrameLength(b[2]);
  const bool cut = b.size() < frame_len;
  const DecodeStatus cut_status =
      (cut && full_len < frame_len) ? DecodeStatus::kTruncated : DecodeStatus::kOk;

  IcsOp link;
  link.kind = OpKind::kDnp3Link;
  link.function = func;
  link.sub_function = ctl;
  link.unit = Le16(b.data() + 4);
  link.flags = kOpHasUnit | kOpHasSubFunction;
  const bool prm = ctl & kCtlPrm;
  link.direction = !prm                ? Direction::kResponse
                   : (ctl & kCtlDir)   ? Direction::kRequest
                                       : Direction::kResponse;

  const uint32_t n = b[2] - 5u;
  if (n == 0 || LinkOnly(func)) {
    if (prm) link.direction = Direction::kRequest;
    ops.Push(link);
    return DecodeStatus::kOk;
  }

  // Gather the user data, checking each block's CRC.
  uint8_t ud[kMaxUserData];
  size_t ud_len = 0;
  size_t pos = kHeaderLen;
  for (uint32_t left = n; left > 0;) {
    const uint32_t blk = std::min(left, kBlockLen);
    if (pos + blk + 2 > b.size()) {  // the PDU prefix ends in this block
      const size_t avail = b.size() > pos ? std::min<size_t>(blk, b.size() - pos) : 0;
      std::memcpy(ud + ud_len, b.data() + pos, avail);
      ud_len += avail;
      break;
    }
    if (Crc(b.subspan(pos, blk)) != Le16(b.data() + pos + blk)) {
      // tshark drops the data of a frame with a bad block CRC.
      ops.Push(link);
      return RefusePdu(pdu, MalformedReason::kDnp3Crc);
    }
    std::memcpy(ud + ud_len, b.data() + pos, blk);
    ud_len += blk;
    pos += blk + 2;
    left -= blk;
  }
  if (ud_len == 0) {
    link.flags |= kOpTruncated;
    ops.Push(link);
    return cut_status;
  }

  const uint8_t tr = ud[0];
  const uint8_t seq = tr & kTrSeq;
  const bool fin = tr & kTrFin;
  if (tr & kTrFir) {
    // A FIR while a multi-segment message is open replaces it here, but the
    // receiver keeps the open one if it ignored this frame: remember it.
    if (const Reassembly open = Load(st); open.active) {
      Reassembly re = open;
      re.superseded = {1, open.next_seq, open.function, open.direction};
      Store(st, re);
    }
    IcsOp app;
    app.unit = link.unit;
    app.flags = kOpHasUnit;
    const AppResult r = ParseApp(ud + 1, ud_len - 1, cut || !fin, app);
    if (cut) app.flags |= kOpTruncated;
    if (!r.has_function) {
      Clear(st);
      if (cut) link.flags |= kOpTruncated;
      ops.Push(link);
      return cut ? cut_status : RefusePdu(pdu, MalformedReason::kDnp3Application);
    }
    const DecodeStatus status = Worse(
        cut_status, r.malformed ? RefusePdu(pdu, MalformedReason::kDnp3Application) : DecodeStatus::kOk);
    if (fin) {
      Clear(st);
      ops.Push(app);
      return status;
    }
    Reassembly re;
    re.superseded = Load(st).superseded;
    re.active = 1;
    re.next_seq = (seq + 1) & kTrSeq;
    re.function = uint8_t(app.function);
    re.flags = app.flags;
    re.exception_code = app.exception_code;
    re.direction = uint8_t(app.direction);
    re.sub_function = app.sub_function;
    re.object_group = app.object_group;
    re.object_variation = app.object_variation;
    re.address_first = app.address_first;
    re.address_last = app.address_last;
    Store(st, re);
    link.direction = app.direction;
    if (cut) link.flags |= kOpTruncated;
    ops.Push(link);
    return status;
  }

  Reassembly re = Load(st);
  Superseded& old = re.superseded;
  if (old.active && seq == old.next_seq && !(re.active && seq == re.next_seq)) {
    // Continues the superseded message, not the current one: the receiver
    // may be reassembling it (see Superseded). Its FIN reports that message's
    // function; its header and points are gone, so no address, and truncated.
    link.direction = Direction(old.direction);
    if (fin) {
      IcsOp app;
      app.kind = OpKind::kDnp3;
      app.direction = Direction(old.direction);
      app.function = old.function;
      app.unit = link.unit;
      app.flags = kOpHasUnit | kOpTruncated;
      old = Superseded{};
      Store(st, re);
      ops.Push(app);
      return cut_status;
    }
    old.next_seq = (seq + 1) & kTrSeq;
    Store(st, re);
    if (cut) link.flags |= kOpTruncated;
    ops.Push(link);
    return cut_status;
  }
  if (re.active && seq == re.next_seq) {
    if (fin) {
      IcsOp app;
      app.kind = OpKind::kDnp3;
      app.direction = Direction(re.direction);
      app.flags = re.flags;
      app.exception_code = re.exception_code;
      app.function = re.function;
      app.sub_function = re.sub_function;
      app.unit = link.unit;
      app.object_group = re.object_group;
      app.object_variation = re.object_variation;
      app.address_first = re.address_first;
      app.address_last = re.address_last;
      Clear(st);
      ops.Push(app);
      return cut_status;
    }
    re.next_seq = (seq + 1) & kTrSeq;
    Store(st, re);
    link.direction = Direction(re.direction);
  } else if (re.active) {
    // Out of sequence: the receiver ignores this segment and keeps the
    // message in progress (opendnp3's TransportRx), which a later segment
    // with the expected number completes; so do we, or that FIN would reach
    // the application with a FIR header we had forgotten.
    link.direction = Direction(re.direction);
  } else {
    Clear(st);  // no FIR seen: never reassembled
  }
  if (cut) link.flags |= kOpTruncated;
  ops.Push(link);
  return cut_status;
}

// ---- Names -----------------------------------------------------------------

constexpr std::array<std::string_view, 34> kAppNames = {
    "confirm",
    "read",
    "write",
    "select",
    "operate",
    "direct_operate",
    "direct_operate_nr",
    "immediate_freeze",
    "immediate_freeze_nr",
    "freeze_clear",
    "freeze_clear_nr",
    "freeze_at_time",
    "freeze_at_time_nr",
    "cold_restart",
    "warm_restart",
    "initialize_data",
    "initialize_application",
    "start_application",
    "stop_application",
    "save_configuration",
    "enable_unsolicited",
    "disable_unsolicited",
    "assign_class",
    "delay_measure",
    "record_current_time",
    "open_file",
    "close_file",
    "delete_file",
    "get_file_info",
    "authenticate_file",
    "abort_file",
    "activate_config",
    "authenticate_request",
    "authenticate_error",
};
constexpr std::array<std::string_view, 3> kResponseNames = {
    "response", "unsolicited_response", "authenticate_response"};

// Link function codes. 0 and 1 mean different things for primary (reset
// link states / reset user process) and secondary frames (ack / nack);
// the primary name is canonical and the secondary one is accepted as alias.
constexpr std::array<std::string_view, 16> kLinkNames = {
    "reset_link_states", "reset_user_process", "test_link_states",
    "confirmed_user_data", "unconfirmed_user_data", "", "", "", "",
    "request_link_status", "", "link_status", "", "", "link_not_functioning",
    "link_not_supported"};

}  // namespace

uint16_t Crc(std::span<const uint8_t> bytes) {
  uint16_t crc = 0;
  size_t i = 0;
  for (; i + 4 <= bytes.size(); i += 4) {
    const uint16_t x = uint16_t(crc ^ (bytes[i] | bytes[i + 1] << 8));
    crc = uint16_t(kCrcSlices[3][x & 0xFF] ^ kCrcSlices[2][x >> 8] ^ kCrcSlices[1][bytes[i + 2]] ^
                   kCrcSlices[0][bytes[i + 3]]);
  }
  for (; i < bytes.size(); ++i) crc = uint16_t((crc >> 8) ^ kCrcTable[(crc ^ bytes[i]) & 0xFF]);
  return uint16_t(~crc);
}

FrameResult Frame(std::span<const uint8_t> head, bool /*from_client*/) {
  if (head.empty()) return {FrameStatus::kNeedMore, 0};
  if (head[0] != kStart0) return {FrameStatus::kInvalid, 0};
  if (head.size() < 2) return {FrameStatus::kNeedMore, 0};
  if (head[1] != kStart1) return {FrameStatus::kInvalid, 0};
  if (head.size() < 3) return {FrameStatus::kNeedMore, 0};
  // LEN counts control, destination and source (5) plus user data; the
  // frame's size (with a CRC per 16-byte block) follows from it.
  if (head[2] < 5) return Malformed(MalformedReason::kDnp3Length);
  if (head.size() < kHeaderLen) return {FrameStatus::kNeedMore, 0};
  if (Crc(head.first(8)) != Le16(head.data() + 8)) return Malformed(MalformedReason::kDnp3Crc);
  if (!LengthFitsFunction(head[3], head[2])) return Malformed(MalformedReason::kDnp3Length);
  return {FrameStatus::kPdu, FrameLength(head[2])};
}

DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops) {
  const std::span<const uint8_t> b = pdu.bytes;
  if (!pdu.udp) return DecodeFrame(pdu, b, std::max<uint32_t>(pdu.length, uint32_t(b.size())), state, ops);

  // A datagram may carry several link frames back to back.
  const uint32_t total = std::max<uint32_t>(pdu.length, uint32_t(b.size()));
  DecodeStatus status = DecodeStatus::kOk;
  size_t off = 0;
  bool first = true;
  while (off < b.size()) {
    const std::span<const uint8_t> rest = b.subspan(off);
    const bool header_ok = HeaderOk(rest);
    if (!header_ok && !(rest.size() < kHeaderLen && rest[0] == kStart0 &&
                        (rest.size() < 2 || rest[1] == kStart1))) {
      return first ? DecodeStatus::kNotThisProtocol
                   : Worse(status, RefusePdu(pdu, MalformedReason::kDnp3Length));  // trailing junk
    }
    // As Frame() does for TCP: a LEN that does not fit the link function
    // makes the receiver reject the header and resynchronise inside it.
    if (header_ok && !LengthFitsFunction(rest[3], rest[2])) {
      return Worse(status, RefusePdu(pdu, MalformedReason::kDnp3Length));
    }
    const uint32_t frame_len = header_ok ? FrameLength(rest[2]) : kHeaderLen;
    const std::span<const uint8_t> frame =
        rest.first(std::min<size_t>(frame_len, rest.size()));
    status = Worse(status, DecodeFrame(pdu, frame, total - uint32_t(off), state, ops));
    off += frame_len;
    first = false;
  }
  return status;
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  if (kind == OpKind::kDnp3) {
    if (function < kAppNames.size()) return kAppNames[function];
    if (function >= 0x81 && function <= 0x83) return kResponseNames[function - 0x81];
    return "";
  }
  if (kind == OpKind::kDnp3Link && function < kLinkNames.size()) return kLinkNames[function];
  return "";
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (kind == OpKind::kDnp3) {
    for (size_t i = 0; i < kAppNames.size(); ++i) {
      if (kAppNames[i] == name) return uint16_t(i);
    }
    for (size_t i = 0; i < kResponseNames.size(); ++i) {
      if (kResponseNames[i] == name) return uint16_t(0x81 + i);
    }
    return std::nullopt;
  }
  if (kind == OpKind::kDnp3Link) {
    if (name == "ack") return 0;
    if (name == "nack") return 1;
    for (size_t i = 0; i < kLinkNames.size(); ++i) {
      if (kLinkNames[i] == name) return uint16_t(i);
    }
  }
  return std::nullopt;
}

}  // namespace conduit::ics::dnp3
