#include "ics/dnp3.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "unit/ics/malformed_named.h"

namespace conduit::ics::dnp3 {
namespace {

// Framing a client's bytes (the direction matters only where a test says so).
using dnp3::Frame;
FrameResult Frame(std::span<const uint8_t> head) { return dnp3::Frame(head, /*from_client=*/true); }

using Bytes = std::vector<uint8_t>;

Bytes Hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

void PutCrc(Bytes& b, size_t from) {
  const uint16_t crc = Crc(std::span<const uint8_t>(b.data() + from, b.size() - from));
  b.push_back(uint8_t(crc));
  b.push_back(uint8_t(crc >> 8));
}

// A link frame with correct CRCs: ctl, destination, source, user data.
Bytes LinkFrame(uint8_t ctl, uint16_t dst, uint16_t src, const Bytes& user) {
  Bytes b = {0x05, 0x64, uint8_t(user.size() + 5), ctl, uint8_t(dst), uint8_t(dst >> 8),
             uint8_t(src), uint8_t(src >> 8)};
  PutCrc(b, 0);
  for (size_t i = 0; i < user.size(); i += 16) {
    const size_t start = b.size();
    for (size_t j = i; j < user.size() && j < i + 16; ++j) b.push_back(user[j]);
    PutCrc(b, start);
  }
  return b;
}

// User data: transport byte then application bytes.
Bytes User(uint8_t tr, std::initializer_list<uint8_t> app) {
  Bytes u = {tr};
  u.insert(u.end(), app);
  return u;
}

constexpr uint8_t kMasterCtl = 0xC4;   // DIR PRM unconfirmed user data
constexpr uint8_t kOutstnCtl = 0x44;   // PRM unconfirmed user data

struct Result {
  DecodeStatus status;
  OpList ops;
};

Result DecodeBytes(const Bytes& b, StreamState& st, bool udp = false, uint32_t length = 0) {
  Result r;
  PduView v{b, length ? length : uint32_t(b.size()), true, udp};
  r.status = Decode(v, st, r.ops);
  EXPECT_TRUE(NamesItsFlaw(r.status, v, {"dnp3_"}));
  return r;
}

Result DecodeBytes(const Bytes& b, bool udp = false) {
  StreamState st;
  return DecodeBytes(b, st, udp);
}

TEST(Dnp3Crc, MatchesCapturedHeader) {
  // Request link status from the corpus (iti__bro_dnp3_link_only, frame 1).
  const Bytes b = Hex("05640549640001007e5f");
  EXPECT_EQ(Crc(std::span<const uint8_t>(b.data(), 8)), 0x5F7E);
}

TEST(Dnp3Frame, LengthFormula) {
  EXPECT_EQ(FrameLength(5), 10u);
  EXPECT_EQ(FrameLength(6), 13u);
  EXPECT_EQ(FrameLength(21), 28u);
  EXPECT_EQ(FrameLength(22), 31u);
  EXPECT_EQ(FrameLength(255), kMaxFrameLen);
}

TEST(Dnp3Frame, FramesOneLinkFrame) {
  const Bytes f = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x01, 0x3C, 0x02, 0x06}));
  Bytes stream = f;
  stream.insert(stream.end(), f.begin(), f.end());
  const FrameResult r = Frame(stream);
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, f.size());
  for (size_t n = 0; n < kHeaderLen; ++n) {
    EXPECT_EQ(Frame(std::span<const uint8_t>(f.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
}

TEST(Dnp3Frame, RejectsGarbage) {
  EXPECT_EQ(Frame(Hex("0664")).status, FrameStatus::kInvalid);
  EXPECT_EQ(Frame(Hex("0565")).status, FrameStatus::kInvalid);
  EXPECT_EQ(Frame(Hex("056404")).status, FrameStatus::kMalformed);  // LEN < 5
  Bytes bad_crc = Hex("05640549640001007e5f");
  bad_crc[9] ^= 1;
  EXPECT_EQ(Frame(bad_crc).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(Hex("474554202f20485454502f312e310d0a")).status, FrameStatus::kInvalid);
}

TEST(Dnp3Decode, LinkOnlyFrames) {
  // Request link status (PRM=1, func 9) and link status (PRM=0, func 11).
  Result r = DecodeBytes(Hex("05640549640001007e5f"));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  EXPECT_EQ(r.ops[0].function, 9);
  EXPECT_EQ(r.ops[0].direction, Direction::kRequest);
  EXPECT_EQ(r.ops[0].unit, 100u);
  EXPECT_EQ(FunctionName(r.ops[0].kind, r.ops[0].function), "request_link_status");

  r = DecodeBytes(Hex("0564058b01006400a097"));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, 11);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_EQ(r.ops[0].sub_function, 0x8B);  // control byte
  EXPECT_EQ(r.ops[0].unit, 1u);

  // Reset link states (PRM=1, func 0): no transport layer even with data.
  r = DecodeBytes(LinkFrame(0xC0, 5, 1, {}));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  EXPECT_EQ(r.ops[0].function, 0);
}

TEST(Dnp3Decode, ReadRequestClassData) {
  const Result r = DecodeBytes(LinkFrame(kMasterCtl, 10, 1,
                                 User(0xC0, {0xC0, 0x01, 0x3C, 0x02, 0x06, 0x3C, 0x01, 0x06})));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.kind, OpKind::kDnp3);
  EXPECT_EQ(op.function, 1);
  EXPECT_EQ(FunctionName(op.kind, op.function), "read");
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_TRUE(op.Has(kOpHasUnit));
  EXPECT_EQ(op.unit, 10u);
  EXPECT_TRUE(op.Has(kOpHasObject));
  EXPECT_EQ(op.object_group, 60);
  EXPECT_EQ(op.object_variation, 2);
  EXPECT_FALSE(op.Has(kOpHasAddress));  // qualifier 0x06: all points
  EXPECT_FALSE(op.Has(kOpTruncated));
}

TEST(Dnp3Decode, StartStopRanges) {
  // 8-bit start/stop, 16-bit start/stop, 32-bit start/stop.
  Result r = DecodeBytes(LinkFrame(kMasterCtl, 1, 2, User(0xC0, {0xC1, 0x01, 0x1E, 0x01, 0x00, 3, 9})));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_TRUE(r.ops[0].Has(kOpHasAddress));
  EXPECT_EQ(r.ops[0].address_first, 3u);
  EXPECT_EQ(r.ops[0].address_last, 9u);

  r = DecodeBytes(LinkFrame(kMasterCtl, 1, 2,
                    User(0xC0, {0xC1, 0x01, 0x1E, 0x01, 0x01, 0x00, 0x01, 0xFF, 0x01})));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].address_first, 256u);
  EXPECT_EQ(r.ops[0].address_last, 511u);

  r = DecodeBytes(LinkFrame(kMasterCtl, 1, 2,
                    User(0xC0, {0xC1, 0x01, 0x1E, 0x01, 0x02, 1, 0, 0, 0, 0, 0, 1, 0})));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].address_first, 1u);
  EXPECT_EQ(r.ops[0].address_last, 65536u);

  // stop < start is malformed.
  r = DecodeBytes(LinkFrame(kMasterCtl, 1, 2, User(0xC0, {0xC1, 0x01, 0x1E, 0x01, 0x00, 9, 3})));
  EXPECT_EQ(r.status, DecodeStatus::kMalformed);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_FALSE(r.ops[0].Has(kOpHasAddress));
}

