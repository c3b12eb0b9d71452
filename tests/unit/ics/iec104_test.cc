#include "ics/iec104.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace conduit::ics::iec104 {
namespace {

// Framing a client's bytes (the direction matters only where a test says so).
using iec104::Frame;
FrameResult Frame(std::span<const uint8_t> head) { return iec104::Frame(head, /*from_client=*/true); }

using Bytes = std::vector<uint8_t>;

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// I-format APDU: type, VSQ, COT, CA, then raw object bytes.
Bytes IFrame(uint8_t type, uint8_t vsq, uint8_t cot, uint16_t ca, const Bytes& objects) {
  Bytes b{0x68, 0, 0x00, 0x00, 0x00, 0x00, type, vsq, cot, 0x00, uint8_t(ca), uint8_t(ca >> 8)};
  b.insert(b.end(), objects.begin(), objects.end());
  b[1] = uint8_t(b.size() - 2);
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

// Frames and decodes every APDU in `stream`, as the flow layer does.
Decoded DecodeStream(const Bytes& stream, bool from_client) {
  StreamState st;
  Decoded d{DecodeStatus::kOk, {}};
  size_t off = 0;
  while (off < stream.size()) {
    const FrameResult r = Frame(std::span(stream).subspan(off));
    if (r.status != FrameStatus::kPdu || off + r.length > stream.size()) break;
    PduView pdu{std::span(stream).subspan(off, r.length), r.length, from_client, false};
    const DecodeStatus s = Decode(pdu, st, d.ops);
    if (s != DecodeStatus::kOk) d.status = s;
    off += r.length;
  }
  EXPECT_EQ(off, stream.size());
  return d;
}

TEST(Iec104Frame, Lengths) {
  EXPECT_EQ(Frame(FromHex("")).status, FrameStatus::kNeedMore);
  EXPECT_EQ(Frame(FromHex("68")).status, FrameStatus::kNeedMore);
  const FrameResult r = Frame(FromHex("680407000000"));
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, 6u);
  EXPECT_EQ(Frame(FromHex("68fd")).status, FrameStatus::kNeedMore);  // format unknown yet
  EXPECT_EQ(Frame(FromHex("68fd00")).length, 255u);
}

TEST(Iec104Frame, RejectsGarbage) {
  EXPECT_EQ(Frame(FromHex("00")).status, FrameStatus::kInvalid);
  EXPECT_EQ(Frame(FromHex("0707680417")).status, FrameStatus::kInvalid);  // no resync
  EXPECT_EQ(Frame(FromHex("6803")).status, FrameStatus::kMalformed);      // L < 4
  EXPECT_EQ(Frame(FromHex("68fe")).status, FrameStatus::kMalformed);      // L > 253
  EXPECT_EQ(Frame(FromHex("474554")).status, FrameStatus::kInvalid);
}

TEST(Iec104Decode, UFrames) {
  struct Case {
    const char* hex;
    uint16_t function;
    Direction dir;
  } cases[] = {
      {"680407000000", kStartDtAct, Direction::kRequest},
      {"68040b000000", kStartDtCon, Direction::kResponse},
      {"680413000000", kStopDtAct, Direction::kRequest},
      {"680423000000", kStopDtCon, Direction::kResponse},
      {"680443000000", kTestFrAct, Direction::kRequest},
      {"680483000000", kTestFrCon, Direction::kResponse},
  };
  for (const Case& c : cases) {
    // Direction comes from act/con, not from the sender.
    const Decoded d = DecodeBytes(FromHex(c.hex), c.dir == Direction::kResponse);
    ASSERT_EQ(d.status, DecodeStatus::kOk) << c.hex;
    ASSERT_EQ(d.ops.size(), 1u);
    EXPECT_EQ(d.ops[0].kind, OpKind::kIec104Apci);
    EXPECT_EQ(d.ops[0].function, c.function) << c.hex;
    EXPECT_EQ(d.ops[0].sub_function, kFormatU);
    EXPECT_EQ(d.ops[0].direction, c.dir);
    EXPECT_EQ(d.ops[0].Has(kOpConfirm), c.dir == Direction::kResponse);
  }
}

TEST(Iec104Decode, SeveralUFunctionsAtOnceIsMalformed) {
  // TestDissectIec104.pcap frame 36 carries control 0x17: utype 5.
  const Decoded d = DecodeBytes(FromHex("680417000000"));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 5);
}

