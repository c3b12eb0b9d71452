// The worker's per-burst pipeline in process, on one core: parse →
// Inspector (flow table + ICS decode) → JudgePacket against a compiled
// 10k-rule / 1k-signature policy, over a generated ICS capture
// (bench/gen/make_workload.py, make_policy.py).
//
// No DPDK EAL and no mbufs: frames sit in one arena at 64-byte aligned
// offsets, as mbuf data rooms do, and each burst goes through JudgeBurst,
// the code worker.cc's InspectBurst calls between RX and TX (verdicts are
// counted instead of acted on).
// The flow table is warmed with one untimed pass first, so every flow of
// the capture is live (~100k with the 1M-packet capture) when timing starts;
// later calls continue where the previous one stopped.
//
//   CONDUIT_BENCH_PCAP    capture (default /tmp/conduit-bench/ics-1m.pcap)
//   CONDUIT_BENCH_POLICY  policy YAML (default /tmp/conduit-bench/policy.yaml)
//   CONDUIT_BENCH_FLOWS   flow table capacity (default 262144)
//   CONDUIT_BENCH_BURST   packets per burst (default 32, at most 64)
//   CONDUIT_BENCH_CHECKSUM_OFFLOAD=1  every frame arrives with the port's
//                         "checksums GOOD" flags (a NIC with RX checksum
//                         offload); unset: verified in software, as on
//                         af_packet ports
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "bench_corpus.h"
#include "classify/signatures.h"
#include "events/event_ring.h"
#include "inspect/inspector.h"
#include "observe/observe_table.h"
#include "parse/parse.h"
#include "policy/compiler.h"
#include "policy/validate.h"
#include "verdict/judge_burst.h"

namespace conduit::bench {
namespace {

constexpr int kMaxWorkers = 8;  // Hyperscan scratch spaces compiled into the policy
constexpr uint64_t kIdleTimeoutMicros = 300ull * 1000000;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// The port's checksum flags for every frame, or null (software checks).
const uint8_t* ChecksumHints() {
  static uint8_t good[kMaxBurst];
  static const bool offload = [] {
    std::fill(std::begin(good), std::end(good),
              uint8_t(normalize::kIpChecksumGood | normalize::kL4ChecksumGood));
    return Env("CONDUIT_BENCH_CHECKSUM_OFFLOAD", "0") == "1";
  }();
  return offload ? good : nullptr;
}

// Packets per burst: the worker's default queues.burst (32), or
// CONDUIT_BENCH_BURST (1..64, the worker's maximum).
int BurstSize() {
  static const int size = std::clamp(std::stoi(Env("CONDUIT_BENCH_BURST", "32")), 1, int(kMaxBurst));
  return size;
}

// The capture packed into one arena; loaded once for every benchmark.
struct Workload {
  std::vector<uint8_t> arena;
  // Bytes from arena.data() to its first 64-byte boundary: a large vector's
  // data sits 16 bytes past one (malloc's mmap chunk header), which would
  // put every frame across one line more than an mbuf's (DPDK starts the
  // data 128 bytes into a cache-aligned buffer).
  size_t align_skip = 0;
  std::vector<uint32_t> offset, length;
  std::vector<uint64_t> micros;
  uint64_t span_micros = 0;  // added per pass so the clock never goes back
  std::string error;

