// Rule expiry (`expires:` in the policy file, and grants): RFC 3339 times on
// the gateway's wall clock, and which rules of a snapshot are in force now.
//
// Shared by the validator (a malformed time is an error naming its path and
// line), the policy manager (expired rules are left out of the compiled
// policy) and conduitctl (grant expiries shown to the operator).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "conduit/v1/policy.pb.h"

namespace conduit::policy {

// "2026-12-06T18:00:00Z", also with fractional seconds or a numeric offset
// ("2026-12-06T19:00:00+01:00"); the instant in ms since the Unix epoch.
// Dates are checked (no 2026-02-30), years 1970-9999.
absl::StatusOr<uint64_t> ParseRfc3339(std::string_view text);

// The instant as "2026-12-06T18:00:00Z" (seconds; UTC).
std::string FormatRfc3339(uint64_t unix_ms);

// The wall clock now, in ms since the Unix epoch.
uint64_t WallClockMs();

// Whether the rule no longer exists at `now_ms`: its `expires` is set and
// has passed. An unparsable time counts as not expired (the validator
// refuses it before anything runs).
bool RuleExpired(const conduit::v1::Rule& rule, uint64_t now_ms);

// The rule's expiry in ms, 0 when it has none (or it cannot be parsed).
uint64_t RuleExpiryMs(const conduit::v1::Rule& rule);

}  // namespace conduit::policy
