#include "ics/modbus.h"

#include <algorithm>
#include <array>

namespace conduit::ics::modbus {
namespace {

struct NamedFunction {
  uint8_t code;
  std::string_view name;
};

// Public function codes (Modbus Application Protocol v1.1b3, section 5.1).
constexpr std::array<NamedFunction, 20> kFunctions{{
    {1, "read_coils"},
    {2, "read_discrete_inputs"},
    {3, "read_holding_registers"},
    {4, "read_input_registers"},
    {5, "write_single_coil"},
    {6, "write_single_register"},
    {7, "read_exception_status"},
    {8, "diagnostics"},
    {11, "get_comm_event_counter"},
    {12, "get_comm_event_log"},
    {15, "write_multiple_coils"},
    {16, "write_multiple_registers"},
    {17, "report_server_id"},
    {20, "read_file_record"},
    {21, "write_file_record"},
    {22, "mask_write_register"},
    {23, "read_write_multiple_registers"},
    {24, "read_fifo_queue"},
    {43, "encapsulated_interface_transport"},
    {kUmas, "umas"},  // every UMAS function (rules may name them one by one)
}};

// Schneider UMAS functions (function 90's own function byte), from public
// reverse engineering (the UMAS dissectors, "The Unity (UMAS) protocol").
// Policy addresses them as UmasPolicyFunction(code), see ics_op.h.
constexpr std::array<NamedFunction, 28> kUmasFunctions{{
    {0x01, "umas_init_comm"},
    {0x02, "umas_read_id"},
    {0x03, "umas_read_project_info"},
    {0x04, "umas_read_plc_info"},
    {0x06, "umas_read_card_info"},
    {0x0A, "umas_repeat"},
    {0x10, "umas_take_plc_reservation"},
    {0x11, "umas_release_plc_reservation"},
    {0x12, "umas_keep_alive"},
    {0x20, "umas_read_memory_block"},
    {0x22, "umas_read_variables"},
    {0x23, "umas_write_variables"},
    {0x24, "umas_read_coils_registers"},
    {0x25, "umas_write_coils_registers"},
    {0x30, "umas_initialize_upload"},
    {0x31, "umas_upload_block"},
    {0x32, "umas_end_strategy_upload"},
    {0x33, "umas_initialize_download"},
    {0x34, "umas_download_block"},
    {0x35, "umas_end_download"},
    {0x39, "umas_read_eth_master_data"},
    {0x40, "umas_start_plc"},
    {0x41, "umas_stop_plc"},
    {0x50, "umas_monitor_plc"},
    {0x58, "umas_check_plc"},
    {0x70, "umas_read_io_object"},
    {0x71, "umas_write_io_object"},
    {0x73, "umas_get_status_module"},
}};

// Bounded view of the PDU data after the function code. A field read past
// `size` marks the op truncated instead of reading.
struct Data {
  const uint8_t* p;
  size_t size;
  bool Has(size_t n, IcsOp& op) const {
    if (size >= n) [[likely]] return true;
    op.flags |= kOpTruncated;
    return false;
  }
};

void SetRange(IcsOp& op, uint32_t start, uint32_t quantity) {
  op.flags |= kOpHasAddress;
  op.address_first = start;
  op.address_last = quantity == 0 ? start : start + quantity - 1;
}

// UMAS PDU after the function code: [session/pairing byte][UMAS function].
void DecodeUmas(const Data& d, IcsOp& op) {
  if (d.Has(2, op)) {
    op.flags |= kOpHasSubFunction;
    op.sub_function = d.p[1];
  }
}

void DecodeRequest(uint8_t fc, const Data& d, IcsOp& op) {
  switch (fc) {
    case 1: case 2: case 3: case 4:  // start, quantity
    case 15: case 16:                // start, quantity, byte count, values
      if (d.Has(4, op)) SetRange(op, Be16(d.p), Be16(d.p + 2));
      break;
    case 5: case 6:  // address, value
    case 22:         // address, and mask, or mask
    case 24:         // FIFO pointer address
      if (d.Has(2, op)) SetRange(op, Be16(d.p), 1);
      break;
    case 23: {  // read start, read qty, write start, write qty, ...
      if (!d.Has(8, op)) {
        if (d.size >= 4) SetRange(op, Be16(d.p), Be16(d.p + 2));
        break;
      }
      const uint32_t rs = Be16(d.p), rq = Be16(d.p + 2);
      const uint32_t ws = Be16(d.p + 4), wq = Be16(d.p + 6);
      const uint32_t rl = rq == 0 ? rs : rs + rq - 1;
      const uint32_t wl = wq == 0 ? ws : ws + wq - 1;
      op.flags |= kOpHasAddress | kOpHasObject;
      op.address_first = std::min(rs, ws);
      op.address_last = std::max(rl, wl);
      op.object_group = uint16_t(ws);
      op.object_variation = uint16_t(std::min<uint32_t>(wl, 0xFFFF));
      break;
    }
    case 20: case 21:  // byte count, then {ref type, file, record, length}...
      if (d.Has(8, op)) {
        op.flags |= kOpHasObject;
        op.object_group = Be16(d.p + 2);
        SetRange(op, Be16(d.p + 4), Be16(d.p + 6));
      }
      break;
    case 8:  // sub-function, data
      if (d.Has(2, op)) {
        op.flags |= kOpHasSubFunction;
        op.sub_function = Be16(d.p);
      }
      break;
    case 43:  // MEI type, ...
      if (d.Has(1, op)) {
        op.flags |= kOpHasSubFunction;
        op.sub_function = d.p[0];
      }
      break;
    case kUmas:  // session (pairing) byte, UMAS function, data
      DecodeUmas(d, op);
      break;
    default:
      break;
  }
}

void DecodeResponse(uint8_t fc, const Data& d, IcsOp& op) {
  switch (fc) {
    case 5: case 6: case 22:  // echo of the request's address
      if (d.Has(2, op)) SetRange(op, Be16(d.p), 1);
      break;
    case 15: case 16:  // start, quantity written
      if (d.Has(4, op)) SetRange(op, Be16(d.p), Be16(d.p + 2));
      break;
    case 8:
      if (d.Has(2, op)) {
        op.flags |= kOpHasSubFunction;
        op.sub_function = Be16(d.p);
      }
      break;
    case 43:
      if (d.Has(1, op)) {
        op.flags |= kOpHasSubFunction;
        op.sub_function = d.p[0];
      }
      break;
    case kUmas:  // session byte, 0xFE (ok) / 0xFD (error), data
      DecodeUmas(d, op);
      break;
    default:  // reads answer with byte count + data: no address in-band
      break;
  }
}

}  // namespace

FrameResult FrameByFunction(std::span<const uint8_t> head, std::span<uint8_t> view) {
  if (head.size() < kMbapSize + 1) return NeedMore();
  // libmodbus 3.1.6, compute_meta_length_after_function / _data_length_
  // after_meta for an indication (a request).
  const uint8_t fc = head[7];
  size_t meta = 0;
  size_t count_at = 0;  // where the byte count of the data that follows is
  if (fc <= 6) {
    meta = 4;
  } else if (fc == 15 || fc == 16) {
    meta = 5;
    count_at = kMbapSize + 5;
  } else if (fc == 22) {
    meta = 6;
  } else if (fc == 23) {
    meta = 9;
    count_at = kMbapSize + 9;
  } else if (fc != 7 && fc != 11 && fc != 12 && fc != 17) {
    return Invalid();
  }
  if (count_at != 0 && head.size() <= count_at) return NeedMore();
  const size_t total = kMbapSize + 1 + meta + (count_at != 0 ? head[count_at] : 0);
  const size_t n = std::min({total, head.size(), view.size()});
  std::copy_n(head.begin(), n, view.begin());
  view[2] = view[3] = 0;
  view[4] = static_cast<uint8_t>((total - 6) >> 8);
  view[5] = static_cast<uint8_t>(total - 6);
  return Pdu(static_cast<uint32_t>(total));
}

FrameResult FrameByLength(std::span<const uint8_t> head, std::span<uint8_t> view) {
  if (head.size() < 6) return NeedMore();
  const uint16_t len = Be16(head.data() + 4);
  if (len < kMinLength || len > kMaxVendorLength) return Invalid();
  const size_t total = size_t(6) + len;
  std::copy_n(head.begin(), std::min({total, head.size(), view.size()}), view.begin());
  return Pdu(static_cast<uint32_t>(total));
}

uint16_t MaxLengthFor(uint8_t fc) {
  switch (fc & 0x7F) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 11: case 12:
    case 15: case 16: case 17: case 20: case 21: case 22: case 23: case 24: case 43:
      return kMaxLength;
    default:
      return kMaxVendorLength;
  }
}

