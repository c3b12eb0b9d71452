// ParsePacket cost per packet (dataplane/parse/parse.h).
//
// Single-shape benchmarks parse one synthetic frame over and over (warm
// cache, perfectly predicted branches: the floor). BM_ParseMix parses every
// frame of a corpus capture in order (the realistic case: mixed shapes, mixed
// branches). Each has a same-run baseline: BM_Baseline_Iterate walks the same
// frames doing nothing but reading their pointer and length, and
// BM_Baseline_CopyMeta copies one PacketMeta-sized cache line per frame.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "bench_corpus.h"
#include "normalize/checksum.h"
#include "normalize/segment_hash.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"

namespace conduit::bench {
namespace {

// ---- synthetic frames -------------------------------------------------------

void Put16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}

void PutEthernet(std::vector<uint8_t>& b) {
  for (int i = 0; i < 6; ++i) b.push_back(uint8_t(0x02 + i));   // dst mac
  for (int i = 0; i < 6; ++i) b.push_back(uint8_t(0x12 + i));   // src mac
}

void PutVlan(std::vector<uint8_t>& b, uint16_t tpid, uint16_t vid) {
  Put16(b, tpid);
  Put16(b, vid);
}

// A TCP header (20 bytes, no options) from port 50123 to 502 with PSH|ACK,
// then a 12-byte Modbus read-holding-registers request.
void PutTcpModbus(std::vector<uint8_t>& b) {
  Put16(b, 50123);
  Put16(b, 502);
  for (uint8_t x : {0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x10, 0x00}) b.push_back(x);  // seq, ack
  b.push_back(0x50);  // data offset 5
  b.push_back(0x18);  // PSH|ACK
  Put16(b, 0xFFFF);   // window
  Put16(b, 0);        // checksum
  Put16(b, 0);        // urgent
  for (uint8_t x : {0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A}) {
    b.push_back(x);
  }
}

constexpr uint32_t kTcpModbusLen = 20 + 12;

void PutIpv4(std::vector<uint8_t>& b, uint16_t payload_len) {
  b.push_back(0x45);
  b.push_back(0);
  Put16(b, uint16_t(20 + payload_len));
  Put16(b, 0x1234);  // id
  Put16(b, 0x4000);  // DF
  b.push_back(64);   // ttl
  b.push_back(6);    // tcp
  Put16(b, 0);       // checksum (not verified)
  for (uint8_t x : {10, 0, 0, 1, 10, 0, 0, 2}) b.push_back(x);
}

std::vector<uint8_t> Ipv4TcpFrame() {
  std::vector<uint8_t> b;
  PutEthernet(b);
  Put16(b, 0x0800);
  PutIpv4(b, kTcpModbusLen);
  PutTcpModbus(b);
  return b;
}

std::vector<uint8_t> VlanFrame(int tags) {
  std::vector<uint8_t> b;
  PutEthernet(b);
  if (tags == 2) PutVlan(b, 0x88A8, 100);
  PutVlan(b, 0x8100, 200);
  Put16(b, 0x0800);
  PutIpv4(b, kTcpModbusLen);
  PutTcpModbus(b);
  return b;
}

// IPv6 with hop-by-hop (8 bytes), routing (24 bytes) and destination options
// (8 bytes) before TCP: the walk the parser bounds at 8 headers.
std::vector<uint8_t> Ipv6ExtFrame() {
  std::vector<uint8_t> b;
  PutEthernet(b);
  Put16(b, 0x86DD);
  const uint16_t ext_len = 8 + 24 + 8;
  b.push_back(0x60);
  b.push_back(0);
  Put16(b, 0);
  Put16(b, uint16_t(ext_len + kTcpModbusLen));
  b.push_back(0);    // next: hop-by-hop
  b.push_back(64);   // hop limit
  for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? 1 : 0);
  for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? 2 : 0);
  // hop-by-hop: next routing, len 0 (8 bytes), PadN
  for (uint8_t x : {43, 0, 1, 4, 0, 0, 0, 0}) b.push_back(x);
  // routing: next dest-opts, len 2 (24 bytes), type 0, segments left 0
  for (uint8_t x : {60, 2, 0, 0, 0, 0, 0, 0}) b.push_back(x);
  for (int i = 0; i < 16; ++i) b.push_back(0);
  // destination options: next tcp, len 0, PadN
  for (uint8_t x : {6, 0, 1, 4, 0, 0, 0, 0}) b.push_back(x);
  PutTcpModbus(b);
  return b;
}

