// The DPDK-free middle of a worker's burst: parse, flow lookup, decode and
// verdict for up to kMaxBurst frames. The worker wraps it with RX, TX and
// resets; pipeline_bench runs exactly this over a capture in memory.
//
// Three passes, so the burst's cache misses overlap instead of queueing
// (l3fwd's grouping, rte_hash's bulk lookup): parse every frame and prefetch
// its flow bucket's tags; read the tags and prefetch the matching flow
// entries; then inspect and judge one packet at a time, in order.
#pragma once

#include <array>
#include <cstdint>

#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"
#include "verdict/judge.h"

namespace conduit {

inline constexpr uint16_t kMaxBurst = 64;

// Per-worker scratch for one burst; what JudgeBurst leaves in it describes
// the burst's packets (by index) until the next call.
struct alignas(64) BurstScratch {
  std::array<PacketMeta, kMaxBurst> metas{};
  std::array<FlowRef, kMaxBurst> flows{};
  std::array<ParseResult, kMaxBurst> parsed{};
  std::array<PacketVerdict, kMaxBurst> verdicts{};
  ics::OpList ops;  // one packet's operations at a time
};

// Passes 1 and 2: parse, hash, prefetch. Fills scratch.parsed/metas/flows.
// `frames[i]` / `lengths[i]`: the bytes of packet i (its first segment).
void PrepareBurst(const Inspector& inspector, const uint8_t* const* frames,
                  const uint16_t* lengths, uint16_t n, BurstScratch& scratch);

// All three passes. Fills scratch.parsed/metas/verdicts[0, n). lcore (hot path).
void JudgeBurst(const JudgeContext& judge, Inspector& inspector, const uint8_t* const* frames,
                const uint16_t* lengths, uint16_t n, uint64_t now, BurstScratch& scratch);

}  // namespace conduit
