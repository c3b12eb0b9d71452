// Renders an EventRecord as one JSON line. The field names are an interface
// (DESIGN.md, "Events and verdict records"): SIEM parsers depend on them.
#pragma once

#include <string>

#include "events/event_record.h"

namespace conduit {

// Names the record's indices point to; empty strings are left out.
struct EventNames {
  std::string conduit;
  std::string rule;
  std::string policy_version;
  std::string error;  // policy_refused: why (the policy file's path, each error with its line)
  std::string reverted_from;  // policy_reverted: the pushed version that was not confirmed
};

std::string RenderEventJson(const EventRecord& event, const EventNames& names);

// "198.18.0.10" for IPv4-mapped addresses, RFC 5952 text for IPv6.
std::string AddressText(const std::array<uint8_t, 16>& addr, uint8_t ip_version);

}  // namespace conduit