TEST(Dnp3Decode, IndexedControlsGiveIndexRange) {
  // Direct operate, two CROBs (g12v1, 11 bytes each), qualifier 0x28:
  // 16-bit count, 16-bit index prefix, indices 7 and 2.
  Bytes app = {0xC2, 0x05, 0x0C, 0x01, 0x28, 0x02, 0x00};
  const Bytes crob = {0x03, 0x01, 0x64, 0, 0, 0, 0x64, 0, 0, 0, 0};
  app.insert(app.end(), {0x07, 0x00});
  app.insert(app.end(), crob.begin(), crob.end());
  app.insert(app.end(), {0x02, 0x00});
  app.insert(app.end(), crob.begin(), crob.end());
  Bytes user = {0xC0};
  user.insert(user.end(), app.begin(), app.end());
  const Result r = DecodeBytes(LinkFrame(kMasterCtl, 4, 3, user));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.function, 5);
  EXPECT_EQ(FunctionName(op.kind, op.function), "direct_operate");
  EXPECT_EQ(op.object_group, 12);
  EXPECT_EQ(op.object_variation, 1);
  ASSERT_TRUE(op.Has(kOpHasAddress));
  EXPECT_EQ(op.address_first, 2u);
  EXPECT_EQ(op.address_last, 7u);
}

