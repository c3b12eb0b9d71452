// conduitctl's shadow policy commands (DESIGN.md, "Shadow policy"): try a
// candidate on live traffic beside the active policy, read what it would
// have changed, then promote it or drop it.
#pragma once

#include <string>

#include "conduitctl/client.h"

namespace conduit::ctl {

// conduitctl push --shadow FILE
int PushShadow(const ClientOptions& options, const std::string& policy_file, bool json);
// conduitctl shadow [--json] | shadow --clear
int Shadow(const ClientOptions& options, bool json, bool clear);
// conduitctl promote [--confirm-within 180s]: the candidate becomes the
// active policy (reverted by the gateway unless confirmed in time).
int Promote(const ClientOptions& options, bool json, uint32_t confirm_within_seconds);

}  // namespace conduit::ctl
