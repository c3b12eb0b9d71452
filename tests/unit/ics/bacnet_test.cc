#include "ics/bacnet.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "unit/ics/malformed_named.h"

namespace conduit::ics::bacnet {
namespace {

// Framing a client's bytes (the direction matters only where a test says so).
using bacnet::Frame;
FrameResult Frame(std::span<const uint8_t> head) { return bacnet::Frame(head, /*from_client=*/true); }

using Bytes = std::vector<uint8_t>;

Bytes Hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Original-Unicast-NPDU around `npdu` (NPDU header + APDU).
Bytes Bvlc(uint8_t function, const Bytes& body) {
  Bytes b = {0x81, function, 0, 0};
  b.insert(b.end(), body.begin(), body.end());
  b[2] = uint8_t(b.size() >> 8);
  b[3] = uint8_t(b.size());
  return b;
}
Bytes Unicast(const Bytes& apdu) {
  Bytes npdu = {0x01, 0x04};  // version 1, expecting reply
  npdu.insert(npdu.end(), apdu.begin(), apdu.end());
  return Bvlc(0x0A, npdu);
}

struct Result {
  DecodeStatus status;
  OpList ops;
  MalformedReason why = MalformedReason::kNone;  // what a kMalformed named (RefusePdu)
};

Result DecodeBytes(const Bytes& b, uint32_t length = 0) {
  Result r;
  StreamState st;
  PduView v{b, length ? length : uint32_t(b.size()), true, true};
  r.status = Decode(v, st, r.ops);
  r.why = v.malformed;
  EXPECT_TRUE(NamesItsFlaw(r.status, v, {"bacnet_"}));
  return r;
}

IcsOp One(const Bytes& b) {
  const Result r = DecodeBytes(b);
  EXPECT_EQ(r.status, DecodeStatus::kOk);
  EXPECT_EQ(r.ops.size(), 1u);
  return r.ops.empty() ? IcsOp{} : r.ops[0];
}

TEST(BacnetFrame, NoTcpTransport) {
  EXPECT_EQ(kTcpPort, 0);
  EXPECT_EQ(kUdpPort, 47808);
  // Over UDP Frame only checks a datagram's BVLC length against its size.
  EXPECT_EQ(Frame(Hex("810a0011"), true).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(Hex("810a0011"), true).reason, MalformedReason::kBacnetBvlcLength);
  EXPECT_EQ(Frame(Hex("810a000601041008"), true).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(Hex("810a000801041008"), true).status, FrameStatus::kPdu);
  EXPECT_EQ(Frame(Hex("0a0a0004"), true).status, FrameStatus::kInvalid);
}

TEST(BacnetDecode, ReadPropertyRequest) {
  // Confirmed request, invoke 0x21, readProperty analog-input 5 present-value.
  const IcsOp op = One(Unicast(Hex("0005210c0c000000051955")));
  EXPECT_EQ(op.kind, OpKind::kBacnetConfirmed);
  EXPECT_EQ(op.function, 12);
  EXPECT_EQ(FunctionName(op.kind, op.function), "read_property");
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_TRUE(op.Has(kOpHasSubFunction));
  EXPECT_EQ(op.sub_function, 0x21);
  EXPECT_TRUE(op.Has(kOpHasObject));
  EXPECT_EQ(op.object_group, 0);  // analog-input
  EXPECT_EQ(op.object_instance, 5u);
  EXPECT_EQ(op.object_variation, 85);  // present-value
  EXPECT_TRUE(op.Has(kOpHasAddress));
  EXPECT_EQ(op.address_first, 5u);
  EXPECT_EQ(op.address_last, 5u);
  EXPECT_FALSE(op.Has(kOpHasUnit));
}

TEST(BacnetDecode, CapturedWritePropertyAndAck) {
  // icsnpp-bacnet__bacnet_services frames 3 and 4: routed to DNET 3.
  IcsOp op = One(Hex("810a001f01240003016cff0203020f0c0040006519553e44424800003f490a"));
  EXPECT_EQ(op.kind, OpKind::kBacnetConfirmed);
  EXPECT_EQ(op.function, 15);
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_TRUE(op.Has(kOpHasUnit));
  EXPECT_EQ(op.unit, 3u);
  EXPECT_EQ(op.object_group, 1);  // analog-output
  EXPECT_EQ(op.object_instance, 101u);
  EXPECT_EQ(op.object_variation, 85);
  EXPECT_EQ(op.sub_function, 2);

  op = One(Hex("810a000d01080003016c20020f"));  // simple-ack
  EXPECT_EQ(op.kind, OpKind::kBacnetConfirmed);
  EXPECT_EQ(op.function, 15);
  EXPECT_EQ(op.direction, Direction::kResponse);
  EXPECT_EQ(op.sub_function, 2);
  EXPECT_FALSE(op.Has(kOpHasObject));
}

TEST(BacnetDecode, ReadPropertyMultipleFirstObject) {
  // icsnpp-bacnet__bacnet_services frame 275, first 41 of 303 bytes.
  const Result r = DecodeBytes(Hex("810a012f01240003016cff0203880e0c000008351e09551f0c00000836"
                                   "1e09551f0c000008371e09551f"),
                               0x12F);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  const IcsOp& op = r.ops[0];
  EXPECT_TRUE(op.Has(kOpTruncated));
  EXPECT_EQ(op.function, 14);
  EXPECT_EQ(op.object_group, 0);
  EXPECT_EQ(op.object_instance, 0x835u);
  EXPECT_EQ(op.object_variation, 85);
  EXPECT_EQ(op.sub_function, 0x88);
}

TEST(BacnetDecode, SegmentedComplexAck) {
  // icsnpp-bacnet__bacnet_segmented_data frame 15 (first segment, prefix).
  Bytes first = Hex("810a040601043c5e00030c0c020000fe194c3ec400c00000c400c04e21");
  Result r = DecodeBytes(first, 0x406);
  ASSERT_EQ(r.status, DecodeStatus::kOk);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].kind, OpKind::kBacnetConfirmed);
  EXPECT_EQ(r.ops[0].function, 12);
  EXPECT_EQ(r.ops[0].direction, Direction::kResponse);
  EXPECT_EQ(r.ops[0].sub_function, 0x5E);
  EXPECT_EQ(r.ops[0].object_group, 8);  // device
  EXPECT_EQ(r.ops[0].object_instance, 254u);
  EXPECT_EQ(r.ops[0].object_variation, 76);  // object-list

