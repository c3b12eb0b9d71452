#include "ics/opcua.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace conduit::ics::opcua {
namespace {

// Namespace-0 service encodings (DefaultBinary) from OPC UA Part 4/6.
struct Service {
  uint16_t id;
  bool response;
  std::string_view name;
};
constexpr std::array<Service, 83> kServices{{
    {397, true, "service_fault"},
    {410, false, "test_stack_request"},
    {413, true, "test_stack_response"},
    {416, false, "test_stack_ex_request"},
    {419, true, "test_stack_ex_response"},
    {422, false, "find_servers_request"},
    {425, true, "find_servers_response"},
    {428, false, "get_endpoints_request"},
    {431, true, "get_endpoints_response"},
    {437, false, "register_server_request"},
    {440, true, "register_server_response"},
    {446, false, "open_secure_channel_request"},
    {449, true, "open_secure_channel_response"},
    {452, false, "close_secure_channel_request"},
    {455, true, "close_secure_channel_response"},
    {461, false, "create_session_request"},
    {464, true, "create_session_response"},
    {467, false, "activate_session_request"},
    {470, true, "activate_session_response"},
    {473, false, "close_session_request"},
    {476, true, "close_session_response"},
    {479, false, "cancel_request"},
    {482, true, "cancel_response"},
    {488, false, "add_nodes_request"},
    {491, true, "add_nodes_response"},
    {494, false, "add_references_request"},
    {497, true, "add_references_response"},
    {500, false, "delete_nodes_request"},
    {503, true, "delete_nodes_response"},
    {506, false, "delete_references_request"},
    {509, true, "delete_references_response"},
    {527, false, "browse_request"},
    {530, true, "browse_response"},
    {533, false, "browse_next_request"},
    {536, true, "browse_next_response"},
    {554, false, "translate_browse_paths_to_node_ids_request"},
    {557, true, "translate_browse_paths_to_node_ids_response"},
    {560, false, "register_nodes_request"},
    {563, true, "register_nodes_response"},
    {566, false, "unregister_nodes_request"},
    {569, true, "unregister_nodes_response"},
    {615, false, "query_first_request"},
    {618, true, "query_first_response"},
    {621, false, "query_next_request"},
    {624, true, "query_next_response"},
    {631, false, "read_request"},
    {634, true, "read_response"},
    {664, false, "history_read_request"},
    {667, true, "history_read_response"},
    {673, false, "write_request"},
    {676, true, "write_response"},
    {700, false, "history_update_request"},
    {703, true, "history_update_response"},
    {712, false, "call_request"},
    {715, true, "call_response"},
    {751, false, "create_monitored_items_request"},
    {754, true, "create_monitored_items_response"},
    {763, false, "modify_monitored_items_request"},
    {766, true, "modify_monitored_items_response"},
    {769, false, "set_monitoring_mode_request"},
    {772, true, "set_monitoring_mode_response"},
    {775, false, "set_triggering_request"},
    {778, true, "set_triggering_response"},
    {781, false, "delete_monitored_items_request"},
    {784, true, "delete_monitored_items_response"},
    {787, false, "create_subscription_request"},
    {790, true, "create_subscription_response"},
    {793, false, "modify_subscription_request"},
    {796, true, "modify_subscription_response"},
    {799, false, "set_publishing_mode_request"},
    {802, true, "set_publishing_mode_response"},
    {826, false, "publish_request"},
    {829, true, "publish_response"},
    {832, false, "republish_request"},
    {835, true, "republish_response"},
    {841, false, "transfer_subscriptions_request"},
    {844, true, "transfer_subscriptions_response"},
    {847, false, "delete_subscriptions_request"},
    {850, true, "delete_subscriptions_response"},
    {12208, false, "find_servers_on_network_request"},
    {12209, true, "find_servers_on_network_response"},
    {12211, false, "register_server2_request"},
    {12212, true, "register_server2_response"},
}};
static_assert(std::is_sorted(kServices.begin(), kServices.end(),
                             [](const Service& a, const Service& b) { return a.id < b.id; }));

constexpr uint16_t kServiceFault = 397;

const Service* FindService(uint32_t id) {
  const auto it = std::lower_bound(kServices.begin(), kServices.end(), id,
                                   [](const Service& s, uint32_t v) { return s.id < v; });
  return (it != kServices.end() && it->id == id) ? &*it : nullptr;
}

struct MessageType {
  char tag[4];
  OpcuaMessageType type;
  std::string_view name;
};
constexpr std::array<MessageType, 7> kMessageTypes{{
    {"HEL", kHel, "hello"},
    {"ACK", kAck, "acknowledge"},
    {"ERR", kErr, "error"},
    {"RHE", kRhe, "reverse_hello"},
    {"OPN", kOpn, "open_secure_channel"},
    {"MSG", kMsg, "secure_message"},
    {"CLO", kClo, "close_secure_channel"},
}};

std::optional<OpcuaMessageType> ParseMessageType(const uint8_t* p) {
  for (const auto& m : kMessageTypes) {
    if (std::memcmp(p, m.tag, 3) == 0) return m.type;
  }
  return std::nullopt;
}

// Smallest chunk each message type can be (header + fixed fields + empty
// strings), per OPC UA Part 6 section 7.1.2.
uint32_t MinChunkSize(OpcuaMessageType t) {
  switch (t) {
    case kHel: return kHeaderSize + 20 + 4;  // 5 uint32 + EndpointUrl
    case kAck: return kHeaderSize + 20;
    case kErr: return kHeaderSize + 4 + 4;    // Error + Reason
    case kRhe: return kHeaderSize + 4 + 4;    // ServerUri + EndpointUrl
    case kOpn: return kHeaderSize + 4 + 12 + 8;  // channel, 3 strings, seq
    default: return kHeaderSize + 4 + 4 + 8;     // channel, token, seq
  }
}

bool ChunkTypeValid(OpcuaMessageType t, uint8_t c) {
  if (c == 'F') return true;
  return (c == 'C' || c == 'A') && (t == kMsg || t == kOpn || t == kClo);
}

// Per flow-direction scratch kept in StreamState.
struct State {
  uint8_t flags;
  uint8_t pad[3];
  uint32_t chunk_request_id;  // request id of the multi-chunk message
  uint32_t chunk_type_id;     // its type id, numeric
  uint16_t chunk_type_ns;
  uint16_t chunk_function;    // the op function reported for it
};
static_assert(sizeof(State) <= sizeof(StreamState::bytes));
enum StateFlag : uint8_t {
  kPolicyNone = 1 << 0,     // OPN seen with SecurityPolicy#None: plaintext
  kPolicySecured = 1 << 1,  // OPN seen with another policy
  kInChunks = 1 << 2,       // a 'C' chunk started a message
  kChunkVisible = 1 << 3,   // its type id was visible
};

constexpr std::string_view kPolicyNoneUri = "http://opcfoundation.org/UA/SecurityPolicy#None";

// Skips a String/ByteString (int32 length, -1 = null). Returns false if it is
// invalid or runs past `end`; *cut tells the two apart.
bool SkipString(const uint8_t* b, size_t end, size_t& off, bool& cut, std::string_view* out = nullptr) {
  if (off + 4 > end) { cut = true; return false; }
  const int32_t n = int32_t(Le32(b + off));
  off += 4;
  if (n < -1) return false;
  if (n <= 0) { if (out) *out = {}; return true; }
  if (size_t(n) > end - off) { cut = true; return false; }
  if (out) *out = std::string_view(reinterpret_cast<const char*>(b + off), size_t(n));
  off += size_t(n);
  return true;
}

struct TypeId {
  bool numeric = false;
  uint16_t ns = 0;
  uint32_t id = 0;
};

// Parses the encoding NodeId at `off` the way tshark does: only the numeric
// forms carry a number. Returns false if cut short.
bool ParseTypeId(const uint8_t* b, size_t end, size_t off, TypeId& t) {
  if (off >= end) return false;
  switch (b[off]) {
    case 0x00:  // two-byte: id
      if (off + 2 > end) return false;
      t = {true, 0, b[off + 1]};
      return true;
    case 0x01:  // four-byte: ns (1), id (2)
      if (off + 4 > end) return false;
      t = {true, b[off + 1], Le16(b + off + 2)};
      return true;
    case 0x02:  // numeric: ns (2), id (4)
      if (off + 7 > end) return false;
      t = {true, Le16(b + off + 1), Le32(b + off + 3)};
      return true;
    default:  // string/guid/opaque ids, or an encrypted body
      t = {};
      return true;
  }
}

// ---------------------------------------------------------------------------
// Strict sizes. A transport message (HEL, ERR, RHE) is fixed fields and
// strings and nothing else, so its chunk size must be exactly those; an OPN
// chunk's security header strings (policy URI, certificate, thumbprint) and
// the sequence header after them must fit inside its chunk size. Bytes no
// field accounts for would reach the server unjudged, a string past the
// chunk swallows the next one: both are malformed (kOpcuaSize).
//
// Frame() judges the bytes in view and asks for more only within
// kLookahead bytes (the framer's carry can always provide them); what lies
// further out Decode() judges on the whole chunk (lookahead 0).

constexpr size_t kLookahead = 64;
constexpr size_t kMaxTransportString = 4096;  // Part 6 7.1.2: EndpointUrl, Reason, ServerUri
constexpr size_t kSequenceHeader = 8;

enum class Strict : uint8_t { kOk, kMalformed, kNeedMore };

class SizeChecker {
 public:
  SizeChecker(std::span<const uint8_t> bytes, uint32_t size, size_t lookahead)
      : p_(bytes.data()), avail_(bytes.size()), size_(size), lookahead_(lookahead) {}

