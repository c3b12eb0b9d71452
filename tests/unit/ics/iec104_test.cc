#include "ics/iec104.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "unit/ics/malformed_named.h"

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
  EXPECT_TRUE(NamesItsFlaw(d.status, pdu, {"iec104_"}));
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
  // An I-format APDU's length is checked against its type and VSQ: wait for them.
  EXPECT_EQ(Frame(FromHex("68fd00")).status, FrameStatus::kNeedMore);
  EXPECT_EQ(Frame(FromHex("68fd0000000080")).status, FrameStatus::kNeedMore);
  EXPECT_EQ(Frame(FromHex("68fd000000008001")).length, 255u);  // type 128: private, not sized
  EXPECT_EQ(Frame(FromHex("680e000000006401")).length, 16u);    // C_IC_NA_1, one object
  EXPECT_EQ(Frame(FromHex("680f000000006401")).reason, MalformedReason::kIec104Length);
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
    if (c.status == FrameStatus::kPdu) {
      EXPECT_EQ(r.length, c.length) << c.name;
    }
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

// Objects of an ASDU with VSQ `vsq` whose elements are `element` octets:
// SQ=0 N x (IOA, element), SQ=1 one IOA then N elements. IOAs count up from
// 100; element octets are 0x11. `delta` octets are appended (> 0) or cut
// from the end (< 0).
Bytes Objects(uint8_t vsq, size_t element, int delta = 0) {
  const size_t n = vsq & 0x7F;
  Bytes b;
  auto ioa = [&](uint32_t a) { b.insert(b.end(), {uint8_t(a), uint8_t(a >> 8), uint8_t(a >> 16)}); };
  if (vsq & 0x80) ioa(100);
  for (size_t k = 0; k < n; ++k) {
    if (!(vsq & 0x80)) ioa(uint32_t(100 + k));
    b.insert(b.end(), element, 0x11);
  }
  if (delta > 0) b.insert(b.end(), size_t(delta), 0x00);
  if (delta < 0) b.erase(b.end() + std::max<ptrdiff_t>(delta, -ptrdiff_t(b.size())), b.end());
  return b;
}

struct AsduRow {
  const char* name;
  Bytes bytes;
  DecodeStatus status;
};

