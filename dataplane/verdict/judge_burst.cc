#include "verdict/judge_burst.h"

#include "normalize/packet_checks.h"
#include "observe/observe_table.h"

namespace conduit {
namespace {

// Parsing read the frame's first line; the checksums, the decoder and the
// signatures read the rest in the third pass. Up to two more lines load
// while the burst's flows are looked up (an ICS frame is rarely longer).
inline void PrefetchFrameTail(const uint8_t* frame, uint16_t length) {
  const uintptr_t first_line = reinterpret_cast<uintptr_t>(frame) & ~uintptr_t{63};
  const uintptr_t last_byte = reinterpret_cast<uintptr_t>(frame) + length - 1;
  for (uintptr_t line = first_line + 64; line <= last_byte && line <= first_line + 128; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

}  // namespace

void PrepareBurst(Inspector& inspector, const uint8_t** frames, uint16_t* lengths, uint16_t n,
                  BurstScratch& s, bool reassemble, uint64_t now_ns) {
  using Outcome = normalize::IpReassembler::Outcome;
  if (reassemble) inspector.reassembler().BeginBurst();
  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) __builtin_prefetch(frames[i + 1]);
    s.parsed[i] = ParsePacket(frames[i], lengths[i], s.metas[i]);
    PrefetchFrameTail(frames[i], lengths[i]);
    s.fragment[i] = Outcome::kNotFragment;
    if (reassemble && s.metas[i].Has(kPktFragment)) [[unlikely]] {
      uint32_t length = lengths[i];
      const auto r =
          inspector.reassembler().Reassemble(frames[i], length, s.parsed[i], s.metas[i], now_ns);
      lengths[i] = static_cast<uint16_t>(length);
      s.fragment[i] = r.outcome;
      s.fragment_drop[i] = r.reason;
    }
    const bool goes_on = s.fragment[i] != Outcome::kHeld && s.fragment[i] != Outcome::kDropped;
    if (s.parsed[i] == ParseResult::kOk && goes_on) [[likely]] {
      inspector.Prepare(s.metas[i], s.flows[i]);
    } else {
      s.flows[i] = FlowRef{};  // no flow
    }
  }
  for (uint16_t i = 0; i < n; ++i) inspector.PrefetchFlow(s.flows[i]);
}

void JudgeBurst(const JudgeContext& judge, Inspector& inspector, const uint8_t** frames,
                uint16_t* lengths, uint16_t n, uint64_t now, BurstScratch& s,
                const uint8_t* checksum_hints) {
  using Outcome = normalize::IpReassembler::Outcome;
  PrepareBurst(inspector, frames, lengths, n, s, judge.conduit.reassemble_fragments, judge.now_ns);
  const bool enforce = judge.conduit.mode == policy::Mode::kEnforce;
  inspector.set_enforce(enforce);
  auto judge_packet = [&](uint16_t i) {
    s.verdicts[i] = JudgePacket(judge, s.parsed[i], s.metas[i], frames[i], s.inspections[i % 2],
                                s.ops[i % 2]);
    // Observed as judged: what the normalizer dropped never reached a host.
    if (judge.observe != nullptr && s.verdicts[i].normalized == DropReason::kCount) {
      judge.observe->Defer(judge.wire, s.parsed[i], s.metas[i], s.inspections[i % 2],
                           s.ops[i % 2], judge.now_ns);  // applied by Flush, below
    }
  };
  int pending = -1;  // inspected, not judged yet
  for (uint16_t i = 0; i < n; ++i) {
    Inspection& inspection = s.inspections[i % 2];
    ics::OpList& ops = s.ops[i % 2];
    if (s.fragment[i] == Outcome::kHeld) [[unlikely]] {
      // Nothing to judge. The packet before is judged now, so the next
      // packet's scratch slot (i + 1) % 2 is free.
      if (pending >= 0) judge_packet(static_cast<uint16_t>(pending));
      pending = -1;
      s.verdicts[i] = PacketVerdict{};
      s.verdicts[i].held = enforce;  // monitor: the fragment passes as it came
      continue;
    }
    inspection = Inspection{};
    ops.Clear();
    // A reassembled datagram's checksums are the gateway's to verify: the
    // port's flags spoke of the fragment.
    const uint8_t hint =
        checksum_hints != nullptr && s.fragment[i] == Outcome::kNotFragment ? checksum_hints[i] : 0;
    const DropReason refused =
        s.fragment[i] == Outcome::kDropped
            ? s.fragment_drop[i]
            : normalize::CheckPacket(frames[i], s.parsed[i], s.metas[i], hint, judge.checks,
                                     inspector.ports());
    if (refused != DropReason::kCount && enforce) [[unlikely]] {
      // Never inspected: it touches no flow state.
      inspection.drop = refused;
      inspection.evasion = normalize::IsEvasion(refused);
    } else if (s.parsed[i] == ParseResult::kOk) [[likely]] {
      FlowRef& ref = s.flows[i];
      inspector.Resolve(ref, s.metas[i], now);
      if (pending >= 0 && ref.tracked &&
          (ref.existing == nullptr || ref.existing == s.inspections[pending % 2].flow)) {
        judge_packet(static_cast<uint16_t>(pending));
        pending = -1;
      }
      inspection = inspector.Inspect(frames[i], s.metas[i], s.flows[i], now, ops);
      PrefetchVerdict(judge, s.metas[i], inspection, ops);
    }
    if (refused != DropReason::kCount && !enforce) [[unlikely]] {
      inspection.drop = refused;  // monitor: reported as a would-drop
      inspection.evasion = normalize::IsEvasion(refused);
    }
    if (pending >= 0) judge_packet(static_cast<uint16_t>(pending));
    pending = i;
  }
  if (pending >= 0) judge_packet(static_cast<uint16_t>(pending));
  if (judge.observe != nullptr) judge.observe->Flush();
}

}  // namespace conduit