  Strict Check(OpcuaMessageType type) const {
    switch (type) {
      case kHel: return Transport(kHeaderSize + 20, 1);  // 5 uint32, EndpointUrl
      case kErr: return Transport(kHeaderSize + 4, 1);   // Error, Reason
      case kRhe: return Transport(kHeaderSize, 2);       // ServerUri, EndpointUrl
      case kOpn: return SecurityHeader();
      default: return Strict::kOk;  // ACK is fixed (Frame); MSG/CLO bodies carry no sizes
    }
  }

 private:
  // Where the String at `off` ends; end SIZE_MAX when its length field is
  // out of view (kNeedMore within the lookahead, else nothing to judge).
  struct StringEnd {
    Strict verdict;
    size_t end;
  };
  StringEnd SkipString(size_t off, size_t max_len) const {
    if (off + 4 > size_) return {Strict::kMalformed, 0};
    if (off + 4 > avail_) {
      return {off + 4 <= lookahead_ ? Strict::kNeedMore : Strict::kOk, SIZE_MAX};
    }
    const int32_t n = int32_t(Le32(p_ + off));
    if (n < -1 || size_t(n < 0 ? 0 : n) > max_len) return {Strict::kMalformed, 0};
    const size_t end = off + 4 + size_t(n < 0 ? 0 : n);
    return {end > size_ ? Strict::kMalformed : Strict::kOk, end};
  }

