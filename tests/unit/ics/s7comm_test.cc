#include "ics/s7comm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "unit/ics/malformed_named.h"

namespace conduit::ics::s7comm {
namespace {

// Framing a client's bytes (the direction matters only where a test says so).
using s7comm::Frame;
FrameResult Frame(std::span<const uint8_t> head) { return s7comm::Frame(head, /*from_client=*/true); }

std::vector<uint8_t> Hex(std::string_view s) {
  std::vector<uint8_t> v;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < s.size(); i += 2) v.push_back(uint8_t(nib(s[i]) << 4 | nib(s[i + 1])));
  return v;
}

uint16_t Ud(UserdataGroup g) { return uint16_t(kUserdataBase + uint16_t(g)); }

struct Result {
  DecodeStatus status;
  OpList ops;
  MalformedReason why = MalformedReason::kNone;  // what a kMalformed named (RefusePdu)
};

Result Dec(const std::vector<uint8_t>& b, bool from_client, StreamState& st, size_t keep = SIZE_MAX) {
  Result r;
  PduView v;
  v.bytes = std::span<const uint8_t>(b.data(), keep < b.size() ? keep : b.size());
  v.length = uint32_t(b.size());
  v.from_client = from_client;
  r.status = Decode(v, st, r.ops);
  r.why = v.malformed;
  EXPECT_TRUE(NamesItsFlaw(r.status, v, {"s7", "cotp_", "tpkt_"}));
  return r;
}

Result Dec(const std::vector<uint8_t>& b, bool from_client = true) {
  StreamState st;
  return Dec(b, from_client, st);
}

// Real frames from shared/corpus/pcap/s7comm (file: frame).
// iti__snap7_s300_everything: 1
const char* kHexSetupComm = "0300001902f08032010000000000080000f0000001000101e0";
// iti__snap7_s300_everything: 51 (read M16 REAL)
const char* kHexReadVar = "0300001f02f080320100001900000e00000401120a10080001000083000080";
// iti__snap7_s300_everything: 49
const char* kHexWriteVar =
    "0300002702f080320100001800000e00080501120a100800010000830000800007000479e9f642";
// iti__snap7_s300_everything: 52 (read var ack-data)
const char* kHexReadVarAck = "0300001d02f0803203000019000002000800000401ff07000400000000";
// iti__snap7_s300_everything: 44 (ack, no parameter, error class 0xD2)
const char* kHexAckError = "0300001302f08032020000150000000000d20c";
// iti__snap7_s300_everything: 3 (userdata request: CPU functions, read SZL)
const char* kHexUserdata = "0300002102f080320700000100000800080001120411440100ff09000400110000";
// iti__snap7_s300_stop: 1
const char* kHexPlcStop = "0300002102f0803201000000020010000029000000000009505f50524f4752414d";
// iti__tia_s300_downloadHwConfig: 60 (PLC control _DELE of SDB 2000)
const char* kHexPlcDelete =
    "0300002b02f080320100007400001a000028000000000000fd000a01003042303230303041055f44454c45";
// iti__tia_s300_downloadHwConfig: 66 (request download of SDB 7)
const char* kHexRequestDownload =
    "0300003102f080320100007700002000001a00010000000000095f30423030303037500d31303030303934303030303232";
// iti__snap7_s300_everything: 59 (PLC control _MODU, copy RAM to ROM)
const char* kHexPlcModu = "0300002302f080320100001d000012000028000000000000fd00024550055f4d4f4455";
// COTP CR / CC (called TSAP 0x0102: rack 0 slot 2) and the empty DT.
const char* kHexCr = "0300001611e00000000100c1020100c2020102c0010a";
const char* kHexCc = "0300001611d00001000300c0010ac1020100c2020102";
const char* kHexEmptyDt = "0300000702f000";
// iti__S7-1511-opc-request-all-types: 9 (S7comm-plus V1 CreateObject request)
const char* kHexPlusV1 =
    "030000f302f080720100e431000004ca0000000100000120360000011d00040000000000a1000000d382"
    "1f0000a3816900151653657276657253657373696f6e5f3130303030303032a38221001512303a3a3acc"
    "cccccccccccccccccccccc3a3aa3822800150f53375f56657262696e64756e675f31a382290015175349"
    "4d41544943204e455420504320536f667477617265a3822a0015163a3a3a224f5043205365727665725f"
    "31223a3a564d2fa3822b000402a3822c001210000002a3822d00150131a1000000d3817f0000a3816900"
    "1515537562736372697074696f6e436f6e7461696e6572a2a20000000072010000";
// icsnpp-s7comm__s7comm_plus.eth: 7 (V3 SetVariable request, with digest)
const char* kHexPlusV3 =
    "0300006802f0807203005920e969a95a852ab0e288480ccecb618e48779f4b68a1ce9a9c42cd6aa53680"
    "068331000004f20000831a70000e4d7470000e5101881d000700ce000004e88969001200000000896a00"
    "1300896b000400000084eb270000000072030000";
// iti__s7-1200-hmi: 17 (V2 SetMultiVariables response)
const char* kHexPlusV2Resp = "0300001f02f080720200103200000542000000023400000000000072020000";

TEST(S7commFrame, AcceptsTpkt) {
  auto b = Hex(kHexReadVar);
  auto r = Frame(b);
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, b.size());
  // Only the TPKT header in view: the COTP DT and S7 headers are judged
  // before framing, so Frame asks for them (17 bytes), no more.
  for (size_t n = 4; n < 17; ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
  r = Frame(std::span<const uint8_t>(b.data(), 17));
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, b.size());
}

