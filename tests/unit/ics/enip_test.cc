#include "ics/enip.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "unit/ics/malformed_named.h"

namespace conduit::ics::enip {
namespace {

// Framing a client's bytes (the direction matters only where a test says so).
using enip::Frame;
FrameResult Frame(std::span<const uint8_t> head) { return enip::Frame(head, /*from_client=*/true); }

std::vector<uint8_t> Hex(std::string_view s) {
  std::vector<uint8_t> v;
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 0; i + 1 < s.size(); i += 2) v.push_back(uint8_t(nib(s[i]) << 4 | nib(s[i + 1])));
  return v;
}

struct Result {
  DecodeStatus status;
  OpList ops;
};

Result Dec(const std::vector<uint8_t>& b, bool from_client = true, bool udp = false,
           size_t keep = SIZE_MAX) {
  Result r;
  StreamState st;
  PduView v;
  v.bytes = std::span<const uint8_t>(b.data(), keep < b.size() ? keep : b.size());
  v.length = uint32_t(b.size());
  v.from_client = from_client;
  v.udp = udp;
  r.status = Decode(v, st, r.ops);
  EXPECT_TRUE(NamesItsFlaw(r.status, v, {"enip_"}));
  return r;
}

// SendRRData carrying `cip` in an unconnected data item.
std::vector<uint8_t> SendRR(const std::vector<uint8_t>& cip) {
  std::vector<uint8_t> b(kHeaderSize, 0);
  b[0] = 0x6F;
  const std::vector<uint8_t> cpf = {0, 0, 0, 0, 0, 0,  // interface handle, timeout
                                    2, 0,              // item count
                                    0, 0, 0, 0,        // null address item
                                    0xB2, 0, uint8_t(cip.size()), uint8_t(cip.size() >> 8)};
  b.insert(b.end(), cpf.begin(), cpf.end());
  b.insert(b.end(), cip.begin(), cip.end());
  b[2] = uint8_t(b.size() - kHeaderSize);
  b[3] = uint8_t((b.size() - kHeaderSize) >> 8);
  return b;
}

// Real PDUs from shared/corpus/pcap/enip (file: frame).
// emreekin__ENIP_CIP-CM: 8
const char* kHexRegisterSession = "65000400000000000000000000000000000000000000000001000000";
// iti__cip_stop_plc: 1 (SendUnitData, connected, Stop to class 0x8E)
const char* kHexStop =
    "70001c0001002a00000000000000000000000000000000000000000001000200a1000400224095ffb10008"
    "0006010702208e2401";
// iti__cip-multiple-1: 1 (Multiple Service Packet of 11 Get_Attribute_List)
const char* kHexMsp =
    "7000ba0000010211000000000000000000000000000000000000000001000200a1000400010b7c00b100a6"
    "0089070a02200224010b00180022002c0036004c005800640072007c008a0094000302200124010100050003"
    "022069240001000b0003022073240101000200030220ac240107000100020003000500070009000a00030320"
    "6825002024010013000302207024010200120013000302208e240103000300080010000302206924000100"
    "090003022068240003000f0018001900030220772401010002000302208b240101000600";
// iti__openics_EIP-IPAddressChangeAttempt: 2 (Unconnected Send of Get_Attributes_All
// to class 1 instance 1, routed to backplane slot 0)
const char* kHexUcs =
    "6f00240000010211000000000481300018a7e10000000000000000000a00020000000000b20014005202"
    "20062401069a060001022001240101000100";
// iti__openics_EIP-IPAddressChangeAttempt: 51 (Unconnected Send failed: 0x01)
const char* kHexUcsError =
    "6f00180000010211000000001681300018a7e10000000000000000000a00020000000000b2000800d20001"
    "0104020100";
// emreekin__ENIP_CIP-CM: 1 (Forward Open)
const char* kHexForwardOpen =
    "6f004c000100000000000000c0a8641c0000407e00000000000000000000020000000000b2003c00540220"
    "062401059b00000000000000000e00010022f5130002000000102700001a48102700001a2801093404000000"
    "0000000000200424062c022c01";
// iti__openics_EIP-IPAddressChangeAttempt: 3985 / 3986 (UDP 44818)
const char* kHexListIdentityReq = "630000000000000000000000000000000000000000000000";
const char* kHexListIdentityResp =
    "63003300000000000000000000000000000000000000000001000c002d0001000002af12c0a80a7800000000"
    "0000000001000c003a0004073000c3ae51000b313735362d454e42542f4103";
// emreekin__specialCIP: 2 (Read Tag with a symbolic path, connected)
const char* kHexReadTag =
    "7000280082824e23000000000000000000000000000000000000000000000200a1000400a6c9834cb10014"
    "003c764c07910c5f494f5f454d5f444f5f30300100";

TEST(EnipFrame, AcceptsHeader) {
  auto b = Hex(kHexMsp);
  auto r = Frame(b);
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, b.size());
  for (size_t n = 2; n < kHeaderSize; ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
  // A SendUnitData: the CPF's item headers (connected address item of 4,
  // then the data item's header) must be in view too, and the Multiple
  // Service Packet in the data item (count, offsets) as far as the first
  // 64 bytes reach.
  for (size_t n = kHeaderSize; n < 64; ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
  EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), 64)).length, b.size());
}