TEST(Iec104Decode, SFrame) {
  const Decoded d = DecodeBytes(FromHex("680401000800"));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].kind, OpKind::kIec104Apci);
  EXPECT_EQ(d.ops[0].function, kApciS);
  EXPECT_EQ(d.ops[0].sub_function, kFormatS);
  EXPECT_EQ(d.ops[0].direction, Direction::kRequest);
  // S/U frames with an ASDU-sized length are malformed but still reported.
  const Decoded l = DecodeBytes(FromHex("680601000800aaaa"));
  EXPECT_EQ(l.status, DecodeStatus::kMalformed);
  EXPECT_EQ(l.ops.size(), 1u);
}

TEST(Iec104Decode, SingleCommand) {
  // TestDissectIec104.pcap frame 124: C_SC_NA_1 act, CA 37133, IOA 10010.
  const Decoded d = DecodeBytes(FromHex("680e04000e002d0106010d911a270081"));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  const IcsOp& op = d.ops[0];
  EXPECT_EQ(op.kind, OpKind::kIec104);
  EXPECT_EQ(op.function, 45);
  EXPECT_EQ(op.sub_function, 6);  // activation
  EXPECT_TRUE(op.Has(kOpHasSubFunction));
  EXPECT_TRUE(op.Has(kOpHasUnit));
  EXPECT_EQ(op.unit, 37133u);
  EXPECT_TRUE(op.Has(kOpHasAddress));
  EXPECT_EQ(op.address_first, 10010u);
  EXPECT_EQ(op.address_last, 10010u);
  EXPECT_EQ(op.object_instance, 1u);
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_FALSE(op.Has(kOpException));
  EXPECT_FALSE(op.Has(kOpTruncated));
}

TEST(Iec104Decode, NegativeConfirmation) {
  const Decoded d = DecodeBytes(IFrame(45, 0x01, 0x47, 1, {0x01, 0x00, 0x00, 0x81}), false);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].sub_function, 7);
  EXPECT_TRUE(d.ops[0].Has(kOpException));
  EXPECT_EQ(d.ops[0].exception_code, 7);
  EXPECT_EQ(d.ops[0].direction, Direction::kResponse);
}

TEST(Iec104Decode, SeveralApdusInOneSegment) {
  // TestDissectIec104.pcap frame 110: S, C_IC_NA_1 actcon, M_SP_NA_1 x9
  // (SQ=1), M_DP_NA_1 x3 (SQ=1).
  const Decoded d = DecodeStream(
      FromHex("680401000200680e02000200640107000d9100000014681604000200018914000d911a2700d080"
              "8080c080808080681006000200038314000d912a4e00808080"),
      false);
  ASSERT_EQ(d.ops.size(), 4u);
  EXPECT_EQ(d.ops[0].kind, OpKind::kIec104Apci);
  EXPECT_EQ(d.ops[1].function, 100);
  EXPECT_EQ(d.ops[1].sub_function, 7);
  EXPECT_EQ(d.ops[2].function, 1);
  EXPECT_EQ(d.ops[2].sub_function, 20);
  EXPECT_EQ(d.ops[2].object_instance, 9u);  // VSQ 0x89: SQ=1, 9 objects
  EXPECT_EQ(d.ops[2].address_first, 10010u);
  EXPECT_EQ(d.ops[2].address_last, 10018u);
  EXPECT_EQ(d.ops[3].function, 3);
  EXPECT_EQ(d.ops[3].address_first, 20010u);
  EXPECT_EQ(d.ops[3].address_last, 20012u);
}

