#include "worker/worker.h"

#include <cstring>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "normalize/packet_checks.h"
#include "parse/parse.h"
#include "verdict/judge_burst.h"
#include "verdict/tcp_reset.h"

namespace conduit {
namespace {

// What the port's checksum offload says, as normalize::ChecksumHint bits.
// NONE ("the checksum field is wrong but the data was verified", virtual
// devices) counts as GOOD; UNKNOWN leaves it to the software check.
uint8_t ChecksumHintOf(uint64_t ol_flags) {
  uint8_t hint = 0;
  switch (ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
    case RTE_MBUF_F_RX_IP_CKSUM_NONE: hint |= normalize::kIpChecksumGood; break;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD: hint |= normalize::kIpChecksumBad; break;
    default: break;
  }
  switch (ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
    case RTE_MBUF_F_RX_L4_CKSUM_NONE: hint |= normalize::kL4ChecksumGood; break;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD: hint |= normalize::kL4ChecksumBad; break;
    default: break;
  }
  return hint;
}

// Sends `n` packets on (port, queue); frees and returns the count of those
// the queue refused.
uint16_t SendOrFree(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n) {
  if (n == 0) return 0;
  const uint16_t sent = rte_eth_tx_burst(port, queue, pkts, n);
  for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
  return n - sent;
}

// Rewrites `m` to carry the reassembled datagram that replaced its
// fragment (`frame`, `length`: the reassembly table's copy), so what leaves
// is exactly what was judged. False when it does not fit in m's buffer.
bool CarryDatagram(rte_mbuf* m, const uint8_t* frame, uint16_t length) {
  if (m->nb_segs != 1 || length > m->buf_len - RTE_PKTMBUF_HEADROOM) return false;
  rte_pktmbuf_reset_headroom(m);
  m->data_len = length;
  m->pkt_len = length;
  m->ol_flags = 0;
  std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), frame, length);
  return true;
}

// Transmits the forwarded packets of a burst and counts what left.
void TransmitForwarded(WorkerContext& ctx, const ForwardPath& path, rte_mbuf** out,
                       uint16_t n_out, uint64_t tx_bytes) {
  if (n_out == 0) return;
  WorkerCounters& counters = ctx.counters;
  const uint16_t sent = rte_eth_tx_burst(path.tx_port, path.queue, out, n_out);
  if (sent < n_out) [[unlikely]] {
    for (uint16_t i = sent; i < n_out; ++i) {
      tx_bytes -= out[i]->pkt_len;
      rte_pktmbuf_free(out[i]);
    }
    counters[DropReason::tx_full].Add(n_out - sent);
    counters[WorkerCounter::dropped_packets].Add(n_out - sent);
  }
  counters[WorkerCounter::tx_packets].Add(sent);
  counters[WorkerCounter::tx_bytes].Add(tx_bytes);
}

// No policy, or bypass: forward untouched, count only.
void ForwardUninspected(WorkerContext& ctx, const ForwardPath& path, rte_mbuf** pkts,
                        uint16_t n) {
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) bytes += pkts[i]->pkt_len;
  ctx.counters[WorkerCounter::rx_packets].Add(n);
  ctx.counters[WorkerCounter::rx_bytes].Add(bytes);
  ctx.counters[WorkerCounter::bypassed_packets].Add(n);
  TransmitForwarded(ctx, path, pkts, n, bytes);
}

