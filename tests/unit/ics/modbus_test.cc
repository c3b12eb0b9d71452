#include "ics/modbus.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cstdint>
#include <string>
#include <vector>

#include "unit/ics/malformed_named.h"

namespace conduit::ics::modbus {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// MBAP (tid 1, pid 0, length, unit) + fc + data.
Bytes Adu(uint8_t unit, uint8_t fc, const Bytes& data) {
  const uint16_t len = uint16_t(2 + data.size());
  Bytes b{0x00, 0x01, 0x00, 0x00, uint8_t(len >> 8), uint8_t(len), unit, fc};
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

struct Decoded {
  DecodeStatus status;
  OpList ops;
};

Decoded DecodeBytes(const Bytes& b, bool from_client = true, size_t keep = SIZE_MAX) {
  StreamState st;
  Decoded d;
  PduView pdu{std::span<const uint8_t>(b.data(), std::min(keep, b.size())), uint32_t(b.size()), from_client, false};
  d.status = Decode(pdu, st, d.ops);
  EXPECT_TRUE(NamesItsFlaw(d.status, pdu, {"modbus_"}));
  return d;
}

// MBAP with an explicit length (which may disagree with the PDU that follows).
Bytes AduWithLength(uint16_t len, uint8_t fc, const Bytes& data) {
  Bytes b{0x00, 0x01, 0x00, 0x00, uint8_t(len >> 8), uint8_t(len), 1, fc};
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

constexpr bool kRequest = true;
constexpr bool kResponse = false;
using R = MalformedReason;

struct FrameCase {
  const char* name;
  Bytes bytes;
  bool from_client;
  FrameStatus status;
  uint32_t length;  // for kPdu
  MalformedReason reason;
};

// Modbus Application Protocol v1.1b3 lengths, request and response. A length
// its function does not allow is kMalformed (framing lost); a quantity or byte
// count out of range under a consistent length is framed with its reason.
TEST(ModbusFrame, StrictLengthTable) {
  const Bytes qty10{0, 0, 0, 10};
  const std::vector<FrameCase> cases = {
      {"fc3 read", Adu(1, 3, qty10), kRequest, FrameStatus::kPdu, 12, R::kNone},
      {"fc3 read len 200", AduWithLength(200, 3, qty10), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc3 read len 5", AduWithLength(5, 3, {0, 0, 0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc3 qty 0", Adu(1, 3, {0, 0, 0, 0}), kRequest, FrameStatus::kPdu, 12, R::kModbusQuantity},
      {"fc3 qty 126", Adu(1, 3, {0, 0, 0, 126}), kRequest, FrameStatus::kPdu, 12, R::kModbusQuantity},
      {"fc4 qty 125", Adu(1, 4, {0, 0, 0, 125}), kRequest, FrameStatus::kPdu, 12, R::kNone},
      {"fc1 qty 2000", Adu(1, 1, {0, 0, 0x07, 0xD0}), kRequest, FrameStatus::kPdu, 12, R::kNone},
      {"fc2 qty 2001", Adu(1, 2, {0, 0, 0x07, 0xD1}), kRequest, FrameStatus::kPdu, 12, R::kModbusQuantity},
      {"fc5 on", Adu(1, 5, {0, 1, 0xFF, 0}), kRequest, FrameStatus::kPdu, 12, R::kNone},
      {"fc5 value 0x1234", Adu(1, 5, {0, 1, 0x12, 0x34}), kRequest, FrameStatus::kPdu, 12, R::kModbusQuantity},
      {"fc6", Adu(1, 6, {0, 1, 0x12, 0x34}), kRequest, FrameStatus::kPdu, 12, R::kNone},
      {"fc6 len 7", AduWithLength(7, 6, {0, 1, 0x12, 0x34, 0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc7", Adu(1, 7, {}), kRequest, FrameStatus::kPdu, 8, R::kNone},
      {"fc7 len 3", AduWithLength(3, 7, {0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc11", Adu(1, 11, {}), kRequest, FrameStatus::kPdu, 8, R::kNone},
      {"fc17", Adu(1, 17, {}), kRequest, FrameStatus::kPdu, 8, R::kNone},
      {"fc8 restart", Adu(1, 8, {0, 1, 0, 0}), kRequest, FrameStatus::kPdu, 12, R::kNone},
      {"fc8 restart len 8", Adu(1, 8, {0, 1, 0, 0, 0, 0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc8 echo any length", Adu(1, 8, {0, 0, 1, 2, 3, 4, 5, 6}), kRequest, FrameStatus::kPdu, 16, R::kNone},
      {"fc15 10 coils", Adu(1, 15, {0, 0, 0, 10, 2, 0xFF, 0x03}), kRequest, FrameStatus::kPdu, 15, R::kNone},
      {"fc15 byte count 3", Adu(1, 15, {0, 0, 0, 10, 3, 0xFF, 0x03, 0}), kRequest, FrameStatus::kPdu, 16, R::kModbusByteCount},
      {"fc15 len short", AduWithLength(8, 15, {0, 0, 0, 10, 2, 0xFF, 0x03}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc15 qty 1969", Adu(1, 15, {0, 0, 0x07, 0xB1, 247}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc16 2 regs", Adu(1, 16, {0, 1, 0, 2, 4, 0, 10, 1, 2}), kRequest, FrameStatus::kPdu, 17, R::kNone},
      {"fc16 byte count 5", Adu(1, 16, {0, 1, 0, 2, 5, 0, 10, 1, 2, 0}), kRequest, FrameStatus::kPdu, 18, R::kModbusByteCount},
      {"fc16 len 200", AduWithLength(200, 16, {0, 1, 0, 2, 4, 0, 10, 1, 2}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc16 qty 124", AduWithLength(255, 16, {0, 1, 0, 124, 248}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLength},
      {"fc16 qty 124 len 254", AduWithLength(254, 16, {0, 1, 0, 124, 248}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc16 qty 0 bc 0", Adu(1, 16, {0, 1, 0, 0, 0}), kRequest, FrameStatus::kPdu, 13, R::kModbusQuantity},
      {"fc15 qty 0 bc 0", Adu(1, 15, {0, 1, 0, 0, 0}), kRequest, FrameStatus::kPdu, 13, R::kModbusQuantity},
      {"fc22", Adu(1, 22, {0, 4, 0, 0xF2, 0, 0x25}), kRequest, FrameStatus::kPdu, 14, R::kNone},
      {"fc22 len 6", AduWithLength(6, 22, {0, 4, 0, 0xF2}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc23", Adu(1, 23, {0, 3, 0, 6, 0, 14, 0, 3, 6, 0, 0xFF, 0, 0xFF, 0, 0xFF}), kRequest, FrameStatus::kPdu, 23, R::kNone},
      {"fc23 byte count 4", Adu(1, 23, {0, 3, 0, 6, 0, 14, 0, 3, 4, 0, 0xFF, 0, 0xFF}), kRequest, FrameStatus::kPdu, 21, R::kModbusByteCount},
      {"fc23 write qty 122", Adu(1, 23, {0, 3, 0, 6, 0, 14, 0, 122, 244}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc23 read qty 126", Adu(1, 23, {0, 3, 0, 126, 0, 14, 0, 1, 2, 0, 0}), kRequest, FrameStatus::kPdu, 19, R::kModbusQuantity},
      {"fc23 len 10", AduWithLength(10, 23, {0, 3, 0, 6, 0, 14, 0, 3}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc24", Adu(1, 24, {0x04, 0xDE}), kRequest, FrameStatus::kPdu, 10, R::kNone},
      {"fc24 len 6", Adu(1, 24, {0x04, 0xDE, 0, 0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc43/14", Adu(1, 43, {14, 1, 0}), kRequest, FrameStatus::kPdu, 11, R::kNone},
      {"fc43/14 len 6", Adu(1, 43, {14, 1, 0, 0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"fc43/13 by MBAP", Adu(1, 43, {13, 1, 2, 3, 4}), kRequest, FrameStatus::kPdu, 13, R::kNone},
      {"fc20 file record", Adu(1, 20, {7, 6, 0, 4, 0, 1, 0, 2}), kRequest, FrameStatus::kPdu, 16, R::kNone},
      {"fc20 byte count 8", Adu(1, 20, {8, 6, 0, 4, 0, 1, 0, 2}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"UMAS len 255", AduWithLength(255, 90, {0x00, 0x22}), kRequest, FrameStatus::kPdu, 261, R::kNone},
      {"vendor 100 len 255", AduWithLength(255, 100, {}), kResponse, FrameStatus::kPdu, 261, R::kNone},
      {"fc8 len 255", AduWithLength(255, 8, {0, 0}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLength},
      {"len 256", AduWithLength(256, 90, {}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLength},
      {"len 1", AduWithLength(1, 3, {}), kRequest, FrameStatus::kMalformed, 0, R::kModbusLength},
      // Responses.
      {"rsp fc3 3 regs", Adu(1, 3, {6, 0, 1, 0, 2, 0, 3}), kResponse, FrameStatus::kPdu, 15, R::kNone},
      {"rsp fc3 byte count 7", Adu(1, 3, {7, 0, 1, 0, 2, 0, 3}), kResponse, FrameStatus::kMalformed, 0, R::kModbusByteCount},
      {"rsp fc6 echo", Adu(1, 6, {0, 1, 0x12, 0x34}), kResponse, FrameStatus::kPdu, 12, R::kNone},
      {"rsp fc16", Adu(1, 16, {0, 1, 0, 2}), kResponse, FrameStatus::kPdu, 12, R::kNone},
      {"rsp fc16 len 200", AduWithLength(200, 16, {0, 1, 0, 2}), kResponse, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"rsp fc22", Adu(1, 22, {0, 4, 0, 0xF2, 0, 0x25}), kResponse, FrameStatus::kPdu, 14, R::kNone},
      {"rsp fc23", Adu(1, 23, {4, 0, 1, 0, 2}), kResponse, FrameStatus::kPdu, 13, R::kNone},
      {"rsp fc7", Adu(1, 7, {0x6D}), kResponse, FrameStatus::kPdu, 9, R::kNone},
      {"rsp fc24", Adu(1, 24, {0, 6, 0, 2, 1, 0xB8, 0x12, 0x84}), kResponse, FrameStatus::kPdu, 16, R::kNone},
      {"rsp exception", Adu(1, 0x83, {2}), kResponse, FrameStatus::kPdu, 9, R::kNone},
      {"rsp exception len 4", Adu(1, 0x83, {2, 0}), kResponse, FrameStatus::kMalformed, 0, R::kModbusLengthMismatch},
      {"rsp fc8 echo", Adu(1, 8, {0, 0, 1, 2, 3}), kResponse, FrameStatus::kPdu, 13, R::kNone},
      {"rsp UMAS", Adu(1, 90, {0x00, 0xFE, 1, 2, 3}), kResponse, FrameStatus::kPdu, 13, R::kNone},
  };
  for (const FrameCase& c : cases) {
    const FrameResult r = Frame(c.bytes, c.from_client);
    EXPECT_EQ(r.status, c.status) << c.name;
    if (c.status == FrameStatus::kPdu) EXPECT_EQ(r.length, c.length) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name << ": " << MalformedReasonName(r.reason);
  }
}

// Every prefix shorter than the bytes the decision needs asks for more; none
// of them is malformed or framed early.
TEST(ModbusFrame, NeedsTheDecidingBytes) {
  const Bytes fc23 = Adu(1, 23, {0, 3, 0, 6, 0, 14, 0, 3, 6, 0, 0xFF, 0, 0xFF, 0, 0xFF});
  for (size_t n = 0; n < kMaxFrameHead; ++n) {
    EXPECT_EQ(Frame(std::span(fc23.data(), n), kRequest).status, FrameStatus::kNeedMore) << n;
  }
  EXPECT_EQ(Frame(std::span(fc23.data(), kMaxFrameHead), kRequest).status, FrameStatus::kPdu);
  const Bytes read = Adu(1, 3, {0, 0, 0, 10});
  for (size_t n = 0; n < read.size(); ++n) {
    EXPECT_EQ(Frame(std::span(read.data(), n), kRequest).status, FrameStatus::kNeedMore) << n;
  }
}

TEST(ModbusFrame, RejectsGarbage) {
  EXPECT_EQ(Frame(FromHex("000000010006"), kRequest).status, FrameStatus::kInvalid);   // pid 1
  EXPECT_EQ(Frame(FromHex("00004854"), kRequest).status, FrameStatus::kInvalid);       // "HT"
  EXPECT_EQ(Frame(FromHex("474554202f20"), kRequest).status, FrameStatus::kInvalid);   // "GET / "
  EXPECT_EQ(Frame(FromHex("000000000000"), kRequest).status, FrameStatus::kMalformed); // len 0
}

TEST(ModbusDecode, UmasFunctionIsTheSubFunction) {
  Decoded d = DecodeBytes(Adu(1, 90, {0x01, 0x41}));  // stop PLC, session 1
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 90);
  EXPECT_TRUE(d.ops[0].Has(kOpHasSubFunction));
  EXPECT_EQ(d.ops[0].sub_function, 0x41);
  EXPECT_EQ(PolicyFunction(d.ops[0]), UmasPolicyFunction(0x41));
  EXPECT_EQ(FunctionName(OpKind::kModbus, PolicyFunction(d.ops[0])), "umas_stop_plc");

  // A length-255 UMAS frame decodes (its data cut to a prefix is fine).
  Bytes big = AduWithLength(255, 90, {0x00, 0x22});
  big.resize(261, 0xAB);
  d = DecodeBytes(big);
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.ops[0].sub_function, 0x22);

  d = DecodeBytes(Adu(1, 90, {0x00, 0xFE, 0x01}), kResponse);
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.ops[0].sub_function, 0xFE);
  EXPECT_EQ(d.ops[0].direction, Direction::kResponse);

  d = DecodeBytes(Adu(1, 90, {0x00}));  // no UMAS function byte
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
}

TEST(ModbusNames, Umas) {
  for (const auto& [name, code] : std::vector<std::pair<std::string, uint8_t>>{
           {"umas_read_variables", 0x22}, {"umas_monitor_plc", 0x50}, {"umas_stop_plc", 0x41},
           {"umas_start_plc", 0x40}, {"umas_initialize_download", 0x33},
           {"umas_download_block", 0x34}, {"umas_end_download", 0x35}}) {
    EXPECT_EQ(FunctionByName(OpKind::kModbus, name), UmasPolicyFunction(code)) << name;
    EXPECT_EQ(FunctionName(OpKind::kModbus, UmasPolicyFunction(code)), name);
  }
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "umas"), 90);
  EXPECT_EQ(FunctionName(OpKind::kModbus, UmasPolicyFunction(0xEE)), "");
  EXPECT_EQ(FunctionName(OpKind::kModbus, 0x0303), "");  // not a UMAS code
}

TEST(ModbusDecode, ReadHoldingRegistersRequest) {
  const Decoded d = DecodeBytes(Adu(17, 3, {0x00, 0x6B, 0x00, 0x03}));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  const IcsOp& op = d.ops[0];
  EXPECT_EQ(op.kind, OpKind::kModbus);
  EXPECT_EQ(op.function, 3);
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_TRUE(op.Has(kOpHasUnit));
  EXPECT_EQ(op.unit, 17u);
  EXPECT_TRUE(op.Has(kOpHasAddress));
  EXPECT_EQ(op.address_first, 0x6Bu);
  EXPECT_EQ(op.address_last, 0x6Du);
  EXPECT_FALSE(op.Has(kOpTruncated));
  EXPECT_FALSE(op.Has(kOpException));
}

TEST(ModbusDecode, ReadResponseHasNoAddress) {
  const Decoded d = DecodeBytes(Adu(17, 3, {0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64}), false);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].direction, Direction::kResponse);
  EXPECT_EQ(d.ops[0].function, 3);
  EXPECT_FALSE(d.ops[0].Has(kOpHasAddress));
}

TEST(ModbusDecode, QuantityRangesAreInclusive) {
  for (uint8_t fc : {1, 2, 3, 4, 15, 16}) {
    const Decoded d = DecodeBytes(Adu(1, fc, {0x00, 0x13, 0x00, 0x0A, 0x02, 0xCD, 0x01}));
    ASSERT_EQ(d.ops.size(), 1u);
    EXPECT_EQ(d.ops[0].address_first, 0x13u) << int(fc);
    EXPECT_EQ(d.ops[0].address_last, 0x1Cu) << int(fc);
  }
}

TEST(ModbusDecode, RangeEndIsNotClamped) {
  const Decoded d = DecodeBytes(Adu(1, 3, {0xFF, 0xFF, 0x00, 0x7D}));
  EXPECT_EQ(d.ops[0].address_first, 0xFFFFu);
  EXPECT_EQ(d.ops[0].address_last, 0xFFFFu + 0x7C);
}

TEST(ModbusDecode, ZeroQuantityGivesStartOnly) {
  const Decoded d = DecodeBytes(Adu(1, 1, {0x00, 0x05, 0x00, 0x00}));
  EXPECT_EQ(d.ops[0].address_first, 5u);
  EXPECT_EQ(d.ops[0].address_last, 5u);
}

TEST(ModbusDecode, SingleWritesRequestAndEcho) {
  for (bool client : {true, false}) {
    for (uint8_t fc : {5, 6}) {
      const Decoded d = DecodeBytes(Adu(1, fc, {0x00, 0xAC, 0xFF, 0x00}), client);
      ASSERT_EQ(d.ops.size(), 1u);
      EXPECT_EQ(d.ops[0].function, fc);
      EXPECT_EQ(d.ops[0].address_first, 0xACu);
      EXPECT_EQ(d.ops[0].address_last, 0xACu);
    }
  }
}

TEST(ModbusDecode, WriteMultipleResponseEchoesRange) {
  const Decoded d = DecodeBytes(Adu(1, 16, {0x00, 0x01, 0x00, 0x02}), false);
  EXPECT_EQ(d.ops[0].address_first, 1u);
  EXPECT_EQ(d.ops[0].address_last, 2u);
}

TEST(ModbusDecode, ExceptionResponse) {
  // emreekin__IllegalFunction.pcap frame 7: FC 3 -> 0x83, code 1.
  const Decoded d = DecodeBytes(FromHex("0e3100000003018301"), false);
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 3);
  EXPECT_TRUE(d.ops[0].Has(kOpException));
  EXPECT_EQ(d.ops[0].exception_code, 1);
  EXPECT_EQ(d.ops[0].unit, 1u);
}

TEST(ModbusDecode, ExceptionWithoutCodeIsMalformed) {
  const Decoded d = DecodeBytes(Adu(1, 0x83, {}), false);
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_TRUE(d.ops[0].Has(kOpException));
  EXPECT_TRUE(d.ops[0].Has(kOpTruncated));
}

TEST(ModbusDecode, DiagnosticsSubFunction) {
  // iti__modbus_test_data_part1.pcap frame 8: unit 10, FC 8 sub-function 4.
  const Decoded d = DecodeBytes(FromHex("0000000000060a0800040000"));
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 8);
  EXPECT_EQ(d.ops[0].unit, 10u);
  EXPECT_TRUE(d.ops[0].Has(kOpHasSubFunction));
  EXPECT_EQ(d.ops[0].sub_function, 4);
  // frame 9: exception 11 to FC 8.
  const Decoded e = DecodeBytes(FromHex("0000000000030a880b"), false);
  EXPECT_EQ(e.ops[0].function, 8);
  EXPECT_EQ(e.ops[0].exception_code, 11);
}

TEST(ModbusDecode, EncapsulatedInterfaceMeiType) {
  // emreekin__modbus-encapsulated-transport.pcap frame 4: MEI 14 (device id).
  const Decoded d = DecodeBytes(FromHex("000000000005012b0e0100"));
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 43);
  EXPECT_EQ(d.ops[0].sub_function, 14);
  EXPECT_TRUE(d.ops[0].Has(kOpHasSubFunction));
}

TEST(ModbusDecode, MaskWriteRegister) {
  // emreekin__modbus-mask-write-register.pcap frame 4.
  const Decoded d = DecodeBytes(FromHex("0000000000080116000000010001"));
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 22);
  EXPECT_EQ(d.ops[0].address_first, 0u);
  EXPECT_EQ(d.ops[0].address_last, 0u);
}

TEST(ModbusDecode, ReadWriteMultipleCoversBothRanges) {
  // emreekin__modbus-read-write-multiple-registers.pcap frame 4: read 0 x1,
  // write 1 x1.
  const Decoded d = DecodeBytes(FromHex("00000000000d0117000000010001000102f0f0"));
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 23);
  EXPECT_EQ(d.ops[0].address_first, 0u);
  EXPECT_EQ(d.ops[0].address_last, 1u);
  EXPECT_TRUE(d.ops[0].Has(kOpHasObject));
  EXPECT_EQ(d.ops[0].object_group, 1);
  EXPECT_EQ(d.ops[0].object_variation, 1);

  const Decoded w = DecodeBytes(Adu(1, 23, {0x00, 0x10, 0x00, 0x02, 0x01, 0x00, 0x00, 0x03, 0x06, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(w.ops[0].address_first, 0x10u);
  EXPECT_EQ(w.ops[0].address_last, 0x102u);
  EXPECT_EQ(w.ops[0].object_group, 0x100);
  EXPECT_EQ(w.ops[0].object_variation, 0x102);
}

TEST(ModbusDecode, FileRecordFirstSubRequest) {
  const Decoded d = DecodeBytes(Adu(1, 20, {0x07, 0x06, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02}));
  EXPECT_EQ(d.ops[0].object_group, 4);
  EXPECT_EQ(d.ops[0].address_first, 1u);
  EXPECT_EQ(d.ops[0].address_last, 2u);
}

// Write-file-record sub-request: reference type 6, file, record, length in
// registers, then `present` registers of data (0x00AB each).
Bytes WriteSub(uint16_t file, uint16_t record, uint16_t length, size_t present) {
  Bytes b{6, uint8_t(file >> 8), uint8_t(file), uint8_t(record >> 8), uint8_t(record),
          uint8_t(length >> 8), uint8_t(length)};
  for (size_t i = 0; i < present; ++i) b.insert(b.end(), {0x00, 0xAB});
  return b;
}

// A file-record PDU: byte count = the sub-requests' bytes (+ `count_delta`).
Bytes FileRecord(uint8_t fc, const std::vector<Bytes>& subs, int count_delta = 0) {
  Bytes data{0};
  for (const Bytes& s : subs) data.insert(data.end(), s.begin(), s.end());
  data[0] = uint8_t(int(data.size()) - 1 + count_delta);
  return Adu(1, fc, data);
}

struct FileRecordRow {
  const char* name;
  Bytes bytes;
  bool from_client;
  MalformedReason reason;  // kNone: framed and decoded cleanly
};

// Functions 20 and 21 (v1.1b3 6.14, 6.15): the sub-requests (and the read
// sub-responses) must fill the byte count exactly. The byte count frames the
// PDU; sub-request lengths that disagree make it a flawed PDU (framed, named
// kModbusByteCount, Decode() kMalformed); a byte count the MBAP length
// disagrees with loses framing.
TEST(ModbusFrame, FileRecordTable) {
  const Bytes read1{6, 0, 4, 0, 1, 0, 2};
  const Bytes read2{6, 0, 5, 0, 9, 0, 1};
  const std::vector<FileRecordRow> rows = {
      {"fc20 one sub-request", FileRecord(20, {read1}), kRequest, R::kNone},
      {"fc20 two sub-requests", FileRecord(20, {read1, read2}), kRequest, R::kNone},
      {"fc20 a sub-request and a byte", FileRecord(20, {read1, {6}}), kRequest, R::kModbusByteCount},
      {"fc20 reference type 7", FileRecord(20, {{7, 0, 4, 0, 1, 0, 2}}), kRequest, R::kModbusByteCount},
      {"fc21 one record", FileRecord(21, {WriteSub(4, 7, 3, 3)}), kRequest, R::kNone},
      {"fc21 two records", FileRecord(21, {WriteSub(4, 7, 3, 3), WriteSub(4, 9, 1, 1)}), kRequest, R::kNone},
      {"fc21 length 3, 4 registers", FileRecord(21, {WriteSub(4, 7, 3, 4)}), kRequest, R::kModbusByteCount},
      {"fc21 length 3, 2 registers", FileRecord(21, {WriteSub(4, 7, 3, 2)}), kRequest, R::kModbusByteCount},
      {"fc21 length hides a record", FileRecord(21, {WriteSub(4, 7, 5, 3), WriteSub(4, 9, 0, 0)}), kRequest,
       R::kModbusByteCount},
      {"fc21 second record past 64 bytes, length off",
       FileRecord(21, {WriteSub(4, 7, 30, 30), WriteSub(4, 9, 9, 8)}), kRequest, R::kModbusByteCount},
      {"fc21 second record past 64 bytes", FileRecord(21, {WriteSub(4, 7, 30, 30), WriteSub(4, 9, 8, 8)}),
       kRequest, R::kNone},
      {"rsp fc20 two sub-responses", FileRecord(20, {{5, 6, 0, 1, 0, 2}, {3, 6, 0, 3}}), kResponse, R::kNone},
      {"rsp fc20 length past the byte count", FileRecord(20, {{5, 6, 0, 1, 0, 2}, {5, 6, 0, 3}}), kResponse,
       R::kModbusByteCount},
      {"rsp fc20 length 0", FileRecord(20, {{0}, {3, 6, 0, 3}}), kResponse, R::kModbusByteCount},
      {"rsp fc21 echo", FileRecord(21, {WriteSub(4, 7, 3, 3)}), kResponse, R::kNone},
      {"rsp fc21 echo, length off", FileRecord(21, {WriteSub(4, 7, 2, 3)}), kResponse, R::kModbusByteCount},
  };
  for (const FileRecordRow& row : rows) {
    SCOPED_TRACE(row.name);
    const FrameResult f = Frame(row.bytes, row.from_client);
    EXPECT_EQ(f.status, FrameStatus::kPdu);
    EXPECT_EQ(f.length, row.bytes.size());
    // Frame() sees 64 bytes at most when a PDU spans segments: what lies
    // beyond is Decode's to judge.
    const FrameResult head = Frame(std::span<const uint8_t>(row.bytes.data(), std::min<size_t>(row.bytes.size(), 64)),
                                   row.from_client);
    if (row.bytes.size() <= 64) {
      EXPECT_EQ(f.reason, row.reason) << MalformedReasonName(f.reason);
      EXPECT_EQ(head.reason, row.reason);
    } else {
      EXPECT_EQ(head.status, FrameStatus::kPdu);
    }
    StreamState st;
    OpList ops;
    const PduView v{row.bytes, uint32_t(row.bytes.size()), row.from_client, false};
    const DecodeStatus status = Decode(v, st, ops);
    EXPECT_EQ(status, row.reason == R::kNone ? DecodeStatus::kOk : DecodeStatus::kMalformed);
    EXPECT_TRUE(NamesItsFlaw(status, v, {"modbus_"}));
    EXPECT_EQ(ops.size(), 1u);
  }
  // A byte count the MBAP length disagrees with is never framed.
  Bytes b = FileRecord(21, {WriteSub(4, 7, 3, 3)}, +2);
  EXPECT_EQ(Frame(b, kRequest).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(b, kRequest).reason, R::kModbusLengthMismatch);
}

TEST(ModbusDecode, UnknownFunctionStillReported) {
  const Decoded d = DecodeBytes(Adu(1, 100, {0x01}));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 100);
  EXPECT_EQ(FunctionName(OpKind::kModbus, 100), "");
}

TEST(ModbusDecode, ShortMbapLengthIsMalformed) {
  // fuzz-72 frame 6: length 4 leaves 2 data bytes for FC 33; FC 3 needs 4.
  const Decoded d = DecodeBytes(FromHex("000000000004010300000000"));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 3);
  EXPECT_TRUE(d.ops[0].Has(kOpTruncated));
  EXPECT_FALSE(d.ops[0].Has(kOpHasAddress));
}

TEST(ModbusDecode, DoesNotReadPastMbapLength) {
  // Bytes after the declared PDU belong to the next one and are ignored.
  Bytes b = Adu(1, 6, {0x00});
  b.push_back(0x05);
  b.push_back(0x06);
  const Decoded d = DecodeBytes(b);
  EXPECT_TRUE(d.ops[0].Has(kOpTruncated));
  EXPECT_FALSE(d.ops[0].Has(kOpHasAddress));
}

TEST(ModbusDecode, EveryPrefixIsSafe) {
  const std::vector<Bytes> pdus = {
      Adu(1, 3, {0, 1, 0, 2}),
      Adu(1, 16, {0, 1, 0, 2, 4, 0, 1, 0, 2}),
      Adu(1, 23, {0, 1, 0, 2, 0, 3, 0, 1, 2, 0, 0}),
      Adu(1, 8, {0, 4, 0, 0}),
      Adu(1, 43, {14, 1, 0}),
      Adu(1, 20, {7, 6, 0, 4, 0, 1, 0, 2}),
      Adu(1, 0x90, {2}),
  };
  for (const Bytes& b : pdus) {
    for (bool client : {true, false}) {
      for (size_t n = 0; n <= b.size(); ++n) {
        const Decoded d = DecodeBytes(b, client, n);
        if (n < 8) {
          EXPECT_EQ(d.status, DecodeStatus::kTruncated) << n;
          EXPECT_TRUE(d.ops.empty());
        } else {
          ASSERT_EQ(d.ops.size(), 1u);
          EXPECT_NE(d.status, DecodeStatus::kNotThisProtocol);
          // A cut prefix either still had every field or says it did not.
          const Decoded full = DecodeBytes(b, client);
          if (d.ops[0].flags != full.ops[0].flags) {
            EXPECT_TRUE(d.ops[0].Has(kOpTruncated)) << n;
          }
        }
      }
    }
  }
}

TEST(ModbusDecode, GarbageIsNotModbus) {
  const Decoded d = DecodeBytes(FromHex("474554202f20485454502f312e310d0a"));
  EXPECT_EQ(d.status, DecodeStatus::kNotThisProtocol);
  EXPECT_TRUE(d.ops.empty());
  const Decoded l = DecodeBytes(FromHex("000000000001ff03"));  // length 1
  EXPECT_EQ(l.status, DecodeStatus::kNotThisProtocol);
}

TEST(ModbusDecode, RandomBytesNeverCrash) {
  uint32_t x = 12345;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b(size_t(x % 40));
    for (auto& v : b) {
      x = x * 1103515245 + 12345;
      v = uint8_t(x >> 16);
    }
    if (b.size() > 4 && (iter & 1)) b[2] = b[3] = 0;  // reach the PDU decoding
    const Decoded d = DecodeBytes(b, iter & 2);
    EXPECT_LE(d.ops.size(), 1u);
  }
}

TEST(ModbusNames, RoundTrip) {
  for (uint16_t fc = 0; fc < 256; ++fc) {
    const std::string_view name = FunctionName(OpKind::kModbus, fc);
    if (name.empty()) continue;
    EXPECT_EQ(FunctionByName(OpKind::kModbus, name), fc) << name;
  }
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "read_coils"), 1);
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "write_multiple_registers"), 16);
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "encapsulated_interface_transport"), 43);
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "3"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kDnp3, "read_coils"), std::nullopt);
  EXPECT_EQ(FunctionName(OpKind::kDnp3, 1), "");
}

}  // namespace
}  // namespace conduit::ics::modbus