TEST(S7commFrame, NeedsFourBytes) {
  auto b = Hex(kHexReadVar);
  for (size_t n = 0; n < 4; ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), n)).status, FrameStatus::kNeedMore);
  }
}

TEST(S7commFrame, RejectsGarbage) {
  EXPECT_EQ(Frame(Hex("0400001902f080")).status, FrameStatus::kInvalid);  // version 4
  EXPECT_EQ(Frame(Hex("0301001902f080")).status, FrameStatus::kInvalid);  // reserved
  EXPECT_EQ(Frame(Hex("03000006020f00")).status, FrameStatus::kMalformed);  // length < 7
  EXPECT_EQ(Frame(Hex("03000007023000")).status, FrameStatus::kInvalid);  // COTP code 3
  EXPECT_EQ(Frame(Hex("0300000720f000")).status, FrameStatus::kMalformed);  // LI past end
  EXPECT_EQ(Frame(Hex("474554202f20485454502f312e31")).status, FrameStatus::kInvalid);
}

TEST(S7commDecode, CotpConnectionAndUnit) {
  StreamState client;
  auto r = Dec(Hex(kHexCr), true, client);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kCotp);
  EXPECT_EQ(r.ops[0].function, kCotpConnectionRequest);
  EXPECT_EQ(r.ops[0].direction, Direction::kRequest);
  EXPECT_TRUE(r.ops[0].Has(kOpHasUnit));
  EXPECT_EQ(r.ops[0].unit, 2u);

  // Later PDUs in the same direction carry the rack/slot.
  r = Dec(Hex(kHexReadVar), true, client);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_TRUE(r.ops[0].Has(kOpHasUnit));
  EXPECT_EQ(r.ops[0].unit, 2u);

  StreamState server;
  r = Dec(Hex(kHexCc), false, server);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kCotpConnectionConfirm);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_EQ(r.ops[0].unit, 2u);

  // A flow picked up mid-stream has no unit.
  r = Dec(Hex(kHexReadVar));
  EXPECT_FALSE(r.ops[0].Has(kOpHasUnit));
}

TEST(S7commDecode, EmptyDataTpdu) {
  auto r = Dec(Hex(kHexEmptyDt));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kCotp);
  EXPECT_EQ(r.ops[0].function, kCotpData);
}

TEST(S7commDecode, DisconnectRequest) {
  auto r = Dec(Hex("0300000b06800001000100"), false);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kCotp);
  EXPECT_EQ(r.ops[0].function, kCotpDisconnectRequest);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
}

TEST(S7commDecode, SetupCommunication) {
  auto r = Dec(Hex(kHexSetupComm));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kS7comm);
  EXPECT_EQ(r.ops[0].function, kSetupCommunication);
  EXPECT_EQ(r.ops[0].direction, Direction::kRequest);
  EXPECT_FALSE(r.ops[0].Has(kOpException));
}

TEST(S7commDecode, ReadVarItemAddress) {
  auto r = Dec(Hex(kHexReadVar));
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.function, kReadVar);
  ASSERT_TRUE(op.Has(kOpHasAddress));
  ASSERT_TRUE(op.Has(kOpHasObject));
  EXPECT_EQ(op.object_group, 0x83);  // M (flags)
  EXPECT_EQ(op.object_instance, 0u);
  EXPECT_EQ(op.address_first, 16u);  // bit address 0x80
  EXPECT_EQ(op.address_last, 19u);   // one REAL
  EXPECT_FALSE(op.Has(kOpTruncated));
}

