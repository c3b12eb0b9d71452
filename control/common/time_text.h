// RFC 3339 text (UTC) of a Unix time, the one format every output of ours
// uses: "2026-12-06T18:00:00Z" for what a person reads (status, proposals,
// grants), "2026-12-06T18:00:00.123456Z" where events are ordered by it
// (`ts` of JSON events, syslog, the log).
#pragma once

#include <cstdint>
#include <string>

namespace conduit {

std::string Rfc3339Seconds(uint64_t unix_ns);
std::string Rfc3339Micros(uint64_t unix_ns);

}  // namespace conduit