std::vector<uint8_t> Ipv6PlainFrame() {
  std::vector<uint8_t> b;
  PutEthernet(b);
  Put16(b, 0x86DD);
  b.push_back(0x60);
  b.push_back(0);
  Put16(b, 0);
  Put16(b, uint16_t(kTcpModbusLen));
  b.push_back(6);
  b.push_back(64);
  for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? 1 : 0);
  for (int i = 0; i < 16; ++i) b.push_back(i == 0 ? 0xfd : i == 15 ? 2 : 0);
  PutTcpModbus(b);
  return b;
}

// Frames packed into one arena at 64-byte aligned offsets (as mbuf data
// rooms are), so the timed loop does no pointer chasing of its own.
struct Arena {
  std::vector<uint8_t> blob;
  std::vector<std::pair<uint32_t, uint32_t>> frames;  // offset, length
  uint64_t bytes = 0;

  void Add(const uint8_t* data, uint32_t len) {
    const uint32_t off = static_cast<uint32_t>((blob.size() + 63) & ~size_t{63});
    blob.resize(off + len);
    std::memcpy(blob.data() + off, data, len);
    frames.emplace_back(off, len);
    bytes += len;
  }
};

// One synthetic frame, parsed repeatedly.
void ParseOne(benchmark::State& state, const std::vector<uint8_t>& frame) {
  alignas(64) uint8_t buf[256];
  std::memcpy(buf, frame.data(), frame.size());
  const uint32_t len = static_cast<uint32_t>(frame.size());
  PacketMeta meta;
  {
    const ParseResult r = ParsePacket(buf, len, meta);
    if (r != ParseResult::kOk) {
      state.SkipWithError(("synthetic frame did not parse: " +
                           std::string(ParseResultName(r))).c_str());
      return;
    }
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf);
    const ParseResult r = ParsePacket(buf, len, meta);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(meta);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(len));
}

void BM_Parse_Ipv4Tcp(benchmark::State& state) { ParseOne(state, Ipv4TcpFrame()); }
void BM_Parse_Vlan(benchmark::State& state) { ParseOne(state, VlanFrame(1)); }
void BM_Parse_QinQ(benchmark::State& state) { ParseOne(state, VlanFrame(2)); }
void BM_Parse_Ipv6Tcp(benchmark::State& state) { ParseOne(state, Ipv6PlainFrame()); }
void BM_Parse_Ipv6ExtHeaders(benchmark::State& state) { ParseOne(state, Ipv6ExtFrame()); }
BENCHMARK(BM_Parse_Ipv4Tcp);
BENCHMARK(BM_Parse_Vlan);
BENCHMARK(BM_Parse_QinQ);
BENCHMARK(BM_Parse_Ipv6Tcp);
BENCHMARK(BM_Parse_Ipv6ExtHeaders);

// ---- corpus mix --------------------------------------------------------------

// The mixed capture (Modbus, S7comm, EtherNet/IP and background traffic),
// plus every protocol directory's captures when the range argument is 1.
const Arena* MixArena(bool whole_corpus, std::string* error) {
  static Arena* arenas[2] = {nullptr, nullptr};
  Arena*& a = arenas[whole_corpus ? 1 : 0];
  if (a != nullptr) return a;
  const std::string corpus = FindCorpus();
  if (corpus.empty()) {
    *error = "corpus not found (set CONDUIT_CORPUS)";
    return nullptr;
  }
  std::vector<std::string> dirs = {"mixed"};
  if (whole_corpus) dirs = {"mixed", "modbus", "dnp3", "s7comm", "enip", "iec104", "opcua", "bacnet"};
  a = new Arena;
  for (const std::string& dir : dirs) {
    for (const std::string& rel : CapturesIn(corpus, dir)) {
      for (const Frame& f : LoadCapture(corpus + "/" + rel)) {
        a->Add(f.bytes.data(), static_cast<uint32_t>(f.bytes.size()));
      }
    }
  }
  a->blob.resize(a->blob.size() + 64);  // slack: the baseline copies 64 bytes of every frame
  if (a->frames.empty()) *error = "no frames in corpus/pcap/mixed";
  return a;
}

