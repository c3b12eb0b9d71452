// How often each rule of one compiled policy decided, and when last: the
// evidence an engineer reviews before tightening or removing a rule
// (`conduitctl rules`), and a shadow candidate's hits and would-blocks
// (`conduitctl shadow`). One stripe per worker, written only by that
// worker (load + store, no read-modify-write, no line shared between
// workers); control sums the stripes. Shared by the compiled policy and the
// control plane (shared_ptr), so the counts stay readable after a swap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace conduit::policy {

class RuleHits {
 public:
  struct Total {
    uint64_t hits = 0;
    uint64_t would_block = 0;  // shadow: decisions that would have dropped
    uint64_t last_hit_ns = 0;  // wall clock; 0: never
  };

  RuleHits(size_t workers, size_t rules) : rules_(rules) {
    // One slot past the rules: a shadow candidate's disagreements with the
    // active policy (hits: newly blocked, would_block: newly allowed).
    for (size_t w = 0; w < workers; ++w) stripes_.emplace_back(new Slot[rules + 1]);
  }

  // lcore (hot path): worker `worker` only.
  void Record(size_t worker, uint32_t rule, uint64_t now_ns, bool would_block = false) {
    if (worker >= stripes_.size() || rule >= rules_) [[unlikely]] return;
    Slot& s = stripes_[worker][rule];
    Bump(s.hits, 1);
    if (would_block) Bump(s.would_block, 1);
    __atomic_store_n(&s.last_hit_ns, now_ns, __ATOMIC_RELAXED);
  }

  // lcore: a shadow candidate decided otherwise than the active policy.
  void RecordDisagreement(size_t worker, bool newly_blocked) {
    if (worker >= stripes_.size()) [[unlikely]] return;
    Slot& s = stripes_[worker][rules_];
    Bump(newly_blocked ? s.hits : s.would_block, 1);
  }
  struct Disagreements {
    uint64_t newly_blocked = 0;
    uint64_t newly_allowed = 0;
  };
  Disagreements TotalDisagreements() const {
    Disagreements out;
    for (const auto& stripe : stripes_) {
      out.newly_blocked += __atomic_load_n(&stripe[rules_].hits, __ATOMIC_RELAXED);
      out.newly_allowed += __atomic_load_n(&stripe[rules_].would_block, __ATOMIC_RELAXED);
    }
    return out;
  }

  // Any thread: the sums over workers, one per rule index.
  std::vector<Total> Totals() const {
    std::vector<Total> out(rules_);
    for (const auto& stripe : stripes_) {
      for (size_t r = 0; r < rules_; ++r) {
        out[r].hits += __atomic_load_n(&stripe[r].hits, __ATOMIC_RELAXED);
        out[r].would_block += __atomic_load_n(&stripe[r].would_block, __ATOMIC_RELAXED);
        const uint64_t last = __atomic_load_n(&stripe[r].last_hit_ns, __ATOMIC_RELAXED);
        if (last > out[r].last_hit_ns) out[r].last_hit_ns = last;
      }
    }
    return out;
  }
  size_t rules() const { return rules_; }

 private:
  struct Slot {
    uint64_t hits = 0;
    uint64_t would_block = 0;
    uint64_t last_hit_ns = 0;
  };
  static void Bump(uint64_t& v, uint64_t n) {
    __atomic_store_n(&v, __atomic_load_n(&v, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
  }
  size_t rules_;
  // Separate allocations: workers' stripes never share a cache line in
  // practice (each is at least one rule table long).
  std::vector<std::unique_ptr<Slot[]>> stripes_;
};

}  // namespace conduit::policy
