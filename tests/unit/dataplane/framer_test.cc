// The TCP stream framer and the UDP datagram path, driven through the real
// Modbus, IEC 104 and BACnet modules: PDU boundaries across segments,
// retransmissions, gaps and hole fills, loss of framing, "not ICS" judgement.
#include "ics/framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

#include "ics/bacnet.h"
#include "ics/iec104.h"
#include "ics/modbus.h"
#include "ics/registry.h"
#include "packet/packet_builder.h"

namespace conduit::ics {
namespace {

using Bytes = std::vector<uint8_t>;
using conduit::testing::ModbusAdu;

constexpr uint32_t kIsn = 1000;

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Modbus requests.
Bytes ReadHolding(uint16_t tid, uint16_t start, uint16_t qty) {
  return ModbusAdu(tid, 1, 3, {uint8_t(start >> 8), uint8_t(start), uint8_t(qty >> 8), uint8_t(qty)});
}
Bytes WriteSingle(uint16_t tid, uint16_t addr, uint16_t value) {
  return ModbusAdu(tid, 1, 6, {uint8_t(addr >> 8), uint8_t(addr), uint8_t(value >> 8), uint8_t(value)});
}
// FC 16 with `qty` registers: 13 + 2 * qty bytes (213 for 100).
Bytes WriteMultiple(uint16_t tid, uint16_t start, uint16_t qty) {
  Bytes data = {uint8_t(start >> 8), uint8_t(start), uint8_t(qty >> 8), uint8_t(qty),
                uint8_t(2 * qty)};
  for (uint16_t i = 0; i < qty; ++i) {
    data.push_back(0xA5);
    data.push_back(uint8_t(i));
  }
  return ModbusAdu(tid, 7, 16, data);
}

// IEC 104 APDUs.
const Bytes kStartDtAct = {0x68, 0x04, 0x07, 0x00, 0x00, 0x00};
const Bytes kSFrame = {0x68, 0x04, 0x01, 0x00, 0x02, 0x00};
// C_SC_NA_1 (45), activation, common address 1, IOA 0x000105, SCO on.
const Bytes kSingleCommand = {0x68, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x2D, 0x01,
                              0x06, 0x00, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01};

bool SameOp(const IcsOp& a, const IcsOp& b) { return std::memcmp(&a, &b, sizeof(IcsOp)) == 0; }

// One direction of a TCP stream, with every op it produced.
class Stream {
 public:
  explicit Stream(Protocol p, bool from_client = true)
      : module_(*ModuleFor(p)), from_client_(from_client) {}

  FeedResult Feed(uint32_t seq, std::span<const uint8_t> payload, bool syn = false) {
    ops_.Clear();
    const FeedResult r = FeedTcpSegment(module_, state_, seq, syn, payload, from_client_, ops_);
    all_.insert(all_.end(), ops_.begin(), ops_.end());
    EXPECT_EQ(ops_.overflowed(), 0u);
    return r;
  }
  // Feeds `bytes` cut at `cuts` (offsets), starting at `seq`; returns the
  // number of ops each segment produced.
  std::vector<size_t> FeedCut(uint32_t seq, const Bytes& bytes, std::initializer_list<size_t> cuts) {
    return FeedCut(seq, bytes, std::vector<size_t>(cuts));
  }
  std::vector<size_t> FeedCut(uint32_t seq, const Bytes& bytes, const std::vector<size_t>& cuts) {
    std::vector<size_t> per_segment;
    size_t from = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(bytes.size());
    for (size_t to : ends) {
      const FeedResult r = Feed(seq + uint32_t(from), std::span(bytes).subspan(from, to - from));
      EXPECT_EQ(r.status, FeedStatus::kOk) << "segment [" << from << ", " << to << ")";
      EXPECT_FALSE(r.gap);
      EXPECT_EQ(r.decode_errors, 0);
      per_segment.push_back(ops_.size());
      from = to;
    }
    return per_segment;
  }

  const OpList& last_ops() const { return ops_; }
  const std::vector<IcsOp>& all() const { return all_; }
  const StreamDirection& state() const { return state_; }

 private:
  const ProtocolModule& module_;
  bool from_client_;
  StreamDirection state_;
  OpList ops_;
  std::vector<IcsOp> all_;
};

std::vector<IcsOp> Unsplit(Protocol p, const Bytes& bytes) {
  Stream s(p);
  s.Feed(kIsn, bytes);
  return s.all();
}

// Ops whose PDU ends in (from, to]: the segment that completes a PDU owns it.
size_t PdusEndingIn(const std::vector<size_t>& pdu_ends, size_t from, size_t to) {
  size_t n = 0;
  for (size_t e : pdu_ends) n += e > from && e <= to;
  return n;
}

void ExpectSameOps(const std::vector<IcsOp>& got, const std::vector<IcsOp>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(SameOp(got[i], want[i])) << "op " << i;
}

TEST(Framer, ModulesExist) {
  ASSERT_NE(ModuleFor(Protocol::kModbus), nullptr);
  ASSERT_NE(ModuleFor(Protocol::kIec104), nullptr);
  ASSERT_NE(ModuleFor(Protocol::kBacnet), nullptr);
}

TEST(Framer, SeveralPdusInOneSegment) {
  Stream s(Protocol::kModbus);
  const Bytes seg = Cat({ReadHolding(1, 100, 10), WriteSingle(2, 40, 7), WriteMultiple(3, 200, 4)});
  const FeedResult r = s.Feed(kIsn, seg);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 3);
  EXPECT_EQ(r.decode_errors, 0);
  ASSERT_EQ(s.last_ops().size(), 3u);
  EXPECT_EQ(s.last_ops()[0].function, 3);
  EXPECT_EQ(s.last_ops()[0].address_first, 100u);
  EXPECT_EQ(s.last_ops()[0].address_last, 109u);
  EXPECT_EQ(s.last_ops()[1].function, 6);
  EXPECT_EQ(s.last_ops()[1].address_first, 40u);
  EXPECT_EQ(s.last_ops()[2].function, 16);
  EXPECT_EQ(s.last_ops()[2].unit, 7u);
  EXPECT_EQ(s.last_ops()[2].address_last, 203u);
  EXPECT_EQ(s.last_ops()[2].direction, Direction::kRequest);
  EXPECT_EQ(s.state().sync, StreamSync::kSynced);
}

TEST(Framer, Iec104SeveralApdusInOneSegment) {
  Stream s(Protocol::kIec104);
  const FeedResult r = s.Feed(kIsn, Cat({kStartDtAct, kSFrame, kSingleCommand}));
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 3);
  ASSERT_EQ(s.last_ops().size(), 3u);
  EXPECT_EQ(s.last_ops()[0].kind, OpKind::kIec104Apci);
  EXPECT_EQ(s.last_ops()[0].function, iec104::kStartDtAct);
  EXPECT_EQ(s.last_ops()[1].function, iec104::kApciS);
  EXPECT_EQ(s.last_ops()[2].kind, OpKind::kIec104);
  EXPECT_EQ(s.last_ops()[2].function, 45);
  EXPECT_EQ(s.last_ops()[2].address_first, 0x105u);
}

