// What a policy push costs the control plane, and how long it takes to reach
// the traffic.
//
// BM_Compile/N: CompilePolicy of a snapshot with N Modbus rules (1 conduit,
// N rules with distinct /32 initiators, a few functions, units and address
// ranges each). Beside it, same run: BM_Validate/N (ValidatePolicy),
// BM_Hash/N (PolicyHash) and the baseline BM_CopySnapshot/N (copying the
// protobuf, the least any push does with it).
//
// With a real EAL (lcores 0 and 1, --no-huge) and one Dataplane worker
// running on lcore 1 over two net_ring ports:
// BM_Publish: Dataplane::Publish alone: release store + RCU grace period
//   (the worker busy-polls empty rings).
// BM_Push/N: PolicyManager::Push of N-rule snapshots, alternating two
//   versions: validate + compile + publish + grace period.
// BM_PushToEffect: Push, then one Modbus write injected on port A, timed
//   until it leaves port B judged by the new epoch (its event carries it):
//   publish-to-effect as traffic sees it.
// Baselines: BM_Push_Unchanged (identical content: hash only, nothing
// published) and BM_Forward (inject + wait for the exit, no push).
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/policy_manager.h"
#include "packet/packet_builder.h"
#include "policy/compiler.h"
#include "policy/validate.h"
#include "runtime/dataplane.h"