TEST(Dnp3Decode, ASecondObjectHeaderLosesTheAddress) {
  // Evasion: direct operate on point 3, then a second header operating
  // point 7. The outstation executes both; only the first header is
  // decoded, so the op must not claim "point 3" to an address rule.
  const Bytes crob = {0x03, 0x01, 0x64, 0, 0, 0, 0x64, 0, 0, 0, 0};
  Bytes app = {0xC2, 0x05};
  for (uint8_t index : {3, 7}) {
    app.insert(app.end(), {0x0C, 0x01, 0x17, 0x01, index});  // 8-bit count and index
    app.insert(app.end(), crob.begin(), crob.end());
  }
  Bytes user = {0xC0};
  user.insert(user.end(), app.begin(), app.end());
  Result r = DecodeBytes(LinkFrame(kMasterCtl, 4, 3, user));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, 5);
  EXPECT_FALSE(r.ops[0].Has(kOpHasAddress));
  // The same with start/stop ranges (qualifier 0x00): 3-3 then 7-7.
  app = {0xC2, 0x05};
  for (uint8_t index : {3, 7}) {
    app.insert(app.end(), {0x0C, 0x01, 0x00, index, index});
    app.insert(app.end(), crob.begin(), crob.end());
  }
  user = {0xC0};
  user.insert(user.end(), app.begin(), app.end());
  r = DecodeBytes(LinkFrame(kMasterCtl, 4, 3, user));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_FALSE(r.ops[0].Has(kOpHasAddress));
  // One header is still judged by its points.
  app = {0xC2, 0x05, 0x0C, 0x01, 0x17, 0x01, 0x03};
  app.insert(app.end(), crob.begin(), crob.end());
  user = {0xC0};
  user.insert(user.end(), app.begin(), app.end());
  r = DecodeBytes(LinkFrame(kMasterCtl, 4, 3, user));
  ASSERT_EQ(r.ops.size(), 1u);
  ASSERT_TRUE(r.ops[0].Has(kOpHasAddress));
  EXPECT_EQ(r.ops[0].address_first, 3u);
}

TEST(Dnp3Decode, CapturedSelectOperate) {
  // iti__select_operate_and_responses frames 4 (select) and 8 (response).
  Result r = DecodeBytes(Hex("05641ac40a0001008a1cc0c0030c012801000000030164000000fd6b6400000000005b"));
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, 3);
  EXPECT_EQ(r.ops[0].unit, 10u);
  EXPECT_EQ(r.ops[0].object_group, 12);
  ASSERT_TRUE(r.ops[0].Has(kOpHasAddress));
  EXPECT_EQ(r.ops[0].address_first, 0u);  // count 1, index 0
  EXPECT_EQ(r.ops[0].address_last, 0u);

  r = DecodeBytes(Hex("05641c4401000a007636c7c18100000c0128010000000301640057b500006400000000005b"));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, 0x81);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_TRUE(r.ops[0].Has(kOpHasSubFunction));
  EXPECT_EQ(r.ops[0].sub_function, 0);  // IIN
  EXPECT_FALSE(r.ops[0].Has(kOpException));
}

