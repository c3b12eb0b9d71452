#include "conduitctl/baseline_commands.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "baseline/baseline_api.h"
#include "baseline/map_rows.h"
#include "baseline/propose.h"
#include "common/json.h"
#include "events/event_json.h"
#include "ics/registry.h"

namespace conduit::ctl {
namespace {

// The op a tuple stands for, so the decoders' names apply.
ics::IcsOp OpOf(const observe::TupleKey& k) {
  ics::IcsOp op;
  op.kind = k.kind;
  op.direction = k.direction;
  op.function = k.function;
  return op;
}

std::string DirectionText(ics::Direction d) {
  return d == ics::Direction::kRequest ? "request" : d == ics::Direction::kResponse ? "response" : "unknown";
}

std::string TupleJson(const baseline::ObservedTuple& t) {
  const observe::TupleKey& k = t.key;
  std::string out = absl::StrCat("{\"client\":", JsonQuote(AddressText(k.client, k.ip_version)),
                                 ",\"server\":", JsonQuote(AddressText(k.server, k.ip_version)));
  if (k.ip_version == 0) {
    absl::StrAppend(&out, ",\"ethertype\":", k.server_port);
  } else if (k.is_ics()) {
    const ics::IcsOp op = OpOf(k);
    absl::StrAppend(&out, ",\"protocol\":", JsonQuote(ics::ProtocolName(k.protocol)),
                    ",\"function\":", k.function, ",\"function_name\":",
                    JsonQuote(ics::FunctionName(op)));
    if (k.has_unit != 0) absl::StrAppend(&out, ",\"unit\":", k.unit);
    absl::StrAppend(&out, ",\"direction\":", JsonQuote(DirectionText(k.direction)), ",\"port\":",
                    k.server_port, ",\"addresses\":[");
    for (int i = 0; i < t.stats.range_count; ++i) {
      absl::StrAppend(&out, i ? "," : "", "[", t.stats.ranges[i].lo, ",", t.stats.ranges[i].hi, "]");
    }
    out += "]";
  } else {
    absl::StrAppend(&out, ",\"l4\":", JsonQuote(baseline::L4Name(k.l4_proto)), ",\"port\":", k.server_port);
  }
  absl::StrAppend(&out, ",\"count\":", t.stats.count, ",\"first_seen\":",
                  JsonQuote(baseline::IsoTimeOrDash(t.stats.first_seen_ns)), ",\"last_seen\":",
                  JsonQuote(baseline::IsoTimeOrDash(t.stats.last_seen_ns)), "}");
  return out;
}

absl::StatusOr<v1::Baseline> Fetch(const ClientOptions& options, const std::string& target,
                                   const std::string& conduit, uint64_t since_seconds) {
  auto stub = Connect(options, target);
  auto context = Context(options);
  v1::GetBaselineRequest request;
  request.set_conduit(conduit);
  request.set_since_seconds(since_seconds);
  v1::Baseline reply;
  const grpc::Status st = stub->GetBaseline(context.get(), request, &reply);
  if (!st.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(st.error_code()),
                        absl::StrCat(target, ": ", st.error_message()));
  }
  return reply;
}

std::string ConduitText(const v1::Baseline& b) {
  return b.conduit().empty() ? absl::StrCat("wire ", b.wire(), " (no conduit in the active policy)")
                             : absl::StrCat("conduit ", b.conduit(), " (wire ", b.wire(), ")");
}

}  // namespace

bool ParseSince(const std::string& text, uint64_t* seconds) {
  if (text.empty()) return false;
  uint64_t unit = 1;
  std::string number = text;
  switch (text.back()) {
    case 'd': unit = 86400; break;
    case 'h': unit = 3600; break;
    case 'm': unit = 60; break;
    case 's': unit = 1; break;
    default: number.push_back('s');
  }
  number.pop_back();
  uint64_t n = 0;
  if (!absl::SimpleAtoi(number, &n) || n == 0) return false;
  *seconds = n * unit;
  return true;
}