TEST(Framer, ServerDirectionGivesResponses) {
  Stream s(Protocol::kModbus, /*from_client=*/false);
  s.Feed(kIsn, ModbusAdu(1, 1, 3, {4, 0, 1, 0, 2}));
  ASSERT_EQ(s.all().size(), 1u);
  EXPECT_EQ(s.all()[0].direction, Direction::kResponse);
}

TEST(Framer, PduSplitAcrossTwoSegmentsAtEveryOffset) {
  const Bytes pdu = ReadHolding(9, 300, 2);
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, pdu);
  ASSERT_EQ(want.size(), 1u);
  for (size_t cut = 1; cut < pdu.size(); ++cut) {
    SCOPED_TRACE(cut);
    Stream s(Protocol::kModbus);
    EXPECT_EQ(s.FeedCut(kIsn, pdu, {cut}), (std::vector<size_t>{0, 1}));
    ExpectSameOps(s.all(), want);
  }
}

TEST(Framer, PduSplitInsideMbapHeader) {
  const Bytes pdu = WriteSingle(5, 77, 1);
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, pdu);
  // 1 + 6 (the rest of the MBAP) + body; 3 + 3 + 1 + body; 1 + 1 + rest.
  const std::vector<std::vector<size_t>> kCuts = {
      {1, 7}, {3, 6, 7}, {1, 2}, {6, 8}, {4, 5, 6, 7, 8, 9, 10, 11}};
  for (const std::vector<size_t>& cuts : kCuts) {
    Stream s(Protocol::kModbus);
    const std::vector<size_t> per = s.FeedCut(kIsn, pdu, cuts);
    for (size_t i = 0; i + 1 < per.size(); ++i) EXPECT_EQ(per[i], 0u);
    EXPECT_EQ(per.back(), 1u);
    ExpectSameOps(s.all(), want);
  }
}

TEST(Framer, PduLongerThanCarrySplitAcrossSegments) {
  const Bytes pdu = WriteMultiple(4, 1000, 100);
  ASSERT_EQ(pdu.size(), 213u);
  ASSERT_GT(pdu.size(), StreamDirection::kCarryBytes);
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, pdu);
  ASSERT_EQ(want.size(), 1u);
  EXPECT_EQ(want[0].address_first, 1000u);
  EXPECT_EQ(want[0].address_last, 1099u);
  EXPECT_FALSE(want[0].Has(kOpTruncated));

  // Inside the carry, at its edge, near the end, and inside the MBAP header.
  const std::vector<std::vector<size_t>> kCuts = {
      {100}, {50, 150}, {96}, {95, 97}, {200, 212}, {1}, {1, 7}, {3, 100}, {6}, {7},
      {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120}};
  for (const std::vector<size_t>& cuts : kCuts) {
    SCOPED_TRACE(::testing::PrintToString(cuts));
    Stream s(Protocol::kModbus);
    const std::vector<size_t> per = s.FeedCut(kIsn, pdu, cuts);
    for (size_t i = 0; i + 1 < per.size(); ++i) EXPECT_EQ(per[i], 0u) << "segment " << i;
    EXPECT_EQ(per.back(), 1u);  // decoded from the kept prefix, on the last segment
    ExpectSameOps(s.all(), want);
    EXPECT_EQ(s.state().pdu_length, 0u);
    EXPECT_EQ(s.state().carry_len, 0);
  }
}

// Regression: a header split (carry in use) before a PDU longer than the carry
// used to count the whole rest of the segment into that PDU, so it and every
// later PDU of the stream were swallowed undecoded with status kOk.
TEST(Framer, SplitHeaderThenLongPduDoesNotSwallowLaterPdus) {
  const Bytes big = WriteMultiple(1, 0x100, 100);
  const Bytes rest = Cat({Bytes(big.begin() + 1, big.end()), WriteSingle(2, 0x42, 1)});
  Stream s(Protocol::kModbus);
  EXPECT_EQ(s.Feed(kIsn, std::span(big).first(1)).status, FeedStatus::kOk);
  FeedResult r = s.Feed(kIsn + 1, rest);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 2);
  ASSERT_EQ(s.last_ops().size(), 2u);
  EXPECT_EQ(s.last_ops()[0].function, 16);
  EXPECT_EQ(s.last_ops()[0].address_first, 0x100u);
  EXPECT_EQ(s.last_ops()[1].function, 6);
  EXPECT_EQ(s.last_ops()[1].address_first, 0x42u);
  r = s.Feed(kIsn + 1 + uint32_t(rest.size()), WriteSingle(3, 0x43, 1));
  EXPECT_EQ(r.pdus, 1);
  EXPECT_EQ(s.all().size(), 3u);
}

// Every way to cut a stream of several PDUs (one longer than the carry) into
// two or three segments gives the unsplit ops, each on the segment that
// completes its PDU.
TEST(Framer, EverySplitPointMatchesUnsplit) {
  const Bytes pdus[] = {ReadHolding(1, 10, 3), WriteMultiple(2, 500, 100), WriteSingle(3, 9, 9),
                        ReadHolding(4, 0, 1)};
  Bytes stream;
  std::vector<size_t> ends;
  for (const Bytes& p : pdus) {
    stream.insert(stream.end(), p.begin(), p.end());
    ends.push_back(stream.size());
  }
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, stream);
  ASSERT_EQ(want.size(), 4u);

  const size_t n = stream.size();
  for (size_t i = 1; i < n; ++i) {
    Stream s(Protocol::kModbus);
    const std::vector<size_t> per = s.FeedCut(kIsn, stream, {i});
    ASSERT_EQ(per, (std::vector<size_t>{PdusEndingIn(ends, 0, i), PdusEndingIn(ends, i, n)}))
        << "cut at " << i;
    ExpectSameOps(s.all(), want);
    if (HasFailure()) return;
  }
  for (size_t i = 1; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      Stream s(Protocol::kModbus);
      const std::vector<size_t> per = s.FeedCut(kIsn, stream, {i, j});
      ASSERT_EQ(per, (std::vector<size_t>{PdusEndingIn(ends, 0, i), PdusEndingIn(ends, i, j),
                                          PdusEndingIn(ends, j, n)}))
          << "cuts at " << i << ", " << j;
      ExpectSameOps(s.all(), want);
      if (HasFailure()) return;
    }
  }
}

