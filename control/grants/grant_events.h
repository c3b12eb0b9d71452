// The JSON lines of grant and rule-expiry events (EventDrain::Post):
//   {"ts":...,"event":"grant_started"|"grant_expired"|"grant_revoked","id",
//    "conduit","from","to","protocol","functions","units","addresses",
//    "start","expires","reason","granted_by"[,"revoked_by"][,"cause"]}
//   {"ts":...,"event":"rule_expired","conduit","rule","expires"}
// Field order is fixed, as for every event line.
#pragma once

#include <cstdint>
#include <string>

#include "conduit/v1/gateway.pb.h"

namespace conduit::grants {

// `extra_key`/`extra_value`: revoked_by or cause ("" for none).
std::string GrantEventJson(std::string_view event, const conduit::v1::GrantInfo& grant, uint64_t ts_ns,
                           std::string_view extra_key = "", std::string_view extra_value = "");

std::string RuleExpiredJson(const std::string& conduit, const std::string& rule, uint64_t expires_ms,
                            uint64_t ts_ns);

// One line for logs and the audit hook's detail: "conduit=... from=... ...".
std::string GrantSummary(const conduit::v1::GrantInfo& grant);

}  // namespace conduit::grants