TEST(Iec104Decode, SequenceOfObjects) {
  // automayt__IEC104_SQ.pcap frame 1, first APDU: M_SP_NA_1, VSQ 0x90.
  const Decoded d = DecodeBytes(
      FromHex("681d02000200019014001e0400000000000000000000000000000000000101"), false);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 1);
  EXPECT_EQ(d.ops[0].unit, 1054u);
  EXPECT_EQ(d.ops[0].sub_function, 20);
  EXPECT_EQ(d.ops[0].address_first, 0u);
  EXPECT_EQ(d.ops[0].address_last, 15u);
}

TEST(Iec104Decode, IndividualAddressesGiveMinMax) {
  // Three C_SC_NA_1 objects at IOA 300, 100, 200 (SQ=0).
  const Decoded d = DecodeBytes(IFrame(45, 0x03, 6, 5,
                                       {0x2C, 0x01, 0x00, 0x01,  //
                                        0x64, 0x00, 0x00, 0x01,  //
                                        0xC8, 0x00, 0x00, 0x01}));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.ops[0].address_first, 100u);
  EXPECT_EQ(d.ops[0].address_last, 300u);
}

TEST(Iec104Decode, ObjectsBeyondTheApduAreMalformed) {
  // VSQ says 3 objects, only one is present.
  const Decoded d = DecodeBytes(IFrame(45, 0x03, 6, 5, {0x2C, 0x01, 0x00, 0x01}));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_TRUE(d.ops[0].Has(kOpTruncated));
}

TEST(Iec104Decode, UnknownElementSizeMeansAnyAddress) {
  const Decoded d = DecodeBytes(IFrame(200, 0x02, 6, 5, {0x01, 0x00, 0x00, 0xAA, 0x02, 0x00, 0x00, 0xBB}));
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 200);
  EXPECT_EQ(d.ops[0].address_first, 0u);
  EXPECT_EQ(d.ops[0].address_last, 0xFFFFFFu);
}

TEST(Iec104Decode, IFrameWithoutAsdu) {
  // TestDissectIec104.pcap frame 25 style: I-format control, L = 4.
  const Decoded d = DecodeBytes(FromHex("680416161616"));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_TRUE(d.ops.empty());
}

TEST(Iec104Decode, ShortAsduHeader) {
  // TestDissectIec104.pcap frame 41 after its garbage: type 24, cut at CA.
  const Decoded d = DecodeBytes(FromHex("6806181818181818"));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(d.ops[0].function, 24);
  EXPECT_TRUE(d.ops[0].Has(kOpTruncated));
  EXPECT_FALSE(d.ops[0].Has(kOpHasUnit));
}

TEST(Iec104Decode, EveryPrefixIsSafe) {
  const std::vector<Bytes> apdus = {
      FromHex("680e04000e002d0106010d911a270081"),
      FromHex("681604000200018914000d911a2700d0808080c080808080"),
      FromHex("681006000200038314000d912a4e00808080"),
      IFrame(45, 0x03, 6, 5, {0x2C, 0x01, 0x00, 0x01, 0x64, 0x00, 0x00, 0x01, 0xC8, 0x00, 0x00, 0x01}),
      FromHex("680443000000"),
      FromHex("680401000800"),
  };
  for (const Bytes& b : apdus) {
    const Decoded full = DecodeBytes(b);
    for (size_t n = 0; n < b.size(); ++n) {
      const Decoded d = DecodeBytes(b, true, n);
      EXPECT_NE(d.status, DecodeStatus::kNotThisProtocol) << n;
      if (d.ops.empty()) {
        EXPECT_EQ(d.status, DecodeStatus::kTruncated) << n;
        continue;
      }
      EXPECT_EQ(d.status, DecodeStatus::kOk) << n;
      EXPECT_EQ(d.ops[0].function, full.ops[0].function);
      if (d.ops[0].flags != full.ops[0].flags) {
        EXPECT_TRUE(d.ops[0].Has(kOpTruncated)) << n;
      }
    }
  }
}

