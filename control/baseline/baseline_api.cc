#include "baseline/baseline_api.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace conduit::baseline {

void ToProto(const ObservedTuple& t, v1::BaselineTuple* out) {
  const observe::TupleKey& k = t.key;
  out->set_client(std::string(reinterpret_cast<const char*>(k.client.data()), k.client.size()));
  out->set_server(std::string(reinterpret_cast<const char*>(k.server.data()), k.server.size()));
  out->set_ip_version(k.ip_version);
  out->set_l4_proto(k.l4_proto);
  out->set_server_port(k.server_port);
  out->set_protocol(static_cast<uint32_t>(k.protocol));
  out->set_kind(static_cast<uint32_t>(k.kind));
  out->set_direction(static_cast<uint32_t>(k.direction));
  out->set_function(k.function);
  out->set_has_unit(k.has_unit != 0);
  out->set_unit(k.unit);
  out->set_wire(k.wire);
  for (int i = 0; i < t.stats.range_count; ++i) {
    out->add_ranges(t.stats.ranges[i].lo);
    out->add_ranges(t.stats.ranges[i].hi);
  }
  out->set_count(t.stats.count);
  out->set_first_seen_ns(t.stats.first_seen_ns);
  out->set_last_seen_ns(t.stats.last_seen_ns);
}

ObservedTuple FromProto(const v1::BaselineTuple& t) {
  ObservedTuple out;
  observe::TupleKey& k = out.key;
  std::memcpy(k.client.data(), t.client().data(), std::min(t.client().size(), k.client.size()));
  std::memcpy(k.server.data(), t.server().data(), std::min(t.server().size(), k.server.size()));
  k.ip_version = static_cast<uint8_t>(t.ip_version());
  k.l4_proto = static_cast<uint8_t>(t.l4_proto());
  k.server_port = static_cast<uint16_t>(t.server_port());
  k.protocol = static_cast<ics::Protocol>(t.protocol());
  k.kind = static_cast<ics::OpKind>(t.kind());
  k.direction = static_cast<ics::Direction>(t.direction());
  k.function = static_cast<uint16_t>(t.function());
  k.has_unit = t.has_unit() ? 1 : 0;
  k.unit = t.unit();
  k.wire = static_cast<uint8_t>(t.wire());
  for (int i = 0; i + 1 < t.ranges_size(); i += 2) {
    observe::AddRange(out.stats, observe::AddressRange{t.ranges(i), t.ranges(i + 1)});
  }
  out.stats.count = t.count();
  out.stats.first_seen_ns = t.first_seen_ns();
  out.stats.last_seen_ns = t.last_seen_ns();
  return out;
}

absl::StatusOr<BaselineApi::Target> BaselineApi::Resolve(const std::string& conduit) const {
  const std::optional<v1::PolicySnapshot> active = active_();
  if (conduit.empty()) {
    Target t;
    if (active) {
      for (const v1::Conduit& c : active->conduits()) {
        if (c.wire() == 0) { t.conduit = c.name(); break; }
      }
    }
    return t;
  }
  if (!active) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no policy is active, so no conduit is named \"", conduit,
        "\": leave --conduit out to see wire 0"));
  }
  std::vector<std::string> names;
  for (const v1::Conduit& c : active->conduits()) {
    if (c.name() == conduit) return Target{c.wire(), c.name()};
    names.push_back(c.name());
  }
  return absl::NotFoundError(absl::StrCat("no conduit \"", conduit, "\" in the active policy (",
                                          active->version(), "): it has ",
                                          absl::StrJoin(names, ", ")));
}

absl::Status BaselineApi::Get(const v1::GetBaselineRequest& request, v1::Baseline* reply) {
  auto target = Resolve(request.conduit());
  if (!target.ok()) return target.status();
  const uint64_t now = WallClockNs();
  const uint64_t window = request.since_seconds() * 1000000000ull;
  auto tuples = recorder_->Load(target->wire, window == 0 || window > now ? 0 : now - window);
  if (!tuples.ok()) return tuples.status();
  auto summary = recorder_->Summary(target->wire);
  if (!summary.ok()) return summary.status();
  reply->set_conduit(target->conduit);
  reply->set_wire(target->wire);
  reply->set_stability(std::string(StabilityName(
      BaselineStore::StabilityOf(*summary, now, recorder_->options().stable_after_ns))));
  reply->set_stable_since_ns(summary->newest_tuple_ns);
  reply->set_accepted_at_ns(summary->accepted_at_ns);
  reply->set_stable_days(stable_days_);
  for (const ObservedTuple& t : *tuples) ToProto(t, reply->add_tuples());
  return absl::OkStatus();
}

absl::Status BaselineApi::Accept(const v1::AcceptBaselineRequest& request,
                                 v1::AcceptBaselineResponse* reply) {
  auto target = Resolve(request.conduit());
  if (!target.ok()) return target.status();
  if (absl::Status s = recorder_->Accept(target->wire); !s.ok()) return s;
  auto summary = recorder_->Summary(target->wire);
  if (!summary.ok()) return summary.status();
  reply->set_conduit(target->conduit);
  reply->set_wire(target->wire);
  reply->set_accepted_at_ns(summary->accepted_at_ns);
  reply->set_tuples(summary->tuples);
  return absl::OkStatus();
}

}  // namespace conduit::baseline