  // Later segment (seq 1): service known, parameters are not at its start.
  Bytes later = Hex("810a040601043c5e01030c02c000dec402c000df");
  r = DecodeBytes(later, 0x406);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_EQ(r.ops[0].function, 12);
  EXPECT_FALSE(r.ops[0].Has(kOpHasObject));

  // Segment-ack from the client (SRV clear).
  const IcsOp ack = One(Hex("810a000a0100405e0003"));
  EXPECT_EQ(ack.kind, OpKind::kBacnetApdu);
  EXPECT_EQ(ack.function, 4);
  EXPECT_EQ(FunctionName(ack.kind, ack.function), "segment_ack");
  EXPECT_EQ(ack.direction, Direction::kRequest);
  EXPECT_EQ(ack.sub_function, 0x5E);
}

TEST(BacnetDecode, ErrorRejectAbort) {
  // icsnpp-bacnet__bacnet_error_reject_abort frames 43-45.
  IcsOp op = One(Hex("810a00120120000d013dff5034149105911a"));
  EXPECT_EQ(op.kind, OpKind::kBacnetConfirmed);
  EXPECT_EQ(op.function, 20);  // reinitialize-device
  EXPECT_EQ(op.direction, Direction::kResponse);
  EXPECT_TRUE(op.Has(kOpException));
  EXPECT_EQ(op.exception_code, 26);  // password-failure
  EXPECT_EQ(op.unit, 13u);

  op = One(Hex("810a000e0120000d013dff603a09"));
  EXPECT_EQ(op.kind, OpKind::kBacnetApdu);
  EXPECT_EQ(op.function, 6);
  EXPECT_EQ(op.direction, Direction::kResponse);
  EXPECT_EQ(op.exception_code, 9);
  EXPECT_EQ(op.sub_function, 0x3A);

  op = One(Hex("810b00090100710100"));
  EXPECT_EQ(op.kind, OpKind::kBacnetApdu);
  EXPECT_EQ(op.function, 7);
  EXPECT_EQ(op.direction, Direction::kResponse);  // SRV set
  EXPECT_TRUE(op.Has(kOpException));
}