TEST(Framer, ByteAtATime) {
  const Bytes modbus = Cat({WriteMultiple(1, 0, 60), ReadHolding(2, 5, 5)});
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, modbus);
  Stream s(Protocol::kModbus);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < modbus.size(); ++i) cuts.push_back(i);
  const std::vector<size_t> per = s.FeedCut(kIsn, modbus, cuts);
  EXPECT_EQ(per[132], 1u);  // the last byte of the 133-byte FC 16
  EXPECT_EQ(per.back(), 1u);
  ExpectSameOps(s.all(), want);
}

TEST(Framer, Iec104EverySplitPointMatchesUnsplit) {
  const Bytes stream = Cat({kStartDtAct, kSingleCommand, kSFrame});
  const std::vector<size_t> ends = {6, 22, 28};
  const std::vector<IcsOp> want = Unsplit(Protocol::kIec104, stream);
  ASSERT_EQ(want.size(), 3u);
  for (size_t i = 1; i < stream.size(); ++i) {
    Stream s(Protocol::kIec104);
    const std::vector<size_t> per = s.FeedCut(kIsn, stream, {i});
    EXPECT_EQ(per, (std::vector<size_t>{PdusEndingIn(ends, 0, i),
                                        PdusEndingIn(ends, i, stream.size())}))
        << i;
    ExpectSameOps(s.all(), want);
  }
}

TEST(Framer, SequenceNumberWraps) {
  const Bytes stream = Cat({ReadHolding(1, 1, 1), WriteSingle(2, 2, 2)});
  Stream s(Protocol::kModbus);
  const uint32_t isn = 0xFFFFFFFAu;  // the wrap falls inside the first PDU
  EXPECT_EQ(s.FeedCut(isn, stream, {8, 16}), (std::vector<size_t>{0, 1, 1}));
  EXPECT_EQ(s.Feed(isn, stream).status, FeedStatus::kRetransmission);
}

// Regression (fuzz_framer, UBSan): a segment exactly 2^31 behind the next
// expected byte negated INT32_MIN. It is old data: a retransmission.
TEST(Framer, SegmentHalfTheSequenceSpaceBehind) {
  const Bytes a = ReadHolding(1, 1, 1);
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  const uint32_t next = kIsn + uint32_t(a.size());
  EXPECT_EQ(s.Feed(next - 0x80000000u, a).status, FeedStatus::kRetransmission);
  EXPECT_EQ(s.Feed(next, a).status, FeedStatus::kOk);  // the stream still frames
  EXPECT_EQ(s.all().size(), 2u);
}

TEST(Framer, PureRetransmission) {
  const Bytes a = ReadHolding(1, 1, 1), b = WriteSingle(2, 2, 2);
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  s.Feed(kIsn + 12, b);
  ASSERT_EQ(s.all().size(), 2u);
  for (uint32_t seq : {kIsn, kIsn + 12}) {
    const FeedResult r = s.Feed(seq, seq == kIsn ? a : b);
    EXPECT_EQ(r.status, FeedStatus::kRetransmission);
    EXPECT_EQ(r.pdus, 0);
    EXPECT_TRUE(s.last_ops().empty());
  }
  // Old bytes re-sent as one segment; a suffix of them.
  EXPECT_EQ(s.Feed(kIsn, Cat({a, b})).status, FeedStatus::kRetransmission);
  EXPECT_EQ(s.Feed(kIsn + 5, std::span(b).subspan(0, 3)).status, FeedStatus::kRetransmission);
  EXPECT_EQ(s.all().size(), 2u);
  // The stream goes on.
  EXPECT_EQ(s.Feed(kIsn + 24, a).status, FeedStatus::kOk);
  EXPECT_EQ(s.all().size(), 3u);
}

TEST(Framer, PartialOverlapFramesOnlyTheNewTail) {
  const Bytes a = ReadHolding(1, 1, 1), b = WriteSingle(2, 2, 2), c = ReadHolding(3, 3, 3);
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  FeedResult r = s.Feed(kIsn, Cat({a, b}));  // a again, b new
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 1);
  ASSERT_EQ(s.last_ops().size(), 1u);
  EXPECT_EQ(s.last_ops()[0].function, 6);

  // Overlap inside a PDU: 5 bytes of c seen, then c re-sent whole with more.
  const Bytes d = WriteSingle(4, 4, 4);
  s.Feed(kIsn + 24, std::span(c).first(5));
  r = s.Feed(kIsn + 24, Cat({c, d}));
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 2);
  ASSERT_EQ(s.all().size(), 4u);
  EXPECT_EQ(s.all()[2].function, 3);
  EXPECT_EQ(s.all()[2].address_first, 3u);
  EXPECT_EQ(s.all()[3].function, 6);
}

TEST(Framer, GapRestartsAtNextPduAndHoleFillIsUnparsable) {
  const Bytes a = ReadHolding(1, 1, 1), b = WriteSingle(2, 66, 1), c = ReadHolding(3, 3, 3),
              d = WriteSingle(4, 4, 4);
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  FeedResult r = s.Feed(kIsn + 24, c);  // b was lost before the gateway
  EXPECT_TRUE(r.gap);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  ASSERT_EQ(s.last_ops().size(), 1u);  // c starts a PDU: framing restarts there
  EXPECT_EQ(s.last_ops()[0].function, 3);

  r = s.Feed(kIsn + 12, b);  // the lost write arrives late
  EXPECT_EQ(r.status, FeedStatus::kHoleFill);
  EXPECT_FALSE(r.gap);
  EXPECT_EQ(r.pdus, 0);
  EXPECT_TRUE(s.last_ops().empty());
  // Overlapping the hole partly is a hole fill too.
  const Bytes ab = Cat({a, b}), bc = Cat({b, c});
  EXPECT_EQ(s.Feed(kIsn + 6, std::span(ab).subspan(6, 12)).status, FeedStatus::kHoleFill);
  EXPECT_EQ(s.Feed(kIsn + 20, std::span(bc).subspan(8, 10)).status, FeedStatus::kHoleFill);
  // Bytes before the hole are a plain retransmission.
  EXPECT_EQ(s.Feed(kIsn, a).status, FeedStatus::kRetransmission);

  r = s.Feed(kIsn + 36, d);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_FALSE(r.gap);
  ASSERT_EQ(s.all().size(), 3u);  // a, c, d: never b
  EXPECT_EQ(s.all()[2].function, 6);
  EXPECT_EQ(s.all()[2].address_first, 4u);
}

