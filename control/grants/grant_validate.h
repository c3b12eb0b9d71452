// Whether a grant request may become a grant: exactly one allow rule naming
// its initiators, an ICS protocol and at least one function, for a bounded
// time, in a conduit of the active policy. A grant never widens anything but
// what it names: no zone names, no any-host prefixes (/0), no rule without
// functions, no tcp/udp rules, no action or mode of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "conduit/v1/gateway.pb.h"
#include "conduit/v1/policy.pb.h"
#include "policy/policy_yaml.h"

namespace conduit::grants {

// The longest grant: vendor access is for a visit, not a standing rule.
inline constexpr uint32_t kMaxGrantSeconds = 7 * 86400;
// Grants in force at once: beyond that the policy file is the place.
inline constexpr size_t kMaxGrants = 256;

// Every problem, with paths in the request's terms ("conduit",
// "rule.functions[0]", "duration_seconds", "reason"); empty: acceptable.
// `active`: the pushed policy (nullopt: none, which refuses every grant).
std::vector<policy::PolicyError> ValidateGrant(const conduit::v1::GrantRequest& request,
                                               const std::optional<conduit::v1::PolicySnapshot>& active,
                                               uint32_t max_seconds = kMaxGrantSeconds);

// "30s", "10m", "2h", "1d" for the error messages and listings.
std::string DurationText(uint64_t seconds);

}  // namespace conduit::grants