TEST(S7commDecode, WriteVar) {
  auto r = Dec(Hex(kHexWriteVar));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kWriteVar);
  EXPECT_EQ(r.ops[0].direction, Direction::kRequest);
  EXPECT_EQ(r.ops[0].address_first, 16u);
  EXPECT_EQ(r.ops[0].address_last, 19u);
}

TEST(S7commDecode, ReadVarTwoItemsSameDbUnion) {
  // DB5.DBB10 (4 bytes) and DB5.DBX2.3 (1 bit).
  auto r = Dec(Hex("0300002b02f080320100000100001a00000402"
                   "120a10020004000584000050"
                   "120a10010001000584000013"));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].object_group, 0x84);
  EXPECT_EQ(r.ops[0].object_instance, 5u);
  EXPECT_EQ(r.ops[0].address_first, 2u);
  EXPECT_EQ(r.ops[0].address_last, 13u);
}

TEST(S7commDecode, ReadVarItemsInDifferentDbsLeaveAddressUnset) {
  auto r = Dec(Hex("0300002b02f080320100000100001a00000402"
                   "120a10020004000584000050"
                   "120a10020004000684000050"));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kReadVar);
  EXPECT_FALSE(r.ops[0].Has(kOpHasAddress));
  EXPECT_FALSE(r.ops[0].Has(kOpHasObject));
}

TEST(S7commDecode, AckData) {
  auto r = Dec(Hex(kHexReadVarAck), false);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kReadVar);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_FALSE(r.ops[0].Has(kOpException));
  EXPECT_FALSE(r.ops[0].Has(kOpHasAddress));
}

TEST(S7commDecode, AckWithoutParameterAndError) {
  auto r = Dec(Hex(kHexAckError), false);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kNoParameter);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_TRUE(r.ops[0].Has(kOpException));
  EXPECT_EQ(r.ops[0].exception_code, 0xD2);
}

TEST(S7commDecode, AckDataErrorClass) {
  // Write var ack-data with error class 0x85 code 0x00.
  auto r2 = Dec(Hex("0300001502f0803203000018000002000085000501"), false);
  ASSERT_EQ(r2.ops.size(), 1u);
  EXPECT_EQ(r2.ops[0].function, kWriteVar);
  EXPECT_TRUE(r2.ops[0].Has(kOpException));
  EXPECT_EQ(r2.ops[0].exception_code, 0x85);
}

TEST(S7commDecode, Userdata) {
  auto r = Dec(Hex(kHexUserdata));
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.kind, OpKind::kS7comm);
  EXPECT_EQ(op.function, Ud(kGroupCpuFunctions));
  EXPECT_EQ(op.object_group, kGroupCpuFunctions);
  EXPECT_EQ(op.sub_function, 1);  // read SZL
  EXPECT_TRUE(op.Has(kOpHasSubFunction));
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_EQ(FunctionName(OpKind::kS7comm, op.function), "userdata_cpu_functions");
}

TEST(S7commDecode, UserdataPushAndResponseError) {
  // Push (type 0) of cyclic data, from the PLC.
  auto r = Dec(Hex("0300002102f080320700000000000800080001120400020100ff09000400110000"), false);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, Ud(kGroupCyclicData));
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_TRUE(r.ops[0].Has(kOpUnsolicited));
  // Response (type 8) with parameter error code 0xD602.
  auto b = Hex("0300002102f08032070000010000"
               "0c0004000112081284010000"
               "00d6020a000000");
  r = Dec(b, false);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, Ud(kGroupCpuFunctions));
  EXPECT_EQ(r.ops[0].sub_function, 1);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_TRUE(r.ops[0].Has(kOpException));
  EXPECT_EQ(r.ops[0].exception_code, 0xD6);
}

TEST(S7commDecode, PlcStop) {
  auto r = Dec(Hex(kHexPlcStop));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kPlcStop);
  EXPECT_EQ(FunctionName(OpKind::kS7comm, r.ops[0].function), "plc_stop");
}

TEST(S7commDecode, PlcControlDeleteBlock) {
  auto r = Dec(Hex(kHexPlcDelete));
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.function, kPlcControl);
  EXPECT_TRUE(op.Has(kOpHasSubFunction));
  EXPECT_EQ(op.sub_function, kPiDelete);
  ASSERT_TRUE(op.Has(kOpHasObject));
  EXPECT_EQ(op.object_group, 0x0B);  // SDB
  EXPECT_EQ(op.object_instance, 2000u);
}

