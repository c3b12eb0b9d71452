// PolicySnapshot → CompiledPolicy: deterministic, off the hot path.
//
// The snapshot must have passed ValidatePolicy; the compiler still refuses
// (never crashes on) anything it cannot enforce, and a failure changes
// nothing: the running policy stays until a compiled one replaces it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "conduit/v1/policy.pb.h"
#include "policy/compiled_policy.h"

namespace conduit::policy {

struct CompileOptions {
  size_t worker_count = 1;  // one Hyperscan scratch per worker
  uint32_t epoch = 1;       // stamped into flows' cached verdicts
  // The hit counts to keep counting into (the same snapshot recompiled for
  // a mode change: same rules, same indices); null or a different rule
  // count: fresh counts.
  std::shared_ptr<RuleHits> keep_hits;
};

absl::StatusOr<std::unique_ptr<const CompiledPolicy>> CompilePolicy(
    const conduit::v1::PolicySnapshot& snapshot, const CompileOptions& options);

// The proto spelling of a compiled mode (status replies, overrides).
conduit::v1::Mode ToProtoMode(Mode mode);

// The content hash of a snapshot: 16 hex digits over its deterministic
// serialization, YAML line numbers left out (moving a comment is no change).
std::string PolicyHash(const conduit::v1::PolicySnapshot& snapshot);

}  // namespace conduit::policy