  // `strings` Strings from `off`, then the end of the chunk.
  Strict Transport(size_t off, int strings) const {
    for (int i = 0; i < strings; ++i) {
      const StringEnd s = SkipString(off, kMaxTransportString);
      if (s.verdict != Strict::kOk || s.end == SIZE_MAX) return s.verdict;
      off = s.end;
    }
    return off == size_ ? Strict::kOk : Strict::kMalformed;
  }

  // OPN: SecureChannelId, SecurityPolicyUri, SenderCertificate,
  // ReceiverCertificateThumbprint, then the sequence header.
  Strict SecurityHeader() const {
    size_t off = kHeaderSize + 4;
    for (int i = 0; i < 3; ++i) {
      const StringEnd s = SkipString(off, size_);
      if (s.verdict != Strict::kOk || s.end == SIZE_MAX) return s.verdict;
      off = s.end;
    }
    return off + kSequenceHeader <= size_ ? Strict::kOk : Strict::kMalformed;
  }

  const uint8_t* p_;
  size_t avail_;
  uint32_t size_;
  size_t lookahead_;
};

}  // namespace

std::string_view MessageTypeTag(uint16_t function) {
  for (const auto& m : kMessageTypes) {
    if (m.type == function) return std::string_view(m.tag, 3);
  }
  return {};
}

