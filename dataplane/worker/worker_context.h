// Per-lcore state, owned by that lcore alone (l3fwd's lcore_conf).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "parse/packet_meta.h"
#include "stats/counters.h"

namespace conduit {

inline constexpr uint16_t kMaxBurst = 64;
inline constexpr int kMaxPathsPerWorker = 16;  // 8 wires, both directions

// One direction of one wire as a worker sees it: its RX queue on one port,
// its TX queue (same index) on the peer port.
struct ForwardPath {
  uint16_t rx_port = 0;
  uint16_t tx_port = 0;
  uint16_t queue = 0;
};

struct alignas(64) WorkerContext {
  // Set once at start-up by the control thread, read-only after.
  unsigned lcore = 0;
  uint16_t burst = 32;
  uint16_t path_count = 0;
  std::array<ForwardPath, kMaxPathsPerWorker> paths{};
  const std::atomic<bool>* stop = nullptr;
  Inspector* inspector = nullptr;  // this worker's flow table and decoders

  // Written by the worker, read by control (watchdog, stats).
  alignas(64) std::atomic<uint64_t> heartbeat{0};
  WorkerCounters counters;

  // Scratch for one burst; never read outside PollOnce().
  alignas(64) std::array<PacketMeta, kMaxBurst> metas{};
  ics::OpList ops;
};

}  // namespace conduit