TEST(S7commDecode, PlcControlCopyRamToRom) {
  auto r = Dec(Hex(kHexPlcModu));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].sub_function, kPiCopyRamToRom);
  EXPECT_FALSE(r.ops[0].Has(kOpHasObject));
}

TEST(S7commDecode, RequestDownloadBlock) {
  auto r = Dec(Hex(kHexRequestDownload));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kRequestDownload);
  ASSERT_TRUE(r.ops[0].Has(kOpHasObject));
  EXPECT_EQ(r.ops[0].object_group, 0x0B);
  EXPECT_EQ(r.ops[0].object_instance, 7u);
}

TEST(S7commDecode, S7commPlusV1) {
  auto r = Dec(Hex(kHexPlusV1));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.kind, OpKind::kS7commPlus);
  EXPECT_EQ(op.function, 0);
  EXPECT_EQ(op.sub_function, 1);
  EXPECT_EQ(op.object_group, 0x31);
  EXPECT_EQ(op.object_variation, 0x04CA);  // CreateObject
  EXPECT_EQ(op.direction, Direction::kRequest);
}

TEST(S7commDecode, S7commPlusV3Digest) {
  auto r = Dec(Hex(kHexPlusV3));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].sub_function, 3);
  EXPECT_EQ(r.ops[0].object_group, 0x31);
  EXPECT_EQ(r.ops[0].object_variation, 0x04F2);  // SetVariable
}

TEST(S7commDecode, S7commPlusV2Response) {
  auto r = Dec(Hex(kHexPlusV2Resp), false);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].sub_function, 2);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_EQ(r.ops[0].object_variation, 0x0542);  // SetMultiVariables
}

TEST(S7commDecode, SegmentedDataDecodesFirstSegmentOnly) {
  StreamState st;
  // A PLC stop split over two DT TPDUs: the first (no EOT) holds the header
  // and 6 of the 16 parameter bytes.
  auto seg1 = Hex("0300001702f00032010000000000100000290000000000");
  auto seg2 = Hex("0300001102f08009505f50524f4752414d");
  auto r = Dec(seg1, true, st);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kS7comm);
  EXPECT_EQ(r.ops[0].function, kPlcStop);
  r = Dec(seg2, true, st);
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_TRUE(r.ops.empty());  // continuation of the message above
  r = Dec(Hex(kHexReadVar), true, st);  // the next message decodes normally
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kReadVar);
  // An empty DT inside a segmented message does not end it.
  StreamState st2;
  Dec(seg1, true, st2);
  r = Dec(Hex(kHexEmptyDt), true, st2);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kCotp);
  r = Dec(seg2, true, st2);
  EXPECT_TRUE(r.ops.empty());
}

// A DT TPDU carrying `s7` (the S7 message bytes), with or without EOT.
std::vector<uint8_t> Dt(std::span<const uint8_t> s7, bool eot) {
  std::vector<uint8_t> b = {0x03, 0x00, 0x00, 0x00, 0x02, 0xf0, uint8_t(eot ? 0x80 : 0x00)};
  b.insert(b.end(), s7.begin(), s7.end());
  b[2] = uint8_t(b.size() >> 8);
  b[3] = uint8_t(b.size());
  return b;
}

TEST(S7commDecode, AFirstSegmentTooShortToJudgeIsMalformedAndTheNextIsJudgedWithIt) {
  // Evasion: a DT without EOT carrying only the first bytes of a write var,
  // then the rest with EOT. The PLC reassembles the write. The first
  // segment shows no function: malformed (strict conduits drop it). Its
  // bytes are held, so the next segment is judged as the write var it
  // completes (a conduit with `unparsable: allow` lets the first pass).
  const auto write = Hex(kHexWriteVar);
  const std::span<const uint8_t> s7 = std::span(write).subspan(7);
  for (size_t k : {1u, 2u, 9u}) {
    StreamState st;
    auto r = Dec(Dt(s7.first(k), false), true, st);
    EXPECT_EQ(r.status, DecodeStatus::kMalformed) << k;
    EXPECT_TRUE(r.ops.empty()) << k;
    r = Dec(Dt(s7.subspan(k), true), true, st);
    EXPECT_EQ(r.status, DecodeStatus::kOk) << k;
    ASSERT_EQ(r.ops.size(), 1u) << k;
    EXPECT_EQ(r.ops[0].function, kWriteVar) << k;
    // The message ended: the next one decodes on its own.
    r = Dec(Hex(kHexReadVar), true, st);
    ASSERT_EQ(r.ops.size(), 1u) << k;
    EXPECT_EQ(r.ops[0].function, kReadVar);
  }
  // Three segments, the first two both too short: held until the third.
  StreamState st;
  EXPECT_EQ(Dec(Dt(s7.first(1), false), true, st).status, DecodeStatus::kMalformed);
  EXPECT_EQ(Dec(Dt(s7.subspan(1, 2), false), true, st).status, DecodeStatus::kMalformed);
  auto r = Dec(Dt(s7.subspan(3), true), true, st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kWriteVar);
}