FrameResult Frame(std::span<const uint8_t> head, bool /*from_client*/) {
  if (head.size() >= 3 && !ParseMessageType(head.data())) return {FrameStatus::kInvalid, 0};
  if (head.size() < kHeaderSize) return {FrameStatus::kNeedMore, 0};
  const OpcuaMessageType type = *ParseMessageType(head.data());
  const uint32_t size = Le32(head.data() + 4);
  if (!ChunkTypeValid(type, head[3])) return {FrameStatus::kInvalid, 0};
  // ACK is fixed (header + 5 uint32); the others have a floor.
  if (size < MinChunkSize(type) || size > kMaxChunkSize || (type == kAck && size != MinChunkSize(kAck))) {
    return Malformed(MalformedReason::kOpcuaSize);
  }
  switch (SizeChecker(head.first(std::min<size_t>(head.size(), size)), size, kLookahead).Check(type)) {
    case Strict::kOk: break;
    case Strict::kMalformed: return Malformed(MalformedReason::kOpcuaSize);
    case Strict::kNeedMore: return {FrameStatus::kNeedMore, 0};
  }
  return {FrameStatus::kPdu, size};
}

namespace {

DecodeStatus DecodeChunk(const PduView& pdu, StreamState& stream, OpList& ops) {
  const std::span<const uint8_t> bytes = pdu.bytes;
  if (bytes.size() < 3) return DecodeStatus::kTruncated;
  const auto parsed = ParseMessageType(bytes.data());
  if (!parsed) return DecodeStatus::kNotThisProtocol;
  if (bytes.size() < kHeaderSize) return DecodeStatus::kTruncated;
  const OpcuaMessageType type = *parsed;
  const uint8_t chunk = bytes[3];
  const uint32_t size = Le32(bytes.data() + 4);
  if (!ChunkTypeValid(type, chunk) || size < kHeaderSize) return DecodeStatus::kNotThisProtocol;
  const size_t end = std::min<size_t>(bytes.size(), size);
  const uint8_t* b = bytes.data();

  IcsOp op;
  op.kind = OpKind::kOpcua;
  op.function = type;
  op.sub_function = type;
  op.flags = kOpHasSubFunction;
  op.direction = pdu.from_client ? Direction::kRequest : Direction::kResponse;

  switch (type) {
    case kHel: case kRhe:
      op.direction = Direction::kRequest;
      ops.Push(op);
      return DecodeStatus::kOk;
    case kAck:
      op.direction = Direction::kResponse;
      ops.Push(op);
      return DecodeStatus::kOk;
    case kErr:
      op.direction = Direction::kResponse;
      op.flags |= kOpException;
      ops.Push(op);
      return DecodeStatus::kOk;
    default:
      break;
  }

  State st;
  std::memcpy(&st, stream.bytes.data(), sizeof(st));

  // Security header, then the sequence header (sequence number, request id).
  size_t off = kHeaderSize + 4;  // past SecureChannelId
  bool cut = false;
  if (type == kOpn) {
    std::string_view policy;
    const bool policy_ok = SkipString(b, end, off, cut, &policy);
    if (policy_ok) {
      // Remember it even if the certificate that follows is cut off (a
      // secured OPN spans segments and only a prefix of it is kept).
      const bool none = policy.empty() || policy == kPolicyNoneUri;
      st.flags = uint8_t((st.flags & ~(kPolicyNone | kPolicySecured)) | (none ? kPolicyNone : kPolicySecured));
    }
    if (!policy_ok || !SkipString(b, end, off, cut) || !SkipString(b, end, off, cut)) {
      op.flags |= kOpTruncated;
      ops.Push(op);
      std::memcpy(stream.bytes.data(), &st, sizeof(st));
      return cut && end < size ? DecodeStatus::kOk : RefusePdu(pdu, MalformedReason::kOpcuaSize);
    }
  } else {
    off += 4;  // TokenId
  }
  if (off + 8 > end) {
    op.flags |= kOpTruncated;
    ops.Push(op);
    std::memcpy(stream.bytes.data(), &st, sizeof(st));
    return end < size ? DecodeStatus::kOk : RefusePdu(pdu, MalformedReason::kOpcuaSize);
  }
  const uint32_t request_id = Le32(b + off + 4);
  off += 8;

  const bool continuation = (st.flags & kInChunks) && st.chunk_request_id == request_id;
  bool visible = false;
  if (continuation) {
    visible = (st.flags & kChunkVisible) != 0;
    if (visible) {
      op.function = st.chunk_function;
      op.object_group = st.chunk_type_ns;
      op.object_instance = st.chunk_type_id;
    }
  } else if (chunk != 'A') {  // an abort chunk's body is an error, no type id
    TypeId t;
    if (!ParseTypeId(b, end, off, t)) {
      op.flags |= kOpTruncated;
    } else if (t.numeric) {
      const Service* s = t.ns == 0 ? FindService(t.id) : nullptr;
      const bool plaintext = (st.flags & kPolicyNone) != 0;
      visible = s != nullptr || (plaintext && t.id < kHel);
      if (visible) {
        op.function = uint16_t(t.id);
        op.object_group = t.ns;
        op.object_instance = t.id;
      }
    }
  }

  if (visible) {
    op.flags |= kOpHasObject;
    const Service* s = op.object_group == 0 ? FindService(op.function) : nullptr;
    if (s) {
      op.direction = s->response ? Direction::kResponse : Direction::kRequest;
      if (s->id == kServiceFault) op.flags |= kOpException;
    }
  }
  if (chunk == 'A') op.flags |= kOpException;

  // Track multi-chunk messages: 'C' opens (or continues), 'F'/'A' closes.
  if (chunk == 'C') {
    if (!continuation) {
      st.flags = uint8_t((st.flags & ~kChunkVisible) | kInChunks);
      st.chunk_request_id = request_id;
      if (visible) {
        st.flags |= kChunkVisible;
        st.chunk_function = op.function;
        st.chunk_type_ns = op.object_group;
        st.chunk_type_id = op.object_instance;
      }
    }
  } else if (continuation || chunk == 'A') {
    st.flags &= uint8_t(~(kInChunks | kChunkVisible));
  }
  std::memcpy(stream.bytes.data(), &st, sizeof(st));

  ops.Push(op);
  if (op.Has(kOpTruncated) && end == size) return RefusePdu(pdu, MalformedReason::kOpcuaSize);
  return DecodeStatus::kOk;
}

}  // namespace