TEST(EnipFrame, RejectsGarbage) {
  // Unknown command: rejected as soon as two bytes are in view.
  EXPECT_EQ(Frame(Hex("4745")).status, FrameStatus::kInvalid);
  EXPECT_EQ(Frame(Hex("474554202f20485454502f312e310d0a486f73743a2078")).status,
            FrameStatus::kInvalid);
  // Non-zero options.
  auto b = Hex(kHexRegisterSession);
  b[20] = 1;
  EXPECT_EQ(Frame(b).status, FrameStatus::kInvalid);
  // RegisterSession must carry exactly 4 bytes.
  b = Hex(kHexRegisterSession);
  b[2] = 0x40;
  EXPECT_EQ(Frame(b).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(b).reason, MalformedReason::kEnipLength);
  // SendRRData too short for its interface handle, timeout and item count.
  b = Hex(kHexUcs);
  b[2] = 4, b[3] = 0;
  EXPECT_EQ(Frame(b).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(b).reason, MalformedReason::kEnipLength);
}

TEST(EnipDecode, RegisterSession) {
  auto r = Dec(Hex(kHexRegisterSession));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kEnip);
  EXPECT_EQ(r.ops[0].function, kRegisterSession);
  EXPECT_EQ(r.ops[0].direction, Direction::kRequest);
  EXPECT_FALSE(r.ops[0].Has(kOpHasUnit));
}

TEST(EnipDecode, EncapsulationStatusIsException) {
  auto b = Hex(kHexRegisterSession);
  b[8] = 0x69;  // unsupported protocol revision
  auto r = Dec(b, false);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_TRUE(r.ops[0].Has(kOpException));
  EXPECT_EQ(r.ops[0].exception_code, 0x69);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
}

TEST(EnipDecode, ConnectedStop) {
  auto r = Dec(Hex(kHexStop));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kEnip);
  EXPECT_EQ(r.ops[0].function, kSendUnitData);
  const IcsOp& cip = r.ops[1];
  EXPECT_EQ(cip.kind, OpKind::kCip);
  EXPECT_EQ(cip.function, kStop);
  EXPECT_EQ(cip.direction, Direction::kRequest);
  ASSERT_TRUE(cip.Has(kOpHasObject));
  EXPECT_EQ(cip.object_group, 0x8E);
  EXPECT_EQ(cip.sub_function, 0x8E);
  EXPECT_EQ(cip.object_instance, 1u);
  EXPECT_FALSE(cip.Has(kOpTruncated));
}

TEST(EnipDecode, MultipleServicePacket) {
  auto r = Dec(Hex(kHexMsp));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 13u);  // enip, MSP, 11 embedded
  EXPECT_EQ(r.ops[1].function, kMultipleServicePacket);
  EXPECT_EQ(r.ops[1].object_group, kClassMessageRouter);
  const uint16_t classes[] = {0x01, 0x69, 0x73, 0xAC, 0x68, 0x70, 0x8E, 0x69, 0x68, 0x77, 0x8B};
  for (size_t i = 0; i < 11; ++i) {
    EXPECT_EQ(r.ops[2 + i].kind, OpKind::kCip);
    EXPECT_EQ(r.ops[2 + i].function, kGetAttributeList) << i;
    EXPECT_EQ(r.ops[2 + i].object_group, classes[i]) << i;
  }
  EXPECT_EQ(r.ops[5].object_instance, 1u);  // class 0xAC instance 1
}