namespace conduit::bench {
namespace {

namespace v1 = conduit::v1;

v1::PolicySnapshot Rules(int n, const std::string& version) {
  static const char* kFunctions[] = {"read_coils", "read_holding_registers",
                                     "read_input_registers", "write_single_register"};
  v1::PolicySnapshot p;
  p.set_version(version);
  p.set_mode(v1::MODE_ENFORCE);
  v1::Zone* corp = p.add_zones();
  corp->set_name("corporate");
  corp->add_prefixes("198.18.0.0/16");
  v1::Zone* plant = p.add_zones();
  plant->set_name("plant");
  plant->add_prefixes("198.19.0.0/16");
  v1::Conduit* c = p.add_conduits();
  c->set_name("corp-plant");
  c->set_wire(0);
  c->set_side_a("corporate");
  c->set_side_b("plant");
  c->set_default_action(v1::ACTION_DENY);
  c->set_non_ics(v1::ACTION_DENY);
  c->add_allow_non_ip("arp");
  for (int i = 0; i < n; ++i) {
    v1::Rule* r = c->add_rules();
    r->set_id(absl::StrCat("r", i));
    r->set_protocol("modbus");
    r->add_from(absl::StrCat("198.18.", (i >> 8) & 0xff, ".", i & 0xff, "/32"));
    r->add_to(absl::StrCat("198.19.0.", 1 + i % 250, "/32"));
    r->add_functions(kFunctions[i % 4]);
    r->add_functions(kFunctions[(i + 1) % 4]);
    r->add_units(1 + i % 247);
    r->add_addresses(absl::StrCat(i % 1000, "-", i % 1000 + 99));
    r->set_action(v1::ACTION_ALLOW);
  }
  return p;
}

// Rule counts up to 100k: 198.18.x.y gives 65,536 distinct /32s, so above
// that the initiators repeat (the rules still differ by destination).
void RuleCounts(benchmark::internal::Benchmark* b) {
  b->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);
}

void BM_Compile(benchmark::State& state) {
  const v1::PolicySnapshot p = Rules(static_cast<int>(state.range(0)), "bench");
  for (auto _ : state) {
    auto compiled = policy::CompilePolicy(p, {1, 1});
    if (!compiled.ok()) {
      state.SkipWithError(std::string(compiled.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(compiled->get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));  // rules per second
}
BENCHMARK(BM_Compile)->Apply(RuleCounts);

void BM_Validate(benchmark::State& state) {
  const v1::PolicySnapshot p = Rules(static_cast<int>(state.range(0)), "bench");
  for (auto _ : state) {
    auto errors = policy::ValidatePolicy(p, {1, nullptr});
    if (!errors.empty()) {
      state.SkipWithError(policy::FormatPolicyErrors(errors).substr(0, 200).c_str());
      break;
    }
    benchmark::DoNotOptimize(errors);
  }
}
BENCHMARK(BM_Validate)->Apply(RuleCounts);

void BM_Hash(benchmark::State& state) {
  const v1::PolicySnapshot p = Rules(static_cast<int>(state.range(0)), "bench");
  for (auto _ : state) benchmark::DoNotOptimize(policy::PolicyHash(p));
}
BENCHMARK(BM_Hash)->Apply(RuleCounts);

void BM_CopySnapshot(benchmark::State& state) {
  const v1::PolicySnapshot p = Rules(static_cast<int>(state.range(0)), "bench");
  for (auto _ : state) {
    v1::PolicySnapshot copy = p;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_CopySnapshot)->Apply(RuleCounts);

// ---- The running dataplane ----

class Gateway {
 public:
  static Gateway* Get() {
    if (instance_ == nullptr) instance_ = Start();
    return instance_;
  }

  Dataplane& dp() { return *dp_; }
  PolicyManager& pm() { return *pm_; }

  // One Modbus write, port A in, port B out; returns the epoch of its event
  // (0: none) once it left.
  uint32_t RoundTrip() {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return UINT32_MAX;
    const uint16_t sport = static_cast<uint16_t>(1024 + (next_sport_++ % 60000));
    std::vector<uint8_t> frame = frame_;
    frame[34] = static_cast<uint8_t>(sport >> 8);
    frame[35] = static_cast<uint8_t>(sport);
    std::memcpy(rte_pktmbuf_append(m, frame.size()), frame.data(), frame.size());
    while (rte_ring_enqueue(a_rx_, m) != 0) {
    }
    void* out;
    while (rte_ring_dequeue(b_tx_, &out) != 0) {
    }
    rte_pktmbuf_free(static_cast<rte_mbuf*>(out));
    EventRecord e;
    uint32_t epoch = 0;
    while (ring_->PopBatch(&e, 1) == 1) epoch = e.policy_epoch;
    return epoch;
  }

  bool ok() const { return dp_ != nullptr; }

  // Stops the worker before the EAL goes.
  static void Stop() {
    Gateway* g = instance_;
    if (g == nullptr) return;  // no benchmark needed the dataplane
    const bool eal = g->pool_ != nullptr;
    g->pm_.reset();
    g->dp_.reset();
    if (!eal) return;
    const std::string runtime_dir = rte_eal_get_runtime_dir();  // left behind otherwise
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  }

 private:
  static Gateway* Start() {
    auto* g = new Gateway();
    std::vector<std::string> args = {"swap_bench", "--no-huge", "-m", "512", "--no-pci",
                                     "--file-prefix", "swap_bench_" + std::to_string(getpid()),
                                     "-l", "0,1", "--log-level=error"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) return g;
    g->pool_ = rte_pktmbuf_pool_create("bench_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       SOCKET_ID_ANY);
    const unsigned f = RING_F_SP_ENQ | RING_F_SC_DEQ;
    g->a_rx_ = rte_ring_create("bench_arx", 1024, SOCKET_ID_ANY, f);
    g->a_tx_ = rte_ring_create("bench_atx", 1024, SOCKET_ID_ANY, f);
    g->b_rx_ = rte_ring_create("bench_brx", 1024, SOCKET_ID_ANY, f);
    g->b_tx_ = rte_ring_create("bench_btx", 1024, SOCKET_ID_ANY, f);
    if (rte_eth_from_rings("bencha", &g->a_rx_, 1, &g->a_tx_, 1, SOCKET_ID_ANY) < 0 ||
        rte_eth_from_rings("benchb", &g->b_rx_, 1, &g->b_tx_, 1, SOCKET_ID_ANY) < 0) {
      return g;
    }
    DataplaneSpec spec;
    spec.worker_lcores = {1};
    spec.wires = {WireSpec{"corp-plant", "bencha", "benchb"}};
    spec.mbufs = 1023;
    spec.mbuf_cache = 0;
    auto dp = Dataplane::Create(spec);
    if (!dp.ok()) {
      std::fprintf(stderr, "swap_bench: %s\n", std::string(dp.status().message()).c_str());
      return g;
    }
    Dataplane* raw = dp->get();
    g->pm_ = std::make_unique<PolicyManager>(
        PolicyManager::Options{1, 1, ""},
        [raw](std::unique_ptr<const policy::CompiledPolicy> next) {
          return raw->Publish(std::move(next));
        });
    if (!(*dp)->Launch().ok()) return g;
    g->ring_ = (*dp)->event_rings()[0];
    g->frame_ = testing::PacketBuilder().Eth().Ipv4("198.18.0.10", "198.19.0.200")
                    .Tcp(1024, 502, 1000, testing::kTcpAck | testing::kTcpPsh)
                    .Payload(testing::ModbusAdu(1, 1, 6, {0, 100, 0, 1}))
                    .Build();
    g->dp_ = std::move(*dp);
    return g;
  }

  static inline Gateway* instance_ = nullptr;
  rte_mempool* pool_ = nullptr;
  rte_ring *a_rx_ = nullptr, *a_tx_ = nullptr, *b_rx_ = nullptr, *b_tx_ = nullptr;
  std::unique_ptr<Dataplane> dp_;
  std::unique_ptr<PolicyManager> pm_;
  EventRing* ring_ = nullptr;
  std::vector<uint8_t> frame_;
  uint32_t next_sport_ = 0;
};

// A snapshot whose default verdict for the probe write is a monitor-mode
// deny, so every probe leaves an event naming the epoch that judged it.
v1::PolicySnapshot Monitored(int rules, const std::string& version) {
  v1::PolicySnapshot p = Rules(rules, version);
  p.set_mode(v1::MODE_MONITOR);
  return p;
}

void BM_Publish(benchmark::State& state) {
  Gateway* g = Gateway::Get();
  if (!g->ok()) return state.SkipWithError("no EAL/dataplane (needs lcores 0,1)");
  auto a = policy::CompilePolicy(Monitored(10, "a"), {1, 1});
  auto b = policy::CompilePolicy(Monitored(10, "b"), {1, 2});
  std::unique_ptr<const policy::CompiledPolicy> spare = std::move(*b);
  // The PolicyManager's own publish is bypassed here: hand it back after.
  std::unique_ptr<const policy::CompiledPolicy> before = g->dp().Publish(std::move(*a));
  for (auto _ : state) spare = g->dp().Publish(std::move(spare));
  spare = g->dp().Publish(std::move(before));
}
BENCHMARK(BM_Publish)->Unit(benchmark::kMicrosecond);

void BM_Push(benchmark::State& state) {
  Gateway* g = Gateway::Get();
  if (!g->ok()) return state.SkipWithError("no EAL/dataplane (needs lcores 0,1)");
  const int n = static_cast<int>(state.range(0));
  const v1::PolicySnapshot p[2] = {Monitored(n, absl::StrCat("push-a-", n)),
                                   Monitored(n, absl::StrCat("push-b-", n))};
  uint64_t compile = 0, swap = 0;
  int i = 0;
  for (auto _ : state) {
    const PushOutcome out = g->pm().Push(p[i++ & 1]);
    if (!out.accepted) return state.SkipWithError("push refused");
    compile += out.compile_micros;
    swap += out.swap_micros;
  }
  state.counters["compile_us"] = double(compile) / double(state.iterations());
  state.counters["swap_us"] = double(swap) / double(state.iterations());
}
BENCHMARK(BM_Push)->Arg(1)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Push_Unchanged(benchmark::State& state) {
  Gateway* g = Gateway::Get();
  if (!g->ok()) return state.SkipWithError("no EAL/dataplane (needs lcores 0,1)");
  const v1::PolicySnapshot p = Monitored(1, "unchanged");
  g->pm().Push(p);
  for (auto _ : state) {
    const PushOutcome out = g->pm().Push(p);
    if (!out.unchanged) return state.SkipWithError("not a no-op");
  }
}
BENCHMARK(BM_Push_Unchanged)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_PushToEffect(benchmark::State& state) {
  Gateway* g = Gateway::Get();
  if (!g->ok()) return state.SkipWithError("no EAL/dataplane (needs lcores 0,1)");
  const v1::PolicySnapshot p[2] = {Monitored(1, "effect-a"), Monitored(1, "effect-b")};
  int i = 0;
  for (auto _ : state) {
    g->pm().Push(p[i++ & 1]);
    const uint32_t epoch = g->RoundTrip();
    if (epoch != g->pm().Status().epoch) return state.SkipWithError("judged by an old epoch");
  }
}
BENCHMARK(BM_PushToEffect)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Forward(benchmark::State& state) {
  Gateway* g = Gateway::Get();
  if (!g->ok()) return state.SkipWithError("no EAL/dataplane (needs lcores 0,1)");
  g->pm().Push(Monitored(1, "forward"));
  for (auto _ : state) benchmark::DoNotOptimize(g->RoundTrip());
}
BENCHMARK(BM_Forward)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace conduit::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  conduit::bench::Gateway::Stop();
  return 0;
}
