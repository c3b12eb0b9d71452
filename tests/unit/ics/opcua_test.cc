#include "ics/opcua.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "unit/ics/malformed_named.h"

namespace conduit::ics::opcua {
namespace {

// Framing a client's bytes (the direction matters only where a test says so).
using opcua::Frame;
FrameResult Frame(std::span<const uint8_t> head) { return opcua::Frame(head, /*from_client=*/true); }

using Bytes = std::vector<uint8_t>;

Bytes FromHex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

void Put32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

void PutString(Bytes& b, std::string_view s) {
  Put32(b, uint32_t(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

void SetSize(Bytes& b) {
  const uint32_t n = uint32_t(b.size());
  for (int i = 0; i < 4; ++i) b[4 + i] = uint8_t(n >> (8 * i));
}

Bytes Header(const char* type, char chunk) {
  return Bytes{uint8_t(type[0]), uint8_t(type[1]), uint8_t(type[2]), uint8_t(chunk), 0, 0, 0, 0};
}

// Four-byte NodeId form, namespace 0.
Bytes TypeId(uint16_t id) { return Bytes{0x01, 0x00, uint8_t(id), uint8_t(id >> 8)}; }

// MSG/CLO chunk: channel 1, token 1, sequence 1, request id, body.
Bytes Msg(uint32_t request_id, const Bytes& body, char chunk = 'F', const char* type = "MSG") {
  Bytes b = Header(type, chunk);
  Put32(b, 1);
  Put32(b, 1);
  Put32(b, 1);
  Put32(b, request_id);
  b.insert(b.end(), body.begin(), body.end());
  b.resize(std::max<size_t>(b.size(), 24));
  SetSize(b);
  return b;
}

constexpr std::string_view kNone = "http://opcfoundation.org/UA/SecurityPolicy#None";
constexpr std::string_view kBasic256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";

Bytes Opn(std::string_view policy, const Bytes& body) {
  Bytes b = Header("OPN", 'F');
  Put32(b, 0);
  PutString(b, policy);
  Put32(b, 0xFFFFFFFF);  // no certificate
  Put32(b, 0xFFFFFFFF);  // no thumbprint
  Put32(b, 1);
  Put32(b, 1);
  b.insert(b.end(), body.begin(), body.end());
  SetSize(b);
  return b;
}

struct Decoder {
  StreamState st;
  DecodeStatus status = DecodeStatus::kOk;
  OpList ops;
  IcsOp Run(const Bytes& b, bool from_client = true, size_t keep = SIZE_MAX) {
    ops.Clear();
    PduView pdu{std::span<const uint8_t>(b.data(), std::min(keep, b.size())), uint32_t(b.size()), from_client, false};
    status = Decode(pdu, st, ops);
    EXPECT_TRUE(NamesItsFlaw(status, pdu, {"opcua_"}));
    return ops.empty() ? IcsOp{} : ops[0];
  }
};

// open62541_client-server_mainloop.eth.pcap frame 14: GetEndpointsRequest.
const char kGetEndpoints[] =
    "4d5347465d000000030000000300000002000000020000000100ac010000104bee4e2dd1d5010100000000000000ffffffff1027"
    "0000000000180000006f70632e7463703a2f2f6c6f63616c686f73743a34383430ffffffffffffffff";
// open62541_client-server_encrypted.eth.pcap frame 9: OPN request, policy None.
const char kOpnNone[] =
    "4f504e4684000000000000002f000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f5365637572697479"
    "506f6c696379234e6f6e65ffffffffffffffff01000000010000000100be0100001c170e64d1cfd5010000000000000000ffffffff"
    "00000000000000000000000000000001000000ffffffffc0270900";
// same capture, frame 41: an encrypted MSG (after a Basic128Rsa15 OPN).
const char kEncryptedMsg[] =
    "4d5347468000000002000000020000004fc7762bc9f8c230c1c05356006bb930ab5b2dde8c9a56624662bfbc9fea2e6fa4fd450e"
    "e1ec545730638b894d77ad39bfc9eb7b1755ad8b1be73f29f6b3c85ccf145d95821d3901264c25563abe410409e31d62196e6f0e"
    "a284404831f749b649e0eea77ba05c36ebead8f5970641b9";

TEST(OpcuaFrame, Valid) {
  const Bytes b = FromHex(kGetEndpoints);
  const FrameResult r = Frame(b);
  EXPECT_EQ(r.status, FrameStatus::kPdu);
  EXPECT_EQ(r.length, 93u);
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(Frame(std::span(b.data(), n)).status, FrameStatus::kNeedMore) << n;
  }
}

TEST(OpcuaFrame, RejectsGarbage) {
  EXPECT_EQ(Frame(FromHex("474554")).status, FrameStatus::kInvalid);                // "GET"
  EXPECT_EQ(Frame(FromHex("4d53475808000000")).status, FrameStatus::kInvalid);      // chunk 'X'
  EXPECT_EQ(Frame(FromHex("48454c431c000000")).status, FrameStatus::kInvalid);      // HEL 'C'
  EXPECT_EQ(Frame(FromHex("4d53474610000000")).status, FrameStatus::kMalformed);    // MSG size 16
  EXPECT_EQ(Frame(FromHex("4d534746ffffff7f")).status, FrameStatus::kMalformed);    // 2 GiB
  EXPECT_EQ(Frame(FromHex("6d73674618000000")).status, FrameStatus::kInvalid);      // "msg"
  EXPECT_EQ(Frame(FromHex("4d53474318000000")).status, FrameStatus::kPdu);          // MSG 'C'
  EXPECT_EQ(Frame(FromHex("455252461000000000000280ffffffff")).status, FrameStatus::kPdu);  // ERR
}

TEST(OpcuaDecode, TransportMessages) {
  Decoder d;
  Bytes hel = Header("HEL", 'F');
  for (int i = 0; i < 5; ++i) Put32(hel, 65535);
  PutString(hel, "opc.tcp://localhost:4840");
  SetSize(hel);
  const IcsOp h = d.Run(hel);
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(h.kind, OpKind::kOpcua);
  EXPECT_EQ(h.function, kHel);
  EXPECT_EQ(h.sub_function, kHel);
  EXPECT_EQ(h.direction, Direction::kRequest);
  EXPECT_EQ(MessageTypeTag(h.function), "HEL");

  const IcsOp a = d.Run(FromHex("41434b461c00000000000000ffff0000ffff00000000000000000000"), false);
  EXPECT_EQ(a.function, kAck);
  EXPECT_EQ(a.direction, Direction::kResponse);

  // opc-ua-ap-method-wireshark-freeze.pcap frame 43.
  const IcsOp e = d.Run(FromHex("455252461000000000000280ffffffff"), false);
  EXPECT_EQ(e.function, kErr);
  EXPECT_TRUE(e.Has(kOpException));
  EXPECT_EQ(MessageTypeTag(e.function), "ERR");
}

TEST(OpcuaDecode, GetEndpointsRequest) {
  Decoder d;
  const IcsOp op = d.Run(FromHex(kGetEndpoints));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  ASSERT_EQ(d.ops.size(), 1u);
  EXPECT_EQ(op.function, 428);
  EXPECT_EQ(op.sub_function, kMsg);
  EXPECT_TRUE(op.Has(kOpHasObject));
  EXPECT_EQ(op.object_group, 0);
  EXPECT_EQ(op.object_instance, 428u);
  EXPECT_EQ(op.direction, Direction::kRequest);
  EXPECT_EQ(FunctionName(OpKind::kOpcua, op.function), "get_endpoints_request");
  EXPECT_EQ(MessageTypeTag(op.function), "");
}

TEST(OpcuaDecode, OpenSecureChannelNone) {
  Decoder d;
  const IcsOp op = d.Run(FromHex(kOpnNone));
  ASSERT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(op.function, 446);
  EXPECT_EQ(op.sub_function, kOpn);
  // The channel is plaintext: any numeric type id is reported, like tshark.
  const IcsOp m = d.Run(Msg(2, TypeId(0x1234)));
  EXPECT_EQ(m.function, 0x1234);
}

TEST(OpcuaDecode, EncryptedChannelReportsMessageType) {
  Decoder d;
  const IcsOp o = d.Run(Opn(kBasic256, FromHex("d5a1b2c3d4e5f6")));
  EXPECT_EQ(o.function, kOpn);
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  const IcsOp m = d.Run(FromHex(kEncryptedMsg));
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(m.function, kMsg);
  EXPECT_FALSE(m.Has(kOpHasObject));
  // Random ciphertext that looks like a four-byte NodeId is not a service.
  EXPECT_EQ(d.Run(Msg(3, TypeId(0x1234))).function, kMsg);
  // A signed-only channel still shows its (known) services.
  EXPECT_EQ(d.Run(Msg(4, TypeId(631))).function, 631);
}

TEST(OpcuaDecode, SecuredOpnPrefixStillSetsPolicy) {
  // A secured OPN carries a certificate and spans segments: only a prefix is
  // kept, but the policy it names must still take effect.
  Decoder d;
  d.Run(FromHex(kOpnNone));
  Bytes opn = Header("OPN", 'F');
  Put32(opn, 0);
  PutString(opn, kBasic256);
  Put32(opn, 1000);  // certificate length
  opn.resize(1100, 0x30);
  SetSize(opn);
  const IcsOp o = d.Run(opn, true, 96);
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_TRUE(o.Has(kOpTruncated));
  EXPECT_EQ(d.Run(Msg(3, TypeId(0x1234))).function, kMsg);
}

TEST(OpcuaDecode, NoHandshakeSeenOnlyKnownServices) {
  Decoder d;
  EXPECT_EQ(d.Run(Msg(1, TypeId(673))).function, 673);
  EXPECT_EQ(d.Run(Msg(1, TypeId(0x1234))).function, kMsg);
}

TEST(OpcuaDecode, NodeIdForms) {
  Decoder d;
  d.Run(FromHex(kOpnNone));  // plaintext channel
  EXPECT_EQ(d.Run(Msg(1, {0x00, 0x2A})).function, 42);  // two-byte
  const IcsOp n = d.Run(Msg(1, {0x02, 0x00, 0x00, 0x77, 0x02, 0x00, 0x00}));  // numeric
  EXPECT_EQ(n.function, 631);
  const IcsOp big = d.Run(Msg(1, {0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00}));  // id 65536
  EXPECT_EQ(big.function, kMsg);
  const IcsOp s = d.Run(Msg(1, {0x03, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 'x'}));  // string
  EXPECT_EQ(s.function, kMsg);
  const IcsOp ns = d.Run(Msg(1, {0x01, 0x02, 0x77, 0x02}));  // ns 2
  EXPECT_EQ(ns.function, 631);
  EXPECT_EQ(ns.object_group, 2);
  EXPECT_EQ(ns.direction, Direction::kRequest);  // from_client: not a ns0 service
}

TEST(OpcuaDecode, ResponsesAndFaults) {
  Decoder d;
  const IcsOp r = d.Run(Msg(1, TypeId(634)), false);
  EXPECT_EQ(r.function, 634);
  EXPECT_EQ(r.direction, Direction::kResponse);
  const IcsOp f = d.Run(Msg(1, TypeId(397)), false);
  EXPECT_EQ(f.function, 397);
  EXPECT_TRUE(f.Has(kOpException));
  const IcsOp c = d.Run(Msg(2, TypeId(452), 'F', "CLO"));
  EXPECT_EQ(c.function, 452);
  EXPECT_EQ(c.sub_function, kClo);
}

TEST(OpcuaDecode, MultiChunkMessageReportsServiceOnEveryChunk) {
  Decoder d;
  EXPECT_EQ(d.Run(Msg(7, TypeId(673), 'C')).function, 673);
  EXPECT_EQ(d.Run(Msg(7, {0xde, 0xad, 0xbe, 0xef}, 'C')).function, 673);
  const IcsOp last = d.Run(Msg(7, {0x00, 0x01}, 'F'));
  EXPECT_EQ(last.function, 673);
  EXPECT_EQ(last.object_instance, 673u);
  // The message is over: the next chunk is parsed afresh.
  EXPECT_EQ(d.Run(Msg(8, TypeId(631), 'F')).function, 631);
}

TEST(OpcuaDecode, AbortChunk) {
  Decoder d;
  d.Run(Msg(9, TypeId(712), 'C'));
  Bytes abort_body;
  Put32(abort_body, 0x80010000);
  Put32(abort_body, 0xFFFFFFFF);
  const IcsOp a = d.Run(Msg(9, abort_body, 'A'));
  EXPECT_EQ(a.function, 712);
  EXPECT_TRUE(a.Has(kOpException));
  // An abort without a started message: message type only.
  const IcsOp b = d.Run(Msg(10, abort_body, 'A'));
  EXPECT_EQ(b.function, kMsg);
  EXPECT_TRUE(b.Has(kOpException));
}

TEST(OpcuaDecode, BadStringLengthIsMalformed) {
  Bytes b = Opn(kNone, TypeId(446));
  b[12] = 0xF0;  // policy length -16
  b[13] = b[14] = b[15] = 0xFF;
  Decoder d;
  const IcsOp op = d.Run(b);
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_EQ(op.function, kOpn);
  EXPECT_TRUE(op.Has(kOpTruncated));
}

TEST(OpcuaDecode, EveryPrefixIsSafe) {
  const std::vector<Bytes> chunks = {FromHex(kGetEndpoints), FromHex(kOpnNone), FromHex(kEncryptedMsg),
                                     Msg(1, {0x02, 0x00, 0x00, 0x77, 0x02, 0x00, 0x00})};
  for (const Bytes& b : chunks) {
    for (size_t n = 0; n < b.size(); ++n) {
      Decoder d;
      const IcsOp op = d.Run(b, true, n);
      if (n < 8) {
        EXPECT_EQ(d.status, DecodeStatus::kTruncated) << n;
        EXPECT_TRUE(d.ops.empty());
        continue;
      }
      EXPECT_EQ(d.status, DecodeStatus::kOk) << n;
      ASSERT_EQ(d.ops.size(), 1u);
      Decoder full;
      if (op.function != full.Run(b).function) {
        EXPECT_TRUE(op.Has(kOpTruncated)) << n;
      }
    }
  }
}

TEST(OpcuaDecode, GarbageIsNotOpcua) {
  Decoder d;
  d.Run(FromHex("474554202f20485454502f312e31"));
  EXPECT_EQ(d.status, DecodeStatus::kNotThisProtocol);
  EXPECT_TRUE(d.ops.empty());
  d.Run(FromHex("4d53475808000000"));
  EXPECT_EQ(d.status, DecodeStatus::kNotThisProtocol);
}

TEST(OpcuaDecode, RandomBytesNeverCrash) {
  static const char* kTypes[] = {"HEL", "ACK", "ERR", "RHE", "OPN", "MSG", "CLO"};
  uint32_t x = 7;
  Decoder d;
  for (int iter = 0; iter < 30000; ++iter) {
    Bytes b(size_t(x % 96));
    for (auto& v : b) {
      x = x * 1103515245 + 12345;
      v = uint8_t(x >> 16);
    }
    if (b.size() >= 8) {
      const char* t = kTypes[x % 7];
      b[0] = uint8_t(t[0]);
      b[1] = uint8_t(t[1]);
      b[2] = uint8_t(t[2]);
      b[3] = "FCA"[x % 3];
      b[4] = uint8_t(b.size() + (x & 3));
      b[5] = b[6] = b[7] = 0;
      if (iter & 1) b[12] = b[13] = b[14] = b[15] = 0xFF;  // null strings
    }
    d.Run(b, iter & 2);
    EXPECT_LE(d.ops.size(), 1u);
  }
}

TEST(OpcuaNames, RoundTrip) {
  for (uint32_t f = 0; f <= 0xFFFF; ++f) {
    const std::string_view name = FunctionName(OpKind::kOpcua, uint16_t(f));
    if (name.empty()) continue;
    EXPECT_EQ(FunctionByName(OpKind::kOpcua, name), f) << name;
  }
  EXPECT_EQ(FunctionName(OpKind::kOpcua, 631), "read_request");
  EXPECT_EQ(FunctionName(OpKind::kOpcua, 673), "write_request");
  EXPECT_EQ(FunctionName(OpKind::kOpcua, 712), "call_request");
  EXPECT_EQ(FunctionName(OpKind::kOpcua, 461), "create_session_request");
  EXPECT_EQ(FunctionName(OpKind::kOpcua, 467), "activate_session_request");
  EXPECT_EQ(FunctionName(OpKind::kOpcua, 527), "browse_request");
  EXPECT_EQ(FunctionName(OpKind::kOpcua, kMsg), "secure_message");
  EXPECT_EQ(FunctionByName(OpKind::kOpcua, "hello"), kHel);
  EXPECT_EQ(FunctionByName(OpKind::kOpcua, "631"), std::nullopt);
  EXPECT_EQ(FunctionName(OpKind::kModbus, 631), "");
  EXPECT_EQ(MessageTypeTag(kClo), "CLO");
  EXPECT_EQ(MessageTypeTag(631), "");
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
    const FrameResult r = opcua::Frame(c.bytes, c.from_client);
    EXPECT_EQ(r.status, c.status) << c.name;
    if (c.status == FrameStatus::kPdu) EXPECT_EQ(r.length, c.length) << c.name;
    EXPECT_EQ(r.reason, c.reason) << c.name << ": " << MalformedReasonName(r.reason);
  }
}

TEST(OpcuaFrame, StrictLengthTable) {
  ExpectFrames({
      {"ACK 28", FromHex("41434b461c000000"), false, FrameStatus::kPdu, 28, MalformedReason::kNone},
      {"ACK 32", FromHex("41434b4620000000"), false, FrameStatus::kMalformed, 0, MalformedReason::kOpcuaSize},
      {"MSG size 16", FromHex("4d53474610000000"), true, FrameStatus::kMalformed, 0, MalformedReason::kOpcuaSize},
      {"MSG 2 GiB", FromHex("4d534746ffffff7f"), true, FrameStatus::kMalformed, 0, MalformedReason::kOpcuaSize},
      {"chunk X", FromHex("4d53475808000000"), true, FrameStatus::kInvalid, 0, MalformedReason::kNone},
  });
}

// HEL: 5 uint32, then EndpointUrl declaring `declared` bytes of which
// `present` follow; the chunk size is what is there plus `extra`.
Bytes Hel(int32_t declared, size_t present, size_t extra = 0) {
  Bytes b = Header("HEL", 'F');
  for (int i = 0; i < 5; ++i) Put32(b, 65535);
  Put32(b, uint32_t(declared));
  b.insert(b.end(), present, 'u');
  b.insert(b.end(), extra, 0);
  SetSize(b);
  return b;
}

// ERR: Error, Reason.
Bytes Err(int32_t declared, size_t present, size_t extra = 0) {
  Bytes b = Header("ERR", 'F');
  Put32(b, 0x80020000);
  Put32(b, uint32_t(declared));
  b.insert(b.end(), present, 'r');
  b.insert(b.end(), extra, 0);
  SetSize(b);
  return b;
}

// RHE: ServerUri, EndpointUrl.
Bytes Rhe(std::string_view server, std::string_view endpoint, size_t extra = 0) {
  Bytes b = Header("RHE", 'F');
  PutString(b, server);
  PutString(b, endpoint);
  b.insert(b.end(), extra, 0);
  SetSize(b);
  return b;
}

// OPN with policy None and a certificate declaring `cert` bytes of which
// `present` follow, no thumbprint, the sequence header and `body`.
Bytes OpnCert(int32_t cert, size_t present, const Bytes& body = TypeId(446)) {
  Bytes b = Header("OPN", 'F');
  Put32(b, 0);
  PutString(b, kNone);
  Put32(b, uint32_t(cert));
  b.insert(b.end(), present, 0xC5);
  Put32(b, 0xFFFFFFFF);  // no thumbprint
  Put32(b, 1);
  Put32(b, 1);
  b.insert(b.end(), body.begin(), body.end());
  SetSize(b);
  return b;
}

struct SizeRow {
  const char* name;
  Bytes bytes;
  bool agrees;
};

// Every string a HEL, ERR, RHE or an OPN security header declares must
// account for exactly the bytes of its chunk: Frame() reports a mismatch as
// kOpcuaSize (never framing on it), Decode() as kMalformed with its op.
TEST(OpcuaFrame, DeclaredSizesTable) {
  const std::string url = "opc.tcp://localhost:4840";
  const std::vector<SizeRow> rows = {
      {"HEL url 24", Hel(24, 24), true},
      {"HEL null url", Hel(-1, 0), true},
      {"HEL empty url", Hel(0, 0), true},
      {"HEL url 24, a trailing byte", Hel(24, 24, 1), false},
      {"HEL url 30 of 24", Hel(30, 24), false},
      {"HEL url 24 of 30", Hel(24, 30), false},
      {"HEL url over 4096", Hel(5000, 5000), false},
      {"HEL url length -2", Hel(-2, 0), false},
      {"ERR null reason", Err(-1, 0), true},
      {"ERR reason 10", Err(10, 10), true},
      {"ERR reason 10, 4 trailing bytes", Err(10, 10, 4), false},
      {"ERR reason 10 of 9", Err(10, 9), false},
      {"RHE", Rhe("urn:server", url), true},
      {"RHE long server uri", Rhe(std::string(200, 's'), url), true},
      {"RHE trailing bytes", Rhe("urn:server", url, 3), false},
      {"RHE long server uri, trailing byte", Rhe(std::string(200, 's'), url, 1), false},
      {"OPN None (captured)", FromHex(kOpnNone), true},
      {"OPN certificate 100", OpnCert(100, 100), true},
      {"OPN certificate past the chunk", OpnCert(4000, 100), false},
      {"OPN certificate length -5", OpnCert(-5, 0), false},
  };
  for (const SizeRow& row : rows) {
    SCOPED_TRACE(row.name);
    const FrameResult f = Frame(row.bytes);
    if (row.agrees) {
      EXPECT_EQ(f.status, FrameStatus::kPdu);
      EXPECT_EQ(f.length, row.bytes.size());
    } else {
      EXPECT_EQ(f.status, FrameStatus::kMalformed);
      EXPECT_EQ(f.reason, MalformedReason::kOpcuaSize);
    }
    Decoder d;
    d.Run(row.bytes);
    EXPECT_EQ(d.status, row.agrees ? DecodeStatus::kOk : DecodeStatus::kMalformed);
    EXPECT_EQ(d.ops.size(), 1u);  // reported either way
    // A prefix is judged the same, or asks for more (within 64 bytes), or
    // leaves what it cannot see to Decode.
    for (size_t n = 8; n < row.bytes.size(); ++n) {
      const FrameResult p = Frame(std::span<const uint8_t>(row.bytes.data(), n));
      if (p.status == FrameStatus::kNeedMore) {
        EXPECT_LT(n, 64u);
        continue;
      }
      if (p.status == FrameStatus::kMalformed) {
        EXPECT_FALSE(row.agrees) << "prefix " << n;
      }
    }
  }
}

// An OPN whose thumbprint ends where the sequence header should be.
TEST(OpcuaFrame, OpnWithoutSequenceHeaderIsMalformed) {
  Bytes b = Header("OPN", 'F');
  Put32(b, 0);
  PutString(b, kNone);
  Put32(b, 0xFFFFFFFF);
  Put32(b, 20);
  b.insert(b.end(), 20, 0x7E);
  SetSize(b);
  EXPECT_EQ(Frame(b).status, FrameStatus::kMalformed);
  EXPECT_EQ(Frame(b).reason, MalformedReason::kOpcuaSize);
}

}  // namespace
}  // namespace conduit::ics::opcua
