#include "policy/expires.h"

#include <chrono>
#include <cctype>
#include <ctime>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/time_text.h"

namespace conduit::policy {
namespace {

// `n` decimal digits at `s[at]`, or -1.
int Digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

absl::Status Malformed(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", std::string(text), "\" is not an RFC 3339 time (",
                                                 std::string(why), "; like 2026-12-06T18:00:00Z)"));
}

}  // namespace

absl::StatusOr<uint64_t> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return Malformed(s, "too short");
  const int year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  const int hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || s[4] != '-' ||
      s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return Malformed(s, "expected YYYY-MM-DDTHH:MM:SS");
  }
  size_t at = 19;
  uint64_t millis = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    const size_t start = at;
    uint64_t scale = 100;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) {
      millis += static_cast<uint64_t>(s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return Malformed(s, "no digits after the decimal point");
  }
  int64_t offset_s = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int oh = Digits(s, at + 1, 2), om = Digits(s, at + 4, 2);
    if (oh < 0 || om < 0 || at + 3 >= s.size() || s[at + 3] != ':' || oh > 23 || om > 59) {
      return Malformed(s, "the offset must be Z or +HH:MM / -HH:MM");
    }
    offset_s = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return Malformed(s, "no time zone: end with Z for UTC");
  }
  if (at != s.size()) return Malformed(s, "unexpected text after the time");
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return Malformed(s, "a field is out of range");
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second == 60 ? 59 : second;  // a leap second: the second before it
  const std::time_t t = timegm(&tm);
  // timegm normalises 2026-02-30 to March 2nd: a changed day is no such date.
  if (t == static_cast<std::time_t>(-1) || tm.tm_mday != day || tm.tm_mon != month - 1) {
    return Malformed(s, "no such date");
  }
  const int64_t secs = static_cast<int64_t>(t) - offset_s;
  if (secs < 0) return Malformed(s, "before 1970");
  return static_cast<uint64_t>(secs) * 1000 + millis;
}

std::string FormatRfc3339(uint64_t unix_ms) { return Rfc3339Seconds(unix_ms * 1000000); }

uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t RuleExpiryMs(const conduit::v1::Rule& rule) {
  if (rule.expires().empty()) return 0;
  const absl::StatusOr<uint64_t> ms = ParseRfc3339(rule.expires());
  return ms.ok() ? *ms : 0;
}

bool RuleExpired(const conduit::v1::Rule& rule, uint64_t now_ms) {
  const uint64_t ms = RuleExpiryMs(rule);
  return ms != 0 && ms <= now_ms;
}

}  // namespace conduit::policy
