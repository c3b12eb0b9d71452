#include "verdict/judge_burst.h"

namespace conduit {

void PrepareBurst(const Inspector& inspector, const uint8_t* const* frames,
                  const uint16_t* lengths, uint16_t n, BurstScratch& s) {
  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) __builtin_prefetch(frames[i + 1]);
    s.parsed[i] = ParsePacket(frames[i], lengths[i], s.metas[i]);
    if (s.parsed[i] == ParseResult::kOk) [[likely]] {
      inspector.Prepare(s.metas[i], s.flows[i]);
    } else {
      s.flows[i].tracked = false;
    }
  }
  for (uint16_t i = 0; i < n; ++i) inspector.PrefetchFlow(s.flows[i]);
}

void JudgeBurst(const JudgeContext& judge, Inspector& inspector, const uint8_t* const* frames,
                const uint16_t* lengths, uint16_t n, uint64_t now, BurstScratch& s) {
  PrepareBurst(inspector, frames, lengths, n, s);
  for (uint16_t i = 0; i < n; ++i) {
    Inspection inspection;
    s.ops.Clear();
    if (s.parsed[i] == ParseResult::kOk) [[likely]] {
      inspection = inspector.Inspect(frames[i], s.metas[i], s.flows[i], now, s.ops);
    }
    s.verdicts[i] = JudgePacket(judge, s.parsed[i], s.metas[i], frames[i], inspection, s.ops);
  }
}

}  // namespace conduit