TEST(S7commDecode, NotS7Payload) {
  // MMS (IEC 61850) also runs over COTP on port 102.
  auto r = Dec(Hex("0300000b02f080a0030201"));
  EXPECT_EQ(r.status, DecodeStatus::kNotThisProtocol);
  EXPECT_TRUE(r.ops.empty());
  EXPECT_EQ(Dec(Hex("0500001902f080320100")).status, DecodeStatus::kNotThisProtocol);
}

TEST(S7commDecode, MalformedHeaders) {
  // ROSCTR 5 does not exist.
  EXPECT_EQ(Dec(Hex("0300001902f08032050000000000080000f0000001000101e0")).status,
            DecodeStatus::kMalformed);
  // Parameter length beyond the TPKT.
  EXPECT_EQ(Dec(Hex("0300001902f08032010000000000ff0000f0000001000101e0")).status,
            DecodeStatus::kMalformed);
  // Job without parameter.
  EXPECT_EQ(Dec(Hex("0300001102f0803201000000000000000000")).status, DecodeStatus::kMalformed);
}

TEST(S7commDecode, ReadVarHostileItemCount) {
  // 255 items announced, one present: the items do not fill the parameter
  // block as declared, so the job is malformed (no op, no read past the end).
  auto r = Dec(Hex("0300001f02f080320100001900000e000004ff120a10080001000083000080"));
  EXPECT_EQ(r.status, DecodeStatus::kMalformed);
  EXPECT_TRUE(r.ops.empty());
}

// Read/write var jobs: the item count's items (0x12, spec length, spec) fill
// the parameter block exactly. Byte 18 is the item count, 20 the first
// item's spec length; each row keeps the S7 header's lengths consistent
// with the TPKT (so only the items are wrong).
std::vector<uint8_t> Patched(const char* hex, size_t at, std::string_view patch, std::string_view extra = "");

struct VarItemsRow {
  const char* name;
  std::vector<uint8_t> bytes;
  DecodeStatus decode;
};

TEST(S7commDecode, VarItemsLengthTable) {
  const std::vector<VarItemsRow> rows = {
      {"read var, 1 item of 10", Hex(kHexReadVar), DecodeStatus::kOk},
      {"write var, 1 item of 10", Hex(kHexWriteVar), DecodeStatus::kOk},
      {"read var, no items (parameter length 2)", Hex("0300001302f080320100001900000200000400"),
       DecodeStatus::kOk},
      {"read var, 2 items of 10", Hex("0300002b02f080320100001900001a000004021"
                                      "20a10080001000083000080120a10080001000083000088"),
       DecodeStatus::kOk},
      {"read var, count 2, one item", Patched(kHexReadVar, 18, "02"), DecodeStatus::kMalformed},
      {"read var, count 0, one item", Patched(kHexReadVar, 18, "00"), DecodeStatus::kMalformed},
      {"read var, spec length 11 (past the block)", Patched(kHexReadVar, 20, "0b"), DecodeStatus::kMalformed},
      {"read var, spec length 9 (a stray octet)", Patched(kHexReadVar, 20, "09"), DecodeStatus::kMalformed},
      {"read var, parameter length 1", Hex("0300001202f0803201000019000001000004"), DecodeStatus::kMalformed},
      {"write var, count 2, one item", Patched(kHexWriteVar, 18, "02"), DecodeStatus::kMalformed},
  };
  for (const VarItemsRow& row : rows) {
    ASSERT_EQ(size_t(row.bytes[3]), row.bytes.size()) << row.name;
    const Result r = Dec(row.bytes);
    EXPECT_EQ(r.status, row.decode) << row.name;
    // Frame sees the header only: the decoder names the items' flaw.
    if (row.decode == DecodeStatus::kMalformed) {
      EXPECT_EQ(MalformedReasonName(r.why), "s7_items") << row.name;
    }
    // Frame judges only the header lengths (consistent in every row).
    EXPECT_EQ(Frame(row.bytes).status, FrameStatus::kPdu) << row.name;
  }
}