// The APDU length must be what the type identification and VSQ require.
// Element sizes (IEC 60870-5-101/104 7.3): SIQ 1; IEEE STD 754 float + QDS
// 5; + CP56Time2a 7 more; SCO 1; float setpoint + QOS 5; QOI 1; CP56Time2a
// 7. A kOk row frames as one PDU; a kMalformed row is refused by Frame()
// with kIec104Length, and Decode() still reports its op.
TEST(Iec104Decode, AsduLengthTable) {
  const std::vector<AsduRow> rows = {
      // M_SP_NA_1 (1): SIQ.
      {"M_SP_NA_1 SQ=0 N=3", IFrame(1, 0x03, 3, 1, Objects(0x03, 1)), DecodeStatus::kOk},
      {"M_SP_NA_1 SQ=1 N=8", IFrame(1, 0x88, 20, 1, Objects(0x88, 1)), DecodeStatus::kOk},
      {"M_SP_NA_1 SQ=0 one octet too many", IFrame(1, 0x03, 3, 1, Objects(0x03, 1, +1)), DecodeStatus::kMalformed},
      {"M_SP_NA_1 SQ=0 one octet too few", IFrame(1, 0x03, 3, 1, Objects(0x03, 1, -1)), DecodeStatus::kMalformed},
      {"M_SP_NA_1 SQ=1 one octet too many", IFrame(1, 0x88, 20, 1, Objects(0x88, 1, +1)), DecodeStatus::kMalformed},
      {"M_SP_NA_1 SQ=1 one octet too few", IFrame(1, 0x88, 20, 1, Objects(0x88, 1, -1)), DecodeStatus::kMalformed},
      {"M_SP_NA_1 SQ=0 one object too many", IFrame(1, 0x02, 3, 1, Objects(0x03, 1)), DecodeStatus::kMalformed},
      {"M_SP_NA_1 SQ=1 one object too few", IFrame(1, 0x88, 20, 1, Objects(0x87, 1)), DecodeStatus::kMalformed},
      // M_ME_NC_1 (13): short float + QDS.
      {"M_ME_NC_1 SQ=0 N=2", IFrame(13, 0x02, 3, 1, Objects(0x02, 5)), DecodeStatus::kOk},
      {"M_ME_NC_1 SQ=1 N=4", IFrame(13, 0x84, 1, 1, Objects(0x84, 5)), DecodeStatus::kOk},
      {"M_ME_NC_1 SQ=0 one octet too many", IFrame(13, 0x02, 3, 1, Objects(0x02, 5, +1)), DecodeStatus::kMalformed},
      {"M_ME_NC_1 SQ=0 one octet too few", IFrame(13, 0x02, 3, 1, Objects(0x02, 5, -1)), DecodeStatus::kMalformed},
      {"M_ME_NC_1 SQ=1 one octet too many", IFrame(13, 0x84, 1, 1, Objects(0x84, 5, +1)), DecodeStatus::kMalformed},
      {"M_ME_NC_1 SQ=1 one octet too few", IFrame(13, 0x84, 1, 1, Objects(0x84, 5, -1)), DecodeStatus::kMalformed},
      {"M_ME_NC_1 sized as M_ME_TF_1", IFrame(13, 0x01, 3, 1, Objects(0x01, 12)), DecodeStatus::kMalformed},
      // M_ME_TF_1 (36): short float + QDS + CP56Time2a.
      {"M_ME_TF_1 SQ=0 N=1", IFrame(36, 0x01, 3, 1, Objects(0x01, 12)), DecodeStatus::kOk},
      {"M_ME_TF_1 SQ=0 N=3", IFrame(36, 0x03, 3, 1, Objects(0x03, 12)), DecodeStatus::kOk},
      {"M_ME_TF_1 SQ=1 N=2", IFrame(36, 0x82, 3, 1, Objects(0x82, 12)), DecodeStatus::kOk},
      {"M_ME_TF_1 SQ=0 one octet too many", IFrame(36, 0x03, 3, 1, Objects(0x03, 12, +1)), DecodeStatus::kMalformed},
      {"M_ME_TF_1 SQ=0 one octet too few", IFrame(36, 0x03, 3, 1, Objects(0x03, 12, -1)), DecodeStatus::kMalformed},
      {"M_ME_TF_1 SQ=1 one octet too many", IFrame(36, 0x82, 3, 1, Objects(0x82, 12, +1)), DecodeStatus::kMalformed},
      {"M_ME_TF_1 SQ=1 one octet too few", IFrame(36, 0x82, 3, 1, Objects(0x82, 12, -1)), DecodeStatus::kMalformed},
      {"M_ME_TF_1 without its time tag", IFrame(36, 0x01, 3, 1, Objects(0x01, 5)), DecodeStatus::kMalformed},
      // C_SC_NA_1 (45): SCO.
      {"C_SC_NA_1 N=1", IFrame(45, 0x01, 6, 1, Objects(0x01, 1)), DecodeStatus::kOk},
      {"C_SC_NA_1 one octet too many", IFrame(45, 0x01, 6, 1, Objects(0x01, 1, +1)), DecodeStatus::kMalformed},
      {"C_SC_NA_1 one octet too few", IFrame(45, 0x01, 6, 1, Objects(0x01, 1, -1)), DecodeStatus::kMalformed},
      {"C_SC_NA_1 a second object hidden", IFrame(45, 0x01, 6, 1, Objects(0x02, 1)), DecodeStatus::kMalformed},
      // C_SE_NC_1 (50): short float + QOS.
      {"C_SE_NC_1 N=1", IFrame(50, 0x01, 6, 1, Objects(0x01, 5)), DecodeStatus::kOk},
      {"C_SE_NC_1 SQ=0 N=2", IFrame(50, 0x02, 6, 1, Objects(0x02, 5)), DecodeStatus::kOk},
      {"C_SE_NC_1 one octet too many", IFrame(50, 0x01, 6, 1, Objects(0x01, 5, +1)), DecodeStatus::kMalformed},
      {"C_SE_NC_1 one octet too few", IFrame(50, 0x01, 6, 1, Objects(0x01, 5, -1)), DecodeStatus::kMalformed},
      // C_IC_NA_1 (100): QOI.
      {"C_IC_NA_1 N=1", IFrame(100, 0x01, 6, 1, Objects(0x01, 1)), DecodeStatus::kOk},
      {"C_IC_NA_1 one octet too many", IFrame(100, 0x01, 6, 1, Objects(0x01, 1, +1)), DecodeStatus::kMalformed},
      {"C_IC_NA_1 one octet too few", IFrame(100, 0x01, 6, 1, Objects(0x01, 1, -1)), DecodeStatus::kMalformed},
      // C_CS_NA_1 (103): CP56Time2a.
      {"C_CS_NA_1 N=1", IFrame(103, 0x01, 6, 1, Objects(0x01, 7)), DecodeStatus::kOk},
      {"C_CS_NA_1 one octet too many", IFrame(103, 0x01, 6, 1, Objects(0x01, 7, +1)), DecodeStatus::kMalformed},
      {"C_CS_NA_1 one octet too few", IFrame(103, 0x01, 6, 1, Objects(0x01, 7, -1)), DecodeStatus::kMalformed},
      // C_RD_NA_1 (102): the IOA alone.
      {"C_RD_NA_1 N=1", IFrame(102, 0x01, 5, 1, Objects(0x01, 0)), DecodeStatus::kOk},
      {"C_RD_NA_1 one octet too many", IFrame(102, 0x01, 5, 1, Objects(0x01, 0, +1)), DecodeStatus::kMalformed},
      // N = 0: a known type carries objects.
      {"M_SP_NA_1 SQ=0 N=0, no objects", IFrame(1, 0x00, 3, 1, {}), DecodeStatus::kMalformed},
      {"C_IC_NA_1 N=0 with an object", IFrame(100, 0x00, 6, 1, Objects(0x01, 1)), DecodeStatus::kMalformed},
      {"M_ME_NC_1 SQ=1 N=0, IOA only", IFrame(13, 0x80, 3, 1, Objects(0x80, 5)), DecodeStatus::kMalformed},
      // Private type ids: not sized, as before.
      {"type 200 SQ=0 N=1", IFrame(200, 0x01, 6, 1, Objects(0x01, 4)), DecodeStatus::kOk},
      {"type 200 SQ=0 N=1 odd length", IFrame(200, 0x01, 6, 1, Objects(0x01, 4, +3)), DecodeStatus::kOk},
      {"type 200 SQ=1 N=0", IFrame(200, 0x80, 6, 1, Objects(0x80, 2)), DecodeStatus::kOk},
      {"type 200 SQ=0 N=2", IFrame(200, 0x02, 6, 1, Objects(0x02, 1, +5)), DecodeStatus::kOk},
      // S_IT_TC_1 (41): AID + BCR + CP56Time2a.
      {"S_IT_TC_1 SQ=0 N=2", IFrame(41, 0x02, 3, 1, Objects(0x02, 14)), DecodeStatus::kOk},
      {"S_IT_TC_1 one octet too few", IFrame(41, 0x01, 3, 1, Objects(0x01, 14, -1)), DecodeStatus::kMalformed},
      {"S_IT_TC_1 sized as M_IT_TB_1", IFrame(41, 0x01, 3, 1, Objects(0x01, 12)), DecodeStatus::kMalformed},
      // F_SG_NA_1 (125) is sized by its LOS octet (FileSegmentTable).
      {"F_SG_NA_1 N=0", IFrame(125, 0x00, 13, 1, Objects(0x01, 9)), DecodeStatus::kMalformed},
  };
  for (const AsduRow& row : rows) {
    SCOPED_TRACE(row.name);
    const Decoded d = DecodeBytes(row.bytes);
    EXPECT_EQ(d.status, row.status);
    ASSERT_EQ(d.ops.size(), 1u);  // reported either way
    const IcsOp& op = d.ops[0];
    EXPECT_EQ(op.kind, OpKind::kIec104);
    EXPECT_EQ(op.function, row.bytes[6]);
    EXPECT_EQ(op.unit, 1u);
    const FrameResult f = Frame(row.bytes);
    if (row.status == DecodeStatus::kOk) {
      EXPECT_EQ(f.status, FrameStatus::kPdu);
      EXPECT_EQ(f.length, row.bytes.size());
      EXPECT_EQ(f.reason, MalformedReason::kNone);
      // Addresses as before: IOAs 100.. over the N objects (a private type
      // with several SQ=0 objects cannot be walked: any address).
      const uint8_t vsq = row.bytes[7];
      const uint32_t n = vsq & 0x7F;
      EXPECT_EQ(op.object_instance, n);
      EXPECT_FALSE(op.Has(kOpTruncated));
      if (FunctionName(OpKind::kIec104, op.function).empty() && n > 1 && !(vsq & 0x80)) {
        EXPECT_EQ(op.address_first, 0u);
        EXPECT_EQ(op.address_last, 0xFFFFFFu);
      } else if (n > 0) {
        EXPECT_EQ(op.address_first, 100u);
        EXPECT_EQ(op.address_last, 100u + n - 1);
      }
    } else {
      EXPECT_EQ(f.status, FrameStatus::kMalformed);
      EXPECT_EQ(f.reason, MalformedReason::kIec104Length);
    }
  }
}