TEST(Dnp3Decode, ResponseIinAndFlags) {
  // Unsolicited response, CON + UNS, IIN2 = object unknown + parameter error.
  Result r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0xC0, {0xF0, 0x82, 0x80, 0x06})));
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.function, 0x82);
  EXPECT_EQ(FunctionName(op.kind, op.function), "unsolicited_response");
  EXPECT_TRUE(op.Has(kOpConfirm));
  EXPECT_TRUE(op.Has(kOpUnsolicited));
  EXPECT_EQ(op.sub_function, 0x8006);
  EXPECT_TRUE(op.Has(kOpException));
  EXPECT_EQ(op.exception_code, 0x06);
  EXPECT_EQ(op.direction, Direction::kResponse);

  // Confirm (function 0) from the master.
  r = DecodeBytes(LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xD0, 0x00})));
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, 0);
  EXPECT_TRUE(r.ops[0].Has(kOpUnsolicited));
  EXPECT_FALSE(r.ops[0].Has(kOpConfirm));
  EXPECT_EQ(r.ops[0].direction, Direction::kRequest);
}

TEST(Dnp3Decode, MultiSegmentMessageReportedOnFin) {
  StreamState st;
  // FIR (seq 5): response header and first object header.
  Result r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10,
                           User(0x45, {0xE0, 0x81, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x09})),
                 st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  EXPECT_EQ(r.ops[0].function, 4);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  // Middle segment (seq 6).
  r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x06, {0x01, 0x01, 0x01})), st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  // FIN (seq 7): the message's function.
  r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x87, {0x01, 0x01})), st);
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_EQ(op.kind, OpKind::kDnp3);
  EXPECT_EQ(op.function, 0x81);
  EXPECT_EQ(op.object_group, 1);
  EXPECT_EQ(op.object_variation, 2);
  EXPECT_EQ(op.address_first, 0u);
  EXPECT_EQ(op.address_last, 9u);
  EXPECT_EQ(op.unit, 1u);
  // The state is cleared: another FIN alone gives no application op.
  r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x88, {0x01})), st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
}

TEST(Dnp3Decode, SequenceWrapsAndGapsBreakReassembly) {
  StreamState st;
  DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x7F, {0xE0, 0x81, 0x00, 0x00})), st);
  Result r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x80, {0x01})), st);  // 63 -> 0
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3);

  DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x41, {0xE0, 0x81, 0x00, 0x00})), st);
  r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x83, {0x01})), st);  // gap: 1 -> 3
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  // The out-of-sequence segment is ignored (as the receiver ignores it): the
  // message stays open and the segment with the expected number (2) ends it.
  r = DecodeBytes(LinkFrame(kOutstnCtl, 1, 10, User(0x82, {0x01})), st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3);
  EXPECT_EQ(r.ops[0].function, 0x81);
}

TEST(Dnp3Decode, WrongSequenceSegmentDoesNotHideTheOperate) {
  // The evasion: FIR of a DIRECT_OPERATE (CROB on point 7), a segment with a
  // wrong sequence number (opendnp3 ignores it and keeps the message), then
  // the operate's last segment. The FIN must report direct_operate point 7.
  const Bytes app = {0xC0, 0x05, 12, 1, 0x17, 1, 7, 0x03, 1, 0x10, 0x27, 0, 0, 0, 0, 0, 0, 0};
  StreamState st;
  Bytes head = {0x40};  // FIR, seq 0
  head.insert(head.end(), app.begin(), app.begin() + 8);
  Result r = DecodeBytes(LinkFrame(kMasterCtl, 10, 1, head), st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  r = DecodeBytes(LinkFrame(kMasterCtl, 10, 1, User(0x28, {0, 0, 0, 0})), st);  // seq 40
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  Bytes tail = {0x81};
  tail.insert(tail.end(), app.begin() + 8, app.end());
  r = DecodeBytes(LinkFrame(kMasterCtl, 10, 1, tail), st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3);
  EXPECT_EQ(r.ops[0].function, 5);
  EXPECT_EQ(r.ops[0].address_first, 7u);
  EXPECT_EQ(r.ops[0].address_last, 7u);
}

TEST(Dnp3Decode, CapturedTwoSegmentResponse) {
  // iti__read_and_response frames 6 (FIR) and 8 (FIN).
  StreamState st;
  Result r = DecodeBytes(Hex(
      "0564ff4401000a005aeb53c081000001020000090202020202022d3a020202020302000009020202020202"
      "0270da02020214010000090200000000020000e30b000002000000000200000000020000004dba00020000"
      "0000020000000002000000007eae02000000000200000000150100000902d34200000000020000000002"
      "00000000020069ce00000002000000000200000000020000dd5e00000200000000020000000002000000"
      "4dba001e0100000902000000000200000000cd6302000000000200000000020000000002f00300000000"
      "02000000000200000000020069ce00000002000000000a0200000902020217100202020202020228010000"
      "090200000058e4000200000000020000000002000000007eae020000000002000000004e72"),
                 st);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);
  EXPECT_EQ(r.ops[0].function, 4);
  r = DecodeBytes(Hex("05641a4401000a00af5d9402000000000200000000020000000066420200000000f3b9"), st);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3);
  EXPECT_EQ(r.ops[0].function, 0x81);
  EXPECT_EQ(r.ops[0].object_group, 1);
  EXPECT_EQ(r.ops[0].object_variation, 2);
  EXPECT_EQ(r.ops[0].address_first, 0u);
  EXPECT_EQ(r.ops[0].address_last, 9u);
}

