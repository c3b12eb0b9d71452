// ICS decoder cost per PDU, and the whole Inspector per packet.
//
// BM_Decode/<proto> calls <proto>::Decode directly on every PDU that the
// dataplane's own framer (ics/framer.h) cut from the captures in
// corpus/pcap/<proto>/: the PDUs are recorded once, before timing, by running
// FeedTcpSegment / FeedDatagram with a recording decode hook, so each PDU is
// exactly what the decoder sees in the worker (including the bounded prefix
// of a PDU that spanned segments). Items are PDUs; bytes are the bytes handed
// to the decoder. Baseline, same run: BM_Baseline_PduCopy/<proto> memcpys the
// same PDU bytes in the same loop.
//
// BM_Inspect/<proto> runs Inspector::Inspect (flow lookup + framing + decode)
// over every frame of every capture of the protocol, each capture with a
// fresh Inspector (built outside the timed region: a second pass over the
// same capture would only see retransmissions). Frames are parsed before
// timing; ParsePacket itself is in parse_bench. Baseline:
// BM_Baseline_FrameWalk/<proto> walks the same frames touching each one's
// payload's first byte.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_corpus.h"
#include "flow/flow_key.h"
#include "flow/flow_table.h"
#include "ics/bacnet.h"
#include "ics/dnp3.h"
#include "ics/enip.h"
#include "ics/framer.h"
#include "ics/iec104.h"
#include "ics/modbus.h"
#include "ics/opcua.h"
#include "ics/registry.h"
#include "ics/s7comm.h"
#include "inspect/inspector.h"
#include "parse/parse.h"