TEST(BacnetDecode, UnconfirmedServices) {
  // Who-Is 12345..12345, global broadcast (DNET 0xFFFF).
  IcsOp op = One(Hex("810b00120120ffff00ff10080a30391a3039"));
  EXPECT_EQ(op.kind, OpKind::kBacnetUnconfirmed);
  EXPECT_EQ(op.function, 8);
  EXPECT_EQ(FunctionName(op.kind, op.function), "who_is");
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_EQ(op.unit, 0xFFFFu);
  ASSERT_TRUE(op.Has(kOpHasAddress));
  EXPECT_EQ(op.address_first, 12345u);
  EXPECT_EQ(op.address_last, 12345u);

  // I-Am device 254.
  op = One(Bvlc(0x0B, Hex("01001000c4020000fe22058a91032105")));
  EXPECT_EQ(op.function, 0);
  EXPECT_EQ(op.object_group, 8);
  EXPECT_EQ(op.object_instance, 254u);

  // Unconfirmed COV notification is unsolicited.
  op = One(Bvlc(0x0B, Hex("01001002" "0901" "1c02000001" "2c00000001" "3900")));
  EXPECT_EQ(op.function, 2);
  EXPECT_TRUE(op.Has(kOpUnsolicited));
  EXPECT_EQ(op.object_instance, 1u);
}

struct BvlcRow {
  const char* name;
  Bytes bytes;
  bool fits;
};

// The BVLC length must be the datagram's and what the function requires
// (Annex J.2): Frame() names a mismatch kBacnetBvlcLength, Decode() reports
// kMalformed (with its op).
TEST(BacnetFrame, BvlcLengthTable) {
  const Bytes entry = Hex("c0a80001bac0ffffff00");  // a 10-octet BDT entry
  Bytes two_entries = entry;
  two_entries.insert(two_entries.end(), entry.begin(), entry.end());
  const std::vector<BvlcRow> rows = {
      {"Result", Hex("810000060000"), true},
      {"Result without its code", Hex("81000004"), false},
      {"Result with a trailing octet", Hex("81000007000000"), false},
      {"Write-BDT, two entries", Bvlc(0x01, two_entries), true},
      {"Write-BDT, empty", Bvlc(0x01, {}), true},
      {"Write-BDT, an entry and a half", Bvlc(0x01, Hex("c0a80001bac0ffffff00c0a80002bac0")), false},
      {"Read-BDT", Hex("81020004"), true},
      {"Read-BDT with a body", Hex("8102000600ff"), false},
      {"Read-BDT-Ack, one entry", Bvlc(0x03, entry), true},
      {"Read-BDT-Ack, 9 octets", Bvlc(0x03, Hex("c0a80001bac0ffffff")), false},
      {"Forwarded-NPDU", Bvlc(0x04, Hex("c0a80001bac0" "01001008")), true},
      {"Forwarded-NPDU, address only", Bvlc(0x04, Hex("c0a80001bac0")), false},
      {"Register-Foreign-Device", Hex("81050006ea60"), true},
      {"Register-Foreign-Device, 3-octet TTL", Hex("81050007ea6000"), false},
      {"Read-FDT", Hex("81060004"), true},
      {"Read-FDT-Ack, one entry", Bvlc(0x07, entry), true},
      {"Read-FDT-Ack, 11 octets", Bvlc(0x07, Hex("c0a80001bac0ffffff0000")), false},
      {"Delete-FDT-Entry", Bvlc(0x08, Hex("c0a80001bac0")), true},
      {"Delete-FDT-Entry, trailing octets", Bvlc(0x08, Hex("c0a80001bac00000")), false},
      {"Original-Unicast-NPDU", Unicast(Hex("1008")), true},
      {"Original-Unicast-NPDU, no NPDU", Hex("810a0004"), false},
      {"Original-Broadcast-NPDU, one NPDU octet", Hex("810b000501"), false},
      {"Distribute-Broadcast-To-Network", Bvlc(0x09, Hex("01001008")), true},
  };
  for (const BvlcRow& row : rows) {
    SCOPED_TRACE(row.name);
    const FrameResult f = Frame(row.bytes);
    EXPECT_EQ(f.status, row.fits ? FrameStatus::kPdu : FrameStatus::kMalformed);
    EXPECT_EQ(f.reason, row.fits ? MalformedReason::kNone : MalformedReason::kBacnetBvlcLength);
    const Result r = DecodeBytes(row.bytes);
    if (row.fits) {
      EXPECT_EQ(r.status, DecodeStatus::kOk);
    } else {
      EXPECT_EQ(r.status, DecodeStatus::kMalformed);
    }
  }
}

