// conduitctl rules: each rule of the active policy with its hits, the
// evidence for reviewing a policy in place (DESIGN.md, "Rule hits").
#pragma once

#include <string>

#include "conduitctl/client.h"
#include "conduit/v1/gateway.pb.h"

namespace conduit::ctl {

int Rules(const ClientOptions& options, bool json);

// `[{"id":..,"hits":N,"last_hit":"ISO"|null}, ...]` (would_block too when set).
std::string RuleHitsJson(const google::protobuf::RepeatedPtrField<conduit::v1::RuleHit>& rules);

}  // namespace conduit::ctl
