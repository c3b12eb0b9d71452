// Allowlist lookups (CompiledPolicy::JudgeRequest) against policies of 1k,
// 10k and 100k rules built like a plant's: one rule per (client, PLC,
// function set), host to host, plus a few subnet-wide rules. Lookups hit
// allowed, denied-by-default and subnet-matched requests in a fixed mix.
//   build/bench/allowlist_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <array>
#include <memory>
#include <random>
#include <vector>

#include "policy/policy_builder.h"

namespace conduit::policy {
namespace {

Prefix Host(uint32_t ipv4) {
  const uint8_t b[4] = {uint8_t(ipv4 >> 24), uint8_t(ipv4 >> 16), uint8_t(ipv4 >> 8), uint8_t(ipv4)};
  return MakePrefix(b, false, 32);
}

Address AddressOf(uint32_t ipv4) { return Host(ipv4).first; }

constexpr uint32_t kClients = 0xC6120000;  // 198.18.0.0
constexpr uint32_t kPlcs = 0xC6128000;     // 198.18.128.0

std::unique_ptr<CompiledPolicy> MakePolicy(int rules) {
  PolicyBuilder b("bench", Mode::kEnforce);
  ConduitPolicy c;
  c.name = "plant";
  const uint16_t ci = b.AddConduit(c);
  // A few broad rules first (engineering subnet may write a range anywhere).
  for (int i = 0; i < 10; ++i) {
    RuleSpec r;
    r.id = "subnet-" + std::to_string(i);
    const uint8_t net[4] = {198, 19, uint8_t(i), 0};
    r.from = {MakePrefix(net, false, 24)};
    r.functions = {{ics::OpKind::kModbus, 6}};
    r.kinds = {ics::OpKind::kModbus};
    r.session_kind = ics::OpKind::kModbus;
    r.ranges = {{100, 199}};
    b.AddRule(ci, r);
  }
  for (int i = 0; i < rules - 10; ++i) {
    RuleSpec r;
    r.id = "pair-" + std::to_string(i);
    r.from = {Host(kClients + uint32_t(i % 997))};
    r.to = {Host(kPlcs + uint32_t(i % 4093))};
    r.functions = {{ics::OpKind::kModbus, 3}, {ics::OpKind::kModbus, 4}};
    r.kinds = {ics::OpKind::kModbus};
    r.session_kind = ics::OpKind::kModbus;
    r.units = {1};
    r.ranges = {{0, 999}};
    b.AddRule(ci, r);
  }
  return b.Build();
}

struct Request {
  ics::IcsOp op;
  Address client;
  Address server;
};

std::vector<Request> MakeRequests(int rules) {
  std::mt19937 rng(7);
  std::vector<Request> out;
  for (int i = 0; i < 4096; ++i) {
    Request q;
    const int pair = int(rng() % uint32_t(rules));
    q.client = AddressOf(kClients + uint32_t(pair % 997));
    q.server = AddressOf(kPlcs + uint32_t(pair % 4093));
    q.op.kind = ics::OpKind::kModbus;
    q.op.direction = ics::Direction::kRequest;
    q.op.function = (i % 8 == 0) ? 6 : 3;  // one write in eight: denied by default
    q.op.unit = 1;
    q.op.flags = ics::kOpHasUnit | ics::kOpHasAddress;
    q.op.address_first = 10;
    q.op.address_last = 19;
    out.push_back(q);
  }
  return out;
}

void BM_JudgeRequest(benchmark::State& state) {
  const int rules = static_cast<int>(state.range(0));
  const std::unique_ptr<CompiledPolicy> policy = MakePolicy(rules);
  const ConduitPolicy& conduit = *policy->ConduitForWire(0);
  const std::vector<Request> requests = MakeRequests(rules);
  size_t i = 0, allowed = 0;
  for (auto _ : state) {
    const Request& q = requests[i++ & (requests.size() - 1)];
    const Decision d = policy->JudgeRequest(conduit, q.op, q.client, q.server, 502);
    allowed += d.action == Action::kAllow;
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["allowed_frac"] = double(allowed) / double(state.iterations());
}
BENCHMARK(BM_JudgeRequest)->Arg(1000)->Arg(10000)->Arg(100000);

// Baseline: the same loop reading the request without judging it.
void BM_Baseline_ReadRequest(benchmark::State& state) {
  const std::vector<Request> requests = MakeRequests(1000);
  size_t i = 0;
  for (auto _ : state) {
    const Request& q = requests[i++ & (requests.size() - 1)];
    benchmark::DoNotOptimize(q.op.function + q.client.lo + q.server.lo);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Baseline_ReadRequest);

}  // namespace
}  // namespace conduit::policy

BENCHMARK_MAIN();