TEST(Dnp3Decode, BadCrcs) {
  Bytes f = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x01, 0x3C, 0x02, 0x06}));
  Bytes bad_data = f;
  bad_data[12] ^= 0x40;  // inside the first data block
  Result r = DecodeBytes(bad_data);
  EXPECT_EQ(r.status, DecodeStatus::kMalformed);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3Link);

  Bytes bad_header = f;
  bad_header[4] ^= 1;  // destination changed under the header CRC
  r = DecodeBytes(bad_header);
  EXPECT_EQ(r.status, DecodeStatus::kNotThisProtocol);
  EXPECT_TRUE(r.ops.empty());
}

TEST(Dnp3Decode, EveryPrefixIsSafe) {
  // 3 data blocks so the prefix ends in every region of the frame.
  Bytes user = {0xC0, 0xC0, 0x02, 0x0C, 0x01, 0x17, 0x01, 0x05};
  while (user.size() < 40) user.push_back(uint8_t(user.size()));
  const Bytes f = LinkFrame(kMasterCtl, 4, 3, user);
  for (size_t n = 0; n < f.size(); ++n) {
    const Bytes prefix(f.begin(), f.begin() + n);
    for (uint32_t length : {uint32_t(f.size()), uint32_t(n)}) {
      StreamState st;
      const Result r = DecodeBytes(prefix, st, false, length);
      const bool flagged = !r.ops.empty() && r.ops[0].Has(kOpTruncated);
      EXPECT_TRUE(r.status != DecodeStatus::kOk || flagged) << n << " " << length;
    }
  }
}

TEST(Dnp3Decode, UdpDatagramWithSeveralFrames) {
  Bytes d = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x01, 0x3C, 0x01, 0x06}));
  const Bytes link = Hex("05640549640001007e5f");
  d.insert(d.end(), link.begin(), link.end());
  Result r = DecodeBytes(d, /*udp=*/true);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kDnp3);
  EXPECT_EQ(r.ops[1].kind, OpKind::kDnp3Link);

  d.push_back(0x42);  // trailing junk
  r = DecodeBytes(d, true);
  EXPECT_EQ(r.status, DecodeStatus::kMalformed);
  EXPECT_EQ(r.ops.size(), 2u);

  // Last frame cut short in the datagram.
  Bytes cut = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x01, 0x3C, 0x01, 0x06}));
  cut.insert(cut.end(), link.begin(), link.begin() + 6);
  r = DecodeBytes(cut, true);
  EXPECT_EQ(r.status, DecodeStatus::kTruncated);
  EXPECT_EQ(r.ops.size(), 1u);
}

