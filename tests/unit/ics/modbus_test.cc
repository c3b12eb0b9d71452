#include "ics/modbus.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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
  return d;
}

TEST(ModbusFrame, ValidHeader) {
  const Bytes b = Adu(1, 3, {0, 0, 0, 10});
  const FrameResult r = Frame(b);
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, 12u);
}

TEST(ModbusFrame, NeedsSixBytes) {
  const Bytes b = Adu(1, 3, {0, 0, 0, 10});
  for (size_t n = 0; n < 6; ++n) {
    EXPECT_EQ(Frame(std::span(b.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
}

TEST(ModbusFrame, RejectsGarbage) {
  EXPECT_EQ(Frame(FromHex("000000010006")).status, FrameStatus::kInvalid);   // pid 1
  EXPECT_EQ(Frame(FromHex("00004854")).status, FrameStatus::kInvalid);       // "HT"
  EXPECT_EQ(Frame(FromHex("000000000000")).status, FrameStatus::kInvalid);   // len 0
  EXPECT_EQ(Frame(FromHex("000000000001ff")).status, FrameStatus::kInvalid); // len 1
  EXPECT_EQ(Frame(FromHex("0000000000ff01")).status, FrameStatus::kInvalid); // len 255
  EXPECT_EQ(Frame(FromHex("474554202f20")).status, FrameStatus::kInvalid);   // "GET / "
  EXPECT_EQ(Frame(FromHex("0000000000fe01")).status, FrameStatus::kPdu);     // len 254
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

TEST(ModbusDecode, UnknownFunctionStillReported) {
  const Decoded d = DecodeBytes(Adu(1, 0x5A, {0x01}));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 0x5A);
  EXPECT_EQ(FunctionName(OpKind::kModbus, 0x5A), "");
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
