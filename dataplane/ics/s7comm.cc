#include "ics/s7comm.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace conduit::ics::s7comm {
namespace {

constexpr size_t kTpktLen = 4;
constexpr size_t kCotpDtEnd = kTpktLen + 3;       // TPKT + COTP DT (li, code, EOT/nr)
constexpr size_t kS7HeaderEnd = kCotpDtEnd + 10;  // + the shortest S7comm header
constexpr uint8_t kS7ProtocolId = 0x32;
constexpr uint8_t kS7PlusProtocolId = 0x72;

// StreamState layout (per flow direction).
constexpr size_t kStFlags = 0;
constexpr size_t kStUnit = 1;
constexpr uint8_t kStHasUnit = 1 << 0;
constexpr uint8_t kStInSegment = 1 << 1;  // inside a DT message without EOT
// The message's first DT was too short to show its function: its S7 bytes
// wait in the state (length at kStHeldLen) for the next DT to complete.
constexpr uint8_t kStHeaderHeld = 1 << 2;
constexpr size_t kStHeldLen = 2;
constexpr size_t kStHeld = 3;
constexpr size_t kHeldMax = sizeof(StreamState::bytes) - kStHeld;  // 21

bool ValidCotpType(uint8_t code) {
  switch (code) {
    case kCotpExpeditedData: case kCotpExpeditedDataAck: case kCotpReject:
    case kCotpDataAck: case kCotpError: case kCotpDisconnectRequest:
    case kCotpDisconnectConfirm: case kCotpConnectionConfirm:
    case kCotpConnectionRequest: case kCotpData:
      return true;
    default:
      return false;
  }
}

// Cursor::full of a first COTP segment (no EOT): the message's length is
// not known from this TPDU.
constexpr size_t kUnknownLength = SIZE_MAX / 2;

// Bytes of the PDU present in the (possibly truncated) view, from `off`.
struct Cursor {
  const uint8_t* p;
  size_t avail;  // bytes present
  size_t full;   // bytes the PDU really has (>= avail)
  bool Has(size_t off, size_t n) const { return off + n <= avail; }
};

// "0A" -> 0x0A; -1 when not two hex digits.
int Hex2(const uint8_t* s) {
  int v = 0;
  for (int i = 0; i < 2; ++i) {
    uint8_t c = s[i];
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                     : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Block "TTNNNNN" (type as 2 hex digits, number as 5 decimal digits) into the
// op's object fields.
void SetBlock(const uint8_t* s, IcsOp& op) {
  int type = Hex2(s);
  if (type < 0) return;
  uint32_t number = 0;
  for (int i = 2; i < 7; ++i) {
    if (s[i] < '0' || s[i] > '9') return;
    number = number * 10 + (s[i] - '0');
  }
  op.object_group = uint16_t(type);
  op.object_instance = number;
  op.flags |= kOpHasObject;
}

// Size in bits of one element of an S7ANY transport size.
uint32_t ElementBits(uint8_t transport_size) {
  switch (transport_size) {
    case 0x01: return 1;                          // BIT
    case 0x02: case 0x03: return 8;               // BYTE, CHAR
    case 0x04: case 0x05: case 0x09: case 0x0B:   // WORD, INT, DATE, S5TIME
    case 0x1C: case 0x1D: return 16;              // COUNTER, TIMER
    case 0x06: case 0x07: case 0x08:              // DWORD, DINT, REAL
    case 0x0A: case 0x0C: return 32;              // TOD, TIME
    default: return 8;
  }
}

// Read/write var request items: area, DB and the union byte range when all
// items are S7ANY in one area and DB.
enum class ItemsFit : uint8_t { kExact, kMismatch, kUnknown };

// A read/write var job's parameter block: function, item count, then that
// many items of variable specification (1), spec length (1), spec (length
// octets) -- whatever the addressing syntax. They fill the block exactly:
// an item past it, or octets after the last, is a block the PLC and Conduit
// read differently. kUnknown when an item header lies past the bytes kept.
ItemsFit VarItemsFit(const Cursor& c, size_t param, size_t param_len) {
  if (param_len < 2) return ItemsFit::kMismatch;
  if (!c.Has(param, 2)) return ItemsFit::kUnknown;
  const size_t count = c.p[param + 1];
  const size_t end = param + param_len;
  size_t off = param + 2;
  for (size_t i = 0; i < count; ++i) {
    if (off + 2 > end) return ItemsFit::kMismatch;
    if (!c.Has(off, 2)) return ItemsFit::kUnknown;
    off += 2 + size_t(c.p[off + 1]);
    if (off > end) return ItemsFit::kMismatch;
  }
  return off == end ? ItemsFit::kExact : ItemsFit::kMismatch;
}

void DecodeVarItems(const Cursor& c, size_t param, size_t param_len, IcsOp& op) {
  if (!c.Has(param, 2)) {
    op.flags |= kOpTruncated;
    return;
  }
  const size_t count = c.p[param + 1];
  const size_t end = param + param_len;
  size_t off = param + 2;
  uint32_t first = UINT32_MAX, last = 0;
  uint16_t area = 0;
  uint32_t db = 0;
  for (size_t i = 0; i < count; ++i) {
    if (off + 2 > end) return;  // fewer items than announced: leave it unset
    if (!c.Has(off, 2)) {
      op.flags |= kOpTruncated;
      return;
    }
    const size_t spec_len = c.p[off + 1];
    // Only S7ANY (spec 0x12, length 10, syntax 0x10) addresses bytes.
    if (c.p[off] != 0x12 || spec_len != 10 || off + 2 + spec_len > end) return;
    if (!c.Has(off, 12)) {
      op.flags |= kOpTruncated;
      return;
    }
    const uint8_t* it = c.p + off;
    if (it[2] != 0x10) return;
    const uint32_t length = Be16(it + 4);
    const uint16_t item_db = Be16(it + 6);
    const uint8_t item_area = it[8];
    const uint32_t bit_addr = (uint32_t(it[9]) << 16 | uint32_t(it[10]) << 8 | it[11]) & 0x7FFFF;
    if (i == 0) {
      area = item_area;
      db = item_db;
    } else if (item_area != area || item_db != db) {
      return;
    }
    const uint32_t bits = length == 0 ? 1 : length * ElementBits(it[3]);
    const uint32_t item_first = bit_addr >> 3;
    const uint32_t item_last = (bit_addr + bits - 1) >> 3;
    if (item_first < first) first = item_first;
    if (item_last > last) last = item_last;
    off += 2 + spec_len;
  }
  if (count == 0) return;
  op.object_group = area;
  op.object_instance = db;
  op.address_first = first;
  op.address_last = last;
  op.flags |= kOpHasObject | kOpHasAddress;
}

// Block-function requests: filename length at param[8], then "_TTNNNNNF".
void DecodeBlockFile(const Cursor& c, size_t param, size_t param_len, IcsOp& op) {
  if (param_len < 9 + 8) return;
  if (!c.Has(param, 9 + 8)) {
    op.flags |= kOpTruncated;
    return;
  }
  if (c.p[param + 8] < 8 || c.p[param + 9] != '_') return;
  SetBlock(c.p + param + 10, op);
}

PiService PiServiceOf(const uint8_t* s, size_t n) {
  const std::string_view name(reinterpret_cast<const char*>(s), n);
  if (name == "_INSE") return kPiInsert;
  if (name == "_DELE") return kPiDelete;
  if (name == "P_PROGRAM") return kPiProgram;
  if (name == "_MODU") return kPiCopyRamToRom;
  if (name == "_GARB") return kPiCompress;
  if (name == "_INS2") return kPiInsert2;
  return kPiUnknown;
}

// PLC control: func, 7 bytes, param block length (2), param block, service
// name length (1), service name.
void DecodePlcControl(const Cursor& c, size_t param, size_t param_len, IcsOp& op) {
  const size_t end = param + param_len;
  if (param + 10 > end) return;
  if (!c.Has(param, 10)) {
    op.flags |= kOpTruncated;
    return;
  }
  const size_t block_len = Be16(c.p + param + 8);
  const size_t name_at = param + 10 + block_len;
  if (name_at + 1 > end) return;
  if (!c.Has(name_at, 1) || !c.Has(name_at + 1, c.p[name_at])) {
    op.flags |= kOpTruncated;
    return;
  }
  const size_t name_len = c.p[name_at];
  if (name_at + 1 + name_len > end) return;
  const PiService svc = PiServiceOf(c.p + name_at + 1, name_len);
  if (svc == kPiUnknown) return;
  op.sub_function = svc;
  op.flags |= kOpHasSubFunction;
  // _INSE/_DELE: block list "<count:2><TTNNNNN><F>..."; report the first.
  if ((svc == kPiInsert || svc == kPiDelete) && block_len >= 2 + 8) {
    SetBlock(c.p + param + 12, op);
  }
}

DecodeStatus DecodeS7(const Cursor& c, const PduView& pdu, IcsOp& op) {
  if (c.full < 10) return RefusePdu(pdu, MalformedReason::kS7Length);
  if (!c.Has(0, 10)) return DecodeStatus::kTruncated;
  const uint8_t rosctr = c.p[1];
  const bool has_error = rosctr == kAck || rosctr == kAckData;
  if (rosctr != kJob && !has_error && rosctr != kUserdata) return RefusePdu(pdu, MalformedReason::kS7Header);
  const size_t header_len = has_error ? 12 : 10;
  const size_t param_len = Be16(c.p + 6);
  const size_t data_len = Be16(c.p + 8);
  // The header, parameter and data blocks are the whole TPDU payload: bytes
  // past them would reach the PLC unjudged, bytes short of them cut the PDU.
  // A first segment without EOT (full unknown) is a prefix: not judged here.
  if (c.full != kUnknownLength && header_len + param_len + data_len != c.full) {
    return RefusePdu(pdu, MalformedReason::kS7Length);
  }
  if (!c.Has(0, header_len)) return DecodeStatus::kTruncated;

  op.kind = OpKind::kS7comm;
  op.direction = rosctr == kJob ? Direction::kRequest : Direction::kResponse;
  if (has_error && (c.p[10] != 0 || c.p[11] != 0)) {
    op.flags |= kOpException;
    op.exception_code = c.p[10];
  }
  const size_t param = header_len;

  if (rosctr == kUserdata) {
    // 00 01 12 <len> <method> <type:4|group:4> <subfunc> <seq> [dref last err:2]
    if (param_len < 8) return RefusePdu(pdu, MalformedReason::kS7Header);
    if (!c.Has(param, 7)) {
      op.function = kUserdataBase;
      op.flags |= kOpTruncated;
      return DecodeStatus::kOk;
    }
    const uint8_t type = c.p[param + 5] >> 4;
    const uint8_t group = c.p[param + 5] & 0x0F;
    op.function = kUserdataBase | group;
    op.object_group = group;
    op.sub_function = c.p[param + 6];
    op.flags |= kOpHasObject | kOpHasSubFunction;
    if (type == 0x4 || type == 0x7) {
      op.direction = Direction::kRequest;
    } else if (type == 0x0 || type == 0x3) {
      op.direction = Direction::kResponse;
      op.flags |= kOpUnsolicited;
    } else if (type == 0x8 || type == 0xB) {
      op.direction = Direction::kResponse;
    } else {
      op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
    }
    if (c.p[param + 3] >= 8 && param_len >= 12) {
      if (!c.Has(param, 12)) {
        op.flags |= kOpTruncated;
      } else if (c.p[param + 10] != 0 || c.p[param + 11] != 0) {
        op.flags |= kOpException;
        op.exception_code = c.p[param + 10];
      }
    }
    return DecodeStatus::kOk;
  }

  if (param_len == 0) {
    if (rosctr == kJob) return RefusePdu(pdu, MalformedReason::kS7Header);
    op.function = kNoParameter;
    return DecodeStatus::kOk;
  }
  if (!c.Has(param, 1)) {
    op.flags |= kOpTruncated;
    return DecodeStatus::kOk;
  }
  op.function = c.p[param];
  if (rosctr != kJob) return DecodeStatus::kOk;
  switch (op.function) {
    case kReadVar:
    case kWriteVar:
      if (VarItemsFit(c, param, param_len) == ItemsFit::kMismatch) {
        return RefusePdu(pdu, MalformedReason::kS7Items);
      }
      DecodeVarItems(c, param, param_len, op);
      break;
    case kRequestDownload:
    case kDownloadBlock:
    case kDownloadEnded:
    case kStartUpload:
      DecodeBlockFile(c, param, param_len, op);
      break;
    case kPlcControl:
      DecodePlcControl(c, param, param_len, op);
      break;
    default:
      break;
  }
  return DecodeStatus::kOk;
}

// An S7comm-plus TPDU (a final DT: its length is known) is its 4-byte header
// (0x72, version, data length), the data length's bytes, and on the last
// fragment of a message the 4-byte trailer (0x72, version, 0x0000): every
// S7-1200/1500 message in the corpus is one of the two. Bytes the data
// length does not account for would reach the PLC unjudged. Judged in
// Decode only, where the flow's segment state tells a first COTP segment
// from a continuation whose bytes merely start with 0x72 (Frame cannot).
bool PlusLengthAgrees(const Cursor& c, uint8_t version) {
  constexpr size_t kPlusHeader = 4;
  constexpr size_t kPlusTrailer = 4;
  if (c.full == kUnknownLength) return true;  // a prefix of a COTP-segmented message
  if (c.full < kPlusHeader) return false;
  if (!c.Has(0, kPlusHeader)) return true;
  const size_t data_end = kPlusHeader + Be16(c.p + 2);
  if (c.full == data_end) return true;  // a fragment: more follow
  if (c.full != data_end + kPlusTrailer) return false;
  if (!c.Has(data_end, kPlusTrailer)) return true;  // beyond the bytes kept
  const uint8_t* t = c.p + data_end;
  return t[0] == kS7PlusProtocolId && t[1] == version && t[2] == 0 && t[3] == 0;
}

DecodeStatus DecodePlus(const Cursor& c, const PduView& pdu, IcsOp& op) {
  op.kind = OpKind::kS7commPlus;
  op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
  if (!c.Has(0, 2)) {
    op.flags |= kOpTruncated;
    return DecodeStatus::kOk;
  }
  const uint8_t version = c.p[1];
  op.sub_function = version;
  op.flags |= kOpHasSubFunction;
  if (version < 1 || version > 3) return DecodeStatus::kOk;
  if (!PlusLengthAgrees(c, version)) return RefusePdu(pdu, MalformedReason::kS7PlusLength);
  // 72 ver len:2 [V3: digest length 0x20 + digest] opcode res:2 function:2
  size_t off = 4;
  if (version == 3) {
    if (!c.Has(4, 1)) {
      op.flags |= kOpTruncated;
      return DecodeStatus::kOk;
    }
    if (c.p[4] != 0x20) return DecodeStatus::kOk;  // unknown integrity layout
    off += 1 + 0x20;
  }
  if (!c.Has(off, 1)) {
    op.flags |= (off < c.full) ? kOpTruncated : 0;
    return DecodeStatus::kOk;
  }
  const uint8_t opcode = c.p[off];
  if (opcode != 0x31 && opcode != 0x32 && opcode != 0x33) return DecodeStatus::kOk;
  op.object_group = opcode;
  op.flags |= kOpHasObject;
  op.direction = opcode == 0x31 ? Direction::kRequest : Direction::kResponse;
  if (opcode == 0x33) {
    op.flags |= kOpUnsolicited;
    return DecodeStatus::kOk;
  }
  if (!c.Has(off + 3, 2)) {
    op.flags |= kOpTruncated;
    return DecodeStatus::kOk;
  }
  op.object_variation = Be16(c.p + off + 3);
  return DecodeStatus::kOk;
}

// Called TSAP (parameter 0xC2) of a CR/CC into the direction's state.
// Returns false when the parameters are cut short before it was found.
bool RecordTsap(const uint8_t* p, size_t avail, size_t cotp_end, StreamState& state) {
  size_t off = kTpktLen + 7;  // li, code, dst-ref:2, src-ref:2, class
  while (off + 2 <= cotp_end) {
    if (off + 2 > avail) return false;
    const uint8_t code = p[off];
    const size_t len = p[off + 1];
    if (off + 2 + len > cotp_end) return true;  // malformed: stop looking
    if (off + 2 + len > avail) return false;
    if (code == 0xC2) {
      if (len == 2) {
        state.bytes[kStFlags] |= kStHasUnit;
        state.bytes[kStUnit] = p[off + 3];
      }
      return true;
    }
    off += 2 + len;
  }
  return off <= avail || cotp_end <= avail;
}

constexpr std::array<std::string_view, 16> kCotpNames = {
    "", "expedited_data", "expedited_data_ack", "", "", "reject", "data_ack",
    "tpdu_error", "disconnect_request", "", "", "", "disconnect_confirm",
    "connection_confirm", "connection_request", "data"};

constexpr std::array<std::string_view, 16> kUserdataNames = {
    "userdata_mode_transition", "userdata_programmer_commands",
    "userdata_cyclic_data", "userdata_block_functions",
    "userdata_cpu_functions", "userdata_security", "userdata_pbc",
    "userdata_time_functions", "", "", "", "", "", "", "",
    "userdata_nc_programming"};

struct NamedFunction {
  uint16_t code;
  std::string_view name;
};
constexpr NamedFunction kS7Names[] = {
    {kCpuServices, "cpu_services"},
    {kReadVar, "read_var"},
    {kWriteVar, "write_var"},
    {kRequestDownload, "request_download"},
    {kDownloadBlock, "download_block"},
    {kDownloadEnded, "download_ended"},
    {kStartUpload, "start_upload"},
    {kUpload, "upload"},
    {kEndUpload, "end_upload"},
    {kPlcControl, "plc_control"},
    {kPlcStop, "plc_stop"},
    {kSetupCommunication, "setup_communication"},
    {kNoParameter, "ack"},
};

// Whether a TPDU's S7comm header (if it has one) declares exactly the bytes
// the TPKT carries: 10 (job, userdata) or 12 (ack, ack-data: error class and
// code) header bytes + parameter length + data length == TPKT length - 7
// (TPKT 4, COTP DT 3). Only a final DT (EOT) whose payload looks like an S7
// header is judged: 0x32, a known ROSCTR and redundancy id 0 -- so the last
// segment of a COTP-segmented message (arbitrary bytes, stateless Frame
// cannot tell) is only mistaken for one by a 1-in-2^26 chance. Decode judges
// the rest with its per-flow segment state (the same equality).
bool S7LengthsAgree(std::span<const uint8_t> head, uint32_t length) {
  if ((head[5] >> 4) != kCotpData || head[4] != 2 || (head[6] & 0x80) == 0) return true;
  if (length < kS7HeaderEnd || head[kCotpDtEnd] != kS7ProtocolId) return true;
  const uint8_t* s7 = head.data() + kCotpDtEnd;
  const uint8_t rosctr = s7[1];
  const bool acked = rosctr == kAck || rosctr == kAckData;
  if (rosctr != kJob && rosctr != kUserdata && !acked) return true;
  if (Be16(s7 + 2) != 0) return true;
  const size_t header_len = acked ? 12 : 10;
  return header_len + Be16(s7 + 6) + Be16(s7 + 8) == length - kCotpDtEnd;
}

}  // namespace

FrameResult Frame(std::span<const uint8_t> head, bool /*from_client*/) {
  if (head.size() < kTpktLen) return {FrameStatus::kNeedMore, 0};
  if (head[0] != 3 || head[1] != 0) return {FrameStatus::kInvalid, 0};
  const uint32_t length = Be16(head.data() + 2);
  if (length < kTpktLen + 3) return Malformed(MalformedReason::kTpktLength);
  // The COTP header and an S7 header, where the TPDU has one, are judged
  // before framing: ask for them (never for more than the TPDU holds).
  if (head.size() < std::min<size_t>(length, kS7HeaderEnd)) return NeedMore();
  const uint8_t li = head[4];
  if (!ValidCotpType(head[5] >> 4)) return {FrameStatus::kInvalid, 0};
  if (li < 2 || kTpktLen + 1 + li > length) return Malformed(MalformedReason::kCotpLength);
  // S7 lengths that disagree with the TPKT: a flawed PDU, but every S7
  // stack cuts the stream by TPKT (RFC 1006), so framing holds and the next
  // TPDU is judged as usual; the packet is unparsable, and the bytes inside
  // this one are scanned for what a confused peer might find (framer.cc).
  if (!S7LengthsAgree(head, length)) return FlawedPdu(length, MalformedReason::kS7Length);
  return {FrameStatus::kPdu, length};
}

DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops) {
  const uint8_t* p = pdu.bytes.data();
  const size_t avail = pdu.bytes.size();
  const size_t full = pdu.length > avail ? pdu.length : avail;
  if (avail < kTpktLen + 2) return DecodeStatus::kTruncated;
  if (p[0] != 3 || p[1] != 0) return DecodeStatus::kNotThisProtocol;
  const uint8_t li = p[4];
  const uint8_t code = p[5] >> 4;
  const size_t cotp_end = kTpktLen + 1 + size_t(li);
  if (li < 2 || cotp_end > full || !ValidCotpType(code)) return DecodeStatus::kNotThisProtocol;

  IcsOp op;
  if (state.bytes[kStFlags] & kStHasUnit) {
    op.unit = state.bytes[kStUnit];
    op.flags |= kOpHasUnit;
  }

  if (code != kCotpData || cotp_end == full) {
    if (code == kCotpConnectionRequest || code == kCotpConnectionConfirm) {
      state.bytes[kStFlags] &= uint8_t(~(kStHasUnit | kStInSegment | kStHeaderHeld));
      const bool complete = RecordTsap(p, avail, cotp_end, state);
      op.flags = complete ? 0 : kOpTruncated;
      op.unit = 0;
      if (state.bytes[kStFlags] & kStHasUnit) {
        op.unit = state.bytes[kStUnit];
        op.flags |= kOpHasUnit;
      }
      op.direction = code == kCotpConnectionRequest ? Direction::kRequest : Direction::kResponse;
    } else {
      op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
    }
    op.kind = OpKind::kCotp;
    op.function = code;
    ops.Push(op);
    return DecodeStatus::kOk;
  }

  // DT with a payload.
  if (li != 2) return RefusePdu(pdu, MalformedReason::kCotpLength);  // class 0 DT: code + EOT/nr
  if (avail < cotp_end) return DecodeStatus::kTruncated;
  const bool eot = (p[6] & 0x80) != 0;
  const bool continuation = (state.bytes[kStFlags] & kStInSegment) != 0;
  if (eot) {
    state.bytes[kStFlags] &= uint8_t(~kStInSegment);
  } else {
    state.bytes[kStFlags] |= kStInSegment;
  }
  // A segment without EOT is a prefix of the message the peer reassembles:
  // its S7 lengths describe more than this TPDU holds (kUnknownLength).
  Cursor c{p + cotp_end, avail > cotp_end ? avail - cotp_end : 0,
           eot ? full - cotp_end : kUnknownLength};
  // Where the first segment held too little to judge, the message is
  // judged here, on the held bytes joined with this segment's.
  std::array<uint8_t, kHeldMax + 64> joined;
  const uint8_t held = (state.bytes[kStFlags] & kStHeaderHeld) ? state.bytes[kStHeldLen] : 0;
  if (continuation && held == 0) return DecodeStatus::kOk;  // op came with the first segment
  if (held != 0) {
    state.bytes[kStFlags] &= uint8_t(~kStHeaderHeld);
    const size_t add = std::min<size_t>(c.avail, joined.size() - held);
    std::memcpy(joined.data(), state.bytes.data() + kStHeld, held);
    std::memcpy(joined.data() + held, c.p, add);
    c = Cursor{joined.data(), held + add, eot ? held + (full - cotp_end) : kUnknownLength};
  }
  if (c.avail == 0) return DecodeStatus::kTruncated;
  DecodeStatus status;
  if (c.p[0] == kS7ProtocolId) {
    status = DecodeS7(c, pdu, op);
  } else if (c.p[0] == kS7PlusProtocolId) {
    status = DecodePlus(c, pdu, op);
  } else {
    state.bytes[kStFlags] &= uint8_t(~kStInSegment);
    return DecodeStatus::kNotThisProtocol;
  }
  if (!eot && status == DecodeStatus::kTruncated && avail >= full) {
    // A whole first segment too short to show the S7 header and function.
    // Real stacks segment at the negotiated TPDU size, hundreds of bytes,
    // never inside the header: malformed. The peer still reassembles the
    // message, so its bytes are held and the next segment is judged with
    // them (where `unparsable` lets this one pass).
    if (c.avail <= kHeldMax) {
      state.bytes[kStFlags] |= kStHeaderHeld;
      state.bytes[kStHeldLen] = static_cast<uint8_t>(c.avail);
      std::memcpy(state.bytes.data() + kStHeld, c.p, c.avail);
    } else {
      state.bytes[kStFlags] &= uint8_t(~kStInSegment);
    }
    return RefusePdu(pdu, MalformedReason::kS7Header);
  }
  if (status == DecodeStatus::kOk) ops.Push(op);
  return status;
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  switch (kind) {
    case OpKind::kCotp:
      return function < kCotpNames.size() ? kCotpNames[function] : "";
    case OpKind::kS7comm:
      if (function >= kUserdataBase && function < kUserdataBase + 16) {
        return kUserdataNames[function - kUserdataBase];
      }
      for (const auto& f : kS7Names) {
        if (f.code == function) return f.name;
      }
      return "";
    default:
      return "";
  }
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (name.empty()) return std::nullopt;
  switch (kind) {
    case OpKind::kCotp:
      for (size_t i = 0; i < kCotpNames.size(); ++i) {
        if (kCotpNames[i] == name) return uint16_t(i);
      }
      return std::nullopt;
    case OpKind::kS7comm:
      for (size_t i = 0; i < kUserdataNames.size(); ++i) {
        if (kUserdataNames[i] == name) return uint16_t(kUserdataBase + i);
      }
      for (const auto& f : kS7Names) {
        if (f.name == name) return f.code;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace conduit::ics::s7comm