TEST(Dnp3Decode, GarbageIsNotDnp3) {
  EXPECT_EQ(DecodeBytes(Hex("474554202f20485454502f312e310d0a0d0a")).status,
            DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(DecodeBytes(Hex("474554202f20485454502f312e310d0a0d0a"), true).status,
            DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(DecodeBytes(Bytes{}, true).status, DecodeStatus::kOk);
}

TEST(Dnp3Decode, RandomInputNeverCrashes) {
  uint32_t x = 12345;
  auto next = [&] {
    x = x * 1103515245 + 12345;
    return uint8_t(x >> 16);
  };
  StreamState st;
  for (int iter = 0; iter < 3000; ++iter) {
    // Start from a valid frame and corrupt some bytes, re-signing the header
    // half of the time so the decoder gets past it.
    Bytes user;
    const size_t n = next() % 60 + 1;
    for (size_t i = 0; i < n; ++i) user.push_back(next());
    Bytes f = LinkFrame(next(), next(), next(), user);
    for (int k = next() % 4; k > 0; --k) f[next() % f.size()] = next();
    if (iter & 1) {
      const uint16_t crc = Crc(std::span<const uint8_t>(f.data(), 8));
      f[8] = uint8_t(crc);
      f[9] = uint8_t(crc >> 8);
    }
    const size_t drop = next() % 4;
    f.erase(f.end() - std::ptrdiff_t(drop), f.end());  // frames are >= 13 bytes
    DecodeBytes(f, st, iter % 3 == 0);
    Frame(f);
  }
}

TEST(Dnp3Names, RoundTrip) {
  for (uint16_t fc = 0; fc < 256; ++fc) {
    for (OpKind k : {OpKind::kDnp3, OpKind::kDnp3Link}) {
      const std::string_view name = FunctionName(k, fc);
      if (name.empty()) continue;
      EXPECT_EQ(FunctionByName(k, name), fc) << name;
    }
  }
  EXPECT_EQ(FunctionByName(OpKind::kDnp3, "direct_operate_nr"), 6);
  EXPECT_EQ(FunctionByName(OpKind::kDnp3, "authenticate_response"), 0x83);
  EXPECT_EQ(FunctionByName(OpKind::kDnp3Link, "ack"), 0);
  EXPECT_EQ(FunctionByName(OpKind::kDnp3, "ack"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kDnp3, "5"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kDnp3, ""), std::nullopt);
  EXPECT_EQ(FunctionName(OpKind::kDnp3, 0x50), "");
  EXPECT_EQ(FunctionName(OpKind::kModbus, 1), "");
}

// Transport reassembly around a frame the outstation ignores (a DIR=0 frame
// from the master, or confirmed user data before a reset link): the
// outstation keeps the message that frame's FIR would have replaced, so the
// segments continuing that message must not pass as housekeeping.
struct Step {
  Bytes frame;
  OpKind kind;            // of the frame's one op
  uint16_t function;      // application function (kDnp3) or link function
  bool header;            // the operate's op carries its FIR's object header
  bool truncated;         // kOpTruncated on the operate's op
};
struct ReassemblyRow {
  const char* name;
  std::vector<Step> steps;  // fed in order into one StreamState
};

TEST(Dnp3Decode, SupersededMessageTable) {
  // DIRECT_OPERATE of a CROB on point 7 in three segments of 8, 8, 2 bytes.
  const Bytes app = {0xC0, 0x05, 12, 1, 0x17, 1, 7, 0x03, 1, 0x10, 0x27, 0, 0, 0, 0, 0, 0, 0};
  auto seg = [&](uint8_t tr, size_t from, size_t to, uint8_t ctl = kMasterCtl) {
    Bytes u = {tr};
    u.insert(u.end(), app.begin() + std::ptrdiff_t(from), app.begin() + std::ptrdiff_t(to));
    return LinkFrame(ctl, 10, 1, u);
  };
  auto read = [](uint8_t tr, uint8_t ctl) {
    return LinkFrame(ctl, 10, 1, User(tr, {0xC1, 0x01, 0x3C, 0x01, 0x06}));
  };
  const OpKind kLink = OpKind::kDnp3Link, kApp = OpKind::kDnp3;
  const std::vector<ReassemblyRow> rows = {
      {"operate FIR, DIR=0 read, operate tail: operate reported",
       {{seg(0x40, 0, 8), kLink, 4, false, false},
        {read(0xC0, kOutstnCtl), kApp, 1, false, false},
        {seg(0x01, 8, 16), kLink, 4, false, false},
        {seg(0x82, 16, 18), kApp, 5, false, true},
        // Reported once: the same FIN again is nothing.
        {seg(0x82, 16, 18), kLink, 4, false, false}}},
      {"operate FIR, unreset confirmed-data read, tail: operate reported",
       {{seg(0x40, 0, 8), kLink, 4, false, false},
        {read(0xC0, 0xF3), kApp, 1, false, false},
        {seg(0x01, 8, 16), kLink, 4, false, false},
        {seg(0x82, 16, 18), kApp, 5, false, true}}},
      {"ignored two-segment read in between (FIR, FIN), then the tail",
       {{seg(0x40, 0, 8), kLink, 4, false, false},
        {read(0x50, kOutstnCtl), kLink, 4, false, false},
        {LinkFrame(kOutstnCtl, 10, 1, User(0x91, {0x00})), kApp, 1, false, false},
        {seg(0x01, 8, 16), kLink, 4, false, false},
        {seg(0x82, 16, 18), kApp, 5, false, true}}},
      {"normal FIR..FIN still decodes with its header",
       {{seg(0x40, 0, 8), kLink, 4, false, false},
        {seg(0x01, 8, 16), kLink, 4, false, false},
        {seg(0x82, 16, 18), kApp, 5, true, false}}},
      {"the current message continues: it is the one reported",
       {{seg(0x40, 0, 8), kLink, 4, false, false},
        {seg(0x45, 0, 8), kLink, 4, false, false},
        {seg(0x06, 8, 16), kLink, 4, false, false},
        {seg(0x87, 16, 18), kApp, 5, true, false}}},
      {"unrelated tail (wrong sequence): no phantom op",
       {{seg(0x40, 0, 8), kLink, 4, false, false},
        {read(0xC0, kOutstnCtl), kApp, 1, false, false},
        {seg(0x09, 8, 16), kLink, 4, false, false},
        {seg(0x8A, 16, 18), kLink, 4, false, false}}},
      {"a single-segment message is never superseded",
       {{read(0xC0, kMasterCtl), kApp, 1, false, false},
        {read(0xC1, kMasterCtl), kApp, 1, false, false},
        {seg(0x81, 16, 18), kLink, 4, false, false}}},
  };
  for (const ReassemblyRow& row : rows) {
    StreamState st;
    for (size_t i = 0; i < row.steps.size(); ++i) {
      const Step& step = row.steps[i];
      const Result r = DecodeBytes(step.frame, st);
      EXPECT_EQ(r.status, DecodeStatus::kOk) << row.name << " step " << i;
      ASSERT_EQ(r.ops.size(), 1u) << row.name << " step " << i;
      const IcsOp& op = r.ops[0];
      EXPECT_EQ(op.kind, step.kind) << row.name << " step " << i;
      EXPECT_EQ(op.function, step.function) << row.name << " step " << i;
      EXPECT_EQ(op.unit, 10u) << row.name << " step " << i;
      if (step.kind == OpKind::kDnp3) {
        EXPECT_EQ(op.direction, Direction::kRequest) << row.name << " step " << i;
      }
      if (step.kind == OpKind::kDnp3 && step.function == 5) {
        EXPECT_EQ(op.Has(kOpHasObject), step.header) << row.name << " step " << i;
        EXPECT_EQ(op.Has(kOpTruncated), step.truncated) << row.name << " step " << i;
        if (step.header) {
          EXPECT_EQ(op.object_group, 12) << row.name << " step " << i;
          EXPECT_EQ(op.address_first, 7u) << row.name << " step " << i;
        } else {
          EXPECT_FALSE(op.Has(kOpHasAddress)) << row.name << " step " << i;
        }
      }
    }
  }
}

// Over UDP there is no Frame(): a datagram's frame whose LEN does not fit its
// link function is malformed there too (the receiver resynchronises in it).
TEST(Dnp3Decode, UdpLengthMustFitFunction) {
  const Bytes read = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x01, 0x3C, 0x01, 0x06}));
  struct Row {
    const char* name;
    Bytes datagram;
    DecodeStatus status;
    size_t ops;
  };
  auto cat = [](Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<Row> rows = {
      {"user data", read, DecodeStatus::kOk, 1},
      {"request link status", LinkFrame(0xC9, 10, 1, {}), DecodeStatus::kOk, 1},
      {"request link status with data", LinkFrame(0xC9, 10, 1, read), DecodeStatus::kMalformed, 0},
      {"reset link with data", LinkFrame(0xC0, 10, 1, read), DecodeStatus::kMalformed, 0},
      {"ack with data", LinkFrame(0x00, 10, 1, User(0xC0, {0xC0, 0x01})), DecodeStatus::kMalformed,
       0},
      {"unconfirmed user data, LEN 5", LinkFrame(kMasterCtl, 10, 1, {}), DecodeStatus::kMalformed,
       0},
      {"confirmed user data, LEN 5", LinkFrame(0xF3, 10, 1, {}), DecodeStatus::kMalformed, 0},
      {"user data, PRM=0", LinkFrame(0x84, 10, 1, User(0xC0, {0xC0, 0x01})),
       DecodeStatus::kMalformed, 0},
      {"good frame, then one that does not fit", cat(read, LinkFrame(0xC9, 10, 1, read)),
       DecodeStatus::kMalformed, 1},
  };
  for (const Row& row : rows) {
    const Result r = DecodeBytes(row.datagram, /*udp=*/true);
    EXPECT_EQ(r.status, row.status) << row.name;
    EXPECT_EQ(r.ops.size(), row.ops) << row.name;
  }
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
    const FrameResult r = dnp3::Frame(c.bytes, c.from_client);
    EXPECT_EQ(r.status, c.status) << c.name;
    if (c.status == FrameStatus::kPdu) EXPECT_EQ(r.length, c.length) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name << ": " << MalformedReasonName(r.reason);
  }
}