// Network layer message `type` with `body`, broadcast.
Bytes Network(uint8_t type, const Bytes& body) {
  Bytes npdu = {0x01, 0x80, type};
  npdu.insert(npdu.end(), body.begin(), body.end());
  return Bvlc(0x0B, npdu);
}

struct NetworkRow {
  const char* name;
  Bytes bytes;
  DecodeStatus status;
};

// Network layer messages have the length their type requires (135 6.4);
// Decode() reports a mismatch kMalformed with its op.
TEST(BacnetDecode, NetworkMessageLengthTable) {
  const std::vector<NetworkRow> rows = {
      {"Who-Is-Router, any network", Network(0x00, {}), DecodeStatus::kOk},
      {"Who-Is-Router, DNET 5", Network(0x00, Hex("0005")), DecodeStatus::kOk},
      {"Who-Is-Router, 3 octets", Network(0x00, Hex("000500")), DecodeStatus::kMalformed},
      {"I-Am-Router, two networks", Network(0x01, Hex("00020003")), DecodeStatus::kOk},
      {"I-Am-Router, none", Network(0x01, {}), DecodeStatus::kMalformed},
      {"I-Am-Router, an odd octet", Network(0x01, Hex("000200")), DecodeStatus::kMalformed},
      {"I-Could-Be-Router", Network(0x02, Hex("000510")), DecodeStatus::kOk},
      {"Reject-Message, 2 octets", Network(0x03, Hex("0100")), DecodeStatus::kMalformed},
      {"Router-Busy, all networks", Network(0x04, {}), DecodeStatus::kOk},
      {"Router-Available, an odd octet", Network(0x05, Hex("00")), DecodeStatus::kMalformed},
      {"Initialize-Routing-Table, query", Network(0x06, Hex("00")), DecodeStatus::kOk},
      {"Initialize-Routing-Table, two ports",
       Network(0x06, Hex("02" "0005" "01" "00" "0006" "02" "03aabbcc")), DecodeStatus::kOk},
      {"Initialize-Routing-Table, port info past the end", Network(0x06, Hex("01" "0005" "01" "04" "aabb")),
       DecodeStatus::kMalformed},
      {"Initialize-Routing-Table, a trailing octet", Network(0x06, Hex("01" "0005" "01" "00" "ff")),
       DecodeStatus::kMalformed},
      {"Initialize-Routing-Table, 3 ports declared, 1 sent", Network(0x06, Hex("03" "0005" "01" "00")),
       DecodeStatus::kMalformed},
      {"Initialize-Routing-Table-Ack, empty", Network(0x07, Hex("00")), DecodeStatus::kOk},
      {"Initialize-Routing-Table, no count", Network(0x06, {}), DecodeStatus::kMalformed},
      {"Establish-Connection", Network(0x08, Hex("00051e")), DecodeStatus::kOk},
      {"Disconnect-Connection, 3 octets", Network(0x09, Hex("000500")), DecodeStatus::kMalformed},
      {"What-Is-Network-Number", Network(0x12, {}), DecodeStatus::kOk},
      {"What-Is-Network-Number with a body", Network(0x12, Hex("00")), DecodeStatus::kMalformed},
      {"Network-Number-Is", Network(0x13, Hex("000501")), DecodeStatus::kOk},
      {"proprietary, any length", Network(0x80, Hex("0104ffffff")), DecodeStatus::kOk},
      {"SLEN 0", Bvlc(0x0A, Hex("0108" "000700" "1008")), DecodeStatus::kMalformed},
  };
  for (const NetworkRow& row : rows) {
    SCOPED_TRACE(row.name);
    const Result r = DecodeBytes(row.bytes);
    EXPECT_EQ(r.status, row.status);
    if (row.status == DecodeStatus::kMalformed) EXPECT_EQ(MalformedReasonName(r.why), "bacnet_npdu");
    EXPECT_EQ(r.ops.size(), row.bytes[5] == 0x08 ? 0u : 1u);  // reported either way
    // A view cut short of the datagram is a prefix: its length is not judged.
    // (SLEN 0 is wrong in any prefix; an empty body has no shorter prefix.)
    if (row.bytes[5] == 0x08 || row.bytes.size() <= 7) continue;
    const Bytes shorter(row.bytes.begin(), row.bytes.end() - 1);
    EXPECT_EQ(DecodeBytes(shorter, uint32_t(row.bytes.size())).status, DecodeStatus::kOk);
  }
}

