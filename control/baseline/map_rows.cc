#include "baseline/map_rows.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "baseline/baseline_api.h"
#include "common/time_text.h"
#include "events/event_json.h"
#include "ics/registry.h"

namespace conduit::baseline {
namespace {


std::string RangesText(const observe::TupleStats& s) {
  std::string out;
  for (int i = 0; i < s.range_count; ++i) {
    absl::StrAppend(&out, i ? "," : "", s.ranges[i].lo);
    if (s.ranges[i].hi != s.ranges[i].lo) absl::StrAppend(&out, "-", s.ranges[i].hi);
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string L4Name(uint32_t proto) {
  switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    default: return absl::StrCat("ip-proto-", proto);
  }
}

std::string IsoTimeOrDash(uint64_t unix_ns) { return unix_ns == 0 ? "-" : Rfc3339Seconds(unix_ns); }

MapRows BuildMapRows(const v1::Baseline& baseline) {
  MapRows out;
  for (const v1::BaselineTuple& p : baseline.tuples()) {
    const ObservedTuple t = FromProto(p);
    const observe::TupleKey& k = t.key;
    if (k.is_ics() && k.direction == ics::Direction::kResponse) {
      ++out.responses;
      continue;
    }
    MapRow row;
    row.client = AddressText(k.client, k.ip_version);
    row.server = AddressText(k.server, k.ip_version);
    if (k.ip_version == 0) {
      row.protocol = "non-ip";
      char hex[24];
      std::snprintf(hex, sizeof(hex), "ethertype 0x%04x", k.server_port);
      row.what = hex;
    } else if (k.is_ics()) {
      ics::IcsOp op;
      op.kind = k.kind;
      op.direction = k.direction;
      op.function = k.function;
      row.protocol = std::string(ics::ProtocolName(k.protocol));
      const std::string_view name = ics::FunctionName(op);
      row.what = name.empty() ? absl::StrCat(k.function)
                              : absl::StrCat(std::string(name), " (", k.function, ")");
      if (k.has_unit != 0) row.unit = absl::StrCat(k.unit);
      row.direction = k.direction == ics::Direction::kRequest ? "request" : "unknown";
      row.addresses = RangesText(t.stats);
    } else {
      row.protocol = L4Name(k.l4_proto);
      row.what = k.server_port != 0 ? absl::StrCat("port ", k.server_port) : "-";
    }
    row.count = t.stats.count;
    row.first_seen = IsoTimeOrDash(t.stats.first_seen_ns);
    row.last_seen = IsoTimeOrDash(t.stats.last_seen_ns);
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace conduit::baseline