// Every prefix of every good PDU: no crash; an ok decode either flags the op
// truncated or reports exactly what the full PDU does.
TEST(S7commDecode, TruncatedPrefixes) {
  for (const char* hex : {kHexSetupComm, kHexReadVar, kHexWriteVar, kHexReadVarAck, kHexAckError, kHexUserdata,
                          kHexPlcStop, kHexPlcDelete, kHexRequestDownload, kHexPlcModu, kHexCr, kHexCc, kHexEmptyDt,
                          kHexPlusV1, kHexPlusV3, kHexPlusV2Resp}) {
    auto b = Hex(hex);
    auto whole = Dec(b);
    ASSERT_EQ(whole.status, DecodeStatus::kOk) << hex;
    for (size_t n = 0; n < b.size(); ++n) {
      StreamState st;
      auto r = Dec(b, true, st, n);
      if (r.status != DecodeStatus::kOk) continue;
      for (const IcsOp& op : r.ops) {
        if (op.Has(kOpTruncated)) continue;
        EXPECT_EQ(op.kind, whole.ops[0].kind) << hex << " @" << n;
        EXPECT_EQ(op.function, whole.ops[0].function) << hex << " @" << n;
        EXPECT_EQ(op.flags, whole.ops[0].flags) << hex << " @" << n;
        EXPECT_EQ(op.address_last, whole.ops[0].address_last) << hex << " @" << n;
        EXPECT_EQ(op.object_instance, whole.ops[0].object_instance) << hex << " @" << n;
      }
    }
    // The prefix taken as a whole (short) PDU: anything but a crash.
    for (size_t n = 0; n < b.size(); ++n) {
      std::vector<uint8_t> cut(b.begin(), b.begin() + n);
      if (n >= 4) cut[3] = uint8_t(n);
      Dec(cut);
      Frame(cut);
    }
  }
}

TEST(S7commDecode, RandomBytesNeverCrash) {
  uint32_t x = 12345;
  std::vector<uint8_t> b(96);
  for (int iter = 0; iter < 20000; ++iter) {
    for (auto& v : b) {
      x = x * 1664525u + 1013904223u;
      v = uint8_t(x >> 24);
    }
    const size_t n = 4 + (x % 90);
    // Keep a plausible TPKT/COTP/S7 prefix half the time to reach deep code.
    if (iter & 1) {
      b[0] = 3, b[1] = 0, b[2] = 0, b[3] = uint8_t(n), b[4] = 2, b[5] = 0xF0, b[6] = 0x80;
      b[7] = (iter & 2) ? 0x32 : 0x72;
    }
    std::vector<uint8_t> pdu(b.begin(), b.begin() + n);
    StreamState st;
    OpList ops;
    PduView v{pdu, uint32_t(n), (iter & 4) != 0, false};
    Decode(v, st, ops);
    PduView cut{std::span<const uint8_t>(pdu.data(), n / 2), uint32_t(n), true, false};
    Decode(cut, st, ops);
    Frame(pdu);
  }
}

TEST(S7commNames, RoundTrip) {
  for (uint16_t f : std::initializer_list<uint16_t>{kReadVar, kWriteVar, kRequestDownload, kDownloadBlock, kDownloadEnded,
                     kStartUpload, kUpload, kEndUpload, kPlcControl, kPlcStop,
                     kSetupCommunication, Ud(kGroupBlockFunctions),
                     Ud(kGroupSecurity), kNoParameter}) {
    auto name = FunctionName(OpKind::kS7comm, f);
    ASSERT_FALSE(name.empty()) << f;
    EXPECT_EQ(FunctionByName(OpKind::kS7comm, name), f) << name;
  }
  EXPECT_EQ(FunctionName(OpKind::kS7comm, kReadVar), "read_var");
  EXPECT_EQ(FunctionName(OpKind::kS7comm, kSetupCommunication), "setup_communication");
  EXPECT_EQ(FunctionName(OpKind::kCotp, kCotpConnectionRequest), "connection_request");
  EXPECT_EQ(FunctionByName(OpKind::kCotp, "data"), uint16_t(kCotpData));
  EXPECT_EQ(FunctionName(OpKind::kS7comm, 0x77), "");
  EXPECT_EQ(FunctionByName(OpKind::kS7comm, "4"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kS7comm, ""), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "read_var"), std::nullopt);
}