TEST(BacnetDecode, NetworkAndBvlcMessages) {
  IcsOp op = One(Hex("810b000b01800100020003"));
  EXPECT_EQ(op.kind, OpKind::kBacnetNpdu);
  EXPECT_EQ(op.function, 1);
  EXPECT_EQ(FunctionName(op.kind, op.function), "i_am_router_to_network");
  EXPECT_EQ(op.direction, Direction::kResponse);

  op = One(Hex("81050006ea60"));  // register foreign device
  EXPECT_EQ(op.kind, OpKind::kBacnetBvlc);
  EXPECT_EQ(op.function, 5);
  EXPECT_EQ(op.direction, Direction::kRequest);

  op = One(Hex("810000060000"));  // BVLC result
  EXPECT_EQ(op.kind, OpKind::kBacnetBvlc);
  EXPECT_EQ(op.function, 0);
  EXPECT_EQ(op.direction, Direction::kResponse);

  // Forwarded-NPDU: the NPDU follows the 6-byte original source address.
  op = One(Bvlc(0x04, Hex("c0a80001bac0" "01001008")));
  EXPECT_EQ(op.kind, OpKind::kBacnetUnconfirmed);
  EXPECT_EQ(op.function, 8);
}

TEST(BacnetDecode, SourceAndDestinationNetworks) {
  // DNET 5 (MAC 1 byte), SNET 7 (MAC 2 bytes), hop count, then the APDU.
  const IcsOp op = One(Bvlc(0x0A, Hex("012c" "00050110" "0007020a0b" "ff" "1008")));
  EXPECT_EQ(op.kind, OpKind::kBacnetUnconfirmed);
  EXPECT_EQ(op.function, 8);
  EXPECT_EQ(op.unit, 5u);
}