// F_SG_NA_1 (IEC 60870-5-101 7.3.6.7): VSQ = 1, IOA, NOF (2), NOS (1), LOS
// (1), then LOS segment octets.
Bytes FileSegment(uint8_t los, size_t present, uint8_t vsq = 0x01) {
  Bytes o{0x01, 0x00, 0x00, 0x05, 0x00, 0x01, los};  // IOA 1, NOF 5, NOS 1, LOS
  o.insert(o.end(), present, 0xAB);
  return IFrame(125, vsq, 13, 1, o);
}

// A whole (FIR and FIN) IEC 60870-5-7 security message of type `type`:
// segmentation octet 0xC0, then `message`.
Bytes Security(uint8_t type, const Bytes& message, uint8_t segmentation = 0xC0) {
  Bytes o{segmentation};
  o.insert(o.end(), message.begin(), message.end());
  return IFrame(type, 0x01, 14, 1, o);
}

// `fixed` octets with a 2-octet little-endian length `declared` at `at`,
// then `present` octets of the variable part.
Bytes Message(size_t fixed, size_t at, uint16_t declared, size_t present) {
  Bytes m(fixed, 0x01);
  m[at] = uint8_t(declared);
  m[at + 1] = uint8_t(declared >> 8);
  m.insert(m.end(), present, 0x5A);
  return m;
}

