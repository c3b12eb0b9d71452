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
constexpr std::array<NamedFunction, 19> kFunctions{{
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
    default:  // reads answer with byte count + data: no address in-band
      break;
  }
}

}  // namespace

FrameResult Frame(std::span<const uint8_t> head) {
  // Reject as early as the bytes allow: protocol id must be 0.
  if (head.size() >= 4 && Be16(head.data() + 2) != 0) return {FrameStatus::kInvalid, 0};
  if (head.size() < 6) return {FrameStatus::kNeedMore, 0};
  const uint16_t len = Be16(head.data() + 4);
  if (len < kMinLength || len > kMaxLength) return {FrameStatus::kInvalid, 0};
  return {FrameStatus::kPdu, uint32_t(6 + len)};
}

DecodeStatus Decode(const PduView& pdu, StreamState& /*state*/, OpList& ops) {
  const std::span<const uint8_t> b = pdu.bytes;
  if (b.size() >= 4 && Be16(b.data() + 2) != 0) return DecodeStatus::kNotThisProtocol;
  if (b.size() < kMbapSize + 1) return DecodeStatus::kTruncated;
  const uint16_t len = Be16(b.data() + 4);
  if (len < kMinLength || len > kMaxLength) return DecodeStatus::kNotThisProtocol;

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
  if (op.Has(kOpTruncated) && end == declared_end) return DecodeStatus::kMalformed;
  return DecodeStatus::kOk;
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  if (kind != OpKind::kModbus) return {};
  for (const auto& f : kFunctions) {
    if (f.code == function) return f.name;
  }
  return {};
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (kind != OpKind::kModbus) return std::nullopt;
  for (const auto& f : kFunctions) {
    if (f.name == name) return f.code;
  }
  return std::nullopt;
}

}  // namespace conduit::ics::modbus