struct FrameRow {
  const char* name;
  std::vector<uint8_t> bytes;
  bool from_client;
  FrameStatus status;
  uint32_t length;  // for kPdu
  MalformedReason reason;
};

void ExpectFrames(const std::vector<FrameRow>& rows) {
  for (const FrameRow& c : rows) {
    const FrameResult r = s7comm::Frame(c.bytes, c.from_client);
    EXPECT_EQ(r.status, c.status) << c.name;
    if (c.status == FrameStatus::kPdu) EXPECT_EQ(r.length, c.length) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name << ": " << MalformedReasonName(r.reason);
  }
}

TEST(S7commFrame, StrictLengthTable) {
  ExpectFrames({
      {"COTP DT", Hex("0300000702f080"), true, FrameStatus::kPdu, 7, MalformedReason::kNone},
      {"TPKT length 6", Hex("03000006020f00"), true, FrameStatus::kMalformed, 0, MalformedReason::kTpktLength},
      {"COTP LI past TPKT", Hex("0300000720f000"), false, FrameStatus::kMalformed, 0, MalformedReason::kCotpLength},
      {"COTP LI 1", Hex("0300000701f080"), true, FrameStatus::kMalformed, 0, MalformedReason::kCotpLength},
      {"COTP code 3", Hex("03000007023000"), true, FrameStatus::kInvalid, 0, MalformedReason::kNone},
  });
}

// `hex` with the bytes at `at` replaced by `patch` (hex), then `extra`
// appended; the TPKT length is set to the result's size (the S7 lengths, not
// the TPKT's, are what these rows get wrong).
std::vector<uint8_t> Patched(const char* hex, size_t at, std::string_view patch, std::string_view extra) {
  std::vector<uint8_t> b = Hex(hex);
  const std::vector<uint8_t> p = Hex(patch);
  std::copy(p.begin(), p.end(), b.begin() + long(at));
  const std::vector<uint8_t> e = Hex(extra);
  b.insert(b.end(), e.begin(), e.end());
  b[2] = uint8_t(b.size() >> 8);
  b[3] = uint8_t(b.size());
  return b;
}

// The S7comm header's lengths must be the TPDU payload exactly: header (10,
// or 12 for ack/ack-data) + parameter length (bytes 13-14 of the TPKT) + data
// length (15-16) == TPKT length - 7. Each row: the frame, and what Frame and
// Decode say. Byte 3 is the TPKT length, 8 the ROSCTR.
struct S7LengthRow {
  const char* name;
  std::vector<uint8_t> bytes;
  FrameStatus frame;
  MalformedReason reason;
  DecodeStatus decode;
};