namespace {

using R = MalformedReason;

// File record sub-requests (functions 20 and 21, v1.1b3 6.14/6.15) and
// read-file-record sub-responses must fill the byte count exactly: a byte
// count that frames the PDU while the sub-requests' own lengths say
// otherwise leaves record data that Conduit and the server would parse
// differently. Judged within kFileRecordView bytes of the ADU (the framer's
// carry can always provide them: it never asks for more); Decode judges the
// rest on the whole PDU.
constexpr size_t kFileRecordView = 64;
constexpr uint8_t kFileReferenceType = 6;

enum class Fit : uint8_t { kExact, kMismatch, kNeedMore };

// `h`: the ADU's bytes in view, `count`: the byte count at h[8]. Each
// element starts with `header` bytes; its length is h[at + length_at] (one
// byte, sub-responses: bytes after it) or Be16 (two bytes, write: registers).
Fit FileRecordFit(std::span<const uint8_t> h, uint8_t fc, bool from_client, size_t view) {
  const size_t end = kMbapSize + 2 + h[8];  // after unit, fc, byte count
  const bool response = !from_client && fc == 20;
  const size_t header = response ? 2 : 7;  // length + ref | ref, file, record, length
  size_t at = kMbapSize + 2;
  while (at < end) {
    if (at + header > end) return Fit::kMismatch;
    if (at + header > h.size()) return at + header <= view ? Fit::kNeedMore : Fit::kExact;
    size_t element;
    if (response) {
      element = 1 + size_t(h[at]);  // the length byte counts the reference type and data
      if (h[at] == 0 || h[at + 1] != kFileReferenceType) return Fit::kMismatch;
    } else {
      if (h[at] != kFileReferenceType) return Fit::kMismatch;
      element = fc == 20 ? 7 : 7 + 2 * size_t(Be16(&h[at + 5]));  // a write carries its records
    }
    at += element;
  }
  return at == end ? Fit::kExact : Fit::kMismatch;
}

// The framing verdict for a file-record PDU whose MBAP length agrees with its
// byte count.
FrameResult FrameFileRecord(std::span<const uint8_t> h, uint32_t total, bool from_client) {
  switch (FileRecordFit(h.first(std::min<size_t>(h.size(), total)), h[7], from_client,
                        std::min<size_t>(total, kFileRecordView))) {
    case Fit::kExact: return Pdu(total);
    case Fit::kMismatch: return FlawedPdu(total, R::kModbusByteCount);
    case Fit::kNeedMore: return NeedMore();
  }
  return Pdu(total);
}

// What a request's MBAP length must be. `len` is the MBAP length (2..255),
// `h` at least kMbapSize + 1 bytes. Returns kNeedMore while the bytes that
// decide are missing, kPdu when the length is right.
FrameResult FrameRequest(std::span<const uint8_t> h, uint16_t len) {
  const uint32_t total = 6u + len;
  auto exactly = [&](uint16_t want) { return len == want ? Pdu(total) : Malformed(R::kModbusLengthMismatch); };
  // A field that decides the length lies at h[at]: fail on the length first
  // (a short PDU has no such field), then wait for the byte.
  auto need = [&](size_t at) { return h.size() > at; };
  switch (h[7]) {
    case 1: case 2: case 3: case 4: {  // start, quantity
      if (len != 6) return Malformed(R::kModbusLengthMismatch);
      if (!need(11)) return NeedMore();
      const uint16_t qty = Be16(&h[10]);
      const uint16_t max = h[7] <= 2 ? 2000 : 125;
      return qty >= 1 && qty <= max ? Pdu(total) : FlawedPdu(total, R::kModbusQuantity);
    }
    case 5: {  // address, value 0x0000 or 0xFF00
      if (len != 6) return Malformed(R::kModbusLengthMismatch);
      if (!need(11)) return NeedMore();
      const uint16_t v = Be16(&h[10]);
      return v == 0x0000 || v == 0xFF00 ? Pdu(total) : FlawedPdu(total, R::kModbusQuantity);
    }
    case 6: return exactly(6);
    case 7: case 11: case 12: case 17: return exactly(2);
    case 8: {  // sub-function, data: "return query data" (0) echoes any data
      if (len < 4) return Malformed(R::kModbusLengthMismatch);
      if (!need(9)) return NeedMore();
      const uint16_t sub = Be16(&h[8]);
      const bool ordinary = (sub >= 1 && sub <= 4) || (sub >= 10 && sub <= 18) || sub == 20;
      return ordinary ? exactly(6) : Pdu(total);
    }
    case 15: case 16: {  // start, quantity, byte count, values
      if (len < 7) return Malformed(R::kModbusLengthMismatch);
      if (!need(12)) return NeedMore();
      // The byte count frames the PDU (libmodbus frames by it); the quantity
      // only has to agree with it.
      const uint16_t qty = Be16(&h[10]);
      const uint8_t count = h[12];
      const bool coils = h[7] == 15;
      if (len != 7 + count) return Malformed(R::kModbusLengthMismatch);
      if (qty < 1 || qty > (coils ? 1968 : 123)) return FlawedPdu(total, R::kModbusQuantity);
      if (count != (coils ? (qty + 7) / 8 : 2 * qty)) return FlawedPdu(total, R::kModbusByteCount);
      return Pdu(total);
    }
    case 20: case 21: {  // byte count, sub-requests
      if (len < 3) return Malformed(R::kModbusLengthMismatch);
      if (!need(8)) return NeedMore();
      if (len != 3 + h[8]) return Malformed(R::kModbusLengthMismatch);
      return FrameFileRecord(h, total, /*from_client=*/true);
    }
    case 22: return exactly(8);
    case 23: {  // read start, read qty, write start, write qty, byte count, values
      if (len < 11) return Malformed(R::kModbusLengthMismatch);
      if (!need(16)) return NeedMore();
      const uint16_t read_qty = Be16(&h[10]);
      const uint16_t write_qty = Be16(&h[14]);
      const uint8_t count = h[16];
      if (len != 11 + count) return Malformed(R::kModbusLengthMismatch);
      if (read_qty < 1 || read_qty > 125 || write_qty < 1 || write_qty > 121) {
        return FlawedPdu(total, R::kModbusQuantity);
      }
      if (count != 2 * write_qty) return FlawedPdu(total, R::kModbusByteCount);
      return Pdu(total);
    }
    case 24: return exactly(4);
    case 43: {  // MEI type: 14 = read device identification (code, object id)
      if (len < 3) return Malformed(R::kModbusLengthMismatch);
      if (!need(8)) return NeedMore();
      return h[8] == 14 ? exactly(5) : Pdu(total);
    }
    default:  // vendor / unknown (UMAS 90, 100-110, 125/126, ...): by MBAP length
      return Pdu(total);
  }
}

// The same for a response (server to client).
FrameResult FrameResponse(std::span<const uint8_t> h, uint16_t len) {
  const uint32_t total = 6u + len;
  auto exactly = [&](uint16_t want) { return len == want ? Pdu(total) : Malformed(R::kModbusLengthMismatch); };
  // unit + fc + one byte count + that many bytes
  auto counted = [&]() -> FrameResult {
    if (len < 3) return Malformed(R::kModbusLengthMismatch);
    if (h.size() < 9) return NeedMore();
    return len == 3 + h[8] ? Pdu(total) : Malformed(R::kModbusByteCount);
  };
  const uint8_t fc = h[7];
  if (fc & 0x80) return exactly(3);  // exception: unit, fc | 0x80, code
  switch (fc) {
    case 1: case 2: case 3: case 4: case 12: case 17: case 23:
      return counted();
    case 20: case 21: {  // byte count, sub-responses (read) / the request's echo (write)
      const FrameResult c = counted();
      return c.status == FrameStatus::kPdu ? FrameFileRecord(h, total, /*from_client=*/false) : c;
    }
    case 5: case 6: case 11: case 15: case 16: return exactly(6);
    case 7: return exactly(3);
    case 22: return exactly(8);
    case 24: {  // two-byte byte count (FIFO count + values)
      if (len < 4) return Malformed(R::kModbusLengthMismatch);
      if (h.size() < 10) return NeedMore();
      return len == 4 + Be16(&h[8]) ? Pdu(total) : Malformed(R::kModbusByteCount);
    }
    default:  // 8 (echo), 43, vendor / unknown: by MBAP length
      return Pdu(total);
  }
}

}  // namespace

