// Control-side logging: one timestamped line per message on stderr, which
// systemd's journal and the supervisor both capture. Never on the hot path.
#pragma once

#include <string_view>

#include "absl/strings/str_cat.h"
#include "config/daemon_config.h"

namespace conduit {

void SetLogLevel(LogLevel level);
void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void LogInfo(const Args&... args) { LogLine(LogLevel::kInfo, absl::StrCat(args...)); }
template <typename... Args>
void LogWarning(const Args&... args) { LogLine(LogLevel::kWarning, absl::StrCat(args...)); }
template <typename... Args>
void LogError(const Args&... args) { LogLine(LogLevel::kError, absl::StrCat(args...)); }

}  // namespace conduit