const std::vector<S7LengthRow>& S7LengthRows() {
  static const std::vector<S7LengthRow> rows = {
      {"job read var: 10 + 14 + 0 = 24", Hex(kHexReadVar), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"job write var: 10 + 14 + 8 = 32", Hex(kHexWriteVar), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"ack-data: 12 + 2 + 8 = 22", Hex(kHexReadVarAck), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"ack with error, no parameter: 12", Hex(kHexAckError), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"userdata: 10 + 8 + 8 = 26", Hex(kHexUserdata), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"job with a trailing byte in the TPKT", Patched(kHexReadVar, 7, "32", "00"), FrameStatus::kPdu,
       MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"job with a smuggled second S7 header", Patched(kHexReadVar, 7, "32", "32010000000000000000"),
       FrameStatus::kPdu, MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"job parameter length one short", Patched(kHexReadVar, 13, "000d"), FrameStatus::kPdu,
       MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"job data length past the TPKT", Patched(kHexReadVar, 15, "0001"), FrameStatus::kPdu,
       MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"ack-data read as a job (10-byte header)", Patched(kHexReadVarAck, 8, "01"), FrameStatus::kPdu,
       MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"job read as ack-data (12-byte header)", Patched(kHexWriteVar, 8, "03"), FrameStatus::kPdu,
       MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"userdata with a trailing byte", Patched(kHexUserdata, 7, "32", "00"), FrameStatus::kPdu,
       MalformedReason::kS7Length, DecodeStatus::kMalformed},
      {"ack without parameter, data length 1 past the TPKT", Patched(kHexAckError, 15, "0001"),
       FrameStatus::kPdu, MalformedReason::kS7Length, DecodeStatus::kMalformed},
      // Redundancy id != 0: not taken for an S7 header by Frame (the last
      // segment of a segmented message may hold anything); Decode, which
      // knows the segment state, still refuses the lengths.
      {"redundancy id set, trailing byte", Patched(kHexReadVar, 9, "0001", "00"), FrameStatus::kPdu,
       MalformedReason::kNone, DecodeStatus::kMalformed},
      // A first segment (no EOT): its lengths describe the whole message.
      {"DT without EOT: a prefix", Patched(kHexReadVar, 6, "00"), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"S7comm-plus: not judged by S7 lengths", Hex(kHexPlusV2Resp), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
  };
  return rows;
}

TEST(S7commFrame, S7HeaderLengthTable) {
  for (const S7LengthRow& row : S7LengthRows()) {
    const FrameResult f = Frame(row.bytes);
    EXPECT_EQ(f.status, row.frame) << row.name;
    EXPECT_EQ(f.reason, row.reason) << row.name << ": " << MalformedReasonName(f.reason);
    if (row.frame == FrameStatus::kPdu) EXPECT_EQ(f.length, row.bytes.size()) << row.name;
  }
}

TEST(S7commDecode, S7HeaderLengthTable) {
  for (const S7LengthRow& row : S7LengthRows()) {
    EXPECT_EQ(Dec(row.bytes).status, row.decode) << row.name;
  }
}

// S7comm-plus: a final DT is the 4-byte header (0x72, version, data length),
// that many bytes and, on a message's last fragment, the trailer (0x72,
// version, 0x0000). Judged by Decode (Frame cannot tell a first segment from
// a continuation that starts with 0x72): kMalformed, no op.
TEST(S7commDecode, PlusLengthTable) {
  // kHexPlusV2Resp without its trailer: a fragment, more follow.
  const std::vector<uint8_t> whole = Hex(kHexPlusV2Resp);
  std::vector<uint8_t> fragment(whole.begin(), whole.end() - 4);
  fragment[3] = uint8_t(fragment.size());
  struct Row {
    const char* name;
    std::vector<uint8_t> bytes;
    DecodeStatus decode;
  };
  const std::vector<Row> rows = {
      {"V1 CreateObject", Hex(kHexPlusV1), DecodeStatus::kOk},
      {"V3 with digest", Hex(kHexPlusV3), DecodeStatus::kOk},
      {"V2 response", Hex(kHexPlusV2Resp), DecodeStatus::kOk},
      {"V2 fragment without trailer", fragment, DecodeStatus::kOk},
      {"a byte after the trailer", Patched(kHexPlusV2Resp, 7, "72", "00"), DecodeStatus::kMalformed},
      {"a second message after the trailer", Patched(kHexPlusV2Resp, 7, "72", "72020000"), DecodeStatus::kMalformed},
      {"data length one short", Patched(kHexPlusV2Resp, 9, "000f"), DecodeStatus::kMalformed},
      {"data length one long", Patched(kHexPlusV2Resp, 9, "0011"), DecodeStatus::kMalformed},
      {"data length past the TPKT", Patched(kHexPlusV2Resp, 9, "0400"), DecodeStatus::kMalformed},
      {"trailer length not 0", Patched(kHexPlusV2Resp, 27, "72020001"), DecodeStatus::kMalformed},
      {"trailer of another version", Patched(kHexPlusV2Resp, 27, "72030000"), DecodeStatus::kMalformed},
      {"DT without EOT: a prefix", Patched(kHexPlusV2Resp, 6, "00", "00"), DecodeStatus::kOk},
      {"version 0xfe: not sized", Patched(kHexPlusV2Resp, 8, "fe", "00"), DecodeStatus::kOk},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const Result r = Dec(row.bytes, /*from_client=*/false);
    EXPECT_EQ(r.status, row.decode);
    EXPECT_EQ(r.why, row.decode == DecodeStatus::kOk ? MalformedReason::kNone
                                                     : MalformedReason::kS7PlusLength);
    EXPECT_EQ(r.ops.size(), row.decode == DecodeStatus::kOk ? 1u : 0u);
    EXPECT_EQ(Frame(row.bytes).status, FrameStatus::kPdu);  // framed by TPKT either way
    // On a prefix of the TPDU (the kept bytes of a long one) the lengths are
    // still judged (the TPKT gives the whole length); the trailer's bytes,
    // not in view, are not.
    if (row.decode == DecodeStatus::kOk) continue;
    const bool trailer_bytes = std::string_view(row.name).substr(0, 7) == "trailer";
    StreamState st;
    EXPECT_EQ(Dec(row.bytes, false, st, 12).status == DecodeStatus::kMalformed, !trailer_bytes);
  }
}

}  // namespace
}  // namespace conduit::ics::s7comm