// parse → flow + decode → judge → forward, drop or reset. Packets leave in
// the order they came in. Forwarded frames are sent at once rather than
// buffered across polls: on a plant network latency matters more than the
// last few percent of batching.
// Returns the inspection cycles per packet of the burst.
// `observe_only`: no policy covers the burst; it is inspected and observed
// under ctx.observe_policy, and every packet forwarded as it came (counted
// as bypassed).
uint32_t InspectBurst(WorkerContext& ctx, const ForwardPath& path, const policy::CompiledPolicy& policy,
                  const policy::ConduitPolicy& conduit, rte_mbuf** pkts, uint16_t n,
                  bool observe_only = false) {
  WorkerCounters& counters = ctx.counters;
  rte_mbuf* out[kMaxBurst];
  rte_mbuf* resets_on[kMaxBurst];    // toward the receiver, on the TX port
  rte_mbuf* resets_back[kMaxBurst];  // toward the sender, out of the RX port
  uint16_t n_out = 0, n_on = 0, n_back = 0;
  uint64_t rx_bytes = 0, tx_bytes = 0;
  uint16_t denied = 0, unparsable = 0, normalized = 0, non_ip = 0, reset_failures = 0;
  const uint64_t tsc = rte_rdtsc();  // one clock reading per burst (and the cost's start)
  JudgeContext judge{policy, conduit, ctx.index, ctx.clock.Now(tsc), 0,
                     observe_only ? nullptr : ctx.events, &ctx.matches,
                     ctx.report_allowed && !observe_only};
  if (ctx.observe != nullptr) {
    judge.observe = ctx.observe->Active();
    judge.wire = static_cast<uint8_t>(path.wire);
  }
  if (ctx.shadow != nullptr) {
    // Also with no policy (observe-only bursts): a first candidate is tried
    // against the traffic it would start to enforce on.
    if (const policy::CompiledPolicy* shadow = ctx.shadow->load(std::memory_order_acquire)) [[unlikely]] {
      judge.shadow = shadow;
      judge.shadow_conduit = shadow->ConduitForWire(path.wire);
      judge.shadow_events = ctx.events;
    }
  }
  ctx.inspector->set_ports(&policy.ports());  // the policy's port overrides apply to new flows

  const uint8_t* frames[kMaxBurst];
  uint16_t lengths[kMaxBurst];
  uint8_t checksum_hints[kMaxBurst];
  for (uint16_t i = 0; i < n; ++i) {
    // Headers are parsed in the first segment only; a header that runs past
    // it is reported as truncated rather than read from the next segment.
    frames[i] = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    lengths[i] = pkts[i]->data_len;
    checksum_hints[i] = ChecksumHintOf(pkts[i]->ol_flags);
  }
  const bool enforce = conduit.mode == policy::Mode::kEnforce;
  BurstScratch& burst = ctx.burst_scratch;
  JudgeBurst(judge, *ctx.inspector, frames, lengths, n, tsc, burst, checksum_hints);

  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    rx_bytes += m->pkt_len;
    const ParseResult parsed = burst.parsed[i];
    counters[parsed].Add(1);
    non_ip += parsed == ParseResult::kNonIp;
    const PacketVerdict& v = burst.verdicts[i];
    if (!v.drop || observe_only) [[likely]] {
      if (burst.fragment[i] != normalize::IpReassembler::Outcome::kNotFragment) [[unlikely]] {
        if (v.held) {  // counted as dropped: its bytes leave in the datagram
          counters[DropReason::ip_fragment_held].Add(1);
          ++normalized;
          rte_pktmbuf_free(m);
          continue;
        }
        if (burst.fragment[i] == normalize::IpReassembler::Outcome::kComplete && enforce &&
            !CarryDatagram(m, frames[i], lengths[i])) {
          counters[DropReason::ip_fragment_limit].Add(1);
          ++normalized;
          rte_pktmbuf_free(m);
          continue;
        }
      }
      tx_bytes += m->pkt_len;
      out[n_out++] = m;
      continue;
    }
    if (v.reset) {
      const PacketMeta& meta = burst.metas[i];
      rte_mbuf* on = BuildTcpReset(ctx.reset_pool, frames[i], meta, /*to_sender=*/false);
      rte_mbuf* back = BuildTcpReset(ctx.reset_pool, frames[i], meta, /*to_sender=*/true);
      if (on != nullptr) resets_on[n_on++] = on; else ++reset_failures;
      if (back != nullptr) resets_back[n_back++] = back; else ++reset_failures;
    }
    if (v.normalized != DropReason::kCount) [[unlikely]] {
      counters[v.normalized].Add(1);
      ++normalized;
    } else {
      ++(v.decision.rule == policy::kRuleUnparsable ? unparsable : denied);
    }
    rte_pktmbuf_free(m);
  }
  counters[WorkerCounter::rx_packets].Add(n);
  counters[WorkerCounter::rx_bytes].Add(rx_bytes);
  counters[observe_only ? WorkerCounter::bypassed_packets : WorkerCounter::inspected_packets].Add(n);
  counters[WorkerCounter::non_ip_packets].Add(non_ip);
  if (denied + unparsable + normalized != 0) {
    counters[DropReason::policy_deny].Add(denied);
    counters[DropReason::unparsable].Add(unparsable);
    counters[WorkerCounter::dropped_packets].Add(denied + unparsable + normalized);
  }
  TransmitForwarded(ctx, path, out, n_out, tx_bytes);
  if (n_on + n_back != 0) {
    reset_failures += SendOrFree(path.tx_port, path.queue, resets_on, n_on);
    reset_failures += SendOrFree(path.rx_port, path.queue, resets_back, n_back);
    counters[WorkerCounter::resets_sent].Add(n_on + n_back - reset_failures);
  }
  if (reset_failures != 0) counters[WorkerCounter::resets_failed].Add(reset_failures);
  return static_cast<uint32_t>((rte_rdtsc() - tsc) / n);
}