  size_t size() const { return offset.size(); }
  const uint8_t* frame(size_t i) const { return arena.data() + align_skip + offset[i]; }
};

const Workload& GetWorkload() {
  static const Workload* w = [] {
    auto* out = new Workload;
    const std::string path = Env("CONDUIT_BENCH_PCAP", "/tmp/conduit-bench/ics-1m.pcap");
    std::vector<Frame> frames = LoadCapture(path);
    if (frames.empty()) {
      out->error = path + ": missing or unreadable (run bench/gen/make_workload.py)";
      return out;
    }
    size_t total = 0;
    for (const Frame& f : frames) total += (f.bytes.size() + 63) & ~size_t{63};
    out->arena.resize(total + 64);
    out->align_skip = (64 - reinterpret_cast<uintptr_t>(out->arena.data()) % 64) % 64;
    size_t at = 0;
    for (const Frame& f : frames) {
      std::memcpy(out->arena.data() + out->align_skip + at, f.bytes.data(), f.bytes.size());
      out->offset.push_back(static_cast<uint32_t>(at));
      out->length.push_back(static_cast<uint32_t>(f.bytes.size()));
      out->micros.push_back(f.timestamp_micros);
      at += (f.bytes.size() + 63) & ~size_t{63};
    }
    out->span_micros = frames.back().timestamp_micros - frames.front().timestamp_micros + 1000000;
    return out;
  }();
  return *w;
}

struct Policy {
  std::unique_ptr<const policy::CompiledPolicy> compiled;
  const policy::ConduitPolicy* conduit = nullptr;
  std::string error;
};

// The frames a worker gets when `workers` workers share the capture by a
// symmetric flow hash, as RSS with a symmetric key spreads them over
// queues: both directions of a flow land on the same worker. Frames
// without ports go to worker 0.
std::vector<uint32_t> RssShare(const Workload& load, int worker, int workers) {
  std::vector<uint32_t> mine;
  for (size_t i = 0; i < load.size(); ++i) {
    int owner = 0;
    PacketMeta meta;
    if (workers > 1 && ParsePacket(load.frame(i), load.length[i], meta) == ParseResult::kOk &&
        meta.Has(kPktHasL4)) {
      bool lo_to_hi;
      owner = static_cast<int>(HashFlowKey(MakeFlowKey(meta, &lo_to_hi)) % uint64_t(workers));
    }
    if (owner == worker) mine.push_back(static_cast<uint32_t>(i));
  }
  return mine;
}

// variant 0: the policy as generated; 1: the same without signatures.
// copy 1: a second compilation of it (BM_ShadowCost's candidate: as large
// as the active policy, in memory of its own).
const Policy& GetPolicy(int variant, int copy = 0) {
  static Policy* policies[2][2] = {};
  if (policies[variant][copy] != nullptr) return *policies[variant][copy];
  auto* p = new Policy;
  policies[variant][copy] = p;
  const std::string path = Env("CONDUIT_BENCH_POLICY", "/tmp/conduit-bench/policy.yaml");
  auto snapshot = policy::LoadAndValidateFile(path);
  if (!snapshot.ok()) {
    p->error = path + ": " + std::string(snapshot.status().message()) + " (run bench/gen/make_policy.py)";
    return *p;
  }
  if (variant == 1) snapshot->clear_signatures();
  auto compiled = policy::CompilePolicy(*snapshot, {kMaxWorkers, 1});
  if (!compiled.ok()) {
    p->error = path + ": " + std::string(compiled.status().message());
    return *p;
  }
  p->compiled = *std::move(compiled);
  p->conduit = p->compiled->ConduitForWire(0);
  if (p->conduit == nullptr) p->error = path + ": no conduit on wire 0";
  return *p;
}

// One worker's state: flow table, op list, event ring, signature scratch,
// and the capture frames it receives (all of them, or its RSS share).
struct Worker {
  Worker(const ics::ProtocolPorts* ports, std::vector<uint32_t> frame_indices)
      : inspector(static_cast<uint32_t>(std::stoul(Env("CONDUIT_BENCH_FLOWS", "262144"))),
                  kIdleTimeoutMicros, ports),
        events(1 << 12),
        drained(events.capacity()),
        frames(std::move(frame_indices)) {}
  Inspector inspector;
  BurstScratch scratch;
  EventRing events;
  std::vector<EventRecord> drained;
  MatchSet matches;
  // Shadow (BM_ShadowCost): a candidate judged beside the policy; null: none.
  const Policy* shadow = nullptr;
  // Observation (BM_ObserveCost): the tables this worker records into, as
  // a gateway worker's; null: not observed.
  std::unique_ptr<observe::ObserveBuffers> observe;
  // Normalization (BM_NormalizeCost): false runs without software checksum
  // verification and without the TCP normalizer.
  bool normalize = true;
  std::vector<uint32_t> frames;  // indices into the capture, in capture order
  size_t index = 0;      // worker number: its Hyperscan scratch
  size_t next = 0;       // next position in `frames`
  uint64_t pass = 0;     // completed passes over the capture
  uint64_t dropped = 0, resets = 0, packets = 0;
};

// kFullInOrder: JudgeBurst's first two passes, then each packet inspected
// and judged at once, with no policy prefetch (the order before judging a
// packet behind): the baseline for that change.
enum class Stage { kTouch, kParse, kInspect, kFullInOrder, kFull };
constexpr bool Judges(Stage s) { return s == Stage::kFull || s == Stage::kFullInOrder; }

// Runs the worker's next BurstSize() frames (wrapping) through `stage`.
template <Stage stage>
void RunBurst(Worker& w, const Workload& load, const Policy* policy) {
  const uint64_t pass_offset = w.pass * load.span_micros;
  const size_t n = w.frames.size();
  const uint64_t now = load.micros[w.frames[w.next]] + pass_offset;  // one clock reading per burst
  const int burst = BurstSize();
  const uint8_t* frames[kMaxBurst];
  uint16_t lengths[kMaxBurst];
  for (int b = 0; b < burst; ++b) {
    frames[b] = load.frame(w.frames[w.next]);
    lengths[b] = static_cast<uint16_t>(load.length[w.frames[w.next]]);
    if (++w.next == n) {
      w.next = 0;
      ++w.pass;
    }
  }
  w.packets += burst;
  uint64_t touched = 0;
  if constexpr (stage == Stage::kTouch) {
    for (int b = 0; b < burst; ++b) {
      if (b + 1 < burst) __builtin_prefetch(frames[b + 1]);
      touched += frames[b][0] + lengths[b];
    }
  } else if constexpr (stage == Stage::kParse) {
    for (int b = 0; b < burst; ++b) {
      if (b + 1 < burst) __builtin_prefetch(frames[b + 1]);
      PacketMeta& meta = w.scratch.metas[b];
      touched += static_cast<uint64_t>(ParsePacket(frames[b], lengths[b], meta)) + meta.payload_len;
    }
  } else if constexpr (stage == Stage::kInspect) {
    // JudgeBurst without the judge.
    PrepareBurst(w.inspector, frames, lengths, uint16_t(burst), w.scratch);
    ics::OpList& ops = w.scratch.ops[0];
    for (int b = 0; b < burst; ++b) {
      ops.Clear();
      if (w.scratch.parsed[b] != ParseResult::kOk) continue;
      const Inspection in =
          w.inspector.Inspect(frames[b], w.scratch.metas[b], w.scratch.flows[b], now, ops);
      touched += ops.size() + (in.flow != nullptr);
    }
  } else {
    JudgeContext judge{*policy->compiled, *policy->conduit, w.index, now * 1000, 0,
                       &w.events, &w.matches};
    if (w.observe != nullptr) judge.observe = w.observe->Active();
    judge.checks.verify_checksums = w.normalize;
    if (w.shadow != nullptr) {
      judge.shadow = w.shadow->compiled.get();
      judge.shadow_conduit = w.shadow->conduit;
    }
    if constexpr (stage == Stage::kFull) {
      JudgeBurst(judge, w.inspector, frames, lengths, uint16_t(burst), now, w.scratch,
                 ChecksumHints());
    } else {
      PrepareBurst(w.inspector, frames, lengths, uint16_t(burst), w.scratch);
      ics::OpList& ops = w.scratch.ops[0];
      for (int b = 0; b < burst; ++b) {
        Inspection in;
        ops.Clear();
        if (w.scratch.parsed[b] == ParseResult::kOk) {
          in = w.inspector.Inspect(frames[b], w.scratch.metas[b], w.scratch.flows[b], now, ops);
        }
        w.scratch.verdicts[b] =
            JudgePacket(judge, w.scratch.parsed[b], w.scratch.metas[b], frames[b], in, ops);
      }
    }
    for (int b = 0; b < burst; ++b) {
      w.dropped += w.scratch.verdicts[b].drop;
      w.resets += w.scratch.verdicts[b].reset;
    }
    w.events.PopBatch(w.drained.data(), w.drained.size());  // the drain thread's share
  }
  benchmark::DoNotOptimize(touched);
}

// The capture and the policy of state.range(0) (and, with `copy`, a
// second compilation of it); null after skipping the benchmark with why
// either could not be loaded.
const Policy* InputsOrSkip(benchmark::State& state, const Workload& load, int copy = 0) {
  const Policy& policy = GetPolicy(static_cast<int>(state.range(0)), copy);
  if (!load.error.empty() || !policy.error.empty()) {
    state.SkipWithError((load.error + policy.error).c_str());
    return nullptr;
  }
  return &policy;
}

template <Stage stage>
void BM_Stage(benchmark::State& state) {
  const Workload& load = GetWorkload();
  if (!load.error.empty()) {
    state.SkipWithError(load.error.c_str());
    return;
  }
  const Policy* policy = nullptr;
  // Stage::kInspect uses the policy's port map only.
  if constexpr (Judges(stage) || stage == Stage::kInspect) {
    policy = &GetPolicy(static_cast<int>(state.range(0)));
    if (!policy->error.empty()) {
      state.SkipWithError(policy->error.c_str());
      return;
    }
  }
  // One worker per benchmark, kept across Google Benchmark's calls, warmed
  // by one untimed pass so every flow of the capture is in the table.
  static std::map<int64_t, std::unique_ptr<Worker>> workers;
  static const ics::ProtocolPorts default_ports;
  std::unique_ptr<Worker>& worker = workers[state.range(0)];
  if (worker == nullptr) {
    worker = std::make_unique<Worker>(policy != nullptr ? &policy->compiled->ports() : &default_ports,
                                      RssShare(load, 0, 1));
    const size_t bursts_per_pass = load.size() / BurstSize() + 1;
    for (size_t b = 0; b < bursts_per_pass; ++b) RunBurst<stage>(*worker, load, policy);
  }
  const uint64_t warm_packets = worker->packets, warm_dropped = worker->dropped;

  const uint64_t tsc0 = __rdtsc();
  for (auto _ : state) RunBurst<stage>(*worker, load, policy);
  const uint64_t cycles = __rdtsc() - tsc0;

  const uint64_t packets = worker->packets - warm_packets;
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["cycles_per_pkt"] = double(cycles) / double(packets);
  state.counters["Mpps"] = benchmark::Counter(double(packets) / 1e6, benchmark::Counter::kIsRate);
  state.counters["frames"] = double(load.size());
  if constexpr (Judges(stage) || stage == Stage::kInspect) {
    state.counters["live_flows"] = double(worker->inspector.flows().live(
        load.micros.back() + worker->pass * load.span_micros));
  }
  if constexpr (Judges(stage)) {
    state.counters["drop_frac"] = double(worker->dropped - warm_dropped) / double(packets);
    state.counters["ev_dropped"] = double(worker->events.dropped());
  }
}

void BM_Pipeline(benchmark::State& state) { BM_Stage<Stage::kFull>(state); }
void BM_ParseInspect(benchmark::State& state) { BM_Stage<Stage::kInspect>(state); }
void BM_Baseline_JudgeInOrder(benchmark::State& state) { BM_Stage<Stage::kFullInOrder>(state); }
void BM_Baseline_Parse(benchmark::State& state) { BM_Stage<Stage::kParse>(state); }
void BM_Baseline_Touch(benchmark::State& state) { BM_Stage<Stage::kTouch>(state); }

// Several workers at once, one per thread, each with its own flow table,
// event ring and scratch, and its RSS share of the capture (the gateway's
// per-core layout; nothing is shared but the read-only policy and frames).
// Each thread is pinned to its own core (worker k on CPU k + 1, CPU 0 left
// to the rest, as conduitd's lcores) where the machine has enough cores.
// Mpps is the sum over workers, per wall-clock second.
void BM_PipelineWorkers(benchmark::State& state) {
  const Workload& load = GetWorkload();
  const Policy* inputs = InputsOrSkip(state, load);
  if (inputs == nullptr) return;
  const Policy& policy = *inputs;
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (state.threads() > 1 && cpus > state.threads()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(state.thread_index() + 1, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }
  static std::mutex mu;
  static std::map<std::tuple<int64_t, int, int>, std::unique_ptr<Worker>> workers;
  Worker* w;
  {
    std::lock_guard<std::mutex> lock(mu);  // set-up only, before timing
    std::unique_ptr<Worker>& slot = workers[{state.range(0), state.threads(), state.thread_index()}];
    if (slot == nullptr) {
      slot = std::make_unique<Worker>(&policy.compiled->ports(),
                                      RssShare(load, state.thread_index(), state.threads()));
      slot->index = static_cast<size_t>(state.thread_index());
    }
    w = slot.get();
  }
  if (w->packets == 0) {
    for (size_t b = 0; b < w->frames.size() / BurstSize() + 1; ++b) RunBurst<Stage::kFull>(*w, load, &policy);
  }
  const uint64_t warm_packets = w->packets;
  uint64_t tsc0 = 0;  // read in the first iteration: after the threads' start barrier
  for (auto _ : state) {
    if (tsc0 == 0) tsc0 = __rdtsc();
    RunBurst<Stage::kFull>(*w, load, &policy);
  }
  const uint64_t cycles = __rdtsc() - tsc0;
  const uint64_t packets = w->packets - warm_packets;
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["Mpps"] = benchmark::Counter(double(packets) / 1e6, benchmark::Counter::kIsRate);
  state.counters["cycles_per_pkt"] =
      benchmark::Counter(double(cycles) / double(packets), benchmark::Counter::kAvgThreads);
  state.counters["frames_per_worker"] =
      benchmark::Counter(double(w->frames.size()), benchmark::Counter::kAvgThreads);
}

// A feature's cost, side by side in the same run: two workers over the
// same capture, policy and flow-table size, `on` with the feature, `off`
// without. Their bursts alternate (and which goes first alternates), each
// timed on its own, so both see the same machine at the same moment.
// `after_pair` runs untimed after each pair of bursts. Sets cost_pct: the
// feature's share of an `off` packet's cycles.
template <typename AfterPair>
void SideBySide(benchmark::State& state, Worker& off, Worker& on, const Workload& load,
                const Policy& policy, AfterPair after_pair) {
  const uint64_t off0 = off.packets, on0 = on.packets;
  const uint64_t off_dropped0 = off.dropped, on_dropped0 = on.dropped;
  uint64_t off_cycles = 0, on_cycles = 0;
  bool on_first = false;
  for (auto _ : state) {
    for (int k = 0; k < 2; ++k) {
      Worker& w = (k == 0) == on_first ? on : off;
      const uint64_t t0 = __rdtsc();
      RunBurst<Stage::kFull>(w, load, &policy);
      (&w == &on ? on_cycles : off_cycles) += __rdtsc() - t0;
    }
    on_first = !on_first;
    after_pair();
  }
  const double off_cpp = double(off_cycles) / double(off.packets - off0);
  const double on_cpp = double(on_cycles) / double(on.packets - on0);
  state.SetItemsProcessed(static_cast<int64_t>(on.packets - on0 + off.packets - off0));
  state.counters["off_cycles_per_pkt"] = off_cpp;
  state.counters["on_cycles_per_pkt"] = on_cpp;
  state.counters["cost_pct"] = 100.0 * (on_cpp - off_cpp) / off_cpp;
  // What each dropped: a feature that drops packets the other forwards
  // (the normalizer on a capture whose peers misbehave) is costed with them.
  state.counters["off_drop_frac"] = double(off.dropped - off_dropped0) / double(off.packets - off0);
  state.counters["on_drop_frac"] = double(on.dropped - on_dropped0) / double(on.packets - on0);
}

// The pair of workers a *Cost benchmark compares, made once per argument
// and warmed by one pass each (every flow of the capture in both tables).
// `equip` turns the feature on in `on`, or off in `off`.
using WorkerPair = std::pair<std::unique_ptr<Worker>, std::unique_ptr<Worker>>;
template <typename Equip>
WorkerPair& WarmPair(std::map<int64_t, WorkerPair>& pairs, int64_t arg, const Workload& load,
                     const Policy& policy, Equip equip) {
  auto& [off, on] = pairs[arg];
  if (off == nullptr) {
    off = std::make_unique<Worker>(&policy.compiled->ports(), RssShare(load, 0, 1));
    on = std::make_unique<Worker>(&policy.compiled->ports(), RssShare(load, 0, 1));
    equip(*off, *on);
    const size_t bursts_per_pass = load.size() / BurstSize() + 1;
    for (size_t b = 0; b < bursts_per_pass; ++b) {
      RunBurst<Stage::kFull>(*off, load, &policy);
      RunBurst<Stage::kFull>(*on, load, &policy);
    }
  }
  return pairs[arg];
}

// Observation's cost (issue 14): `on` records every judged packet into its
// observation table (as conduitd's workers do). The table is drained
// (untimed, as the control thread would) every
// CONDUIT_BENCH_OBSERVE_DRAIN packets (default 1,000,000: one pass over
// the 1M capture, ~0.4 s of one worker's traffic); its capacity is
// CONDUIT_BENCH_OBSERVE_CAPACITY (default 16384, conduitd's).
void BM_ObserveCost(benchmark::State& state) {
  const Workload& load = GetWorkload();
  const Policy* inputs = InputsOrSkip(state, load);
  if (inputs == nullptr) return;
  const Policy& policy = *inputs;
  const uint64_t drain_every = std::stoull(Env("CONDUIT_BENCH_OBSERVE_DRAIN", "1000000"));
  uint64_t tuples_drained = 0;
  auto drain = [&](Worker& w) {
    w.observe->Drain([&](const observe::TupleKey&, const observe::TupleStats&) { ++tuples_drained; },
                     std::chrono::milliseconds(1), /*worker_stopped=*/true);
  };
  static std::map<int64_t, WorkerPair> pairs;
  bool fresh = false;
  auto& [off, on] = WarmPair(pairs, state.range(0), load, policy, [&](Worker&, Worker& on) {
    on.observe = std::make_unique<observe::ObserveBuffers>(static_cast<uint32_t>(
        std::stoul(Env("CONDUIT_BENCH_OBSERVE_CAPACITY", "16384"))));
    fresh = true;
  });
  if (fresh) drain(*on);
  const uint64_t on0 = on->packets, overflow0 = on->observe->overflow();
  tuples_drained = 0;
  uint64_t since_drain = 0, drains = 0;
  SideBySide(state, *off, *on, load, policy, [&] {
    if ((since_drain += BurstSize()) >= drain_every) {
      drain(*on);
      since_drain = 0;
      ++drains;
    }
  });
  state.counters["tuples_per_drain"] = drains != 0 ? double(tuples_drained) / double(drains) : 0;
  state.counters["overflow_per_pkt"] =
      double(on->observe->overflow() - overflow0) / double(on->packets - on0);
}

// The cost of judging a shadow candidate (push --shadow) beside the active
// policy: `on` judges the candidate too (the same rules, compiled
// separately, as large as the active policy, in memory of its own).
void BM_ShadowCost(benchmark::State& state) {
  const Workload& load = GetWorkload();
  const Policy* inputs = InputsOrSkip(state, load);
  const Policy* shadow = inputs != nullptr ? InputsOrSkip(state, load, 1) : nullptr;
  if (shadow == nullptr) return;
  const Policy& policy = *inputs;
  const Policy& candidate = *shadow;
  static std::map<int64_t, WorkerPair> pairs;
  auto& [off, on] = WarmPair(pairs, state.range(0), load, policy,
                             [&](Worker&, Worker& on) { on.shadow = &candidate; });
  SideBySide(state, *off, *on, load, policy, [] {});
}

// Normalization's cost (issue 13): `off` runs without software checksum
// verification and without the TCP normalizer (sequence tracking, the
// window and overlap checks, the keyed hash of each segment), as the tree
// before them did; the per-packet checks that cost nothing measurable
// (truncation, data without ACK, fragments) stay in both. With
// CONDUIT_BENCH_CHECKSUM_OFFLOAD=1 the port vouches for checksums in both,
// so cost_pct is the TCP normalizer's alone.
void BM_NormalizeCost(benchmark::State& state) {
  const Workload& load = GetWorkload();
  const Policy* inputs = InputsOrSkip(state, load);
  if (inputs == nullptr) return;
  const Policy& policy = *inputs;
  static std::map<int64_t, WorkerPair> pairs;
  auto& [off, on] = WarmPair(pairs, state.range(0), load, policy, [](Worker& off, Worker&) {
    off.normalize = false;
    off.inspector.set_tcp_normalization(false);
  });
  SideBySide(state, *off, *on, load, policy, [] {});
}

// /0: 10k rules + 1k signatures; /1: the same rules, no signatures.
BENCHMARK(BM_Pipeline)->Arg(0)->Arg(1)->ArgName("no_sigs");
BENCHMARK(BM_Baseline_JudgeInOrder)->Arg(0)->Arg(1)->ArgName("no_sigs");
BENCHMARK(BM_ParseInspect)->Arg(0);
BENCHMARK(BM_Baseline_Parse)->Arg(0);
BENCHMARK(BM_Baseline_Touch)->Arg(0);
BENCHMARK(BM_ObserveCost)->Arg(0)->Arg(1)->ArgName("no_sigs");
BENCHMARK(BM_ShadowCost)->Arg(0)->Arg(1)->ArgName("no_sigs");
BENCHMARK(BM_NormalizeCost)->Arg(0)->Arg(1)->ArgName("no_sigs");
// 1, 2, 4, 8 workers, up to as many as the machine has cores (a 2-core
// machine runs 1 and 2; more threads than cores would measure time slicing).
const bool kWorkersRegistered = [] {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  auto* bench = benchmark::RegisterBenchmark("BM_PipelineWorkers", BM_PipelineWorkers)
                    ->Arg(0)->Arg(1)->ArgName("no_sigs")->UseRealTime();
  for (int workers = 1; workers <= std::min(cores, kMaxWorkers); workers *= 2) bench->Threads(workers);
  return true;
}();

}  // namespace
}  // namespace conduit::bench

BENCHMARK_MAIN();
