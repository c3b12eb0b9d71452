#include "runtime/dataplane.h"

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <chrono>
#include <new>

#include "absl/strings/str_cat.h"
#include "observe/observe_policy.h"
#include "worker/worker.h"

namespace conduit {
namespace {

absl::Status Prefixed(const std::string& field, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(field, ": ", status.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dataplane>> Dataplane::Create(const DataplaneSpec& spec) {
  std::unique_ptr<Dataplane> dp(new Dataplane());
  const uint16_t queues = static_cast<uint16_t>(spec.worker_lcores.size());
  if (queues == 0) return absl::InvalidArgumentError("workers: at least one worker lcore is needed");
  if (spec.wires.empty()) return absl::InvalidArgumentError("wires: at least one wire is needed");
  if (spec.wires.size() * 2 > kMaxPathsPerWorker) {
    return absl::InvalidArgumentError(absl::StrCat("wires: at most ", kMaxPathsPerWorker / 2));
  }
  for (size_t i = 0; i < spec.worker_lcores.size(); ++i) {
    const unsigned lcore = spec.worker_lcores[i];
    if (lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(lcore)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "workers[", i, "]: lcore ", lcore, " is not enabled in the EAL lcore list"));
    }
    if (lcore == rte_get_main_lcore()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "workers[", i, "]: lcore ", lcore, " is the main lcore, which runs control"));
    }
  }

  const PortSettings settings{spec.rx_desc, spec.tx_desc, queues};
  rte_mempool* reset_pool = nullptr;
  for (size_t i = 0; i < spec.wires.size(); ++i) {
    const WireSpec& ws = spec.wires[i];
    Wire wire{ws.name, 0, 0};
    for (int side = 0; side < 2; ++side) {
      const std::string field = absl::StrCat("wires[", i, "].", side == 0 ? "a" : "b");
      auto port = AttachPort(side == 0 ? ws.a : ws.b);
      if (!port.ok()) return Prefixed(field, port.status());
      for (uint16_t used : dp->started_ports_) {
        if (used == *port) {
          return absl::InvalidArgumentError(absl::StrCat(field, ": port ", *port, " is already in use"));
        }
      }
      auto pool = PoolForPort(*port, spec.mbufs, spec.mbuf_cache);
      if (!pool.ok()) return Prefixed("mempool", pool.status());
      reset_pool = *pool;
      if (absl::Status s = StartPort(*port, settings, *pool); !s.ok()) return Prefixed(field, s);
      dp->started_ports_.push_back(*port);
      (side == 0 ? wire.port_a : wire.port_b) = *port;
    }
    dp->wires_.push_back(wire);
  }

  // Quiescent-state RCU: one thread id per worker (its index).
  const size_t qsbr_size = rte_rcu_qsbr_get_memsize(queues);
  dp->qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("conduit_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  if (dp->qsbr_ == nullptr || rte_rcu_qsbr_init(dp->qsbr_, queues) != 0) {
    return absl::ResourceExhaustedError("cannot allocate the RCU state");
  }

