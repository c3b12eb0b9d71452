#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>

#include "common/time_text.h"

namespace conduit {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
constexpr const char* kLevelNames[] = {"error", "warning", "info", "debug"};
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }

void LogLine(LogLevel level, std::string_view message) {
  if (level > g_level.load(std::memory_order_relaxed)) return;
  const uint64_t now_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                     std::chrono::system_clock::now().time_since_epoch())
                                                     .count());
  std::fprintf(stderr, "%s conduitd %s: %.*s\n", Rfc3339Micros(now_ns).c_str(),
               kLevelNames[static_cast<int>(level)], static_cast<int>(message.size()),
               message.data());
}

}  // namespace conduit
