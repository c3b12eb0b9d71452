#include "grants/grant_events.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "common/time_text.h"
#include "policy/expires.h"

namespace conduit::grants {
namespace {

void Field(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() > 1 ? "," : "";
  AppendJsonString(out, key);
  out += ':';
  AppendJsonString(out, value);
}

template <typename List>
void Strings(std::string& out, std::string_view key, const List& values) {
  out += ',';
  AppendJsonString(out, key);
  out += ":[";
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    AppendJsonString(out, v);
    first = false;
  }
  out += ']';
}

}  // namespace

std::string GrantEventJson(std::string_view event, const conduit::v1::GrantInfo& g, uint64_t ts_ns,
                           std::string_view extra_key, std::string_view extra_value) {
  const conduit::v1::Rule& r = g.rule();
  std::string out = "{";
  Field(out, "ts", Rfc3339Micros(ts_ns));
  Field(out, "event", event);
  Field(out, "id", g.id());
  Field(out, "conduit", g.conduit());
  Strings(out, "from", r.from());
  if (r.to_size() > 0) Strings(out, "to", r.to());
  Field(out, "protocol", r.protocol());
  Strings(out, "functions", r.functions());
  if (r.units_size() > 0) absl::StrAppend(&out, ",\"units\":[", absl::StrJoin(r.units(), ","), "]");
  if (r.addresses_size() > 0) Strings(out, "addresses", r.addresses());
  Field(out, "start", policy::FormatRfc3339(g.start_unix_ms()));
  Field(out, "expires", policy::FormatRfc3339(g.expires_unix_ms()));
  Field(out, "reason", g.reason());
  Field(out, "granted_by", g.granted_by());
  if (!extra_key.empty()) Field(out, extra_key, extra_value);
  return out + "}";
}

std::string RuleExpiredJson(const std::string& conduit, const std::string& rule, uint64_t expires_ms,
                            uint64_t ts_ns) {
  std::string out = "{";
  Field(out, "ts", Rfc3339Micros(ts_ns));
  Field(out, "event", "rule_expired");
  Field(out, "conduit", conduit);
  Field(out, "rule", rule);
  Field(out, "expires", policy::FormatRfc3339(expires_ms));
  return out + "}";
}

std::string GrantSummary(const conduit::v1::GrantInfo& g) {
  const conduit::v1::Rule& r = g.rule();
  std::string out = absl::StrCat("conduit=", g.conduit(), " from=", absl::StrJoin(r.from(), ","));
  if (r.to_size() > 0) absl::StrAppend(&out, " to=", absl::StrJoin(r.to(), ","));
  absl::StrAppend(&out, " protocol=", r.protocol(), " functions=", absl::StrJoin(r.functions(), ","));
  if (r.units_size() > 0) absl::StrAppend(&out, " units=", absl::StrJoin(r.units(), ","));
  if (r.addresses_size() > 0) absl::StrAppend(&out, " addresses=", absl::StrJoin(r.addresses(), ","));
  absl::StrAppend(&out, " expires=", policy::FormatRfc3339(g.expires_unix_ms()), " reason=\"", g.reason(),
                  "\" granted_by=", g.granted_by().empty() ? "-" : g.granted_by());
  return out;
}

}  // namespace conduit::grants