TEST(EnipDecode, MultipleServicePacketReply) {
  // MSP reply (status 0x1E) holding a success and a failed reply.
  auto b = SendRR(Hex("8a001e00020006000c00"
                      "8e000000aaaa"
                      "8e0005000000"));
  auto r = Dec(b, false);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 4u);
  EXPECT_EQ(r.ops[1].function, kMultipleServicePacket);
  EXPECT_EQ(r.ops[1].direction, Direction::kResponse);
  EXPECT_EQ(r.ops[1].exception_code, 0x1E);
  EXPECT_EQ(r.ops[2].function, kGetAttributeSingle);
  EXPECT_FALSE(r.ops[2].Has(kOpException));
  EXPECT_FALSE(r.ops[2].Has(kOpHasObject));  // replies carry no path
  EXPECT_TRUE(r.ops[3].Has(kOpException));
  EXPECT_EQ(r.ops[3].exception_code, 0x05);
}

TEST(EnipDecode, UnconnectedSendRoutesToSlot) {
  auto r = Dec(Hex(kHexUcs));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 3u);
  EXPECT_EQ(r.ops[0].function, kSendRRData);
  EXPECT_EQ(r.ops[1].function, kUnconnectedSend);
  EXPECT_EQ(r.ops[1].object_group, kClassConnectionManager);
  EXPECT_FALSE(r.ops[1].Has(kOpHasUnit));
  const IcsOp& inner = r.ops[2];
  EXPECT_EQ(inner.function, kGetAttributesAll);
  EXPECT_EQ(inner.object_group, 1);
  EXPECT_EQ(inner.object_instance, 1u);
  ASSERT_TRUE(inner.Has(kOpHasUnit));
  EXPECT_EQ(inner.unit, 0u);  // backplane slot 0
}

TEST(EnipDecode, UnconnectedSendErrorReply) {
  auto r = Dec(Hex(kHexUcsError), false);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[1].function, kUnconnectedSend);
  EXPECT_EQ(r.ops[1].direction, Direction::kResponse);
  EXPECT_TRUE(r.ops[1].Has(kOpException));
  EXPECT_EQ(r.ops[1].exception_code, 0x01);
}

TEST(EnipDecode, ReadTagNotToConnectionManagerIsNotUnwrapped) {
  // 0x52 to a symbol (Logix read-tag-fragmented) carries no embedded message.
  auto b = SendRR(Hex("5203910354414700000100"));
  auto r = Dec(b);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[1].function, kUnconnectedSend);
  EXPECT_FALSE(r.ops[1].Has(kOpHasObject));
}

TEST(EnipDecode, ReadTagSymbolicPath) {
  auto r = Dec(Hex(kHexReadTag));
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[1].function, kReadTag);
  EXPECT_FALSE(r.ops[1].Has(kOpHasObject));
  EXPECT_EQ(FunctionName(OpKind::kCip, r.ops[1].function), "read_tag");
}

TEST(EnipDecode, ForwardOpen) {
  auto r = Dec(Hex(kHexForwardOpen));
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[1].function, kForwardOpen);
  EXPECT_EQ(r.ops[1].object_group, kClassConnectionManager);
  EXPECT_EQ(r.ops[1].object_instance, 1u);
}

TEST(EnipDecode, SixteenBitSegmentsAndAttribute) {
  // Set_Attribute_Single class 0x0100 (16-bit), instance 0x0203, attribute 5.
  auto b = SendRR(Hex("100521000001250003023005"));
  auto r = Dec(b);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[1].function, kSetAttributeSingle);
  EXPECT_EQ(r.ops[1].object_group, 0x0100);
  EXPECT_EQ(r.ops[1].object_instance, 0x0203u);
  EXPECT_EQ(r.ops[1].object_variation, 5);
}

TEST(EnipDecode, ListIdentityOverUdp) {
  auto r = Dec(Hex(kHexListIdentityReq), true, true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kListIdentity);
  r = Dec(Hex(kHexListIdentityResp), false, true);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, kListIdentity);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
}

