// The baseline store (DESIGN.md, "From baseline to policy"): every tuple the
// workers observed, merged across workers and drains, in one SQLite file in
// state_dir that survives restarts. Control plane only: the hot path never
// sees it (BaselineRecorder drains the workers and calls Merge).
//
// One row per tuple (observe::TupleKey, stored as columns, not as the raw
// struct, so a rebuilt binary reads an old file), with its count, first and
// last seen (wall clock, ns) and address ranges. Per wire: when its baseline
// was accepted (after that, a tuple never seen before is new behaviour).
//
// Thread safety: none; one owner (the recorder thread, or the caller of a
// test) at a time, guarded by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "baseline/propose.h"  // ObservedTuple

struct sqlite3;

namespace conduit::baseline {

// How settled a wire's baseline is, from the age of its newest tuple: a
// tuple first seen within the last day is "learning"; none for a day but
// some within `stable_after_ns`: "stabilizing"; none for `stable_after_ns`:
// "stable". No tuple at all: "learning".
enum class Stability { kLearning, kStabilizing, kStable };
std::string_view StabilityName(Stability s);

struct WireSummary {
  uint32_t wire = 0;
  uint64_t tuples = 0;
  uint64_t first_seen_ns = 0;   // of the oldest tuple (0: none)
  uint64_t newest_tuple_ns = 0; // the latest first_seen: "stable since"
  uint64_t accepted_at_ns = 0;  // 0: not accepted
};

class BaselineStore {
 public:
  // Opens (creating if needed) the store at `path`, e.g.
  // state_dir + "/baseline.sqlite". A file written by another schema
  // version, or not a store at all, is an error naming the file.
  static absl::StatusOr<std::unique_ptr<BaselineStore>> Open(const std::string& path);
  ~BaselineStore();
  BaselineStore(const BaselineStore&) = delete;
  BaselineStore& operator=(const BaselineStore&) = delete;

  // Folds `tuples` into the store in one transaction (observe::MergeStats
  // per tuple: counts add, seen times widen, ranges join). Returns the
  // tuples that were not in the store before (in input order), so the caller
  // can report new behaviour. All or nothing: on error nothing changed.
  absl::StatusOr<std::vector<ObservedTuple>> Merge(const std::vector<ObservedTuple>& tuples);

  // Deletes tuples last seen before `cutoff_ns`. Returns how many.
  absl::StatusOr<uint64_t> Prune(uint64_t cutoff_ns);

  // The tuples of `wire` (nullopt: every wire) last seen at or after
  // `since_ns`, ordered by client, server, protocol, function.
  absl::StatusOr<std::vector<ObservedTuple>> Load(std::optional<uint32_t> wire,
                                                  uint64_t since_ns = 0) const;

  // Marks `wire`'s baseline accepted at `now_ns` (again: moves the mark).
  absl::Status Accept(uint32_t wire, uint64_t now_ns);

  absl::StatusOr<WireSummary> Summary(uint32_t wire) const;

  static Stability StabilityOf(const WireSummary& s, uint64_t now_ns, uint64_t stable_after_ns);

 private:
  explicit BaselineStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql);
  sqlite3* db_;
};

}  // namespace conduit::baseline