TEST(Framer, GapIntoMidPduResyncsAtNextBoundary) {
  const Bytes a = ReadHolding(1, 1, 1), b = WriteMultiple(2, 0x1234, 8), c = WriteSingle(3, 3, 3);
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  // The head of b is lost; its tail (register values) cannot frame.
  FeedResult r = s.Feed(kIsn + 12 + 9, std::span(b).subspan(9));
  EXPECT_TRUE(r.gap);
  EXPECT_TRUE(s.last_ops().empty());
  EXPECT_EQ(r.status, FeedStatus::kUnframed);  // a failed sync attempt: not inspected, retried
  r = s.Feed(kIsn + 12 + uint32_t(b.size()), c);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  ASSERT_EQ(s.last_ops().size(), 1u);
  EXPECT_EQ(s.last_ops()[0].function, 6);
  EXPECT_EQ(s.state().sync, StreamSync::kSynced);
}

TEST(Framer, GapWithoutResyncLosesFraming) {
  const Bytes a = ReadHolding(1, 1, 1);
  const Bytes junk = {0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04};
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  uint32_t seq = kIsn + 100;
  std::vector<FeedStatus> statuses;
  for (int i = 0; i < 5; ++i) {
    statuses.push_back(s.Feed(seq, junk).status);
    seq += uint32_t(junk.size());
  }
  // Synced before, so never "not ICS": after the allowed attempts, lost.
  EXPECT_EQ(statuses, (std::vector<FeedStatus>{FeedStatus::kUnframed, FeedStatus::kUnframed,
                                               FeedStatus::kUnframed, FeedStatus::kFramingLost,
                                               FeedStatus::kUnparsable}));
  // Lost: the read is not framed, but the scan finds it as a candidate.
  // (After the gap, where a server framing by function is is unknown: the
  // junk is not read as its requests.)
  const FeedResult r = s.Feed(seq, a);
  EXPECT_EQ(r.status, FeedStatus::kUnparsable);
  EXPECT_EQ(r.pdus, 0);
  EXPECT_EQ(r.candidates, 1);
  ASSERT_EQ(s.all().size(), 2u);
  EXPECT_EQ(s.all()[1].function, 3);
}

TEST(Framer, InvalidHeaderAfterSyncLosesFramingForGood) {
  const Bytes a = ReadHolding(1, 1, 1), b = WriteSingle(2, 2, 2);
  Bytes bad = b;
  bad[3] = 0x01;  // protocol id 1
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, a);
  FeedResult r = s.Feed(kIsn + 12, Cat({b, bad}));  // good PDU, then a bad header
  EXPECT_EQ(r.status, FeedStatus::kFramingLost);
  EXPECT_EQ(r.pdus, 1);
  // libmodbus ignores the protocol id: the bad header is judged as the
  // write it executes.
  EXPECT_EQ(r.candidates, 1);
  ASSERT_EQ(s.all().size(), 3u);
  EXPECT_EQ(s.all()[2].function, 6);
  EXPECT_EQ(s.all()[2].address_first, 2u);
  uint32_t seq = kIsn + 36;
  for (int i = 0; i < 3; ++i, seq += 12) {
    r = s.Feed(seq, a);
    EXPECT_EQ(r.status, FeedStatus::kUnparsable);
    EXPECT_EQ(r.pdus, 0);
    EXPECT_EQ(r.candidates, 1);  // never framed again, but still found
  }
  EXPECT_EQ(s.all().size(), 6u);
  EXPECT_EQ(s.state().sync, StreamSync::kLost);
}

TEST(Framer, BadLengthAfterSyncLosesFraming) {
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, ReadHolding(1, 1, 1));
  const Bytes huge_length = {0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03};  // length 256
  EXPECT_EQ(s.Feed(kIsn + 12, huge_length).status, FeedStatus::kFramingLost);
  EXPECT_EQ(s.Feed(kIsn + 20, ReadHolding(1, 1, 1)).status, FeedStatus::kUnparsable);
}

TEST(Framer, NonModbusPayloadIsNotIcs) {
  const char* kHttp = "GET / HTTP/1.1\r\nHost: plc\r\n\r\n";
  const Bytes http(kHttp, kHttp + std::strlen(kHttp));
  Stream s(Protocol::kModbus);
  uint32_t seq = kIsn;
  // kMaxSyncAttempts (framer.cc) = 4: three segments may fail to frame.
  for (int i = 0; i < 3; ++i, seq += uint32_t(http.size())) {
    const FeedResult r = s.Feed(seq, http);
    EXPECT_EQ(r.status, FeedStatus::kUnframed) << i;
    EXPECT_EQ(r.pdus, 0);
  }
  EXPECT_EQ(s.Feed(seq, http).status, FeedStatus::kNotIcs);
  seq += uint32_t(http.size());
  EXPECT_EQ(s.state().sync, StreamSync::kNotIcs);
  // Valid Modbus later in the stream does not make it Modbus, but it is a
  // candidate: the server may find it as well as the scan does.
  const FeedResult later = s.Feed(seq, ReadHolding(1, 1, 1));
  EXPECT_EQ(later.status, FeedStatus::kNotIcs);
  EXPECT_EQ(later.candidates, 1);
  ASSERT_EQ(s.all().size(), 1u);
  EXPECT_EQ(s.all()[0].function, 3);
}

TEST(Framer, NonIec104PayloadIsNotIcs) {
  Stream s(Protocol::kIec104);
  const Bytes junk = {0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01};  // a TLS hello
  std::vector<FeedStatus> statuses;
  for (uint32_t i = 0; i < 5; ++i) statuses.push_back(s.Feed(kIsn + 9 * i, junk).status);
  EXPECT_EQ(statuses, (std::vector<FeedStatus>{FeedStatus::kUnframed, FeedStatus::kUnframed,
                                               FeedStatus::kUnframed, FeedStatus::kNotIcs,
                                               FeedStatus::kNotIcs}));
  EXPECT_TRUE(s.all().empty());
}

TEST(Framer, MidStreamPickupSyncsWithinAllowedAttempts) {
  Stream s(Protocol::kModbus);
  const Bytes tail = {0x12, 0x34, 0x56, 0x78, 0x9A};  // the end of an unseen PDU
  EXPECT_EQ(s.Feed(kIsn, tail).status, FeedStatus::kUnframed);
  const FeedResult r = s.Feed(kIsn + 5, ReadHolding(1, 8, 1));
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(s.all().size(), 1u);
  EXPECT_EQ(s.state().sync, StreamSync::kSynced);
}