TEST(EnipDecode, IoDatagram) {
  // Sequenced address (connection 0x11223344, seq 7) + connected data.
  auto r = Dec(Hex("0200028008004433221107000000b1000600070001020304"), true, true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kEnip);
  EXPECT_EQ(r.ops[0].function, kIoData);
  EXPECT_EQ(r.ops[0].object_instance, 0x11223344u);
  EXPECT_EQ(FunctionName(OpKind::kEnip, kIoData), "io");
  // Garbage datagrams.
  EXPECT_EQ(Dec(Hex("deadbeef"), true, true).status, DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(Dec(Hex("0200028008004433"), true, true).status, DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(Dec(Hex("01"), true, true).status, DecodeStatus::kNotThisProtocol);
}

TEST(EnipDecode, NotEnip) {
  EXPECT_EQ(Dec(Hex("474554202f20485454502f312e310d0a486f73743a20782e79")).status,
            DecodeStatus::kNotThisProtocol);
  auto b = Hex(kHexUcs);
  b[2] = 0xFF;  // length beyond the PDU
  EXPECT_EQ(Dec(b).status, DecodeStatus::kMalformed);
}

TEST(EnipDecode, OverflowIsCounted) {
  // MSP with more NOP services (each "17 00": service, empty path) than an
  // OpList holds; with the ENIP and MSP ops that is n + 2 ops.
  constexpr int n = static_cast<int>(OpList::kCapacity) + 4;
  std::vector<uint8_t> msp = {0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, uint8_t(n), uint8_t(n >> 8)};
  for (int i = 0; i < n; ++i) {
    const uint16_t off = uint16_t(2 + 2 * n + 2 * i);
    msp.push_back(uint8_t(off)), msp.push_back(uint8_t(off >> 8));
  }
  for (int i = 0; i < n; ++i) msp.push_back(0x17), msp.push_back(0);
  auto r = Dec(SendRR(msp));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.ops.size(), OpList::kCapacity);
  EXPECT_EQ(r.ops.overflowed(), n + 2 - OpList::kCapacity);
  EXPECT_EQ(r.ops[2].function, kNopService);
}

TEST(EnipDecode, HostileMspOffsets) {
  // Offsets pointing backwards, into the table, past the end, or repeated.
  for (const char* body : {"0a02200224010300080008000800170017001700",
                           "0a0220022401030002000400ff00170017001700",
                           "0a022002240103000a00080006001700170017001700",
                           "0a02200224010a00", "0a022002240100ff"}) {
    auto r = Dec(SendRR(Hex(body)));
    EXPECT_EQ(r.status, DecodeStatus::kOk) << body;
    EXPECT_LE(r.ops.size(), 6u) << body;
  }
}

TEST(EnipDecode, NestedDepthIsBounded) {
  // MSP containing an MSP containing ... (8 levels) around a NOP.
  std::vector<uint8_t> msg = {0x17, 0x00};
  for (int level = 0; level < 8; ++level) {
    std::vector<uint8_t> outer = {0x0A, 0x00, 0x01, 0x00, 0x04, 0x00};
    outer.insert(outer.end(), msg.begin(), msg.end());
    msg = outer;
  }
  auto r = Dec(SendRR(msg));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.ops.size(), 1u + 4u);  // enip + top level + 3 nested levels
}

