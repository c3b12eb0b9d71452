// conduitctl's staged fleet rollout (DESIGN.md, "Ownership and change
// control", Fleet rollout):
//
//   conduitctl push POLICY.yaml --targets FILE --canary N --soak D
//                   [--max-would-block K] [--confirm-within D] [--json]
//
// The policy is validated here first. The first N gateways of FILE (the
// canaries) get it as a shadow candidate (PushShadow) and are watched for D;
// a canary whose candidate would block more than K decisions that the active
// policy allows (ShadowReport.newly_blocked) stops the rollout: every
// canary's shadow is cleared and nobody else is touched. Otherwise each
// canary promotes its candidate and the other gateways get a plain push, one
// after the other; the first gateway that cannot be reached or refuses stops
// the rollout there and the rest are skipped. With --confirm-within every
// push and promotion carries the deadline, and the rollout confirms each
// gateway once it answers again on a fresh call showing the new version
// pending (it proves the control path survived the swap); a gateway that
// cannot be confirmed reverts by itself and stops the rollout.
//
// Output: one line per gateway, in file order,
//   NAME ADDRESS canary|rest OUTCOME [would_block=N] [version=V] [confirmed][: DETAIL]
// OUTCOME is promoted, pushed, cleared, skipped, unreachable, refused or
// failed; version= is what the gateway runs afterwards where known. Then
// one summary line "rollout VERSION: complete|stopped ...". Progress of the
// soak goes to stderr. --json prints one object instead.
//
// Exit: 0 every gateway runs the policy; 3 the canaries' would-blocks
// stopped it; 1 a gateway was unreachable, refused or failed (rollout
// stopped there); 2 bad usage, an invalid policy or targets file (nothing
// was sent).
#pragma once

#include <cstdint>
#include <string>

#include "conduitctl/client.h"

namespace conduit::ctl {

struct RolloutOptions {
  std::string policy_file;
  std::string targets_file;
  std::string canary;           // N, 1..number of targets
  std::string soak;             // a duration: 10m, 90s, 2h, 180
  std::string max_would_block;  // K; empty: 0
  uint32_t confirm_within_seconds = 0;
  bool json = false;
};

// True when the command line asks for a staged rollout (any of --canary,
// --soak, --max-would-block given).
bool WantsRollout(const RolloutOptions& options);

// Runs the rollout; `client` carries the TLS flags and --timeout (each call's
// deadline), its targets must be empty (they come from targets_file).
int Rollout(const ClientOptions& client, const RolloutOptions& options);

}  // namespace conduit::ctl
