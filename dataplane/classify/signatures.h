// Payload signatures: one Hyperscan block-mode database per group of
// patterns (per protocol or per conduit, DESIGN.md "The packet path" step 5),
// with one scratch per worker allocated before any scan (STYLE.md practice
// 7), so a worker never allocates to scan. The sets of one policy share
// their scratch (ScratchPool): a worker scans one set at a time, so one
// scratch per worker, sized for the largest database, serves them all
// (memory: workers scratches, not sets x workers).
//
// Pattern syntax is Hyperscan's (PCRE subset). Every pattern is compiled with
// HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH: `.` also matches '\n' (payloads are
// binary) and each signature is reported at most once per scan. There is no
// per-signature flags field: options are written inline in the pattern, e.g.
// "(?i)p_program" for a case-insensitive match, "(?m)" for multi-line
// anchors. Bytes are written as \xHH escapes; a literal NUL byte inside the
// std::string is refused (write \x00).
//
// Hyperscan rejects, among others: back-references "(a)\1", lookaround
// assertions "(?<=a)b", and patterns that can match the empty
// string (e.g. "a*"). Those come back from Create/CheckPattern as
// InvalidArgument with Hyperscan's message.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Forward declarations of Hyperscan's opaque types, so that users of this
// header do not need the Hyperscan include path.
struct hs_database;
struct hs_scratch;

namespace conduit {

/// One signature as the policy compiler hands it over.
struct SignatureSpec {
  std::string id;       ///< unique within one set; names the signature in errors
  std::string pattern;  ///< Hyperscan syntax, e.g. "\\x29\\x00\\x00\\x00\\x00\\x00\\x09P_PROGRAM"
  uint32_t match_id = 0;  ///< returned on a match (e.g. a rule index); need not be unique
};

/// The match_ids reported by one or more scans of one payload. Fixed
/// capacity, so filling it never allocates; matches past the capacity are
/// only counted in `overflow`.
struct MatchSet {
  static constexpr uint32_t kCapacity = 16;

  std::array<uint32_t, kCapacity> ids = {};
  uint32_t count = 0;     ///< valid entries in `ids`
  uint32_t overflow = 0;  ///< matches that did not fit

  void Clear() {
    count = 0;
    overflow = 0;
  }
  bool empty() const { return count == 0 && overflow == 0; }
  std::span<const uint32_t> matches() const { return {ids.data(), count}; }
};

/// One Hyperscan scratch per worker, shared by the signature sets of one
/// policy. Fit runs on the control thread while the sets are built, before
/// any Scan; after that the pool is read-only and worker w uses at(w) only.
class ScratchPool {
 public:
  explicit ScratchPool(size_t worker_count) : scratch_(worker_count, nullptr) {}
  ~ScratchPool();
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;

  /// Grows every worker's scratch to fit `database` as well as every database
  /// fitted before (hs_alloc_scratch's contract). ResourceExhausted on failure.
  absl::Status Fit(const hs_database* database);

  size_t worker_count() const { return scratch_.size(); }
  /// hs_scratch_size of one worker's scratch; 0 before the first Fit.
  size_t bytes() const;
  hs_scratch* at(size_t worker) const { return scratch_[worker]; }

 private:
  std::vector<hs_scratch*> scratch_;
};

/// An immutable compiled signature group, scanned with its pool's scratch.
///
/// Thread safety: Create, CheckPattern and the destructor run on the control
/// thread. After Create the object is read-only: any number of threads may
/// call Scan concurrently as long as each passes a distinct `worker` index
/// (the scratch for that index is used exclusively by its caller). The
/// destructor must not run while a Scan is in flight (retire it with QSBR).
class SignatureSet {
 public:
  // control thread

  /// Compiles `specs` into one block-mode database and allocates one scratch
  /// per worker (`worker_count` >= 1). Hyperscan ids are assigned in the
  /// order of the sorted signature ids, so the same specs in any order give
  /// the same database. An empty `specs` gives a valid set that matches
  /// nothing and whose Scan costs one branch.
  ///
  /// Errors (InvalidArgument), with `index` the position in `specs`:
  ///   signatures[<index>] "<id>": <Hyperscan's message>
  ///   signatures[<index>] "<id>": duplicate id (also signatures[<j>])
  ///   signatures[<index>]: empty id
  /// Failure to allocate scratch is ResourceExhausted; a CPU Hyperscan does
  /// not support is FailedPrecondition.
  static absl::StatusOr<std::unique_ptr<SignatureSet>> Create(
      std::span<const SignatureSpec> specs, size_t worker_count);

  /// The same, scanning with `scratch` (grown here to fit this database),
  /// which the other sets of the same policy share.
  static absl::StatusOr<std::unique_ptr<SignatureSet>> Create(
      std::span<const SignatureSpec> specs, std::shared_ptr<ScratchPool> scratch);

  /// Validates one pattern exactly as Create would compile it (flags
  /// included), for policy validation. InvalidArgument carries Hyperscan's
  /// message (without any signature prefix).
  static absl::Status CheckPattern(const std::string& pattern);

  ~SignatureSet();
  SignatureSet(const SignatureSet&) = delete;
  SignatureSet& operator=(const SignatureSet&) = delete;

  size_t pattern_count() const { return match_ids_.size(); }
  size_t worker_count() const { return scratch_->worker_count(); }
  /// hs_database_size of the compiled database; 0 for an empty set.
  size_t database_bytes() const;
  /// hs_scratch_size of one worker's scratch (shared with the pool's other
  /// sets); 0 while no set of the pool has patterns.
  size_t scratch_bytes() const { return scratch_->bytes(); }
  /// The fewest bytes any pattern can match (Hyperscan's min_width, the
  /// least over all patterns): shorter payloads are not scanned.
  uint32_t min_width() const { return min_width_; }

  // lcore (hot path)

  /// Scans `payload` and appends each matching signature's match_id to `out`
  /// (at most once per signature per call; `out` is not cleared, so several
  /// sets can report into one MatchSet). Returns the number of signatures
  /// that matched in this call, including any that overflowed `out`.
  /// An empty payload, one shorter than min_width() (no pattern could
  /// match it: most ICS polls are 12 bytes), or an empty set is not
  /// scanned and returns 0.
  /// No allocation, no exceptions, no locks. A Hyperscan error or an
  /// out-of-range `worker` (neither should happen) returns 0, leaves `out`
  /// as it was and is counted in scan_errors().
  uint32_t Scan(size_t worker, std::span<const uint8_t> payload, MatchSet& out) const;

  /// Scans that failed (see Scan). Relaxed; for telemetry.
  uint64_t scan_errors() const { return scan_errors_.load(std::memory_order_relaxed); }

 private:
  SignatureSet() = default;

  hs_database* database_ = nullptr;       // null when there are no patterns
  std::shared_ptr<ScratchPool> scratch_;  // one per worker, shared by the policy's sets
  std::vector<uint32_t> match_ids_;       // Hyperscan id -> caller's match_id
  uint32_t min_width_ = 0;
  mutable std::atomic<uint64_t> scan_errors_{0};
};

}  // namespace conduit
