// Per-worker overload detection with hysteresis: a worker that falls behind
// stops inspecting (forwards uninspected, counted as bypassed) until it has
// caught up, rather than letting its RX queue overflow and drop packets.
// Availability first: on a plant floor a late or lost poll costs more than
// a few uninspected packets.
//
// Signals, both cheap and per burst:
//   - backlog: consecutive full bursts (rx_burst returned `burst` packets)
//     mean the RX queue holds more than the worker drains per poll;
//   - cost: an EWMA of inspection cycles per packet above a budget.
// lcore (hot path): owned by one worker, no atomics.
#pragma once

#include <cstdint>

namespace conduit {

struct OverloadSettings {
  uint32_t enter_full_bursts = 512;  // high watermark: this many full bursts in a row; 0: off
  uint32_t exit_calm_polls = 64;     // low watermark: this many non-full polls in a row
  uint32_t cycle_budget = 0;         // cycles per inspected packet; 0: no cost trigger
};

enum class OverloadTransition : uint8_t { kNone, kEnter, kExit };

class OverloadGuard {
 public:
  explicit OverloadGuard(OverloadSettings s = {}) : s_(s) {}

  bool bypassing() const { return bypassing_; }

  // After each poll of all the worker's queues: `full` when any queue
  // returned a full burst; `cycles_per_packet` of inspection (0 when nothing
  // was inspected).
  OverloadTransition OnPoll(bool full, uint32_t cycles_per_packet) {
    full_streak_ = full ? full_streak_ + 1 : 0;
    calm_streak_ = full ? 0 : calm_streak_ + 1;
    if (cycles_per_packet != 0) ewma_ += (int64_t(cycles_per_packet) - int64_t(ewma_)) / 8;
    if (!bypassing_) {
      const bool backlog = s_.enter_full_bursts != 0 && full_streak_ >= s_.enter_full_bursts;
      const bool costly = s_.cycle_budget != 0 && ewma_ > s_.cycle_budget;
      if (backlog || costly) {
        bypassing_ = true;
        calm_streak_ = 0;  // the low watermark counts calm polls from here
        return OverloadTransition::kEnter;
      }
    } else if (calm_streak_ >= s_.exit_calm_polls) {
      bypassing_ = false;
      ewma_ = 0;  // measure the cost afresh once inspecting again
      return OverloadTransition::kExit;
    }
    return OverloadTransition::kNone;
  }

 private:
  OverloadSettings s_;
  bool bypassing_ = false;
  uint32_t full_streak_ = 0;
  uint32_t calm_streak_ = 0;
  uint32_t ewma_ = 0;
};

}  // namespace conduit