TEST(Iec104Decode, GarbageIsNotIec104) {
  const Decoded d = DecodeBytes(FromHex("474554202f20"));
  EXPECT_EQ(d.status, DecodeStatus::kNotThisProtocol);
  EXPECT_TRUE(d.ops.empty());
  EXPECT_EQ(DecodeBytes(FromHex("6802aabb")).status, DecodeStatus::kNotThisProtocol);
}

TEST(Iec104Decode, RandomBytesNeverCrash) {
  uint32_t x = 99;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b(size_t(x % 64));
    for (auto& v : b) {
      x = x * 1103515245 + 12345;
      v = uint8_t(x >> 16);
    }
    if (b.size() >= 2) {
      b[0] = 0x68;
      b[1] = uint8_t(4 + x % 250);
    }
    const Decoded d = DecodeBytes(b, iter & 1);
    EXPECT_LE(d.ops.size(), 1u);
  }
}

TEST(Iec104Names, RoundTrip) {
  for (uint16_t f = 0; f < 256; ++f) {
    for (OpKind k : {OpKind::kIec104, OpKind::kIec104Apci}) {
      const std::string_view name = FunctionName(k, f);
      if (name.empty()) continue;
      EXPECT_EQ(FunctionByName(k, name), f) << name;
    }
  }
  EXPECT_EQ(FunctionName(OpKind::kIec104, 45), "c_sc_na_1");
  EXPECT_EQ(FunctionName(OpKind::kIec104, 100), "c_ic_na_1");
  EXPECT_EQ(FunctionName(OpKind::kIec104Apci, kTestFrAct), "testfr_act");
  EXPECT_EQ(FunctionName(OpKind::kIec104Apci, kApciS), "s_frame");
  EXPECT_EQ(FunctionByName(OpKind::kIec104, "startdt_act"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kIec104Apci, "startdt_act"), kStartDtAct);
  EXPECT_EQ(FunctionName(OpKind::kIec104, 1000), "");
  EXPECT_EQ(FunctionName(OpKind::kModbus, 45), "");
}

struct FrameRow {
  const char* name;
  Bytes bytes;
  bool from_client;
  FrameStatus status;
  uint32_t length;  // for kPdu
  MalformedReason reason;
};

void ExpectFrames(const std::vector<FrameRow>& rows) {
  for (const FrameRow& c : rows) {
    const FrameResult r = iec104::Frame(c.bytes, c.from_client);
    EXPECT_EQ(r.status, c.status) << c.name;
    if (c.status == FrameStatus::kPdu) EXPECT_EQ(r.length, c.length) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name << ": " << MalformedReasonName(r.reason);
  }
}

TEST(Iec104Frame, StrictLengthTable) {
  ExpectFrames({
      {"U STARTDT act", FromHex("680407000000"), true, FrameStatus::kPdu, 6, MalformedReason::kNone},
      {"S frame", FromHex("680401000200"), false, FrameStatus::kPdu, 6, MalformedReason::kNone},
      {"U frame length 6", FromHex("68060700000000"), true, FrameStatus::kMalformed, 0, MalformedReason::kIec104Length},
      {"S frame length 5", FromHex("6805010002"), false, FrameStatus::kMalformed, 0, MalformedReason::kIec104Length},
      {"I frame without ASDU", FromHex("680400000000"), true, FrameStatus::kMalformed, 0, MalformedReason::kIec104Length},
      {"I frame C_IC_NA_1", FromHex("680e0000000064010600010000000014"), true, FrameStatus::kPdu, 16, MalformedReason::kNone},
      {"length 3", FromHex("6803"), true, FrameStatus::kMalformed, 0, MalformedReason::kIec104Length},
  });
}

}  // namespace
}  // namespace conduit::ics::iec104
