// conduitctl's commands against one or many gateways. Each returns the
// process exit code: 0 all targets fine, 1 any target failed, 2 bad usage or
// an invalid policy file (nothing was sent).
#pragma once

#include <string>

#include "conduitctl/client.h"

namespace conduit::ctl {

int Push(const ClientOptions& options, const std::string& policy_file, bool json);
int Status(const ClientOptions& options, bool json);
int Mode(const ClientOptions& options, const std::string& mode, const std::string& conduit,
         bool json);
int Counters(const ClientOptions& options, bool json);
int Events(const ClientOptions& options, bool follow, int seconds, int count);
int GetPolicy(const ClientOptions& options);

}  // namespace conduit::ctl