FrameResult Frame(std::span<const uint8_t> head, bool from_client) {
  // Reject as early as the bytes allow: protocol id must be 0.
  if (head.size() >= 4 && Be16(head.data() + 2) != 0) return Invalid();
  if (head.size() < 6) return NeedMore();
  const uint16_t len = Be16(head.data() + 4);
  if (len < kMinLength || len > kMaxVendorLength) return Malformed(R::kModbusLength);
  if (head.size() < kMbapSize + 1) return NeedMore();
  if (len > MaxLengthFor(head[7])) return Malformed(R::kModbusLength);
  return from_client ? FrameRequest(head, len) : FrameResponse(head, len);
}

DecodeStatus Decode(const PduView& pdu, StreamState& /*state*/, OpList& ops) {
  const std::span<const uint8_t> b = pdu.bytes;
  if (b.size() >= 4 && Be16(b.data() + 2) != 0) return DecodeStatus::kNotThisProtocol;
  if (b.size() < kMbapSize + 1) return DecodeStatus::kTruncated;
  const uint16_t len = Be16(b.data() + 4);
  if (len < kMinLength || len > MaxLengthFor(b[7])) return DecodeStatus::kNotThisProtocol;

  // Bytes of this PDU actually present: never read past the MBAP length even
  // if the caller handed more.
  const size_t declared_end = size_t(6) + len;
  const size_t end = std::min(b.size(), declared_end);
  const uint8_t fc = b[7];

  IcsOp op;
  op.kind = OpKind::kModbus;
  op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
  op.flags = kOpHasUnit;
  op.unit = b[6];
  op.function = fc & 0x7F;

  const Data d{b.data() + 8, end - 8};
  if (fc & 0x80) {
    op.flags |= kOpException;
    if (d.Has(1, op)) op.exception_code = d.p[0];
  } else if (pdu.from_client) {
    DecodeRequest(fc, d, op);
  } else {
    DecodeResponse(fc, d, op);
  }
  ops.Push(op);
  // Fields missing because the MBAP length itself is too short are a
  // malformed PDU; missing because only a prefix was kept is fine.
  if (op.Has(kOpTruncated) && end == declared_end) {
    return RefusePdu(pdu, MalformedReason::kModbusLengthMismatch);
  }
  // File records whose sub-request lengths disagree with the byte count, as
  // Frame() judges them within its view, here on every byte kept.
  if ((fc == 20 || fc == 21) && end > kMbapSize + 1 && len == 3 + b[8] &&
      FileRecordFit(b.first(end), fc, pdu.from_client, 0) == Fit::kMismatch) {
    return RefusePdu(pdu, MalformedReason::kModbusByteCount);
  }
  return DecodeStatus::kOk;
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  if (kind != OpKind::kModbus) return {};
  const bool umas = function >> 8 == kUmas;
  if (function > 0xFF && !umas) return {};
  for (const auto& f : umas ? std::span<const NamedFunction>(kUmasFunctions)
                            : std::span<const NamedFunction>(kFunctions)) {
    if (f.code == (function & 0xFF)) return f.name;
  }
  return {};
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (kind != OpKind::kModbus) return std::nullopt;
  for (const auto& f : kFunctions) {
    if (f.name == name) return f.code;
  }
  for (const auto& f : kUmasFunctions) {
    if (f.name == name) return UmasPolicyFunction(f.code);
  }
  return std::nullopt;
}

}  // namespace conduit::ics::modbus