// S_KS_NA_1: KSQ 4, USR 2, KWA 1, KST 1, HAL 1, CLN 2, challenge, MAC.
Bytes KeyStatus(uint8_t hal, uint16_t cln, size_t challenge, size_t mac) {
  Bytes m = Message(11, 9, cln, challenge);
  m[8] = hal;
  m.insert(m.end(), mac, 0x77);
  return m;
}

// Variable-length types: the length octets inside the ASDU must add up to
// the APDU length. A kOk row frames as one PDU; a kMalformed row is refused
// by Frame() with kIec104Length, and Decode() reports kMalformed.
TEST(Iec104Decode, VariableLengthTypesTable) {
  const std::vector<AsduRow> rows = {
      // F_SG_NA_1 (125).
      {"F_SG_NA_1 LOS 5, 5 octets", FileSegment(5, 5), DecodeStatus::kOk},
      {"F_SG_NA_1 LOS 0, empty segment", FileSegment(0, 0), DecodeStatus::kOk},
      {"F_SG_NA_1 LOS 200, 200 octets", FileSegment(200, 200), DecodeStatus::kOk},
      {"F_SG_NA_1 LOS 5, 6 octets", FileSegment(5, 6), DecodeStatus::kMalformed},
      {"F_SG_NA_1 LOS 5, 4 octets", FileSegment(5, 4), DecodeStatus::kMalformed},
      {"F_SG_NA_1 LOS 200, 5 octets", FileSegment(200, 5), DecodeStatus::kMalformed},
      {"F_SG_NA_1 two objects", FileSegment(5, 5, 0x02), DecodeStatus::kMalformed},
      {"F_SG_NA_1 SQ=1", FileSegment(5, 5, 0x81), DecodeStatus::kMalformed},
      {"F_SG_NA_1 without LOS", IFrame(125, 0x01, 13, 1, Bytes{1, 0, 0, 5, 0, 1}), DecodeStatus::kMalformed},
      // S_CH_NA_1 (81): CLN at 8, 10 fixed octets.
      {"S_CH_NA_1 CLN 4", Security(81, Message(10, 8, 4, 4)), DecodeStatus::kOk},
      {"S_CH_NA_1 CLN 4, 5 octets", Security(81, Message(10, 8, 4, 5)), DecodeStatus::kMalformed},
      {"S_CH_NA_1 CLN 4, 3 octets", Security(81, Message(10, 8, 4, 3)), DecodeStatus::kMalformed},
      {"S_CH_NA_1 shorter than its fields", Security(81, Bytes(9, 0)), DecodeStatus::kMalformed},
      // S_RP_NA_1 (82): HLN at 6, 8 fixed octets.
      {"S_RP_NA_1 HLN 16", Security(82, Message(8, 6, 16, 16)), DecodeStatus::kOk},
      {"S_RP_NA_1 HLN 16, 17 octets", Security(82, Message(8, 6, 16, 17)), DecodeStatus::kMalformed},
      {"S_RP_NA_1 HLN 0xFFFF", Security(82, Message(8, 6, 0xFFFF, 16)), DecodeStatus::kMalformed},
      // S_KS_NA_1 (85): CLN at 9, MAC length from HAL.
      {"S_KS_NA_1 HAL 4 (16), CLN 4", Security(85, KeyStatus(4, 4, 4, 16)), DecodeStatus::kOk},
      {"S_KS_NA_1 HAL 0 (none), CLN 4", Security(85, KeyStatus(0, 4, 4, 0)), DecodeStatus::kOk},
      {"S_KS_NA_1 HAL 4 with a 10-octet MAC", Security(85, KeyStatus(4, 4, 4, 10)), DecodeStatus::kMalformed},
      {"S_KS_NA_1 CLN 4, 5 octets", Security(85, KeyStatus(2, 4, 5, 10)), DecodeStatus::kMalformed},
      {"S_KS_NA_1 vendor HAL, any MAC", Security(85, KeyStatus(200, 4, 4, 7)), DecodeStatus::kOk},
      {"S_KS_NA_1 vendor HAL, short challenge", Security(85, KeyStatus(200, 8, 4, 0)), DecodeStatus::kMalformed},
      // S_KC_NA_1 (86): WKL at 6, 8 fixed octets.
      {"S_KC_NA_1 WKL 40", Security(86, Message(8, 6, 40, 40)), DecodeStatus::kOk},
      {"S_KC_NA_1 WKL 40, 41 octets", Security(86, Message(8, 6, 40, 41)), DecodeStatus::kMalformed},
      // S_ER_NA_1 (87): ELN at 16, 18 fixed octets.
      {"S_ER_NA_1 ELN 0", Security(87, Message(18, 16, 0, 0)), DecodeStatus::kOk},
      {"S_ER_NA_1 ELN 12", Security(87, Message(18, 16, 12, 12)), DecodeStatus::kOk},
      {"S_ER_NA_1 ELN 12, 11 octets", Security(87, Message(18, 16, 12, 11)), DecodeStatus::kMalformed},
      // S_KR_NA_1 (84): a user number, nothing else (no segmentation octet).
      {"S_KR_NA_1", IFrame(84, 0x01, 14, 1, Bytes{0x01, 0x00}), DecodeStatus::kOk},
      {"S_KR_NA_1 one octet too many", IFrame(84, 0x01, 14, 1, Bytes{0x01, 0x00, 0x00}), DecodeStatus::kMalformed},
      {"S_KR_NA_1 one octet too few", IFrame(84, 0x01, 14, 1, Bytes{0x01}), DecodeStatus::kMalformed},
      // Not sized beyond the segmentation octet: a slice of a segmented
      // message, and S_AR_NA_1 (its MAC length is the session's).
      {"S_RP_NA_1 first segment (FIR)", Security(82, Message(8, 6, 200, 16), 0x40), DecodeStatus::kOk},
      {"S_RP_NA_1 middle segment", Bytes(Security(82, Bytes(30, 0x11), 0x01)), DecodeStatus::kOk},
      {"S_AR_NA_1 whole", Security(83, Bytes(25, 0x11)), DecodeStatus::kOk},
      {"S_CH_NA_1 without segmentation octet", IFrame(81, 0x01, 14, 1, {}), DecodeStatus::kMalformed},
  };
  for (const AsduRow& row : rows) {
    SCOPED_TRACE(row.name);
    ASSERT_LE(row.bytes.size(), 2u + kMaxApduLength);
    const Decoded d = DecodeBytes(row.bytes);
    EXPECT_EQ(d.status, row.status);
    ASSERT_EQ(d.ops.size(), 1u);  // reported either way
    EXPECT_EQ(d.ops[0].function, row.bytes[6]);
    const FrameResult f = Frame(row.bytes);
    if (row.status == DecodeStatus::kOk) {
      EXPECT_EQ(f.status, FrameStatus::kPdu);
      EXPECT_EQ(f.length, row.bytes.size());
      EXPECT_EQ(f.reason, MalformedReason::kNone);
    } else {
      EXPECT_EQ(f.status, FrameStatus::kMalformed);
      EXPECT_EQ(f.reason, MalformedReason::kIec104Length);
    }
    // Every prefix that reaches the length octets is judged the same; a
    // shorter one asks for more (never a verdict on bytes not yet seen).
    for (size_t n = 8; n < row.bytes.size(); ++n) {
      const FrameResult p = Frame(std::span<const uint8_t>(row.bytes.data(), n));
      if (p.status == FrameStatus::kNeedMore) continue;
      EXPECT_EQ(p.status, f.status) << "prefix " << n;
      EXPECT_EQ(p.reason, f.reason) << "prefix " << n;
    }
  }
}

TEST(Iec104Decode, CapturedAsdusHaveTheirTypesLength) {
  // TestDissectIec104.pcap: C_SC_NA_1 act (frame 124), M_SP_NA_1 x9 SQ=1 and
  // M_DP_NA_1 x3 SQ=1 (frame 110); automayt__IEC104_SQ.pcap M_SP_NA_1 x16.
  for (const char* hex : {"680e04000e002d0106010d911a270081", "681604000200018914000d911a2700d0808080c080808080",
                          "681006000200038314000d912a4e00808080",
                          "681d02000200019014001e0400000000000000000000000000000000000101"}) {
    EXPECT_EQ(DecodeBytes(FromHex(hex)).status, DecodeStatus::kOk) << hex;
    EXPECT_EQ(Frame(FromHex(hex)).status, FrameStatus::kPdu) << hex;
  }
}

}  // namespace
}  // namespace conduit::ics::iec104
