#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace conduit {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};
constexpr const char* kLevelNames[] = {"error", "warning", "info", "debug"};
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level); }

void LogLine(LogLevel level, std::string_view message) {
  if (level > g_level.load(std::memory_order_relaxed)) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const long micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          now.time_since_epoch()).count() % 1000000;
  std::tm tm;
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::fprintf(stderr, "%s.%06ldZ conduitd %s: %.*s\n", stamp, micros,
               kLevelNames[static_cast<int>(level)], static_cast<int>(message.size()),
               message.data());
}

}  // namespace conduit