// Every prefix of every good PDU: no crash; an ok decode either flags an op
// truncated or reports exactly what the full PDU does.
TEST(EnipDecode, TruncatedPrefixes) {
  for (const char* hex : {kHexRegisterSession, kHexStop, kHexMsp, kHexUcs, kHexUcsError,
                          kHexForwardOpen, kHexListIdentityResp, kHexReadTag}) {
    auto b = Hex(hex);
    auto whole = Dec(b);
    ASSERT_EQ(whole.status, DecodeStatus::kOk) << hex;
    for (size_t n = 0; n < b.size(); ++n) {
      auto r = Dec(b, true, false, n);
      if (r.status != DecodeStatus::kOk) {
        EXPECT_TRUE(r.ops.empty());
        continue;
      }
      bool truncated = false;
      for (const IcsOp& op : r.ops) truncated |= op.Has(kOpTruncated);
      if (!truncated) {
        ASSERT_EQ(r.ops.size(), whole.ops.size()) << hex << " @" << n;
        for (size_t i = 0; i < r.ops.size(); ++i) {
          EXPECT_EQ(r.ops[i].function, whole.ops[i].function) << hex << " @" << n;
          EXPECT_EQ(r.ops[i].flags, whole.ops[i].flags) << hex << " @" << n;
          EXPECT_EQ(r.ops[i].object_group, whole.ops[i].object_group) << hex << " @" << n;
        }
      }
    }
    for (size_t n = 0; n < b.size(); ++n) {
      std::vector<uint8_t> cut(b.begin(), b.begin() + n);
      if (n >= 4) cut[2] = uint8_t(n >= kHeaderSize ? n - kHeaderSize : 0), cut[3] = 0;
      Dec(cut);
      Dec(cut, false, true);
      Frame(cut);
    }
  }
}

TEST(EnipDecode, RandomBytesNeverCrash) {
  uint32_t x = 987654321;
  std::vector<uint8_t> b(160);
  for (int iter = 0; iter < 20000; ++iter) {
    for (auto& v : b) {
      x = x * 1664525u + 1013904223u;
      v = uint8_t(x >> 24);
    }
    const size_t n = x % 160;
    if ((iter & 1) && n >= 48) {
      // Valid SendRRData header + CPF with one unconnected item: random CIP.
      b[0] = 0x6F, b[1] = 0, b[2] = uint8_t(n - 24), b[3] = 0;
      for (int i = 20; i < 24; ++i) b[i] = 0;
      b[30] = 2, b[31] = 0, b[32] = 0, b[33] = 0, b[34] = 0, b[35] = 0;
      b[36] = 0xB2, b[37] = 0, b[38] = uint8_t(n - 40), b[39] = 0;
      if (iter & 2) b[40] = 0x0A;
      if (iter & 4) b[40] = 0x52, b[42] = 0x20, b[43] = 0x06;
    }
    std::vector<uint8_t> pdu(b.begin(), b.begin() + n);
    StreamState st;
    OpList ops;
    Decode(PduView{pdu, uint32_t(n), true, (iter & 8) != 0}, st, ops);
    Decode(PduView{std::span<const uint8_t>(pdu.data(), n / 2), uint32_t(n), true, false}, st,
           ops);
    Frame(pdu);
  }
}

TEST(EnipNames, RoundTrip) {
  for (uint16_t c : std::initializer_list<uint16_t>{
           kNop, kListServices, kListIdentity, kListInterfaces, kRegisterSession,
           kUnregisterSession, kSendRRData, kSendUnitData, kIndicateStatus, kCancel}) {
    auto name = FunctionName(OpKind::kEnip, c);
    ASSERT_FALSE(name.empty()) << c;
    EXPECT_EQ(FunctionByName(OpKind::kEnip, name), c);
  }
  for (uint16_t s = 0; s < 0x80; ++s) {
    auto name = FunctionName(OpKind::kCip, s);
    if (!name.empty()) {
      EXPECT_EQ(FunctionByName(OpKind::kCip, name), s) << name;
    }
  }
  EXPECT_EQ(FunctionName(OpKind::kEnip, kSendRRData), "send_rr_data");
  EXPECT_EQ(FunctionName(OpKind::kCip, kForwardClose), "forward_close");
  EXPECT_EQ(FunctionName(OpKind::kCip, kMultipleServicePacket), "multiple_service_packet");
  EXPECT_EQ(FunctionByName(OpKind::kCip, "get_attribute_single"), uint16_t(kGetAttributeSingle));
  EXPECT_EQ(FunctionByName(OpKind::kCip, "14"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kModbus, "nop"), std::nullopt);
}

// The CPF of a SendRRData/SendUnitData must fill the encapsulation length
// exactly: interface handle (4) + timeout (2) + item count (2) + each item's
// type (2) + length (2) + data == the header's length. A mismatch is framed
// at the encapsulation length (the target cuts there too) and reported
// malformed (kEnipLength) by Frame where it lies in the PDU's first 64
// bytes; `decode` is what Decode says of the datagram on its own (UDP). On
// TCP, Decode reports only what Frame could not see (once per PDU).
struct CpfLengthRow {
  const char* name;
  std::vector<uint8_t> bytes;
  FrameStatus frame;
  MalformedReason reason;
  DecodeStatus decode;
};