// The benchmark's arena (arg 0: corpus/pcap/mixed; arg 1: every capture of
// every protocol directory), or null with the benchmark skipped, saying why.
const Arena* MixArenaOrSkip(benchmark::State& state) {
  std::string error;
  const Arena* a = MixArena(state.range(0) == 1, &error);
  if (a == nullptr || a->frames.empty()) {
    state.SkipWithError(error.c_str());
    return nullptr;
  }
  return a;
}

void BM_ParseMix(benchmark::State& state) {
  const Arena* a = MixArenaOrSkip(state);
  if (a == nullptr) return;
  const uint8_t* base = a->blob.data();
  const size_t n = a->frames.size();
  PacketMeta meta;
  uint64_t ok = 0;
  for (auto _ : state) {
    for (const auto& [off, len] : a->frames) {
      const ParseResult r = ParsePacket(base + off, len, meta);
      ok += r == ParseResult::kOk;
      benchmark::DoNotOptimize(meta);
    }
  }
  benchmark::DoNotOptimize(ok);
  state.SetItemsProcessed(int64_t(state.iterations() * n));
  state.SetBytesProcessed(int64_t(state.iterations() * a->bytes));
  state.counters["frames"] = double(n);
  state.counters["ok_frac"] = double(ok) / double(state.iterations() * n);
  state.counters["ns_per_pkt"] = benchmark::Counter(
      double(state.iterations() * n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ParseMix)->Arg(0)->Arg(1);

// The arena's frames that parse (kOk), parsed before any timed loop.
struct ParsedFrame {
  const uint8_t* frame;
  PacketMeta meta;
};
std::vector<ParsedFrame> ParsedFrames(const Arena& a) {
  std::vector<ParsedFrame> out;
  for (const auto& [off, len] : a.frames) {
    ParsedFrame p{a.blob.data() + off, {}};
    if (ParsePacket(p.frame, len, p.meta) == ParseResult::kOk) out.push_back(p);
  }
  return out;
}

// Software checksum verification (normalize/checksum.h) of every parsed
// IPv4 frame of the same captures: the IPv4 header and, where the frame has
// its L4 header, the TCP/UDP checksum, as CheckPacket runs them when the
// port cannot vouch. Frames are parsed before the timed loop; compare with
// BM_ParseMix (a packet's parse) and BM_Baseline_Iterate (the walk).
void BM_ChecksumMix(benchmark::State& state) {
  const Arena* a = MixArenaOrSkip(state);
  if (a == nullptr) return;
  std::vector<ParsedFrame> parsed;
  uint64_t bytes = 0;
  for (const ParsedFrame& p : ParsedFrames(*a)) {
    if (p.meta.ip_version != 4) continue;
    bytes += 20 + (p.meta.Has(kPktHasL4) ? p.meta.payload_offset - p.meta.l4_offset + p.meta.payload_len : 0);
    parsed.push_back(p);
  }
  uint64_t good = 0;
  for (auto _ : state) {
    for (const ParsedFrame& p : parsed) {
      bool ok = normalize::Ipv4HeaderChecksumOk(p.frame, p.meta);
      if (p.meta.Has(kPktHasL4) && !p.meta.Has(kPktFragment)) ok &= normalize::L4ChecksumOk(p.frame, p.meta);
      good += ok;
    }
    benchmark::DoNotOptimize(good);
  }
  const double n = double(parsed.size());
  state.SetItemsProcessed(int64_t(double(state.iterations()) * n));
  state.SetBytesProcessed(int64_t(state.iterations() * bytes));
  state.counters["frames"] = n;
  state.counters["good_frac"] = double(good) / (double(state.iterations()) * n);
  state.counters["ns_per_pkt"] = benchmark::Counter(
      double(state.iterations()) * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ChecksumMix)->Arg(0)->Arg(1);

// The keyed hash the TCP normalizer records of each new segment
// (normalize/segment_hash.h), over every TCP payload of the same captures
// (/0 corpus/pcap/mixed, /1 the whole corpus). BM_Baseline_SipHashMix
// hashes the same payloads with SipHash-1-3, the hash it replaced.
template <bool kSipHash>
void SegmentHashMix(benchmark::State& state) {
  const Arena* a = MixArenaOrSkip(state);
  if (a == nullptr) return;
  struct Payload {
    const uint8_t* bytes;
    uint32_t len;
  };
  std::vector<Payload> payloads;
  uint64_t bytes = 0;
  for (const auto& [frame, meta] : ParsedFrames(*a)) {
    if (!meta.Has(kPktHasL4) || meta.l4_proto != kIpProtoTcp || meta.payload_len == 0) continue;
    payloads.push_back({frame + meta.payload_offset, meta.payload_len});
    bytes += meta.payload_len;
  }
  const normalize::SegmentHashKey key = normalize::RandomSegmentHashKey();
  uint64_t sum = 0;
  for (auto _ : state) {
    for (const Payload& p : payloads) {
      if constexpr (kSipHash) {
        sum += normalize::SipHash<1, 3>(key.sip, p.bytes, p.len);
      } else {
        sum += normalize::HashSegment(key, p.bytes, p.len);
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  const double n = double(payloads.size());
  state.SetItemsProcessed(int64_t(double(state.iterations()) * n));
  state.SetBytesProcessed(int64_t(state.iterations() * bytes));
  state.counters["segments"] = n;
  state.counters["mean_len"] = n == 0 ? 0 : double(bytes) / n;
  state.counters["ns_per_seg"] = benchmark::Counter(
      double(state.iterations()) * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_SegmentHashMix(benchmark::State& state) { SegmentHashMix<false>(state); }
void BM_Baseline_SipHashMix(benchmark::State& state) { SegmentHashMix<true>(state); }
BENCHMARK(BM_SegmentHashMix)->Arg(0)->Arg(1);
BENCHMARK(BM_Baseline_SipHashMix)->Arg(0)->Arg(1);

// Baseline: the same walk over the same frames, reading each frame's first
// byte and length but parsing nothing (the loop's own cost).
void BM_Baseline_Iterate(benchmark::State& state) {
  const Arena* a = MixArenaOrSkip(state);
  if (a == nullptr) return;
  const uint8_t* base = a->blob.data();
  const size_t n = a->frames.size();
  uint64_t sum = 0;
  for (auto _ : state) {
    for (const auto& [off, len] : a->frames) {
      sum += base[off] + len;
      benchmark::DoNotOptimize(sum);
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations() * n));
  state.counters["ns_per_pkt"] = benchmark::Counter(
      double(state.iterations() * n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Baseline_Iterate)->Arg(0)->Arg(1);

// Baseline: copy each frame's first 64 bytes (one PacketMeta's worth; a
// fixed-size copy, the arena has slack past the last frame) into a cache
// line: what "touch the headers and write one line" costs.
void BM_Baseline_CopyMeta(benchmark::State& state) {
  const Arena* a = MixArenaOrSkip(state);
  if (a == nullptr) return;
  const uint8_t* base = a->blob.data();
  const size_t n = a->frames.size();
  alignas(64) uint8_t line[64];
  for (auto _ : state) {
    for (const auto& [off, len] : a->frames) {
      (void)len;
      std::memcpy(line, base + off, 64);
      benchmark::DoNotOptimize(line);
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations() * n));
  state.counters["ns_per_pkt"] = benchmark::Counter(
      double(state.iterations() * n), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Baseline_CopyMeta)->Arg(0)->Arg(1);

}  // namespace
}  // namespace conduit::bench

BENCHMARK_MAIN();