DecodeStatus Decode(const PduView& pdu, StreamState& stream, OpList& ops) {
  const DecodeStatus status = DecodeChunk(pdu, stream, ops);
  if (status != DecodeStatus::kOk) return status;
  // The op is reported either way; sizes the chunk's fields disagree with
  // (the same checks as Frame(), on every byte kept) make it malformed.
  const std::span<const uint8_t> bytes = pdu.bytes;
  const uint32_t size = Le32(bytes.data() + 4);
  const std::span<const uint8_t> kept = bytes.first(std::min<size_t>(bytes.size(), size));
  if (SizeChecker(kept, size, 0).Check(*ParseMessageType(bytes.data())) == Strict::kMalformed) {
    return RefusePdu(pdu, MalformedReason::kOpcuaSize);
  }
  return DecodeStatus::kOk;
}

std::string_view FunctionName(OpKind kind, uint16_t function) {
  if (kind != OpKind::kOpcua) return {};
  if (const Service* s = FindService(function)) return s->name;
  for (const auto& m : kMessageTypes) {
    if (m.type == function) return m.name;
  }
  return {};
}

std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name) {
  if (kind != OpKind::kOpcua) return std::nullopt;
  for (const auto& s : kServices) {
    if (s.name == name) return s.id;
  }
  for (const auto& m : kMessageTypes) {
    if (m.name == name) return m.type;
  }
  return std::nullopt;
}

}  // namespace conduit::ics::opcua
