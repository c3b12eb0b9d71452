// FlowTable::FindOrInsert cost (dataplane/flow/flow_table.h) across the
// number of live flows.
//
// BM_FlowHit/N: N flows inserted into a table of 2N slots (load 0.5), then
// looked up in a shuffled order, key hashing included (as Inspector does).
// Past the caches every lookup is a miss to DRAM for the slot, so this is the
// axis that matters.
//
// BM_FlowHitBurst/N: the same lookups 32 at a time, as the worker does them
// (hash + prefetch the tags, prefetch the entries, then look up).
//
// BM_FlowMissInsert/N: a stream of never-seen keys into a table of 2N slots
// whose idle timeout is N inserts, so about N flows are live and every call
// takes the miss path: probe the 8-slot bucket, pick the free or oldest slot,
// reset the entry. Measured after a warm-up that fills the table.
//
// Baselines, same run: BM_Baseline_KeyHash/N reads the same keys in the same
// shuffled order and hashes them, touching no table; BM_Baseline_MakeKey
// builds and hashes the counter-derived keys of BM_FlowMissInsert.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "flow/flow_entry.h"
#include "flow/flow_key.h"
#include "flow/flow_table.h"

namespace conduit::bench {
namespace {

constexpr int64_t kMinFlows = 1 << 10;
constexpr int64_t kMaxFlows = 1 << 20;

// A distinct IPv4-mapped TCP key per counter value.
FlowKey KeyFor(uint64_t i) {
  FlowKey k;
  k.addr_lo[10] = k.addr_lo[11] = 0xFF;
  k.addr_hi[10] = k.addr_hi[11] = 0xFF;
  k.addr_lo[12] = 10;
  k.addr_lo[13] = uint8_t(i >> 16);
  k.addr_lo[14] = uint8_t(i >> 8);
  k.addr_lo[15] = uint8_t(i);
  k.addr_hi[12] = 192;
  k.addr_hi[13] = 168;
  k.addr_hi[14] = uint8_t(i >> 24);
  k.addr_hi[15] = uint8_t(i >> 32);
  k.port_lo = 502;
  k.port_hi = uint16_t(1024 + (i * 7919) % 60000);
  k.l4_proto = 6;
  return k;
}

struct HitSetup {
  std::vector<FlowKey> keys;
  std::vector<uint32_t> order;  // shuffled lookup order
};

HitSetup MakeHitSetup(int64_t n) {
  HitSetup s;
  std::mt19937_64 rng(42);
  s.keys.reserve(n);
  for (int64_t i = 0; i < n; ++i) s.keys.push_back(KeyFor(rng()));
  s.order.resize(n);
  std::iota(s.order.begin(), s.order.end(), 0u);
  std::shuffle(s.order.begin(), s.order.end(), rng);
  return s;
}

void SetFootprint(benchmark::State& state, const FlowTable& t) {
  state.counters["entry_bytes"] = double(sizeof(FlowEntry));
  state.counters["table_MiB"] = double(t.capacity()) * sizeof(FlowEntry) / (1024.0 * 1024.0);
}

void BM_FlowHit(benchmark::State& state) {
  const int64_t n = state.range(0);
  const HitSetup s = MakeHitSetup(n);
  auto table = std::make_unique<FlowTable>(uint32_t(2 * n), ~0ull);
  bool created;
  for (const FlowKey& k : s.keys) table->FindOrInsert(k, HashFlowKey(k), 1, &created);
  const uint64_t evicted = table->stats().evictions;
  uint64_t misses = 0;
  size_t pos = 0;
  for (auto _ : state) {
    const FlowKey& k = s.keys[s.order[pos]];
    if (++pos == s.order.size()) pos = 0;
    FlowEntry& e = table->FindOrInsert(k, HashFlowKey(k), 2, &created);
    benchmark::DoNotOptimize(&e);
    misses += created;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["flows"] = double(n);
  state.counters["fill_evictions"] = double(evicted);
  state.counters["lookup_misses"] = double(misses);
  SetFootprint(state, *table);
}
BENCHMARK(BM_FlowHit)->RangeMultiplier(2)->Range(kMinFlows, kMaxFlows);

// The worker's way: 32 keys at a time, hashed and their buckets' tags
// prefetched, then their entries prefetched, then looked up (JudgeBurst's
// first three steps), so the misses of a burst overlap. One iteration is
// one lookup, as in BM_FlowHit.
void BM_FlowHitBurst(benchmark::State& state) {
  constexpr int kBurst = 32;
  const int64_t n = state.range(0);
  const HitSetup s = MakeHitSetup(n);
  auto table = std::make_unique<FlowTable>(uint32_t(2 * n), ~0ull);
  bool created;
  for (const FlowKey& k : s.keys) table->FindOrInsert(k, HashFlowKey(k), 1, &created);
  uint64_t misses = 0;
  size_t pos = 0;
  const FlowKey* keys[kBurst];
  uint64_t hashes[kBurst];
  int in_burst = kBurst;
  for (auto _ : state) {
    if (in_burst == kBurst) {
      // Refill (timed, spread over the burst's lookups).
      for (int b = 0; b < kBurst; ++b) {
        keys[b] = &s.keys[s.order[pos]];
        if (++pos == s.order.size()) pos = 0;
        hashes[b] = HashFlowKey(*keys[b]);
        table->PrefetchBucket(hashes[b]);
      }
      for (int b = 0; b < kBurst; ++b) table->PrefetchEntries(hashes[b], true);
      in_burst = 0;
    }
    FlowEntry& e = table->FindOrInsert(*keys[in_burst], hashes[in_burst], 2, &created);
    ++in_burst;
    benchmark::DoNotOptimize(&e);
    misses += created;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["flows"] = double(n);
  state.counters["lookup_misses"] = double(misses);
  SetFootprint(state, *table);
}
BENCHMARK(BM_FlowHitBurst)->RangeMultiplier(4)->Range(kMinFlows, kMaxFlows);

void BM_Baseline_KeyHash(benchmark::State& state) {
  const int64_t n = state.range(0);
  const HitSetup s = MakeHitSetup(n);
  size_t pos = 0;
  for (auto _ : state) {
    const FlowKey& k = s.keys[s.order[pos]];
    if (++pos == s.order.size()) pos = 0;
    const uint64_t h = HashFlowKey(k);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_KeyHash)->RangeMultiplier(2)->Range(kMinFlows, kMaxFlows);

void BM_FlowMissInsert(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto table = std::make_unique<FlowTable>(uint32_t(2 * n), uint64_t(n));
  bool created;
  uint64_t now = 0;
  // Warm-up: fill the table and reach the steady state of expiring flows.
  for (; now < uint64_t(4 * n); ++now) {
    const FlowKey k = KeyFor(now);
    table->FindOrInsert(k, HashFlowKey(k), now, &created);
  }
  const FlowTableStats before = table->stats();
  uint64_t hits = 0;
  for (auto _ : state) {
    const FlowKey k = KeyFor(now);
    FlowEntry& e = table->FindOrInsert(k, HashFlowKey(k), now, &created);
    benchmark::DoNotOptimize(&e);
    hits += !created;
    ++now;
  }
  const FlowTableStats& after = table->stats();
  const double inserts = double(after.inserts - before.inserts);
  state.SetItemsProcessed(state.iterations());
  state.counters["flows"] = double(n);
  state.counters["unexpected_hits"] = double(hits);
  state.counters["evict_frac"] = inserts ? double(after.evictions - before.evictions) / inserts : 0;
  state.counters["expire_frac"] =
      inserts ? double(after.expirations - before.expirations) / inserts : 0;
  SetFootprint(state, *table);
}
BENCHMARK(BM_FlowMissInsert)->RangeMultiplier(2)->Range(kMinFlows, kMaxFlows);

void BM_Baseline_MakeKey(benchmark::State& state) {
  uint64_t now = 0;
  for (auto _ : state) {
    const FlowKey k = KeyFor(now++);
    const uint64_t h = HashFlowKey(k);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_MakeKey);

}  // namespace
}  // namespace conduit::bench

BENCHMARK_MAIN();