  dp->ports_ = std::make_unique<ics::ProtocolPorts>(ics::ProtocolPorts::Defaults());
  const uint64_t idle_timeout = uint64_t(spec.flow_idle_timeout_s) * rte_get_tsc_hz();
  WallClock clock;
  clock.tsc_base = rte_rdtsc();
  clock.ns_base = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch()).count());
  clock.ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
  if (spec.observe_capacity != 0) dp->observe_policy_ = observe::ObserveOnlyPolicy();
  for (uint16_t q = 0; q < queues; ++q) {
    auto ctx = std::make_unique<WorkerContext>();
    ctx->index = q;
    ctx->clock = clock;
    ctx->policy = &dp->policy_;
    ctx->shadow = &dp->shadow_;
    ctx->reset_pool = reset_pool;
    ctx->qsbr = dp->qsbr_;
    ctx->overload = OverloadGuard(spec.overload);
    ctx->report_allowed = spec.report_allowed;
    // Only the first worker can be stalled by the test hook.
    if (q == 0) ctx->stall_for_test = &dp->stall_for_test_;
    dp->rings_.push_back(std::make_unique<EventRing>(spec.event_ring_size));
    ctx->events = dp->rings_.back().get();
    try {
      dp->inspectors_.push_back(
          std::make_unique<Inspector>(spec.flow_capacity, idle_timeout, dp->ports_.get()));
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "flows.capacity: ", spec.flow_capacity, " slots of ", sizeof(FlowEntry),
          " bytes for worker ", q, " do not fit in memory"));
    }
    ctx->inspector = dp->inspectors_.back().get();
    if (spec.observe_capacity != 0) {
      try {
        ctx->observe = std::make_unique<observe::ObserveBuffers>(spec.observe_capacity);
      } catch (const std::bad_alloc&) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "observe capacity: 2 x ", spec.observe_capacity, " tuples for worker ", q,
            " do not fit in memory"));
      }
      ctx->observe_policy = dp->observe_policy_.get();
    }
    ctx->lcore = spec.worker_lcores[q];
    ctx->burst = std::min<uint16_t>(spec.burst, kMaxBurst);
    ctx->stop = &dp->stop_;
    for (uint16_t wi = 0; wi < dp->wires_.size(); ++wi) {
      const Wire& w = dp->wires_[wi];
      ctx->paths[ctx->path_count++] = ForwardPath{w.port_a, w.port_b, q, wi};
      ctx->paths[ctx->path_count++] = ForwardPath{w.port_b, w.port_a, q, wi};
    }
    dp->workers_.push_back(std::move(ctx));
  }
  return dp;
}

absl::Status Dataplane::Launch() {
  for (auto& ctx : workers_) {
    const int rc = rte_eal_remote_launch(RunWorker, ctx.get(), ctx->lcore);
    if (rc != 0) {
      Stop();
      return absl::InternalError(absl::StrCat("cannot launch a worker on lcore ", ctx->lcore));
    }
    launched_ = true;
  }
  return absl::OkStatus();
}

void Dataplane::Stop() {
  stop_.store(true);
  if (!launched_) return;
  for (auto& ctx : workers_) rte_eal_wait_lcore(ctx->lcore);
  launched_ = false;
}

Dataplane::~Dataplane() {
  Stop();
  for (uint16_t port : started_ports_) StopPort(port);
  rte_free(qsbr_);
}

std::unique_ptr<const policy::CompiledPolicy> Dataplane::Publish(
    std::unique_ptr<const policy::CompiledPolicy> next) {
  policy_.store(next.get(), std::memory_order_release);
  // Workers that are offline (stopped, or not launched) do not hold up the
  // grace period; running ones pass a quiescent state every loop.
  if (qsbr_ != nullptr && launched_) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  std::unique_ptr<const policy::CompiledPolicy> old = std::move(active_);
  active_ = std::move(next);
  return old;
}

std::unique_ptr<const policy::CompiledPolicy> Dataplane::PublishShadow(
    std::unique_ptr<const policy::CompiledPolicy> next) {
  shadow_.store(next.get(), std::memory_order_release);
  if (qsbr_ != nullptr && launched_) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  std::unique_ptr<const policy::CompiledPolicy> old = std::move(active_shadow_);
  active_shadow_ = std::move(next);
  return old;
}

std::vector<EventRing*> Dataplane::event_rings() const {
  std::vector<EventRing*> out;
  for (const auto& r : rings_) out.push_back(r.get());
  return out;
}

std::vector<CounterSnapshot> Dataplane::CountersPerWorker() const {
  std::vector<CounterSnapshot> out(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    out[i].Accumulate(workers_[i]->counters);
    inspectors_[i]->AccumulateInto(out[i]);
    if (workers_[i]->observe != nullptr) {
      out[i].totals[static_cast<int>(WorkerCounter::observe_overflow)] +=
          workers_[i]->observe->overflow();
    }
  }
  return out;
}

size_t Dataplane::DrainObservations(const observe::ObserveBuffers::Callback& callback,
                                    std::chrono::milliseconds timeout) {
  size_t drained = 0;
  for (auto& ctx : workers_) {
    if (ctx->observe == nullptr) continue;
    // Workers were joined by Stop() (or never launched): nothing runs
    // PollOnce on them but a test's own thread.
    if (ctx->observe->Drain(callback, timeout, /*worker_stopped=*/!launched_) ==
        observe::ObserveBuffers::DrainResult::kDrained) {
      ++drained;
    }
  }
  return drained;
}

}  // namespace conduit