// SendRRData: null address, unconnected data of `data_len` bytes, then a
// sockaddr info item (0x8000) of 16 bytes and `extra` (hex) after it: the
// third item header lies past the first 64 bytes.
std::vector<uint8_t> ThreeItems(size_t data_len, std::string_view extra) {
  std::vector<uint8_t> cip(data_len, 0x4C);  // Read Tag, empty path, then data
  cip[1] = 0;
  std::vector<uint8_t> b = SendRR(cip);
  b[kHeaderSize + 6] = 3;
  const std::vector<uint8_t> sockaddr = Hex("00801000000200af12c0a80a7800000000000000");
  b.insert(b.end(), sockaddr.begin(), sockaddr.end());
  const std::vector<uint8_t> e = Hex(extra);
  b.insert(b.end(), e.begin(), e.end());
  b[2] = uint8_t(b.size() - kHeaderSize);
  b[3] = uint8_t((b.size() - kHeaderSize) >> 8);
  return b;
}

// `b` with its encapsulation length set to what follows the header.
std::vector<uint8_t> Relength(std::vector<uint8_t> b) {
  b[2] = uint8_t(b.size() - kHeaderSize);
  b[3] = uint8_t((b.size() - kHeaderSize) >> 8);
  return b;
}
std::vector<uint8_t> Appended(const char* hex, std::string_view extra) {
  std::vector<uint8_t> b = Hex(hex);
  const std::vector<uint8_t> e = Hex(extra);
  b.insert(b.end(), e.begin(), e.end());
  return Relength(b);
}
// `hex` with the 16-bit little-endian field at `at` set to `v`.
std::vector<uint8_t> WithLe16(const char* hex, size_t at, uint16_t v) {
  std::vector<uint8_t> b = Hex(hex);
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
  return b;
}
// Offsets in a SendRRData/SendUnitData: item count at 30, first item at 32.
constexpr size_t kItemCountAt = kHeaderSize + 6;
constexpr size_t kSecondItemLengthAt = kItemCountAt + 2 + 4 + 2;  // after a null address item

