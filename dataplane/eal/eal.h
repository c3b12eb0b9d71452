// EAL start-up from the daemon config's `eal:` list.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace conduit {

// Calls rte_eal_init() with `args` (argv[0] is added). Fails with the EAL's
// reason instead of exiting; rte_eal_init may be called once per process.
absl::Status InitEal(const std::vector<std::string>& args);

// Releases EAL resources (hugepage files, vdevs) at shutdown.
void CleanupEal();

}  // namespace conduit
