#include "worker/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>

#include "parse/parse.h"
#include "verdict/verdict.h"

namespace conduit {
namespace {

// Judges one received burst and transmits what passes. Packets go out in
// the order they came in, on the same queue index of the peer port.
// Forwarded frames are sent at once rather than buffered across polls: on a
// plant network latency matters more than the last few percent of batching.
void ProcessBurst(WorkerContext& ctx, const ForwardPath& path,
                  rte_mbuf** pkts, uint16_t n) {
  WorkerCounters& counters = ctx.counters;
  rte_mbuf* out[kMaxBurst];
  uint16_t n_out = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint16_t dropped = 0;
  uint16_t non_ip = 0;
  const uint64_t now = rte_rdtsc();  // one clock reading per burst

  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    rte_mbuf* m = pkts[i];
    rx_bytes += m->pkt_len;
    PacketMeta& meta = ctx.metas[i];
    // Headers are parsed in the first segment only; a header that runs past
    // it is reported as truncated rather than read from the next segment.
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    const ParseResult parsed = ParsePacket(frame, m->data_len, meta);
    counters[parsed].Add(1);
    non_ip += parsed == ParseResult::kNonIp;
    Inspection inspection;
    ctx.ops.Clear();
    if (parsed == ParseResult::kOk && ctx.inspector != nullptr) [[likely]] {
      inspection = ctx.inspector->Inspect(frame, meta, now, ctx.ops);
    }
    if (Judge(parsed, meta, inspection, ctx.ops) == Verdict::kForward) [[likely]] {
      tx_bytes += m->pkt_len;
      out[n_out++] = m;
    } else {
      ++dropped;
      rte_pktmbuf_free(m);
    }
  }
  counters[WorkerCounter::rx_packets].Add(n);
  counters[WorkerCounter::rx_bytes].Add(rx_bytes);
  counters[WorkerCounter::inspected_packets].Add(n);
  counters[WorkerCounter::non_ip_packets].Add(non_ip);
  if (dropped) {
    counters[DropReason::policy_deny].Add(dropped);
    counters[WorkerCounter::dropped_packets].Add(dropped);
  }
  if (n_out == 0) return;

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

}  // namespace

uint32_t PollOnce(WorkerContext& ctx) {
  uint32_t received = 0;
  rte_mbuf* pkts[kMaxBurst];
  for (uint16_t p = 0; p < ctx.path_count; ++p) {
    const ForwardPath& path = ctx.paths[p];
    const uint16_t n = rte_eth_rx_burst(path.rx_port, path.queue, pkts, ctx.burst);
    if (n == 0) continue;
    ctx.counters[WorkerCounter::rx_bursts].Add(1);
    ProcessBurst(ctx, path, pkts, n);
    received += n;
  }
  if (received == 0) ctx.counters[WorkerCounter::idle_polls].Add(1);
  return received;
}

int RunWorker(void* arg) {
  WorkerContext& ctx = *static_cast<WorkerContext*>(arg);
  while (!ctx.stop->load(std::memory_order_relaxed)) {
    ctx.heartbeat.fetch_add(1, std::memory_order_relaxed);
    if (PollOnce(ctx) == 0) rte_pause();
  }
  return 0;
}

}  // namespace conduit