TEST(BacnetDecode, GarbageAndMalformed) {
  EXPECT_EQ(DecodeBytes(Hex("474554202f20485454502f312e31")).status,
            DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(DecodeBytes(Hex("81ff0004")).status, DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(DecodeBytes(Hex("810a0002")).status, DecodeStatus::kNotThisProtocol);
  EXPECT_EQ(DecodeBytes(Bytes{}).status, DecodeStatus::kNotThisProtocol);
  // NPDU version 2.
  const Result v2 = DecodeBytes(Bvlc(0x0A, Hex("02001008")));
  EXPECT_EQ(v2.status, DecodeStatus::kMalformed);
  EXPECT_EQ(v2.why, MalformedReason::kBacnetNpdu);
  // A reserved APDU type (9).
  const Result reserved = DecodeBytes(Unicast(Hex("9000")));
  EXPECT_EQ(reserved.status, DecodeStatus::kMalformed);
  EXPECT_EQ(reserved.why, MalformedReason::kBacnetApdu);
  // BVLC length larger than the datagram.
  Bytes longer = Unicast(Hex("0005210c0c000000051955"));
  longer[3] += 4;
  const Result r = DecodeBytes(longer);
  EXPECT_EQ(r.status, DecodeStatus::kMalformed);  // BVLC length != datagram
  EXPECT_EQ(r.why, MalformedReason::kBacnetBvlcLength);
  ASSERT_EQ(r.ops.size(), 1u);
  EXPECT_TRUE(r.ops[0].Has(kOpTruncated));
  EXPECT_EQ(r.ops[0].function, 12);
}

TEST(BacnetDecode, EveryPrefixIsSafe) {
  const std::vector<Bytes> pdus = {
      Hex("810a001f01240003016cff0203020f0c0040006519553e44424800003f490a"),
      Hex("810a00120120000d013dff5034149105911a"),
      Hex("810b00120120ffff00ff10080a30391a3039"),
      Hex("810a000e0120000d013dff603a09"),
      Hex("810b000b01800100020003"),
      Hex("810a000a0100405e0003"),
  };
  for (const Bytes& pdu : pdus) {
    for (size_t n = 0; n < pdu.size(); ++n) {
      const Bytes prefix(pdu.begin(), pdu.begin() + n);
      // A real short datagram: an error, or an op that says it is cut.
      Result r = DecodeBytes(prefix, uint32_t(n));
      EXPECT_NE(r.status, DecodeStatus::kOk) << n;
      // A view cut short of a longer datagram: an error or flagged ops.
      r = DecodeBytes(prefix, uint32_t(pdu.size()));
      if (r.status == DecodeStatus::kOk) {
        for (const IcsOp& op : r.ops) EXPECT_TRUE(op.Has(kOpTruncated)) << n;
      }
    }
  }
}

TEST(BacnetDecode, RandomInputNeverCrashes) {
  uint32_t x = 777;
  auto next = [&] {
    x = x * 1103515245 + 12345;
    return uint8_t(x >> 16);
  };
  for (int iter = 0; iter < 5000; ++iter) {
    Bytes b = {0x81, uint8_t(next() % 13), 0, 0};
    const size_t n = next() % 48;
    for (size_t i = 0; i < n; ++i) b.push_back(next());
    if (b.size() > 5) b[4] = 1;  // mostly a valid NPDU version
    b[3] = uint8_t(b.size() + (next() % 3) - 1);
    DecodeBytes(b);
  }
}

TEST(BacnetNames, RoundTrip) {
  for (OpKind k : {OpKind::kBacnetConfirmed, OpKind::kBacnetUnconfirmed, OpKind::kBacnetApdu,
                   OpKind::kBacnetNpdu, OpKind::kBacnetBvlc}) {
    for (uint16_t fc = 0; fc < 256; ++fc) {
      const std::string_view name = FunctionName(k, fc);
      if (name.empty()) continue;
      EXPECT_EQ(FunctionByName(k, name), fc) << name;
    }
  }
  EXPECT_EQ(FunctionByName(OpKind::kBacnetConfirmed, "write_property"), 15);
  EXPECT_EQ(FunctionByName(OpKind::kBacnetConfirmed, "device_communication_control"), 17);
  EXPECT_EQ(FunctionByName(OpKind::kBacnetConfirmed, "atomic_read_file"), 6);
  EXPECT_EQ(FunctionByName(OpKind::kBacnetUnconfirmed, "i_am"), 0);
  EXPECT_EQ(FunctionByName(OpKind::kBacnetConfirmed, "i_am"), std::nullopt);
  EXPECT_EQ(FunctionByName(OpKind::kBacnetConfirmed, "12"), std::nullopt);
  EXPECT_EQ(FunctionName(OpKind::kBacnetConfirmed, 200), "");
}

}  // namespace
}  // namespace conduit::ics::bacnet