namespace conduit::bench {
namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpAck = 0x10;

// ---- PDU extraction ------------------------------------------------------------

struct PduSet {
  std::vector<uint8_t> blob;
  struct Entry {
    uint32_t offset, size, length;
    bool from_client, udp;
  };
  std::vector<Entry> pdus;
  uint64_t bytes = 0;
  size_t captures = 0;
};

PduSet* g_sink = nullptr;
ics::DecodeFn g_real_decode = nullptr;

ics::DecodeStatus RecordingDecode(const ics::PduView& pdu, ics::StreamState& state,
                                  ics::OpList& ops) {
  const uint32_t off = static_cast<uint32_t>((g_sink->blob.size() + 15) & ~size_t{15});
  g_sink->blob.resize(off + pdu.bytes.size());
  if (!pdu.bytes.empty()) std::memcpy(g_sink->blob.data() + off, pdu.bytes.data(), pdu.bytes.size());
  g_sink->pdus.push_back({off, static_cast<uint32_t>(pdu.bytes.size()), pdu.length,
                          pdu.from_client, pdu.udp});
  g_sink->bytes += pdu.bytes.size();
  return g_real_decode(pdu, state, ops);
}

// Replays one capture through the framer the way Inspector does (same flow
// key, same choice of server side), recording the PDUs of `proto` flows.
void ExtractPdus(const std::vector<Frame>& frames, const ics::ProtocolPorts& ports,
                 ics::Protocol proto, PduSet& out) {
  const ics::ProtocolModule* real = ics::ModuleFor(proto);
  if (real == nullptr) return;
  ics::ProtocolModule recording = *real;
  recording.decode = &RecordingDecode;
  g_real_decode = real->decode;
  g_sink = &out;
  auto flows = std::make_unique<FlowTable>(1 << 14, ~0ull);
  ics::OpList ops;
  PacketMeta meta;
  for (const Frame& f : frames) {
    if (ParsePacket(f.bytes.data(), static_cast<uint32_t>(f.bytes.size()), meta) !=
            ParseResult::kOk ||
        !meta.Has(kPktHasL4)) {
      continue;
    }
    const bool tcp = meta.l4_proto == kProtoTcp;
    if (!tcp && meta.l4_proto != kProtoUdp) continue;
    bool lo_to_hi;
    const FlowKey key = MakeFlowKey(meta, &lo_to_hi);
    bool created;
    FlowEntry& flow = flows->FindOrInsert(key, HashFlowKey(key), 0, &created);
    if (created) {
      ClassifyNewFlow(flow, meta, lo_to_hi, ports);
    }
    if (flow.protocol != proto) continue;
    const bool from_client = lo_to_hi == flow.client_is_lo;
    ics::StreamDirection& stream = flow.dir[lo_to_hi ? 0 : 1].stream;
    const std::span<const uint8_t> payload(f.bytes.data() + meta.payload_offset, meta.payload_len);
    ops.Clear();
    if (tcp) {
      ics::FeedTcpSegment(recording, stream, meta.tcp_seq, (meta.tcp_flags & kTcpSyn) != 0,
                          payload, from_client, ops);
    } else {
      ics::FeedDatagram(recording, stream, payload, from_client, ops);
    }
  }
  g_sink = nullptr;
}

struct Corpus {
  std::string root;
  // Per protocol directory: captures (frames + ports).
  struct Capture {
    std::vector<Frame> frames;
    std::vector<PacketMeta> metas;  // ParsePacket result per frame
    std::vector<uint8_t> parsed;    // 1 if kOk
    std::unique_ptr<ics::ProtocolPorts> ports;
  };
};

const char* DirOf(ics::Protocol p) {
  switch (p) {
    case ics::Protocol::kModbus: return "modbus";
    case ics::Protocol::kDnp3: return "dnp3";
    case ics::Protocol::kS7comm: return "s7comm";
    case ics::Protocol::kEnip: return "enip";
    case ics::Protocol::kIec104: return "iec104";
    case ics::Protocol::kOpcua: return "opcua";
    case ics::Protocol::kBacnet: return "bacnet";
    default: return "";
  }
}

// Captures of one protocol directory, loaded and parsed once (cached).
const std::vector<Corpus::Capture>* CapturesOf(ics::Protocol p, std::string* error) {
  static std::vector<Corpus::Capture>* cache[static_cast<int>(ics::Protocol::kCount)] = {};
  auto*& slot = cache[static_cast<int>(p)];
  if (slot != nullptr) return slot;
  const std::string root = FindCorpus();
  if (root.empty()) {
    *error = "corpus not found (set CONDUIT_CORPUS or check out shared/corpus)";
    return nullptr;
  }
  slot = new std::vector<Corpus::Capture>;
  for (const std::string& rel : CapturesIn(root, DirOf(p))) {
    Corpus::Capture c;
    c.frames = LoadCapture(root + "/" + rel);
    if (c.frames.empty()) continue;
    c.ports = std::make_unique<ics::ProtocolPorts>(PortsFor(root, rel));
    c.metas.resize(c.frames.size());
    c.parsed.resize(c.frames.size());
    for (size_t i = 0; i < c.frames.size(); ++i) {
      c.parsed[i] = ParsePacket(c.frames[i].bytes.data(),
                                static_cast<uint32_t>(c.frames[i].bytes.size()),
                                c.metas[i]) == ParseResult::kOk;
    }
    slot->push_back(std::move(c));
  }
  if (slot->empty()) *error = std::string("no captures in corpus/pcap/") + DirOf(p);
  return slot;
}

const PduSet* PdusOf(ics::Protocol p, std::string* error) {
  static PduSet* cache[static_cast<int>(ics::Protocol::kCount)] = {};
  auto*& slot = cache[static_cast<int>(p)];
  if (slot != nullptr) return slot;
  const auto* caps = CapturesOf(p, error);
  if (caps == nullptr || caps->empty()) return nullptr;
  slot = new PduSet;
  for (const Corpus::Capture& c : *caps) {
    ExtractPdus(c.frames, *c.ports, p, *slot);
    ++slot->captures;
  }
  if (slot->pdus.empty()) *error = "no PDUs framed from the captures";
  return slot;
}

// ---- decoders ------------------------------------------------------------------

template <ics::DecodeFn Decode>
void BM_Decode(benchmark::State& state, ics::Protocol proto) {
  std::string error;
  const PduSet* set = PdusOf(proto, &error);
  if (set == nullptr || set->pdus.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const uint8_t* base = set->blob.data();
  const size_t n = set->pdus.size();
  auto ops = std::make_unique<ics::OpList>();
  ics::StreamState stream[2];  // [1] client → server, [0] server → client
  uint64_t ok = 0, op_count = 0;
  for (auto _ : state) {
    for (const PduSet::Entry& e : set->pdus) {
      ops->Clear();
      const ics::PduView view{{base + e.offset, e.size}, e.length, e.from_client, e.udp};
      const ics::DecodeStatus s = Decode(view, stream[e.from_client], *ops);
      benchmark::DoNotOptimize(s);
      ok += s == ics::DecodeStatus::kOk;
      op_count += ops->size();
      benchmark::DoNotOptimize(ops->begin());
    }
  }
  const double total = double(state.iterations()) * double(n);
  state.SetItemsProcessed(int64_t(total));
  state.SetBytesProcessed(int64_t(state.iterations() * set->bytes));
  state.counters["pdus"] = double(n);
  state.counters["avg_bytes"] = double(set->bytes) / double(n);
  state.counters["ok_frac"] = double(ok) / total;
  state.counters["ops_per_pdu"] = double(op_count) / total;
  state.counters["ns_per_pdu"] =
      benchmark::Counter(total, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Registered by hand so each benchmark calls <proto>::Decode directly, not
// through the module table's function pointer (as the framer does).
const bool kDecodeRegistered = [] {
  benchmark::RegisterBenchmark("BM_Decode/modbus", &BM_Decode<&ics::modbus::Decode>, ics::Protocol::kModbus);
  benchmark::RegisterBenchmark("BM_Decode/dnp3", &BM_Decode<&ics::dnp3::Decode>, ics::Protocol::kDnp3);
  benchmark::RegisterBenchmark("BM_Decode/s7comm", &BM_Decode<&ics::s7comm::Decode>, ics::Protocol::kS7comm);
  benchmark::RegisterBenchmark("BM_Decode/enip", &BM_Decode<&ics::enip::Decode>, ics::Protocol::kEnip);
  benchmark::RegisterBenchmark("BM_Decode/iec104", &BM_Decode<&ics::iec104::Decode>, ics::Protocol::kIec104);
  benchmark::RegisterBenchmark("BM_Decode/opcua", &BM_Decode<&ics::opcua::Decode>, ics::Protocol::kOpcua);
  benchmark::RegisterBenchmark("BM_Decode/bacnet", &BM_Decode<&ics::bacnet::Decode>, ics::Protocol::kBacnet);
  return true;
}();

// Baseline: the same loop over the same PDUs, memcpy'ing each PDU's bytes
// into a scratch buffer instead of decoding it.
void BM_Baseline_PduCopy(benchmark::State& state, ics::Protocol proto) {
  std::string error;
  const PduSet* set = PdusOf(proto, &error);
  if (set == nullptr || set->pdus.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const uint8_t* base = set->blob.data();
  const size_t n = set->pdus.size();
  std::vector<uint8_t> scratch(65536);
  for (auto _ : state) {
    for (const PduSet::Entry& e : set->pdus) {
      std::memcpy(scratch.data(), base + e.offset, e.size);
      benchmark::DoNotOptimize(scratch.data());
    }
  }
  const double total = double(state.iterations()) * double(n);
  state.SetItemsProcessed(int64_t(total));
  state.SetBytesProcessed(int64_t(state.iterations() * set->bytes));
  state.counters["ns_per_pdu"] =
      benchmark::Counter(total, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---- the whole Inspector ----------------------------------------------------------

void BM_Inspect(benchmark::State& state, ics::Protocol proto) {
  std::string error;
  const auto* caps = CapturesOf(proto, &error);
  if (caps == nullptr || caps->empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  size_t frames = 0;
  uint64_t bytes = 0;
  for (const auto& c : *caps) {
    frames += c.frames.size();
    for (const Frame& f : c.frames) bytes += f.bytes.size();
  }
  auto ops = std::make_unique<ics::OpList>();
  std::vector<std::unique_ptr<Inspector>> inspectors(caps->size());
  uint64_t pdus = 0, op_count = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < caps->size(); ++i) {
      inspectors[i] = std::make_unique<Inspector>(1024, ~0ull, (*caps)[i].ports.get());
    }
    state.ResumeTiming();
    for (size_t i = 0; i < caps->size(); ++i) {
      const Corpus::Capture& c = (*caps)[i];
      Inspector& insp = *inspectors[i];
      for (size_t k = 0; k < c.frames.size(); ++k) {
        if (!c.parsed[k]) continue;
        ops->Clear();
        const Inspection r = insp.Inspect(c.frames[k].bytes.data(), c.metas[k],
                                          c.frames[k].timestamp_micros, *ops);
        benchmark::DoNotOptimize(r);
        op_count += ops->size();
      }
    }
    state.PauseTiming();
    for (const auto& insp : inspectors) pdus += insp->counter(InspectCounter::ics_pdus);
    state.ResumeTiming();
  }
  const double total = double(state.iterations()) * double(frames);
  state.SetItemsProcessed(int64_t(total));
  state.SetBytesProcessed(int64_t(state.iterations() * bytes));
  state.counters["frames"] = double(frames);
  state.counters["pdus_per_frame"] = double(pdus) / total;
  state.counters["ops_per_frame"] = double(op_count) / total;
  state.counters["ns_per_frame"] =
      benchmark::Counter(total, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Baseline: the same walk over the same parsed frames, reading each frame's
// metadata and first payload byte instead of inspecting it.
void BM_Baseline_FrameWalk(benchmark::State& state, ics::Protocol proto) {
  std::string error;
  const auto* caps = CapturesOf(proto, &error);
  if (caps == nullptr || caps->empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  size_t frames = 0;
  for (const auto& c : *caps) frames += c.frames.size();
  uint64_t sum = 0;
  for (auto _ : state) {
    for (const Corpus::Capture& c : *caps) {
      for (size_t k = 0; k < c.frames.size(); ++k) {
        if (!c.parsed[k]) continue;
        const PacketMeta& m = c.metas[k];
        sum += m.dst_port + (m.payload_len ? c.frames[k].bytes[m.payload_offset] : 0);
        benchmark::DoNotOptimize(sum);
      }
    }
  }
  const double total = double(state.iterations()) * double(frames);
  state.SetItemsProcessed(int64_t(total));
  state.counters["ns_per_frame"] =
      benchmark::Counter(total, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// BM_LostScan/<proto>: the cost of judging bytes after framing is lost
// (framer.h: every offset tried as a candidate PDU). A stream already lost
// is fed 1460-byte segments of pseudo-random bytes, in order, from the
// client. Items are bytes. Baseline, same run: BM_Baseline_SegmentCopy
// memcpys the same segments. BM_LostScanModbusRequests feeds back-to-back
// Modbus reads instead (every 12th offset a candidate, judged).
std::vector<std::vector<uint8_t>> LostSegments(bool modbus_reads) {
  std::vector<std::vector<uint8_t>> segments(64, std::vector<uint8_t>(1460));
  uint64_t x = 0x9E3779B97F4A7C15ull;
  uint16_t tid = 0;
  for (auto& seg : segments) {
    for (size_t i = 0; i < seg.size(); ++i) {
      if (modbus_reads) {
        const uint8_t read[12] = {uint8_t(tid >> 8), uint8_t(tid), 0, 0, 0, 6, 1, 3, 0, 0, 0, 10};
        seg[i] = read[i % 12];
        if (i % 12 == 11) ++tid;
      } else {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seg[i] = uint8_t(x);
      }
    }
  }
  return segments;
}

void RunLostScan(benchmark::State& state, ics::Protocol protocol, bool modbus_reads) {
  const ics::ProtocolModule& module = *ics::ModuleFor(protocol);
  const auto segments = LostSegments(modbus_reads);
  ics::StreamDirection stream;
  stream.sync = ics::StreamSync::kLost;
  stream.seq_valid = true;
  stream.carry_len = 0;
  stream.covered_end = 0;
  stream.length_chain = false;  // no chain: the free scan alone
  uint32_t seq = 0;
  ics::OpList ops;
  uint64_t candidates = 0;
  for (auto _ : state) {
    for (const auto& seg : segments) {
      ops.Clear();
      const ics::FeedResult r =
          ics::FeedTcpSegment(module, stream, seq, false, seg, /*from_client=*/true, ops);
      candidates += r.candidates;
      seq += uint32_t(seg.size());
      benchmark::DoNotOptimize(ops);
    }
  }
  const double bytes = double(state.iterations()) * 64 * 1460;
  state.SetBytesProcessed(int64_t(bytes));
  state.counters["ns_per_byte"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["candidates_per_segment"] =
      double(candidates) / (double(state.iterations()) * 64);
}

void BM_LostScan(benchmark::State& state, ics::Protocol protocol) {
  RunLostScan(state, protocol, false);
}
void BM_LostScanModbusRequests(benchmark::State& state) {
  RunLostScan(state, ics::Protocol::kModbus, true);
}
BENCHMARK(BM_LostScanModbusRequests);

void BM_Baseline_SegmentCopy(benchmark::State& state) {
  const auto segments = LostSegments(false);
  std::vector<uint8_t> out(1460);
  for (auto _ : state) {
    for (const auto& seg : segments) {
      std::memcpy(out.data(), seg.data(), seg.size());
      benchmark::DoNotOptimize(out.data());
      benchmark::ClobberMemory();
    }
  }
  const double bytes = double(state.iterations()) * 64 * 1460;
  state.SetBytesProcessed(int64_t(bytes));
  state.counters["ns_per_byte"] =
      benchmark::Counter(bytes, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Baseline_SegmentCopy);

#define CONDUIT_BENCH_PROTO(fn, name, proto) BENCHMARK_CAPTURE(fn, name, ics::Protocol::proto)
#define CONDUIT_BENCH_ALL(fn)                  \
  CONDUIT_BENCH_PROTO(fn, modbus, kModbus);    \
  CONDUIT_BENCH_PROTO(fn, dnp3, kDnp3);        \
  CONDUIT_BENCH_PROTO(fn, s7comm, kS7comm);    \
  CONDUIT_BENCH_PROTO(fn, enip, kEnip);        \
  CONDUIT_BENCH_PROTO(fn, iec104, kIec104);    \
  CONDUIT_BENCH_PROTO(fn, opcua, kOpcua);      \
  CONDUIT_BENCH_PROTO(fn, bacnet, kBacnet)

CONDUIT_BENCH_ALL(BM_Baseline_PduCopy);
CONDUIT_BENCH_ALL(BM_Inspect);
CONDUIT_BENCH_ALL(BM_Baseline_FrameWalk);
CONDUIT_BENCH_ALL(BM_LostScan);

}  // namespace
}  // namespace conduit::bench

BENCHMARK_MAIN();