TEST(Framer, SynSetsSequenceStart) {
  const Bytes a = ReadHolding(1, 1, 1);
  {
    Stream s(Protocol::kModbus);
    EXPECT_EQ(s.Feed(kIsn - 1, {}, /*syn=*/true).status, FeedStatus::kOk);
    const FeedResult r = s.Feed(kIsn, a);
    EXPECT_FALSE(r.gap);
    EXPECT_EQ(s.all().size(), 1u);
  }
  {
    // Data that skips the first bytes after the SYN is a gap.
    Stream s(Protocol::kModbus);
    s.Feed(kIsn - 1, {}, /*syn=*/true);
    const FeedResult r = s.Feed(kIsn + 12, a);
    EXPECT_TRUE(r.gap);
    EXPECT_EQ(s.all().size(), 1u);  // a still starts a PDU
    EXPECT_EQ(s.Feed(kIsn, a).status, FeedStatus::kHoleFill);
  }
  {
    // Without a SYN the first data segment sets the start.
    Stream s(Protocol::kModbus);
    EXPECT_FALSE(s.Feed(kIsn + 500, a).gap);
    EXPECT_EQ(s.Feed(kIsn + 500, a).status, FeedStatus::kRetransmission);
  }
}

// Regression: data on a SYN (TCP Fast Open) reaches the server but was
// skipped uninspected with status kOk.
TEST(Framer, SynPayloadIsFramed) {
  const Bytes a = WriteSingle(1, 0x10, 1), b = ReadHolding(2, 2, 2);
  Stream s(Protocol::kModbus);
  const FeedResult r = s.Feed(kIsn - 1, a, /*syn=*/true);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 1);
  ASSERT_EQ(s.all().size(), 1u);
  EXPECT_EQ(s.all()[0].function, 6);
  EXPECT_FALSE(s.Feed(kIsn + 12, b).gap);  // the data took kIsn..kIsn + 11
  EXPECT_EQ(s.all().size(), 2u);
}

TEST(Framer, EmptySegmentChangesNothing) {
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, ReadHolding(1, 1, 1));
  const FeedResult r = s.Feed(kIsn + 500, {});  // a pure ACK far ahead
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_FALSE(r.gap);
  EXPECT_FALSE(s.Feed(kIsn + 12, ReadHolding(2, 2, 2)).gap);
  EXPECT_EQ(s.all().size(), 2u);
}

// BACnet/IP: the datagram is the PDU.
const Bytes kWhoIs = {0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08};
const Bytes kReadProperty = {0x81, 0x0A, 0x00, 0x11, 0x01, 0x04, 0x00, 0x05, 0x01,
                             0x0C, 0x0C, 0x02, 0x00, 0x00, 0x01, 0x19, 0x4D};

TEST(Framer, DatagramsDecodeOneByOne) {
  const ProtocolModule& m = *ModuleFor(Protocol::kBacnet);
  StreamDirection st;
  OpList ops;
  FeedResult r = FeedDatagram(m, st, kWhoIs, true, ops);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 1);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0].kind, OpKind::kBacnetUnconfirmed);
  EXPECT_EQ(ops[0].function, 8);  // who-is

  r = FeedDatagram(m, st, kReadProperty, true, ops);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[1].kind, OpKind::kBacnetConfirmed);
  EXPECT_EQ(ops[1].function, 12);  // read-property
  EXPECT_EQ(ops[1].object_group, 8);  // device object
  EXPECT_EQ(ops[1].object_instance, 1u);

  // Not BACnet: this datagram is not ICS, the next one is judged afresh.
  const Bytes dns = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00};
  r = FeedDatagram(m, st, dns, true, ops);
  EXPECT_EQ(r.status, FeedStatus::kNotIcs);
  EXPECT_EQ(ops.size(), 2u);
  r = FeedDatagram(m, st, kWhoIs, true, ops);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(ops.size(), 3u);
  EXPECT_EQ(st.sync, StreamSync::kUnsynced);  // datagrams keep no stream state

  r = FeedDatagram(m, st, {}, true, ops);
  EXPECT_EQ(r.pdus, 0);
  EXPECT_EQ(ops.size(), 3u);
}

// --- Strict framing: a declared length its function does not allow --------

// FC 3 read whose MBAP length says 200 (the desync: a framer trusting it
// would take the next PDU as the read's body, a PLC framing by function code
// executes it as a write).
Bytes OverstatedRead(uint16_t tid) {
  Bytes b = ReadHolding(tid, 0, 1);
  b[4] = 0;
  b[5] = 200;
  return b;
}

// A UMAS request (Modbus function 90): [session][UMAS function][data].
Bytes Umas(uint16_t tid, uint8_t umas_function, size_t data_bytes = 0) {
  Bytes data = {0x00, umas_function};
  data.resize(2 + data_bytes, 0x5C);
  return ModbusAdu(tid, 0, 90, data);
}

TEST(Framer, OverstatedMbapLengthLosesFramingInOneSegment) {
  Stream s(Protocol::kModbus);
  s.Feed(kIsn, ReadHolding(1, 1, 1));
  const Bytes read = OverstatedRead(2), write = WriteSingle(3, 40, 0xDEAD);
  const FeedResult r = s.Feed(kIsn + 12, Cat({read, write}));
  EXPECT_EQ(r.status, FeedStatus::kFramingLost);
  EXPECT_EQ(r.malformed, MalformedReason::kModbusLengthMismatch);
  EXPECT_EQ(MalformedReasonName(r.malformed), "modbus_length_mismatch");
  // Framing stops at the read. Every reading is judged (so a denied write is
  // blocked even under `unparsable: allow`): the read as a server framing by
  // function (12 bytes) and one framing by MBAP length (206) each read it,
  // then the write, where the first finds it (judged once).
  EXPECT_EQ(r.candidates, 3);
  ASSERT_EQ(s.all().size(), 4u);
  EXPECT_EQ(s.all()[1].function, 3);
  EXPECT_EQ(s.all()[2].function, 3);
  EXPECT_EQ(s.all()[3].function, 6);
  EXPECT_EQ(s.all()[3].address_first, 40u);
  EXPECT_EQ(s.state().sync, StreamSync::kLost);
  EXPECT_EQ(s.Feed(kIsn + 12 + 24, ReadHolding(4, 1, 1)).status, FeedStatus::kUnparsable);
}

TEST(Framer, OverstatedMbapLengthLosesFramingAcrossSegments) {
  const Bytes stream = Cat({ReadHolding(1, 1, 1), OverstatedRead(2), WriteSingle(3, 40, 0xDEAD)});
  // Cut anywhere after the good read: the pair never frames, the write is
  // never decoded as the read's body, and is found once as a candidate.
  for (size_t cut = 13; cut < stream.size(); ++cut) {
    Stream s(Protocol::kModbus);
    EXPECT_EQ(s.Feed(kIsn, std::span(stream).first(12)).status, FeedStatus::kOk);
    const FeedResult a = s.Feed(kIsn + 12, std::span(stream).subspan(12, cut - 12));
    const FeedResult b = s.Feed(kIsn + uint32_t(cut), std::span(stream).subspan(cut));
    const MalformedReason why = a.malformed != MalformedReason::kNone ? a.malformed : b.malformed;
    EXPECT_EQ(why, MalformedReason::kModbusLengthMismatch) << "cut " << cut;
    EXPECT_TRUE(a.status == FeedStatus::kFramingLost || b.status == FeedStatus::kFramingLost)
        << "cut " << cut;
    EXPECT_EQ(a.candidates + b.candidates, 3) << "cut " << cut;
    ASSERT_EQ(s.all().size(), 4u) << "cut " << cut;
    EXPECT_EQ(s.all()[1].function, 3) << "cut " << cut;  // the read, as each server reads it
    EXPECT_EQ(s.all()[2].function, 3) << "cut " << cut;
    EXPECT_EQ(s.all()[3].function, 6) << "cut " << cut;
    EXPECT_EQ(s.state().sync, StreamSync::kLost);
    if (HasFailure()) return;
  }
}