int Baseline(const ClientOptions& options, const std::string& conduit, uint64_t since_seconds,
             bool json) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto b = Fetch(options, target, conduit, since_seconds);
    if (!b.ok()) {
      std::fprintf(stderr, "conduitctl: %s\n", std::string(b.status().message()).c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::string tuples;
      for (const v1::BaselineTuple& t : b->tuples()) {
        absl::StrAppend(&tuples, tuples.empty() ? "" : ",", TupleJson(baseline::FromProto(t)));
      }
      std::printf("{\"target\":%s,\"conduit\":%s,\"wire\":%u,\"stability\":%s,\"stable_since\":%s,"
                  "\"accepted_at\":%s,\"tuples\":[%s]}\n",
                  JsonQuote(target).c_str(), JsonQuote(b->conduit()).c_str(), b->wire(),
                  JsonQuote(b->stability()).c_str(),
                  b->stable_since_ns() ? JsonQuote(baseline::IsoTimeOrDash(b->stable_since_ns())).c_str() : "null",
                  b->accepted_at_ns() ? JsonQuote(baseline::IsoTimeOrDash(b->accepted_at_ns())).c_str() : "null",
                  tuples.c_str());
      continue;
    }
    std::printf("%s: %s\n  baseline %s (no new tuple since %s; stable after %u days without one)\n"
                "  accepted %s\n",
                target.c_str(), ConduitText(*b).c_str(), b->stability().c_str(),
                baseline::IsoTimeOrDash(b->stable_since_ns()).c_str(), b->stable_days(),
                b->accepted_at_ns() ? baseline::IsoTimeOrDash(b->accepted_at_ns()).c_str()
                                    : "no (conduitctl baseline accept: new tuples become new_behaviour events)");
    std::printf("  %-16s %-16s %-9s %-34s %-5s %-9s %-17s %10s  %-20s %s\n", "CLIENT", "SERVER", "PROTOCOL",
                "FUNCTION / PORT", "UNIT", "DIRECTION", "ADDRESSES", "COUNT", "FIRST SEEN", "LAST SEEN");
    const baseline::MapRows map = baseline::BuildMapRows(*b);
    for (const baseline::MapRow& r : map.rows) {
      std::printf("  %-16s %-16s %-9s %-34s %-5s %-9s %-17s %10llu  %-20s %s\n", r.client.c_str(),
                  r.server.c_str(), r.protocol.c_str(), r.what.c_str(), r.unit.c_str(), r.direction.c_str(),
                  r.addresses.c_str(), static_cast<unsigned long long>(r.count), r.first_seen.c_str(),
                  r.last_seen.c_str());
    }
    const size_t responses = map.responses;
    if (b->tuples_size() == 0) std::printf("  (nothing observed yet)\n");
    if (responses != 0) std::printf("  (%zu response tuples not shown: they follow their requests; --json lists them)\n", responses);
  }
  return rc;
}

int AcceptBaseline(const ClientOptions& options, const std::string& conduit, bool json) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::AcceptBaselineRequest request;
    request.set_conduit(conduit);
    v1::AcceptBaselineResponse reply;
    const grpc::Status st = stub->AcceptBaseline(context.get(), request, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::printf("{\"target\":%s,\"conduit\":%s,\"wire\":%u,\"accepted_at\":%s,\"tuples\":%llu}\n",
                  JsonQuote(target).c_str(), JsonQuote(reply.conduit()).c_str(), reply.wire(),
                  JsonQuote(baseline::IsoTimeOrDash(reply.accepted_at_ns())).c_str(),
                  static_cast<unsigned long long>(reply.tuples()));
    } else {
      std::printf("%s: baseline of %s accepted at %s (%llu tuples); a tuple outside it is now a "
                  "new_behaviour event\n",
                  target.c_str(),
                  reply.conduit().empty() ? absl::StrCat("wire ", reply.wire()).c_str() : reply.conduit().c_str(),
                  baseline::IsoTimeOrDash(reply.accepted_at_ns()).c_str(), static_cast<unsigned long long>(reply.tuples()));
    }
  }
  return rc;
}

int ProposeFromGateway(const ClientOptions& options, const std::string& conduit,
                       uint64_t since_seconds, const std::string& base_policy) {
  if (options.targets.size() != 1) {
    std::fprintf(stderr, "conduitctl: propose reads one gateway's baseline (--target)\n");
    return 2;
  }
  auto b = Fetch(options, options.targets[0], conduit, since_seconds);
  if (!b.ok()) {
    std::fprintf(stderr, "conduitctl: %s\n", std::string(b.status().message()).c_str());
    return 1;
  }
  baseline::Observation observation;
  for (const v1::BaselineTuple& p : b->tuples()) {
    baseline::ObservedTuple t = baseline::FromProto(p);
    if (t.key.ip_version == 0) {  // non-IP: allow_non_ip by ethertype
      observation.non_ip[t.key.server_port] += t.stats.count;
      continue;
    }
    if (observation.tuples.empty() || t.stats.first_seen_ns < observation.first_seen_ns) {
      observation.first_seen_ns = t.stats.first_seen_ns;
    }
    if (t.stats.last_seen_ns > observation.last_seen_ns) observation.last_seen_ns = t.stats.last_seen_ns;
    observation.frames += t.stats.count;
    observation.tuples.push_back(t);
  }
  baseline::ProposeOptions propose;
  propose.base_policy = base_policy;
  propose.wire = b->wire();
  propose.source = absl::StrCat("gateway ", options.targets[0], ", ", ConduitText(*b), ", baseline ",
                                b->stability());
  auto text = baseline::ProposePolicy(observation, propose);
  if (!text.ok()) {
    std::fprintf(stderr, "conduitctl: %s\n", std::string(text.status().message()).c_str());
    return text.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << *text;
  return 0;
}

}  // namespace conduit::ctl
