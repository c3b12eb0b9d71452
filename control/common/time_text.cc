#include "common/time_text.h"

#include <cstdio>
#include <ctime>

namespace conduit {
namespace {

// "YYYY-MM-DDTHH:MM:SS" into `buf`; returns its length.
size_t DateTime(uint64_t unix_ns, char* buf, size_t size) {
  const std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  return std::strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

}  // namespace

std::string Rfc3339Seconds(uint64_t unix_ns) {
  char buf[40];
  const size_t n = DateTime(unix_ns, buf, sizeof(buf));
  return std::string(buf, n) + "Z";
}

std::string Rfc3339Micros(uint64_t unix_ns) {
  char buf[40];
  const size_t n = DateTime(unix_ns, buf, sizeof(buf));
  std::snprintf(buf + n, sizeof(buf) - n, ".%06uZ",
                static_cast<unsigned>(unix_ns % 1000000000 / 1000));
  return buf;
}

}  // namespace conduit