TEST(Dnp3Frame, StrictLengthTable) {
  const Bytes ok = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x01, 0x3C, 0x02, 0x06}));
  Bytes bad_crc = ok;
  bad_crc[8] ^= 0xFF;
  ExpectFrames({
      {"request", ok, true, FrameStatus::kPdu, uint32_t(ok.size()), MalformedReason::kNone},
      {"LEN 4", Hex("056404c0"), true, FrameStatus::kMalformed, 0, MalformedReason::kDnp3Length},
      {"header CRC", bad_crc, true, FrameStatus::kMalformed, 0, MalformedReason::kDnp3Crc},
      {"bad start", Hex("0664"), false, FrameStatus::kInvalid, 0, MalformedReason::kNone},
  });
  // LEN against the link function: user data in PRM=1 confirmed and
  // unconfirmed user data (3, 4) only, LEN 5 in every other function. A
  // receiver rejects the header otherwise and resynchronises inside the
  // frame, where a whole frame (a DIRECT_OPERATE) can hide.
  const Bytes inner = LinkFrame(kMasterCtl, 10, 1, User(0xC0, {0xC0, 0x05, 12, 1, 0x17, 1, 7, 3, 1,
                                                                 0x10, 0x27, 0, 0, 0, 0, 0, 0, 0}));
  std::vector<FrameRow> rows;
  struct Fn {
    const char* name;
    uint8_t ctl;
    bool carries;
  };
  for (const Fn& f : {Fn{"reset link", 0xC0, false}, Fn{"test link", 0xD2, false},
                      Fn{"confirmed user data", 0xF3, true}, Fn{"unconfirmed user data", 0xC4, true},
                      Fn{"request link status", 0xC9, false}, Fn{"ack", 0x00, false},
                      Fn{"link status", 0x0B, false}, Fn{"not supported", 0x0F, false},
                      Fn{"unconfirmed, PRM=0", 0x84, false}}) {
    const Bytes empty = LinkFrame(f.ctl, 10, 1, {});
    const Bytes data = LinkFrame(f.ctl, 10, 1, inner);
    rows.push_back({f.name, empty, true, f.carries ? FrameStatus::kMalformed : FrameStatus::kPdu,
                    uint32_t(empty.size()),
                    f.carries ? MalformedReason::kDnp3Length : MalformedReason::kNone});
    rows.push_back({f.name, data, true, f.carries ? FrameStatus::kPdu : FrameStatus::kMalformed,
                    uint32_t(data.size()),
                    f.carries ? MalformedReason::kNone : MalformedReason::kDnp3Length});
  }
  ExpectFrames(rows);
}

}  // namespace
}  // namespace conduit::ics::dnp3