const std::vector<CpfLengthRow>& CpfLengthRows() {
  static const std::vector<CpfLengthRow> rows = {
      {"SendRRData, null address + unconnected data", Hex(kHexUcs), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
      {"SendRRData, error reply", Hex(kHexUcsError), FrameStatus::kPdu, MalformedReason::kNone, DecodeStatus::kOk},
      {"SendUnitData, connected address + connected data", Hex(kHexStop), FrameStatus::kPdu,
       MalformedReason::kNone, DecodeStatus::kOk},
      {"SendRRData, no items (length 8)", Relength(Hex("6f0000000000000000000000000000000000000000000000"
                                                       "0000000000000000")),
       FrameStatus::kPdu, MalformedReason::kNone, DecodeStatus::kOk},
      {"no items, a trailing byte", Relength(Hex("6f0000000000000000000000000000000000000000000000"
                                                  "000000000000000000")),
       FrameStatus::kPdu, MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"a trailing byte after the last item", Appended(kHexUcs, "00"), FrameStatus::kPdu,
       MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"a second encapsulation smuggled after the CPF",
       Appended(kHexUcs, "6f00000000000000000000000000000000000000000000000"), FrameStatus::kPdu,
       MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"data item length one short", WithLe16(kHexUcs, kSecondItemLengthAt, 0x13), FrameStatus::kPdu,
       MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"data item length past the encapsulation", WithLe16(kHexUcs, kSecondItemLengthAt, 0x15),
       FrameStatus::kPdu, MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"item count 3, two items", WithLe16(kHexUcs, kItemCountAt, 3), FrameStatus::kPdu,
       MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"item count 1, two items", WithLe16(kHexUcs, kItemCountAt, 1), FrameStatus::kPdu,
       MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"item count 0xFFFF", WithLe16(kHexStop, kItemCountAt, 0xFFFF), FrameStatus::kPdu,
       MalformedReason::kEnipLength, DecodeStatus::kMalformed},
      {"SendUnitData, trailing byte", Appended(kHexStop, "00"), FrameStatus::kPdu, MalformedReason::kEnipLength,
       DecodeStatus::kMalformed},
      {"three items, the last past the frame view", ThreeItems(40, ""), FrameStatus::kPdu,
       MalformedReason::kNone, DecodeStatus::kOk},
      {"three items, a trailing byte past the frame view", ThreeItems(40, "00"), FrameStatus::kPdu,
       MalformedReason::kNone, DecodeStatus::kMalformed},
      // Other commands carry no CPF: their lengths are not walked here.
      {"ListIdentity reply", Hex(kHexListIdentityResp), FrameStatus::kPdu, MalformedReason::kNone,
       DecodeStatus::kOk},
  };
  return rows;
}

TEST(EnipFrame, CpfLengthTable) {
  for (const CpfLengthRow& row : CpfLengthRows()) {
    const FrameResult f = Frame(row.bytes);
    EXPECT_EQ(f.status, row.frame) << row.name;
    EXPECT_EQ(f.reason, row.reason) << row.name << ": " << MalformedReasonName(f.reason);
    EXPECT_EQ(f.length, row.bytes.size()) << row.name;
  }
}

TEST(EnipDecode, CpfLengthTable) {
  for (const CpfLengthRow& row : CpfLengthRows()) {
    EXPECT_EQ(Dec(row.bytes, true, /*udp=*/true).status, row.decode) << row.name << " (UDP)";
    // On TCP, what Frame reported is not reported again.
    const DecodeStatus tcp = row.reason != MalformedReason::kNone ? DecodeStatus::kOk : row.decode;
    EXPECT_EQ(Dec(row.bytes).status, tcp) << row.name << " (TCP)";
  }
}

TEST(EnipFrame, CpfAsksForItemHeadersUpToSixtyFourBytes) {
  // Frame asks for bytes until the item headers are in view (at most 64, and
  // never more than the PDU), so its verdict does not depend on the cut.
  const std::vector<uint8_t> b = Appended(kHexUcs, "00");
  const size_t headers_end = kItemCountAt + 2 + 4 + 4;
  for (size_t n = kHeaderSize; n < headers_end; ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
  for (size_t n = headers_end; n <= b.size(); ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(b.data(), n)).reason, MalformedReason::kEnipLength) << n;
  }
  // Past 64 bytes Frame frames without a verdict; Decode judges.
  const std::vector<uint8_t> far = ThreeItems(40, "00");
  for (size_t n = 64; n <= far.size(); ++n) {
    const FrameResult f = Frame(std::span<const uint8_t>(far.data(), n));
    EXPECT_EQ(f.status, FrameStatus::kPdu) << n;
    EXPECT_EQ(f.reason, MalformedReason::kNone) << n;
  }
  EXPECT_EQ(Frame(std::span<const uint8_t>(far.data(), 63)).status, FrameStatus::kNeedMore);
}

// The CIP message in a data item must agree with the item's length: a
// request's path fits, a reply's additional status fits, an Unconnected
// Send's message and route path and a Multiple Service Packet's services
// account for every byte. `ok`: framed clean and decoded kOk; else framed
// as a flawed PDU (kEnipLength; the encapsulation length still cuts the
// stream where the target cuts it) and, on UDP, decoded kMalformed.
struct CipRow {
  const char* name;
  std::vector<uint8_t> bytes;
  bool ok;
};

// Unconnected Send (kHexUcs's): to the Connection Manager, Get_Attributes_All
// of class 1 instance 1 (`size` declared, `message` sent), route `route`.
std::vector<uint8_t> Ucs(uint16_t size, const std::vector<uint8_t>& message, const std::vector<uint8_t>& route) {
  std::vector<uint8_t> b = Hex("520220062401");  // service, path size, class 6, instance 1
  b.insert(b.end(), {0x06, 0x9a, uint8_t(size), uint8_t(size >> 8)});
  b.insert(b.end(), message.begin(), message.end());
  b.insert(b.end(), route.begin(), route.end());
  return b;
}