TEST(Framer, ResponseLengthMismatchLosesFraming) {
  Stream s(Protocol::kModbus, /*from_client=*/false);
  const Bytes ok = ModbusAdu(1, 1, 6, {0, 40, 0, 7});  // echo of a write
  Bytes bad = ModbusAdu(2, 1, 0x83, {0x02, 0x00});      // exception with a trailing byte
  EXPECT_EQ(s.Feed(kIsn, ok).status, FeedStatus::kOk);
  const FeedResult r = s.Feed(kIsn + uint32_t(ok.size()), bad);
  EXPECT_EQ(r.status, FeedStatus::kFramingLost);
  EXPECT_EQ(r.malformed, MalformedReason::kModbusLengthMismatch);
}

TEST(Framer, QuantityOutOfRangeIsReportedButFramed) {
  // The length agrees with the function (every stack cuts here), so framing
  // holds; the PDU is reported malformed.
  Stream s(Protocol::kModbus);
  const Bytes zero_qty = ReadHolding(1, 0, 0);
  const FeedResult r = s.Feed(kIsn, Cat({zero_qty, ReadHolding(2, 0, 1)}));
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.pdus, 2);
  EXPECT_EQ(r.decode_errors, 1);
  EXPECT_EQ(r.malformed, MalformedReason::kModbusQuantity);
  EXPECT_EQ(s.all().size(), 2u);
}

TEST(Framer, UmasSessionWithLength255KeepsFraming) {
  // Init comm, read id, a 255-length block download, monitor, stop.
  const Bytes stream = Cat({Umas(1, 0x01), Umas(2, 0x02), Umas(3, 0x34, 251), Umas(4, 0x50, 3),
                            Umas(5, 0x41)});
  ASSERT_EQ(stream[20 + 4], 0);
  ASSERT_EQ(stream[20 + 5], 255);  // the third PDU's MBAP length
  Stream s(Protocol::kModbus);
  const FeedResult r = s.Feed(kIsn, stream);
  EXPECT_EQ(r.status, FeedStatus::kOk);
  EXPECT_EQ(r.malformed, MalformedReason::kNone);
  EXPECT_EQ(r.decode_errors, 0);
  ASSERT_EQ(s.all().size(), 5u);
  const uint8_t want[] = {0x01, 0x02, 0x34, 0x50, 0x41};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(s.all()[i].function, 90);
    EXPECT_TRUE(s.all()[i].Has(kOpHasSubFunction));
    EXPECT_EQ(s.all()[i].sub_function, want[i]);
  }
  EXPECT_EQ(FunctionName(s.all()[4]), "umas_stop_plc");
  EXPECT_EQ(FunctionName(s.all()[2]), "umas_download_block");
  EXPECT_EQ(s.state().sync, StreamSync::kSynced);
}

TEST(Framer, UmasAndStrictPdusSplitAtEveryOffsetGiveTheSameOps) {
  const Bytes stream = Cat({ReadHolding(1, 10, 3), Umas(2, 0x34, 251), WriteMultiple(3, 5, 20),
                            Umas(4, 0x22, 8)});
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, stream);
  ASSERT_EQ(want.size(), 4u);
  for (size_t i = 1; i < stream.size(); ++i) {
    Stream s(Protocol::kModbus);
    s.FeedCut(kIsn, stream, {i});
    ExpectSameOps(s.all(), want);
    if (HasFailure()) return;
  }
}

TEST(Framer, Fc23HeaderSplitBeforeItsByteCount) {
  // FC 23's length is decided by byte 16: every split before it waits.
  const Bytes rw = ModbusAdu(1, 1, 23, {0, 3, 0, 6, 0, 14, 0, 3, 6, 0, 0xFF, 0, 0xFF, 0, 0xFF});
  const Bytes stream = Cat({rw, ReadHolding(2, 0, 1)});
  const std::vector<IcsOp> want = Unsplit(Protocol::kModbus, stream);
  ASSERT_EQ(want.size(), 2u);
  for (size_t i = 1; i < 18; ++i) {
    Stream s(Protocol::kModbus);
    s.FeedCut(kIsn, stream, {i});
    ExpectSameOps(s.all(), want);
  }
}

// ---- After framing is lost: candidates -----------------------------------

// A stream lost on an overstated read (framing stops there).
Stream LostModbusStream(uint32_t* next_seq) {
  Stream s(Protocol::kModbus);
  const Bytes read = ReadHolding(1, 1, 1), bad = OverstatedRead(2);
  s.Feed(kIsn, read);
  s.Feed(kIsn + 12, bad);
  EXPECT_EQ(s.state().sync, StreamSync::kLost);
  *next_seq = kIsn + 24;
  return s;
}

TEST(Framer, LostStreamFindsACandidateSplitAtEveryByte) {
  const Bytes write = WriteSingle(3, 40, 0xDEAD);
  for (size_t step : {1u, 2u, 3u, 5u}) {
    uint32_t seq;
    Stream s = LostModbusStream(&seq);
    const size_t before = s.all().size();
    int candidates = 0;
    for (size_t i = 0; i < write.size(); i += step) {
      const size_t n = std::min(step, write.size() - i);
      const FeedResult r = s.Feed(seq + uint32_t(i), std::span(write).subspan(i, n));
      EXPECT_EQ(r.status, FeedStatus::kUnparsable);
      candidates += r.candidates;
    }
    EXPECT_EQ(candidates, 1) << "step " << step;
    ASSERT_EQ(s.all().size(), before + 1) << "step " << step;
    EXPECT_EQ(s.all().back().function, 6);
    EXPECT_EQ(s.all().back().address_first, 40u);
  }
}

TEST(Framer, LostStreamScansEachByteOnce) {
  uint32_t seq;
  Stream s = LostModbusStream(&seq);
  const Bytes write = WriteSingle(3, 40, 0xDEAD);
  EXPECT_EQ(s.Feed(seq, write).candidates, 1);
  // An identical retransmission (the normalizer lets only those through).
  EXPECT_EQ(s.Feed(seq, write).candidates, 0);
  // A partial retransmission plus new bytes: only the new ones are scanned.
  const Bytes two = Cat({write, ReadHolding(4, 1, 1)});
  EXPECT_EQ(s.Feed(seq, two).candidates, 1);
  EXPECT_EQ(s.all().back().function, 3);
}

