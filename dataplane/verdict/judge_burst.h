// The DPDK-free middle of a worker's burst: parse, flow lookup, decode and
// verdict for up to kMaxBurst frames. The worker wraps it with RX, TX and
// resets; pipeline_bench runs exactly this over a capture in memory.
//
// Three passes, so the burst's cache misses overlap instead of queueing
// (l3fwd's grouping, rte_hash's bulk lookup): parse every frame and prefetch
// its flow bucket's tags; read the tags and prefetch the matching flow
// entries; then inspect each packet, prefetch the policy lines its verdict
// will read, and judge the packet before it while those load. Verdicts are
// still taken in packet order, and a packet is judged before the next one
// is inspected whenever that inspection could touch what the verdict
// reads: the same flow, or a new flow entry (which may evict another).
#pragma once

#include <array>
#include <cstdint>

#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "normalize/ip_reassembly.h"
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
  // What reassembly made of packet i (kNotFragment unless its conduit says
  // `fragments: reassemble`): on kComplete, frames[i]/lengths[i] were
  // replaced by the whole datagram, which is what was judged and, under
  // enforce, what must leave in place of the fragment.
  std::array<normalize::IpReassembler::Outcome, kMaxBurst> fragment{};
  std::array<DropReason, kMaxBurst> fragment_drop{};
  // Operations of packet i in ops[i % 2]: a packet is judged after the next
  // one is inspected.
  std::array<Inspection, 2> inspections{};
  std::array<ics::OpList, 2> ops;
};

// Passes 1 and 2: parse, hash, prefetch. Fills scratch.parsed/metas/flows.
// `frames[i]` / `lengths[i]`: the bytes of packet i (its first segment).
// With `reassemble`, IPv4 fragments go to the inspector's reassembly table
// first (scratch.fragment): a held fragment is not prepared, and the one
// that completes a datagram is replaced by it in frames/lengths.
void PrepareBurst(Inspector& inspector, const uint8_t** frames, uint16_t* lengths, uint16_t n,
                  BurstScratch& scratch, bool reassemble = false, uint64_t now_ns = 0);

// All three passes. Fills scratch.parsed/metas/verdicts[0, n). lcore (hot path).
// `checksum_hints[i]` (normalize::ChecksumHint bits, may be null): what the
// port's offload says about packet i's checksums. The normalizer's packet
// checks (normalize/packet_checks.h) run before a packet is inspected; a
// packet they stop is never fed to a decoder. A fragment held for
// reassembly gets verdict.held under enforce (it goes no further; its bytes
// leave in the whole datagram) and passes unjudged under monitor.
void JudgeBurst(const JudgeContext& judge, Inspector& inspector, const uint8_t** frames,
                uint16_t* lengths, uint16_t n, uint64_t now, BurstScratch& scratch,
                const uint8_t* checksum_hints = nullptr);

}  // namespace conduit
