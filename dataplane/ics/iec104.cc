#include "ics/iec104.h"

#include <algorithm>
#include <array>

namespace conduit::ics::iec104 {
namespace {

constexpr uint8_t kVariableSize = 0xFF;

// ASDU type identifications (IEC 60870-5-101/104) with the size of one
// information element, IOA excluded (kVariableSize: not fixed, F_SG_NA_1's
// segment, sized by its LOS octet). S_IT_TC_1 (IEC 60870-5-7: AID 2, BCR 5,
// CP56Time2a 7) is the one security type with objects; the others have no
// IOA and are sized by SecurityLength. Time tags add to it: CP24Time2a 3 octets, CP56Time2a 7. The size
// walks the objects (SQ=0) and fixes the APDU length the type and VSQ
// require (AsduLengthAgrees).
struct TypeInfo {
  uint8_t id;
  uint8_t element_size;
  std::string_view name;
};
constexpr std::array<TypeInfo, 68> kTypes{{
    {1, 1, "m_sp_na_1"},   {2, 4, "m_sp_ta_1"},   {3, 1, "m_dp_na_1"},
    {4, 4, "m_dp_ta_1"},   {5, 2, "m_st_na_1"},   {6, 5, "m_st_ta_1"},
    {7, 5, "m_bo_na_1"},   {8, 8, "m_bo_ta_1"},   {9, 3, "m_me_na_1"},
    {10, 6, "m_me_ta_1"},  {11, 3, "m_me_nb_1"},  {12, 6, "m_me_tb_1"},
    {13, 5, "m_me_nc_1"},  {14, 8, "m_me_tc_1"},  {15, 5, "m_it_na_1"},
    {16, 8, "m_it_ta_1"},  {17, 6, "m_ep_ta_1"},  {18, 7, "m_ep_tb_1"},
    {19, 7, "m_ep_tc_1"},  {20, 5, "m_ps_na_1"},  {21, 2, "m_me_nd_1"},
    {30, 8, "m_sp_tb_1"},  {31, 8, "m_dp_tb_1"},  {32, 9, "m_st_tb_1"},
    {33, 12, "m_bo_tb_1"}, {34, 10, "m_me_td_1"}, {35, 10, "m_me_te_1"},
    {36, 12, "m_me_tf_1"}, {37, 12, "m_it_tb_1"}, {38, 10, "m_ep_td_1"},
    {39, 11, "m_ep_te_1"}, {40, 11, "m_ep_tf_1"}, {41, 14, "s_it_tc_1"},
    {45, 1, "c_sc_na_1"},
    {46, 1, "c_dc_na_1"},  {47, 1, "c_rc_na_1"},  {48, 3, "c_se_na_1"},
    {49, 3, "c_se_nb_1"},  {50, 5, "c_se_nc_1"},  {51, 4, "c_bo_na_1"},
    {58, 8, "c_sc_ta_1"},  {59, 8, "c_dc_ta_1"},  {60, 8, "c_rc_ta_1"},
    {61, 10, "c_se_ta_1"}, {62, 10, "c_se_tb_1"}, {63, 12, "c_se_tc_1"},
    {64, 11, "c_bo_ta_1"}, {70, 1, "m_ei_na_1"},  {100, 1, "c_ic_na_1"},
    {101, 1, "c_ci_na_1"}, {102, 0, "c_rd_na_1"}, {103, 7, "c_cs_na_1"},
    {104, 2, "c_ts_na_1"}, {105, 1, "c_rp_na_1"}, {106, 2, "c_cd_na_1"},
    {107, 9, "c_ts_ta_1"}, {110, 3, "p_me_na_1"}, {111, 3, "p_me_nb_1"},
    {112, 5, "p_me_nc_1"}, {113, 1, "p_ac_na_1"}, {120, 6, "f_fr_na_1"},
    {121, 7, "f_sr_na_1"}, {122, 4, "f_sc_na_1"}, {123, 5, "f_ls_na_1"},
    {124, 4, "f_af_na_1"}, {125, kVariableSize, "f_sg_na_1"},
    {126, 13, "f_dr_ta_1"}, {127, 16, "f_sc_nb_1"},
}};

// type id -> index into kTypes (0xFF: unknown), for O(1) lookup per APDU.
constexpr std::array<uint8_t, 256> kTypeIndex = [] {
  std::array<uint8_t, 256> index{};
  index.fill(0xFF);
  for (size_t i = 0; i < kTypes.size(); ++i) index[kTypes[i].id] = uint8_t(i);
  return index;
}();

struct ApciName {
  uint16_t function;
  std::string_view name;
};
constexpr std::array<ApciName, 7> kApciNames{{
    {kApciS, "s_frame"},
    {kStartDtAct, "startdt_act"},
    {kStartDtCon, "startdt_con"},
    {kStopDtAct, "stopdt_act"},
    {kStopDtCon, "stopdt_con"},
    {kTestFrAct, "testfr_act"},
    {kTestFrCon, "testfr_con"},
}};

// APDU byte offsets.
constexpr size_t kCtrl1 = 2;
constexpr size_t kTypeId = 6;
constexpr size_t kVsq = 7;
constexpr size_t kCot = 8;
constexpr size_t kCommonAddress = 10;
constexpr size_t kFirstIoa = 12;
constexpr size_t kIoaSize = 3;

constexpr size_t kAsduHeaderEnd = kFirstIoa - 2;  // APDU length of control + ASDU header

// Whether the APDU length octet `len` of an I-format APDU is what its type
// identification and VSQ require: control octets, ASDU header, then SQ=0:
// N x (IOA + element), SQ=1: IOA + N x element. A type of unknown element
// size (private, or variable) passes on any length; a known type carries
// objects, so N = 0 never passes.
bool AsduLengthAgrees(uint8_t type, uint8_t vsq, uint8_t len) {
  const uint8_t index = kTypeIndex[type];
  if (index == 0xFF) return true;
  const size_t count = vsq & 0x7F;
  if (count == 0) return false;
  const size_t size = kTypes[index].element_size;
  if (size == kVariableSize) return true;
  const size_t body = (vsq & 0x80) ? kIoaSize + count * size : count * (kIoaSize + size);
  return len == kAsduHeaderEnd + body;
}

// Types whose element holds its own length octets: F_SG_NA_1's segment
// (IEC 60870-5-101 7.3.6.7) and the IEC 60870-5-7 (IEC 62351-5 for 101/104)
// security ASDUs. The declared lengths inside must add up to the APDU
// length, or the outstation and Conduit would disagree on what the ASDU holds.
constexpr uint8_t kFileSegment = 125;  // F_SG_NA_1
enum SecurityType : uint8_t {
  kAuthChallenge = 81,    // S_CH_NA_1
  kAuthReply = 82,        // S_RP_NA_1
  kAggressiveMode = 83,   // S_AR_NA_1
  kKeyStatusRequest = 84, // S_KR_NA_1
  kKeyStatus = 85,        // S_KS_NA_1
  kKeyChange = 86,        // S_KC_NA_1
  kAuthError = 87,        // S_ER_NA_1
};

enum class LengthCheck : uint8_t { kAgrees, kDisagrees, kNeedMore };
LengthCheck Check(bool agrees) { return agrees ? LengthCheck::kAgrees : LengthCheck::kDisagrees; }

// F_SG_NA_1: one object (VSQ = 1): IOA, NOF (2), NOS (1), LOS (1), then LOS
// octets of the file's segment.
constexpr size_t kSegmentLos = kFirstIoa + kIoaSize + 3;
LengthCheck FileSegmentLength(std::span<const uint8_t> b, uint8_t len) {
  if (b[kVsq] != 0x01 || len < kSegmentLos - 1) return LengthCheck::kDisagrees;
  if (b.size() <= kSegmentLos) return LengthCheck::kNeedMore;
  return Check(len == kSegmentLos - 1 + b[kSegmentLos]);
}

// A security ASDU has no IOA: after the ASDU header, S_KR_NA_1 carries a
// user number (2 octets); the others an ASDU segmentation octet (FIN 0x80,
// FIR 0x40, sequence) and a segment of the message. A message sent whole
// (FIR and FIN) is sized by its own length fields, as IEC 60870-5-7 lays
// them out (Wireshark's packet-iec104.c reads them the same way):
//   S_CH_NA_1  CSQ 4, USR 2, MAL 1, RSC 1, CLN 2, challenge (CLN)
//   S_RP_NA_1  CSQ 4, USR 2, HLN 2, MAC (HLN)
//   S_KS_NA_1  KSQ 4, USR 2, KWA 1, KST 1, HAL 1, CLN 2, challenge (CLN),
//              MAC (fixed by HAL: 0 none, 1 4, 2 10, 3 8, 4 16, 6 12)
//   S_KC_NA_1  KSQ 4, USR 2, WKL 2, wrapped key data (WKL)
//   S_ER_NA_1  CSQ 4, USR 2, AID 2, ERR 1, ETM 7, ELN 2, error text (ELN)
// S_AR_NA_1's MAC length is not in the message (the session's MAC
// algorithm fixes it), and a segment of a longer message carries a slice:
// neither is sized beyond the segmentation octet.
constexpr size_t kSecuritySegment = kFirstIoa;  // the segmentation octet
constexpr size_t kSecurityMessage = kSecuritySegment + 1;

struct SecurityLayout {
  uint8_t type;
  uint8_t fixed;       // octets before the variable part
  uint8_t length_at;   // offset of its 2-octet little-endian length in the message
};
constexpr SecurityLayout kSecurityLayouts[] = {
    {kAuthChallenge, 10, 8}, {kAuthReply, 8, 6}, {kKeyStatus, 11, 9},
    {kKeyChange, 8, 6},      {kAuthError, 18, 16},
};

// MAC octets of S_KS_NA_1 by its HAL (MAC algorithm); -1: vendor-specific.
int KeyStatusMacLength(uint8_t hal) {
  switch (hal) {
    case 0: return 0;
    case 1: return 4;
    case 2: return 10;
    case 3: return 8;
    case 4: return 16;
    case 6: return 12;
    default: return -1;
  }
}

LengthCheck SecurityLength(std::span<const uint8_t> b, uint8_t len) {
  const uint8_t type = b[kTypeId];
  if (type == kKeyStatusRequest) return Check(len == kAsduHeaderEnd + 2);
  if (len < kSecurityMessage - 2) return LengthCheck::kDisagrees;  // no segmentation octet
  const SecurityLayout* layout = nullptr;
  for (const SecurityLayout& l : kSecurityLayouts) {
    if (l.type == type) layout = &l;
  }
  if (layout == nullptr) return LengthCheck::kAgrees;  // S_AR_NA_1
  if (b.size() <= kSecuritySegment) return LengthCheck::kNeedMore;
  if ((b[kSecuritySegment] & 0xC0) != 0xC0) return LengthCheck::kAgrees;  // a slice of a message
  const size_t message = size_t(2) + len - kSecurityMessage;
  if (message < layout->fixed) return LengthCheck::kDisagrees;
  const size_t length_at = kSecurityMessage + layout->length_at;
  if (b.size() < length_at + 2) return LengthCheck::kNeedMore;
  const size_t declared = layout->fixed + size_t(Le16(b.data() + length_at));
  if (type != kKeyStatus) return Check(message == declared);
  const int mac = KeyStatusMacLength(b[kSecurityMessage + 8]);
  return Check(mac < 0 ? message >= declared : message == declared + size_t(mac));
}

bool IsSecurityType(uint8_t type) { return type >= kAuthChallenge && type <= kAuthError; }

// The APDU length against what the type, VSQ and any length octets inside
// require. `b` holds the APDU's first octets, through the VSQ at least.
LengthCheck AsduLength(std::span<const uint8_t> b, uint8_t len) {
  const uint8_t type = b[kTypeId];
  if (type == kFileSegment) return FileSegmentLength(b, len);
  if (IsSecurityType(type)) return SecurityLength(b, len);
  return Check(AsduLengthAgrees(type, b[kVsq], len));
}

uint32_t Le24(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16; }

// Information object addresses: the smallest and the largest over the
// objects present. `end` bounds the reads; returns false if cut short.
bool ObjectAddresses(const uint8_t* b, size_t end, IcsOp& op) {
  const uint8_t vsq = b[kVsq];
  const uint32_t count = vsq & 0x7F;
  const uint32_t first = Le24(b + kFirstIoa);
  op.flags |= kOpHasAddress;
  op.object_instance = count;
  op.address_first = first;
  op.address_last = first;
  if (count <= 1) return true;
  if (vsq & 0x80) {  // SQ=1: one IOA, consecutive objects
    op.address_last = first + count - 1;
    return true;
  }
  const uint8_t index = kTypeIndex[b[kTypeId]];
  const uint8_t size = index == 0xFF ? kVariableSize : kTypes[index].element_size;
  if (size == kVariableSize) {  // cannot walk the objects: any address
    op.address_first = 0;
    op.address_last = 0xFFFFFF;
    return true;
  }
  const size_t stride = kIoaSize + size;
  size_t off = kFirstIoa + stride;
  for (uint32_t k = 1; k < count; ++k, off += stride) {  // count <= 127
    if (off + kIoaSize > end) return false;
    const uint32_t ioa = Le24(b + off);
    op.address_first = std::min(op.address_first, ioa);
    op.address_last = std::max(op.address_last, ioa);
  }
  return true;
}

}  // namespace

FrameResult Frame(std::span<const uint8_t> head, bool /*from_client*/) {
  if (head.empty()) return {FrameStatus::kNeedMore, 0};
  if (head[0] != kStartByte) return {FrameStatus::kInvalid, 0};
  if (head.size() < 2) return {FrameStatus::kNeedMore, 0};
  const uint8_t len = head[1];
  if (len < kMinApduLength || len > kMaxApduLength) return Malformed(MalformedReason::kIec104Length);
  if (head.size() < 3) return {FrameStatus::kNeedMore, 0};
  // S- and U-format APDUs are the 4 control octets and nothing else; an
  // I-format APDU carries an ASDU (type, VSQ, COT, common address: 6+).
  const bool i_format = (head[2] & 0x01) == 0;
  if (i_format ? len < kAsduHeaderEnd : len != kMinApduLength) {
    return Malformed(MalformedReason::kIec104Length);
  }
  // The type identification and VSQ (and a variable type's length octets,
  // at most 31 octets in, always within the APDU) fix the ASDU's length.
  if (i_format) {
    if (head.size() <= kVsq) return {FrameStatus::kNeedMore, 0};
    switch (AsduLength(head, len)) {
      case LengthCheck::kAgrees: break;
      case LengthCheck::kDisagrees: return Malformed(MalformedReason::kIec104Length);
      case LengthCheck::kNeedMore: return {FrameStatus::kNeedMore, 0};
    }
  }
  return {FrameStatus::kPdu, uint32_t(2 + len)};
}

DecodeStatus Decode(const PduView& pdu, StreamState& /*state*/, OpList& ops) {
  const std::span<const uint8_t> bytes = pdu.bytes;
  if (bytes.empty()) return DecodeStatus::kTruncated;
  if (bytes[0] != kStartByte) return DecodeStatus::kNotThisProtocol;
  if (bytes.size() < 2) return DecodeStatus::kTruncated;
  const uint8_t len = bytes[1];
  if (len < kMinApduLength || len > kMaxApduLength) return DecodeStatus::kNotThisProtocol;
  const size_t declared_end = size_t(2) + len;
  const size_t end = std::min(bytes.size(), declared_end);
  if (end <= kCtrl1) return DecodeStatus::kTruncated;
  const uint8_t* b = bytes.data();
  const uint8_t ctrl1 = b[kCtrl1];

  IcsOp op;
  op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;
  op.flags = kOpHasSubFunction;

  if ((ctrl1 & 0x01) == 0) {  // I-format: ASDU follows the APCI
    if (end <= kTypeId) {
      // No type id: an I-frame without ASDU is malformed, else cut short.
      return end == declared_end ? RefusePdu(pdu, MalformedReason::kIec104Length) : DecodeStatus::kTruncated;
    }
    op.kind = OpKind::kIec104;
    op.function = b[kTypeId];
    op.flags = 0;
    bool complete = false;
    if (end > kCot) {
      const uint8_t cot = b[kCot];
      op.flags |= kOpHasSubFunction;
      op.sub_function = cot & 0x3F;
      if (cot & 0x40) {  // P/N: negative confirmation
        op.flags |= kOpException;
        op.exception_code = cot & 0x3F;
      }
      if (end >= kCommonAddress + 2) {
        op.flags |= kOpHasUnit;
        op.unit = Le16(b + kCommonAddress);
        if (IsSecurityType(op.function)) {
          complete = true;  // no IOA: no information object addresses
        } else if (end >= kFirstIoa + kIoaSize) {
          complete = ObjectAddresses(b, end, op);
        }
      }
    }
    if (!complete) op.flags |= kOpTruncated;
    ops.Push(op);
    // A length the type and VSQ do not allow is malformed even where every
    // object's address could be read (the APDU holds too many octets).
    if (end > kVsq && AsduLength(bytes.first(end), len) == LengthCheck::kDisagrees) {
      return RefusePdu(pdu, MalformedReason::kIec104Length);
    }
    if (!complete && end == declared_end) return RefusePdu(pdu, MalformedReason::kIec104Length);
    return DecodeStatus::kOk;
  }

  op.kind = OpKind::kIec104Apci;
  bool valid = len == kMinApduLength;
  if ((ctrl1 & 0x03) == 0x01) {  // S-format: receive-sequence ack only
    op.function = kApciS;
    op.sub_function = kFormatS;
  } else {  // U-format
    op.function = ctrl1 >> 2;
    op.sub_function = kFormatU;
    switch (op.function) {
      case kStartDtAct: case kStopDtAct: case kTestFrAct:
        op.direction = Direction::kRequest;
        break;
      case kStartDtCon: case kStopDtCon: case kTestFrCon:
        op.direction = Direction::kResponse;
        op.flags |= kOpConfirm;
        break;
      default:  // none or several functions at once
        valid = false;
        break;
    }
  }
  ops.Push(op);
  return valid ? DecodeStatus::kOk : RefusePdu(pdu, MalformedReason::kIec104Length);
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  if (kind == OpKind::kIec104) {
    if (function > 0xFF) return {};
    const uint8_t index = kTypeIndex[function];
    return index == 0xFF ? std::string_view{} : kTypes[index].name;
  }
  if (kind == OpKind::kIec104Apci) {
    for (const auto& a : kApciNames) {
      if (a.function == function) return a.name;
    }
  }
  return {};
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (kind == OpKind::kIec104) {
    for (const auto& t : kTypes) {
      if (t.name == name) return t.id;
    }
  } else if (kind == OpKind::kIec104Apci) {
    for (const auto& a : kApciNames) {
      if (a.name == name) return a.function;
    }
  }
  return std::nullopt;
}

}  // namespace conduit::ics::iec104