// Returns the inspection cycles per packet (0: not inspected).
uint32_t ProcessBurst(WorkerContext& ctx, const ForwardPath& path, rte_mbuf** pkts, uint16_t n) {
  const policy::CompiledPolicy* policy =
      ctx.policy != nullptr ? ctx.policy->load(std::memory_order_acquire) : nullptr;
  const policy::ConduitPolicy* conduit =
      policy != nullptr ? policy->ConduitForWire(path.wire) : nullptr;
  if (ctx.inspector == nullptr || ctx.overload.bypassing()) {
    ForwardUninspected(ctx, path, pkts, n);  // overload: availability first, nothing inspected
    return 0;
  }
  if (conduit == nullptr || conduit->mode == policy::Mode::kBypass) {
    // No policy covers it: observed only (if observation is on).
    if (ctx.observe == nullptr || ctx.observe_policy == nullptr) {
      ForwardUninspected(ctx, path, pkts, n);
      return 0;
    }
    const policy::CompiledPolicy& observe_policy = *ctx.observe_policy;
    return InspectBurst(ctx, path, observe_policy, *observe_policy.ConduitForWire(0), pkts, n,
                        /*observe_only=*/true);
  }
  return InspectBurst(ctx, path, *policy, *conduit, pkts, n);
}

void ReportOverload(WorkerContext& ctx, OverloadTransition t) {
  const bool enter = t == OverloadTransition::kEnter;
  ctx.counters[enter ? WorkerCounter::overload_enter : WorkerCounter::overload_exit].Add(1);
  if (ctx.events == nullptr) return;
  EventRecord e;
  e.ts_ns = ctx.clock.Now(rte_rdtsc());
  e.kind = enter ? EventKind::kOverloadEnter : EventKind::kOverloadExit;
  e.worker = static_cast<uint8_t>(ctx.index);
  ctx.events->TryPush(e);
}

}  // namespace

uint32_t PollOnce(WorkerContext& ctx) {
  // A burst boundary: hand the observation table to control if it asked.
  if (ctx.observe != nullptr) ctx.observe->ServiceSwapOnWorker();
  uint32_t received = 0;
  uint64_t inspect_cycles = 0;
  uint32_t inspected = 0;
  bool full = false;
  rte_mbuf* pkts[kMaxBurst];
  for (uint16_t p = 0; p < ctx.path_count; ++p) {
    const ForwardPath& path = ctx.paths[p];
    const uint16_t n = rte_eth_rx_burst(path.rx_port, path.queue, pkts, ctx.burst);
    if (n == 0) continue;
    ctx.counters[WorkerCounter::rx_bursts].Add(1);
    full |= n == ctx.burst;
    if (const uint32_t cycles = ProcessBurst(ctx, path, pkts, n); cycles != 0) {
      inspect_cycles += uint64_t(cycles) * n;
      inspected += n;
    }
    received += n;
  }
  if (received == 0) ctx.counters[WorkerCounter::idle_polls].Add(1);
  // One verdict per poll over all queues: a backlog on any queue counts.
  const OverloadTransition t =
      ctx.overload.OnPoll(full, inspected != 0 ? static_cast<uint32_t>(inspect_cycles / inspected) : 0);
  if (t != OverloadTransition::kNone) [[unlikely]] ReportOverload(ctx, t);
  return received;
}

int RunWorker(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  if (ctx.qsbr != nullptr) {
    rte_rcu_qsbr_thread_register(ctx.qsbr, ctx.index);
    rte_rcu_qsbr_thread_online(ctx.qsbr, ctx.index);
  }
  while (!ctx.stop->load(std::memory_order_relaxed)) {
    if (ctx.stall_for_test != nullptr && ctx.stall_for_test->load(std::memory_order_relaxed)) [[unlikely]] {
      continue;  // no heartbeat, no quiescent state, no packets: a stuck worker
    }
    ctx.heartbeat.fetch_add(1, std::memory_order_relaxed);
    // Between iterations this worker holds no policy pointer: a quiescent state.
    if (ctx.qsbr != nullptr) rte_rcu_qsbr_quiescent(ctx.qsbr, ctx.index);
    if (PollOnce(ctx) == 0) rte_pause();
  }
  if (ctx.qsbr != nullptr) {
    rte_rcu_qsbr_thread_offline(ctx.qsbr, ctx.index);
    rte_rcu_qsbr_thread_unregister(ctx.qsbr, ctx.index);
  }
  return 0;
}

}  // namespace conduit
