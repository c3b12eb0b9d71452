// The communication map as rows a person reads: what `conduitctl baseline`
// prints and the status page shows. Response tuples are counted, not listed
// (they follow their requests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "conduit/v1/gateway.pb.h"

namespace conduit::baseline {

struct MapRow {
  std::string client, server, protocol;
  std::string what;       // "write_single_register (6)", "port 443", "ethertype 0x88cc"
  std::string unit = "-", direction = "-", addresses = "-";
  uint64_t count = 0;
  std::string first_seen, last_seen;  // ISO 8601 UTC, "-" when unknown
};

struct MapRows {
  std::vector<MapRow> rows;
  size_t responses = 0;  // response tuples left out
};

MapRows BuildMapRows(const conduit::v1::Baseline& baseline);

// IsoTime (propose.h), "-" for 0 (never).
std::string IsoTimeOrDash(uint64_t unix_ns);

// "tcp", "udp", "icmp", "ip-proto-N".
std::string L4Name(uint32_t proto);

}  // namespace conduit::baseline
