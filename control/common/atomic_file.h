// Files the gateway must never leave half-written (the persisted policy, the
// grants): a crash leaves either the old content or the new.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace conduit {

// Temp file, fsync, rename over `path`, fsync the directory. Creates the
// directory if missing. Errors name the file and the system's reason.
absl::Status WriteAtomically(const std::string& path, const std::string& bytes);

}  // namespace conduit
