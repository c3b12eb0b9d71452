// conduitctl's commands against one or many gateways. Each returns the
// process exit code: 0 all targets fine, 1 any target failed, 2 bad usage or
// an invalid policy file (nothing was sent).
#pragma once

#include <cstdint>
#include <string>

#include "conduitctl/client.h"

namespace conduit::ctl {

// confirm_within_seconds > 0: the gateway reverts to the previous policy
// unless Confirm() arrives in time (PushPolicyConfirmed).
int Push(const ClientOptions& options, const std::string& policy_file, bool json,
         uint32_t confirm_within_seconds = 0);
// Confirms a push made with a deadline; 1 when a gateway had nothing pending.
int Confirm(const ClientOptions& options, bool json);
int Status(const ClientOptions& options, bool json);
int Mode(const ClientOptions& options, const std::string& mode, const std::string& conduit,
         bool json);
int Counters(const ClientOptions& options, bool json);
int Events(const ClientOptions& options, bool follow, int seconds, int count);
int GetPolicy(const ClientOptions& options);

}  // namespace conduit::ctl