TEST(Framer, LostStreamGapDropsTheTail) {
  // The first 5 bytes of a write, then a gap of 2 bytes, then its rest: no
  // candidate is spliced together across bytes the gateway never saw.
  uint32_t seq;
  Stream s = LostModbusStream(&seq);
  const Bytes write = WriteSingle(3, 40, 0xDEAD);
  EXPECT_EQ(s.Feed(seq, std::span(write).first(5)).candidates, 0);
  Bytes rest(write.begin() + 5, write.end());
  EXPECT_EQ(s.Feed(seq + 7, rest).candidates, 0);
}

TEST(Framer, LostStreamFollowsAServerThatFramesByFunction) {
  // libmodbus ignores the MBAP protocol id and length: after the loss, its
  // chain of requests is judged as it reads them. A write whose MBAP says
  // 4, then one with protocol id 1: both are writes to it.
  // (Each stream is lost on a read declaring 200: the chain is past it.)
  uint32_t seq;
  Bytes short_write = WriteSingle(3, 160, 0xDEAD), odd_write = WriteSingle(4, 161, 0xBEEF);
  short_write[5] = 4;
  odd_write[3] = 1;
  const Bytes both = Cat({short_write, odd_write});
  for (size_t step : {1u, 5u, 24u}) {
    Stream t = LostModbusStream(&seq);
    int found = 0;
    for (size_t i = 0; i < both.size(); i += step) {
      found += t.Feed(seq + uint32_t(i), std::span(both).subspan(i, std::min(step, both.size() - i))).candidates;
    }
    EXPECT_EQ(found, 2) << "step " << step;
    ASSERT_GE(t.all().size(), 2u);
    EXPECT_EQ(t.all()[t.all().size() - 2].address_first, 160u) << "step " << step;
    EXPECT_EQ(t.all().back().function, 6) << "step " << step;
    EXPECT_EQ(t.all().back().address_first, 161u) << "step " << step;
  }
}

TEST(Framer, LostStreamCandidatesNeedAKnownFunction) {
  uint32_t seq;
  Stream s = LostModbusStream(&seq);
  // Function 0x22: no Modbus function, framed by MBAP length only.
  EXPECT_EQ(s.Feed(seq, ModbusAdu(5, 1, 0x22, {0x00, 0x01})).candidates, 0);
}

TEST(Framer, LostServerStreamIsNotScanned) {
  // Only what the client sends can make the server execute something.
  Stream s(Protocol::kModbus, /*from_client=*/false);
  const Bytes echo = ModbusAdu(1, 1, 6, {0, 40, 0, 7});
  s.Feed(kIsn, echo);
  s.Feed(kIsn + 12, Bytes{0x47, 0x45, 0x54, 0x20, 0x2F, 0x20, 0x48, 0x54});
  EXPECT_EQ(s.state().sync, StreamSync::kLost);
  EXPECT_EQ(s.Feed(kIsn + 20, echo).candidates, 0);
}

// S7comm read var (snap7_s300_everything: 51), with one byte past its data
// block inside the TPKT: the S7 lengths disagree with the TPKT length.
const Bytes kS7ReadVar = {0x03, 0x00, 0x00, 0x1F, 0x02, 0xF0, 0x80, 0x32, 0x01, 0x00, 0x00,
                          0x19, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x04, 0x01, 0x12, 0x0A, 0x10,
                          0x08, 0x00, 0x01, 0x00, 0x00, 0x83, 0x00, 0x00, 0x80};
Bytes S7WithTrailingByte() {
  Bytes b = kS7ReadVar;
  b.push_back(0x00);
  b[3] = uint8_t(b.size());
  return b;
}

// A flaw only the decoder sees (the item count disagrees with the items in
// the parameter block; Frame reads the header) is reported by the name the
// decoder gave it, not the generic invalid_field.
TEST(Framer, DecoderNamesAFlawFrameCannotSee) {
  Bytes two_items_claimed = kS7ReadVar;
  two_items_claimed[18] = 0x02;
  Stream s(Protocol::kS7comm);
  const FeedResult r = s.Feed(kIsn, two_items_claimed);
  EXPECT_EQ(r.status, FeedStatus::kOk);  // framed by TPKT all the same
  EXPECT_EQ(MalformedReasonName(r.malformed), "s7_items");
  EXPECT_EQ(s.Feed(kIsn + uint32_t(two_items_claimed.size()), kS7ReadVar).malformed,
            MalformedReason::kNone);
}

TEST(Framer, S7TrailingBytesKeepTpktFramingAtEveryCut) {
  // Every S7 stack cuts the stream by TPKT: the flawed TPDU is malformed
  // (its packet unparsable), and the read after it is framed and decoded as
  // usual, not left to the scan, wherever the segments are cut.
  const Bytes stream = Cat({kS7ReadVar, S7WithTrailingByte(), kS7ReadVar});
  for (size_t cut = kS7ReadVar.size() + 1; cut < stream.size(); ++cut) {
    Stream s(Protocol::kS7comm);
    EXPECT_EQ(s.Feed(kIsn, std::span(stream).first(kS7ReadVar.size())).status, FeedStatus::kOk);
    const size_t first = kS7ReadVar.size();
    const FeedResult a = s.Feed(kIsn + uint32_t(first), std::span(stream).subspan(first, cut - first));
    const FeedResult b = s.Feed(kIsn + uint32_t(cut), std::span(stream).subspan(cut));
    const MalformedReason why = a.malformed != MalformedReason::kNone ? a.malformed : b.malformed;
    EXPECT_EQ(why, MalformedReason::kS7Length) << "cut " << cut;
    EXPECT_EQ(MalformedReasonName(why), "s7_length");
    EXPECT_EQ(a.status, FeedStatus::kOk) << "cut " << cut;
    EXPECT_EQ(b.status, FeedStatus::kOk) << "cut " << cut;
    EXPECT_EQ(a.candidates + b.candidates, 0) << "cut " << cut;
    ASSERT_GE(s.all().size(), 2u) << "cut " << cut;
    EXPECT_EQ(s.all().back().function, 0x04) << "cut " << cut;
    EXPECT_EQ(s.state().sync, StreamSync::kSynced) << "cut " << cut;
    if (HasFailure()) return;
  }
}

