// SignatureSet cost (dataplane/classify/signatures.h) across the number of
// signatures in one database and the payload size.
//
// The rule pack is synthetic but shaped like an ICS one: two thirds binary
// literals ("\xLL\xHH\x00\x09CMD_<i>;"), one third small case-insensitive
// regexes ("(?i)op<i>=.{0,8}end"), ids sorted as the policy compiler sorts.
//
// BM_Scan/S/L: S signatures, L-byte payloads of seeded random bytes that match
// nothing (the common case; a miss scans the whole payload). 256 distinct
// payloads are cycled so the branch predictor cannot learn one buffer.
// BM_ScanHit/S/L: the same with one signature's literal planted at the end of
// every payload, so each scan reports one match.
// BM_Compile/S: Create() for S signatures with one worker scratch (control
// path: this is the cost a policy push pays per database).
//
// Baselines, same run: BM_Baseline_Touch/L reads every byte of the same
// payloads (sum), the floor for anything that looks at the payload;
// BM_Baseline_EmptySet/L is Scan on a set with no signatures (one branch).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "classify/signatures.h"

namespace conduit::bench {
namespace {

constexpr size_t kPayloads = 256;

std::vector<SignatureSpec> RulePack(int count) {
  std::vector<SignatureSpec> specs;
  specs.reserve(count);
  for (int i = 0; i < count; ++i) {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "\\x%02x\\x%02x", i & 0xff, (i >> 8) & 0xff);
    std::string pattern = i % 3 == 2 ? absl::StrCat("(?i)op", i, "=.{0,8}end")
                                     : absl::StrCat(hex, "\\x00\\x09CMD_", i, ";");
    specs.push_back({absl::StrCat("sig-", i), pattern, static_cast<uint32_t>(i)});
  }
  return specs;
}

// Bytes of signature 0's literal: \x00\x00\x00\x09CMD_0;
const std::string kHit = std::string("\x00\x00\x00\x09", 4) + "CMD_0;";

std::vector<std::vector<uint8_t>> Payloads(size_t len, bool hit) {
  std::mt19937 rng(42);
  std::vector<std::vector<uint8_t>> out(kPayloads, std::vector<uint8_t>(len));
  for (auto& p : out) {
    for (auto& b : p) b = static_cast<uint8_t>(rng());
    if (hit && len >= kHit.size()) {
      std::copy(kHit.begin(), kHit.end(), p.end() - static_cast<ptrdiff_t>(kHit.size()));
    }
  }
  return out;
}

void ScanArgs(benchmark::internal::Benchmark* b) {
  for (int sigs : {1, 100, 1000}) {
    for (int len : {64, 256, 1460}) b->Args({sigs, len});
  }
}

void RunScan(benchmark::State& state, bool hit) {
  const int sigs = static_cast<int>(state.range(0));
  const size_t len = static_cast<size_t>(state.range(1));
  auto specs = RulePack(sigs);
  auto set = SignatureSet::Create(specs, 1);
  if (!set.ok()) {
    state.SkipWithError(std::string(set.status().message()).c_str());
    return;
  }
  const auto payloads = Payloads(len, hit);
  size_t i = 0;
  uint64_t matched = 0;
  for (auto _ : state) {
    MatchSet m;
    matched += (*set)->Scan(0, payloads[i], m);
    benchmark::DoNotOptimize(m);
    i = (i + 1) % kPayloads;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(len));
  state.counters["matches_per_scan"] =
      benchmark::Counter(static_cast<double>(matched) / static_cast<double>(state.iterations()));
  state.counters["db_bytes"] = static_cast<double>((*set)->database_bytes());
}

void BM_Scan(benchmark::State& state) { RunScan(state, /*hit=*/false); }
BENCHMARK(BM_Scan)->Apply(ScanArgs)->ArgNames({"sigs", "len"});

void BM_ScanHit(benchmark::State& state) { RunScan(state, /*hit=*/true); }
BENCHMARK(BM_ScanHit)->Apply(ScanArgs)->ArgNames({"sigs", "len"});

void BM_Compile(benchmark::State& state) {
  auto specs = RulePack(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto set = SignatureSet::Create(specs, 1);
    if (!set.ok()) {
      state.SkipWithError(std::string(set.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(set);
  }
}
BENCHMARK(BM_Compile)->Arg(1)->Arg(100)->Arg(1000)->ArgName("sigs")->Unit(benchmark::kMillisecond);

void BM_Baseline_Touch(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  const auto payloads = Payloads(len, /*hit=*/false);
  size_t i = 0;
  for (auto _ : state) {
    uint32_t sum = 0;
    for (uint8_t b : payloads[i]) sum += b;
    benchmark::DoNotOptimize(sum);
    i = (i + 1) % kPayloads;
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(len));
}
BENCHMARK(BM_Baseline_Touch)->Arg(64)->Arg(256)->Arg(1460)->ArgName("len");

void BM_Baseline_EmptySet(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  auto set = SignatureSet::Create(std::span<const SignatureSpec>(), 1);
  const auto payloads = Payloads(len, /*hit=*/false);
  size_t i = 0;
  for (auto _ : state) {
    MatchSet m;
    benchmark::DoNotOptimize((*set)->Scan(0, payloads[i], m));
    i = (i + 1) % kPayloads;
  }
}
BENCHMARK(BM_Baseline_EmptySet)->Arg(64)->Arg(1460)->ArgName("len");

}  // namespace
}  // namespace conduit::bench

BENCHMARK_MAIN();