// Multiple Service Packet to the Message Router with `data` after its path.
std::vector<uint8_t> Msp(const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b = Hex("0a0220022401");  // service, path size, class 2, instance 1
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

TEST(EnipFrame, CipInDataItemTable) {
  const std::vector<uint8_t> gaa = Hex("010220012401");  // Get_Attributes_All class 1 instance 1
  const std::vector<uint8_t> slot0 = Hex("01000100");    // route: 1 word, port 1 slot 0
  const std::vector<uint8_t> two = Hex("020006000c00" "0e0220012401" "0e0220012402");
  std::vector<uint8_t> stop_path_past = Hex(kHexStop);
  stop_path_past[47] = 3;  // Stop's path: 3 words in a 6-byte message
  std::vector<uint8_t> msp_gap = Hex("020008000e00ffff" "0e0220012401" "0e0220012402");
  const std::vector<CipRow> rows = {
      {"captured Unconnected Send", Hex(kHexUcs), true},
      {"captured Multiple Service Packet", Hex(kHexMsp), true},
      {"captured connected Stop", Hex(kHexStop), true},
      {"captured Read Tag", Hex(kHexReadTag), true},
      {"captured Forward Open", Hex(kHexForwardOpen), true},
      {"captured error reply", Hex(kHexUcsError), true},
      {"Unconnected Send built", SendRR(Ucs(6, gaa, slot0)), true},
      {"Unconnected Send, message size 4 of 6", SendRR(Ucs(4, gaa, slot0)), false},
      {"Unconnected Send, message size 8 of 6", SendRR(Ucs(8, gaa, slot0)), false},
      {"Unconnected Send, a byte after the route", SendRR(Ucs(6, gaa, Hex("0100010000"))), false},
      {"Unconnected Send, route 2 words, 1 sent", SendRR(Ucs(6, gaa, Hex("02000100"))), false},
      {"Unconnected Send, no route path size", SendRR(Ucs(6, gaa, {})), false},
      {"Unconnected Send, embedded path past its message", SendRR(Ucs(6, Hex("010320012401"), slot0)), false},
      {"Read Tag, path 3 words", SendRR(Hex("4c0391024142" "0100")), true},
      {"Read Tag, path 5 words in 8 bytes", SendRR(Hex("4c0591024142" "0100")), false},
      {"empty data item", SendRR({}), false},
      {"service without path size", SendRR(Hex("4c")), false},
      {"reply, additional status past the item", SendRR(Hex("ce000003" "0000")), false},
      {"reply, 3 bytes", SendRR(Hex("cc0000")), false},
      {"reply with data", SendRR(Hex("cc000000" "c4000100")), true},
      {"connected Stop, path past the item", stop_path_past, false},
      {"Multiple Service Packet built", SendRR(Msp(two)), true},
      {"Multiple Service Packet, a gap before the first service", SendRR(Msp(msp_gap)), false},
      {"Multiple Service Packet, offsets out of order",
       SendRR(Msp(Hex("02000c000600" "0e0220012401" "0e0220012402"))), false},
      {"Multiple Service Packet, count 0 with bytes", SendRR(Msp(Hex("0000ffff"))), false},
      {"Multiple Service Packet, count 0", SendRR(Msp(Hex("0000"))), true},
  };
  for (const CipRow& row : rows) {
    SCOPED_TRACE(row.name);
    const FrameResult f = Frame(row.bytes);
    EXPECT_EQ(f.status, FrameStatus::kPdu);
    EXPECT_EQ(f.length, row.bytes.size());
    EXPECT_EQ(f.reason, row.ok ? MalformedReason::kNone : MalformedReason::kEnipLength);
    EXPECT_EQ(Dec(row.bytes, true, /*udp=*/true).status, row.ok ? DecodeStatus::kOk : DecodeStatus::kMalformed);
    EXPECT_EQ(Dec(row.bytes).status, DecodeStatus::kOk);  // on TCP Frame reported it
    // Cut anywhere, Frame asks for more or reaches the same verdict.
    for (size_t n = kHeaderSize; n < row.bytes.size(); ++n) {
      const FrameResult p = Frame(std::span<const uint8_t>(row.bytes.data(), n));
      if (p.status == FrameStatus::kNeedMore) {
        EXPECT_LT(n, 64u);
        continue;
      }
      EXPECT_EQ(p.reason, f.reason) << "prefix " << n;
    }
  }
}

}  // namespace
}  // namespace conduit::ics::enip
