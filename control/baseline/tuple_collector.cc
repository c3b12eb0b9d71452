#include "baseline/tuple_collector.h"

#include <algorithm>
#include <cstring>

#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "parse/parse.h"
#include "simulate/pcap_reader.h"

namespace conduit::baseline {
namespace {

// As simulate: a worker-sized flow table, capture time as the clock.
constexpr uint32_t kFlowCapacity = 1 << 16;
constexpr uint64_t kIdleTimeoutMicros = 300ull * 1000000;

}  // namespace

size_t TupleSet::Hash::operator()(const observe::TupleKey& k) const {
  uint64_t words[sizeof(k) / 8];
  std::memcpy(words, &k, sizeof(k));
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint64_t w : words) {
    h ^= w + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
  }
  return h;
}

void TupleSet::Add(const observe::TupleKey& key, uint64_t now_ns, const observe::AddressRange* range) {
  observe::TupleStats& s = tuples_[key];
  if (s.count == 0 || now_ns < s.first_seen_ns) s.first_seen_ns = now_ns;
  if (now_ns > s.last_seen_ns) s.last_seen_ns = now_ns;
  ++s.count;
  if (range != nullptr) observe::AddRange(s, *range);
}

void TupleSet::WidenToAnyAddress(const observe::TupleKey& key) {
  auto it = tuples_.find(key);
  if (it != tuples_.end()) observe::AddRange(it->second, kAnyAddress);
}

std::vector<ObservedTuple> TupleSet::Sorted() const {
  std::vector<ObservedTuple> out;
  out.reserve(tuples_.size());
  for (const auto& [k, s] : tuples_) out.push_back({k, s});
  std::sort(out.begin(), out.end(), [](const ObservedTuple& a, const ObservedTuple& b) {
    return std::memcmp(&a.key, &b.key, sizeof(a.key)) < 0;
  });
  return out;
}

absl::StatusOr<Observation> CollectPcap(const CollectOptions& options) {
  Observation obs;
  TupleSet set;
  // Tuples whose ops had no provable address range (see propose.h): their
  // ranges become kAnyAddress once all ops are in.
  std::vector<observe::TupleKey> addressless;
  Inspector inspector(kFlowCapacity, kIdleTimeoutMicros, &options.ports);
  inspector.set_enforce(false);  // as simulate: judge the bytes, not the capture's gaps
  ics::OpList ops;
  PacketMeta meta;

  absl::Status status = ForEachFrame(options.pcap, [&](const CapturedFrame& f) {
    ++obs.frames;
    const uint64_t now = f.timestamp_micros * 1000;
    if (obs.frames == 1 || now < obs.first_seen_ns) obs.first_seen_ns = now;
    if (now > obs.last_seen_ns) obs.last_seen_ns = now;
    const ParseResult parsed = ParsePacket(f.bytes.data(), static_cast<uint32_t>(f.bytes.size()), meta);
    if (parsed == ParseResult::kNonIp) {
      ++obs.non_ip[meta.ethertype];
      return;
    }
    if (parsed != ParseResult::kOk) {
      ++obs.unparsable;
      return;
    }
    ops.Clear();
    const Inspection in = inspector.Inspect(f.bytes.data(), meta, f.timestamp_micros, ops);
    observe::TupleKey key;
    key.wire = static_cast<uint8_t>(options.wire);
    key.ip_version = meta.ip_version;
    key.l4_proto = meta.l4_proto;
    // The judge's endpoints (judge.cc EndpointsOf): the flow's initiator is
    // the client, whichever side sent this packet.
    const bool from_client = in.flow == nullptr || in.from_client;
    key.client = from_client ? meta.src_addr : meta.dst_addr;
    key.server = from_client ? meta.dst_addr : meta.src_addr;
    key.server_port = in.flow == nullptr ? 0 : from_client ? meta.dst_port : meta.src_port;
    // Every request the judge weighs is learned: the flow's operations and
    // the candidates found where its framing is lost (framer.h), so the
    // proposal admits what was seen.
    auto learn = [&](const ics::IcsOp& op) {
      if (op.direction == ics::Direction::kResponse) return;  // follows its request
      observe::TupleKey k = key;
      k.protocol = ics::ProtocolOf(op.kind);
      k.kind = op.kind;
      k.direction = op.direction;
      k.function = ics::PolicyFunction(op);
      k.has_unit = op.Has(ics::kOpHasUnit) ? 1 : 0;
      k.unit = op.Has(ics::kOpHasUnit) ? op.unit : 0;
      if (op.Has(ics::kOpHasAddress) && !op.Has(ics::kOpTruncated)) {
        const observe::AddressRange r{op.address_first, op.address_last};
        set.Add(k, now, &r);
      } else {
        set.Add(k, now, nullptr);
        addressless.push_back(k);
      }
    };
    // The judge's branch between ICS and other traffic (JudgePacket).
    if (in.flow != nullptr && in.flow->protocol != ics::Protocol::kUnknown && !in.flow->not_ics &&
        in.feed != ics::FeedStatus::kNotIcs) {
      switch (in.feed) {
        case ics::FeedStatus::kFramingLost:
        case ics::FeedStatus::kUnparsable:
        case ics::FeedStatus::kUnframed:
        case ics::FeedStatus::kHoleFill:
          ++obs.unparsable;
          break;
        default:
          if (ops.overflowed() != 0 || in.MalformedPdu()) ++obs.unparsable;
          break;
      }
      for (const ics::IcsOp& op : ops) learn(op);
      return;
    }
    for (const ics::IcsOp* op = ops.end() - in.candidates; op != ops.end(); ++op) learn(*op);
    set.Add(key, now, nullptr);  // other IP traffic: (client, server, l4, server port)
  });
  if (!status.ok()) return status;
  for (const observe::TupleKey& k : addressless) set.WidenToAnyAddress(k);
  obs.tuples = set.Sorted();
  return obs;
}

}  // namespace conduit::baseline