TEST(Framer, S7OverstatedTpktIsScannedInside) {
  // A read whose TPKT length also covers a whole write TPDU: a PLC takes
  // one TPDU (a read with trailing bytes); the write inside it is judged as
  // a candidate all the same, and framing goes on after it.
  Bytes read = kS7ReadVar;
  const Bytes write = {0x03, 0x00, 0x00, 0x1F, 0x02, 0xF0, 0x80, 0x32, 0x01, 0x00, 0x00,
                       0x19, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x05, 0x01, 0x12, 0x0A, 0x10,
                       0x08, 0x00, 0x01, 0x00, 0x00, 0x83, 0x00, 0x00, 0x80};
  read[3] = uint8_t(read.size() + write.size());
  Stream s(Protocol::kS7comm);
  const FeedResult r = s.Feed(kIsn, Cat({read, write, kS7ReadVar}));
  EXPECT_EQ(r.malformed, MalformedReason::kS7Length);
  EXPECT_EQ(r.candidates, 1);
  EXPECT_EQ(s.state().sync, StreamSync::kSynced);
  bool write_found = false;
  for (const IcsOp& op : s.all()) write_found |= op.function == 0x05;
  EXPECT_TRUE(write_found);
  EXPECT_EQ(s.all().back().function, 0x04);  // the last read, framed as usual
}

// EtherNet/IP SendRRData (Unconnected Send, IPAddressChangeAttempt: 2) with
// a byte past its last CPF item inside the encapsulation length.
Bytes EnipUcs(bool trailing_byte) {
  Bytes b = {0x6f, 0x00, 0x24, 0x00, 0x00, 0x01, 0x02, 0x11, 0x00, 0x00, 0x00, 0x00, 0x04, 0x81,
             0x30, 0x00, 0x18, 0xa7, 0xe1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
             0x0a, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb2, 0x00, 0x14, 0x00, 0x52, 0x02,
             0x20, 0x06, 0x24, 0x01, 0x06, 0x9a, 0x06, 0x00, 0x01, 0x02, 0x20, 0x01, 0x24, 0x01,
             0x01, 0x00, 0x01, 0x00};
  if (trailing_byte) {
    b.push_back(0x00);
    b[2] = uint8_t(b.size() - 24);
  }
  return b;
}

TEST(Framer, EnipCpfMismatchIsMalformedAtEveryCut) {
  // The target cuts at the encapsulation length too: framing holds, the PDU
  // is reported malformed with its reason wherever the segments are cut
  // (Frame sees the item headers, or Decode finds it and Frame names it).
  const Bytes good = EnipUcs(false), bad = EnipUcs(true);
  const Bytes stream = Cat({good, bad, good});
  for (size_t cut = good.size() + 1; cut < good.size() + bad.size(); ++cut) {
    Stream s(Protocol::kEnip);
    EXPECT_EQ(s.Feed(kIsn, std::span(stream).first(good.size())).decode_errors, 0);
    const FeedResult a = s.Feed(kIsn + uint32_t(good.size()), std::span(stream).subspan(good.size(), cut - good.size()));
    const FeedResult b = s.Feed(kIsn + uint32_t(cut), std::span(stream).subspan(cut));
    const MalformedReason why = a.malformed != MalformedReason::kNone ? a.malformed : b.malformed;
    EXPECT_EQ(why, MalformedReason::kEnipLength) << "cut " << cut;
    EXPECT_EQ(a.decode_errors + b.decode_errors, 1) << "cut " << cut;
    EXPECT_EQ(s.state().sync, StreamSync::kSynced) << "cut " << cut;
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace conduit::ics

namespace conduit::ics {
namespace {

Bytes FromHex(const char* hex) {
  Bytes out;
  for (size_t i = 0; hex[i] != 0 && hex[i + 1] != 0; i += 2) {
    auto nibble = [](char c) { return uint8_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
    out.push_back(uint8_t(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

// The lost-framing scan skips offsets by ProtocolModule::start_byte instead
// of calling Frame there; that must never hide a PDU Frame would take.
// Each module's start byte, against its own Frame: a valid request passes
// the filter, and every value the filter excludes at its offset makes Frame
// refuse the same request (in both directions). Then 20,000 random buffers
// cut at every length: whatever the filter excludes, Frame refuses (at
// once, or once the bytes it waits for are there).
TEST(StartByte, ExcludesOnlyWhatStrictFramingRefuses) {
  const std::pair<Protocol, Bytes> samples[] = {
      {Protocol::kModbus, ReadHolding(1, 0, 1)},
      {Protocol::kDnp3, FromHex("05640549640001007e5f")},
      {Protocol::kS7comm, FromHex("0300001611e00000000100c1020100c2020102c0010a")},
      {Protocol::kIec104, FromHex("680e0000000064010600010000000014")},
      {Protocol::kEnip, FromHex("630000000000000000000000000000000000000000000000")},
      {Protocol::kOpcua, FromHex("48454c46200000000000000000000100000001000000000000000000ffffffff")},
  };
  auto refused = [](FrameStatus s) { return s == FrameStatus::kInvalid || s == FrameStatus::kMalformed; };
  for (const auto& [protocol, pdu] : samples) {
    const ProtocolModule& m = *ModuleFor(protocol);
    ASSERT_TRUE(m.start_byte.active) << int(protocol);
    ASSERT_EQ(m.frame(pdu, true).status, FrameStatus::kPdu) << int(protocol);
    EXPECT_FALSE(m.start_byte.Excludes(pdu)) << int(protocol);
    int excluded = 0;
    for (int v = 0; v < 256; ++v) {
      Bytes b = pdu;
      b[m.start_byte.offset] = uint8_t(v);
      if (!m.start_byte.Excludes(b)) continue;
      ++excluded;
      EXPECT_TRUE(refused(m.frame(b, true).status)) << int(protocol) << " value " << v;
      EXPECT_TRUE(refused(m.frame(b, false).status)) << int(protocol) << " value " << v;
    }
    EXPECT_GE(excluded, 240) << int(protocol);  // the filter does filter
  }
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  Bytes buf(48);
  for (int round = 0; round < 20000; ++round) {
    for (uint8_t& b : buf) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = uint8_t(x);
    }
    for (const ProtocolModule& m : AllModules()) {
      if (!m.start_byte.active) continue;
      for (size_t n = 1; n <= buf.size(); ++n) {
        const std::span<const uint8_t> head(buf.data(), n);
        if (!m.start_byte.Excludes(head)) continue;
        for (const bool from_client : {true, false}) {
          // Frame may wait for more before it looks (Modbus reads the
          // protocol id whole): with all of them it refuses.
          const FrameStatus now = m.frame(head, from_client).status;
          ASSERT_TRUE(refused(now) || (now == FrameStatus::kNeedMore &&
                                       refused(m.frame(buf, from_client).status)))
              << int(m.protocol) << " n=" << n << " from_client=" << from_client;
        }
      }
    }
  }
}

}  // namespace
}  // namespace conduit::ics
