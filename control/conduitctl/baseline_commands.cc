#include "conduitctl/baseline_commands.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "baseline/baseline_api.h"
#include "baseline/propose.h"
#include "common/json.h"
#include "events/event_json.h"
#include "ics/registry.h"

namespace conduit::ctl {
namespace {

std::string TimeText(uint64_t ns) {
  if (ns == 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string L4Text(uint32_t proto) {
  switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    default: return absl::StrCat("ip-proto-", proto);
  }
}

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

std::string RangesText(const observe::TupleStats& s) {
  std::string out;
  for (int i = 0; i < s.range_count; ++i) {
    absl::StrAppend(&out, i ? "," : "", s.ranges[i].lo);
    if (s.ranges[i].hi != s.ranges[i].lo) absl::StrAppend(&out, "-", s.ranges[i].hi);
  }
  return out.empty() ? "-" : out;
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
    absl::StrAppend(&out, ",\"l4\":", JsonQuote(L4Text(k.l4_proto)), ",\"port\":", k.server_port);
  }
  absl::StrAppend(&out, ",\"count\":", t.stats.count, ",\"first_seen\":",
                  JsonQuote(TimeText(t.stats.first_seen_ns)), ",\"last_seen\":",
                  JsonQuote(TimeText(t.stats.last_seen_ns)), "}");
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
                  b->stable_since_ns() ? JsonQuote(TimeText(b->stable_since_ns())).c_str() : "null",
                  b->accepted_at_ns() ? JsonQuote(TimeText(b->accepted_at_ns())).c_str() : "null",
                  tuples.c_str());
      continue;
    }
    std::printf("%s: %s\n  baseline %s (no new tuple since %s; stable after %u days without one)\n"
                "  accepted %s\n",
                target.c_str(), ConduitText(*b).c_str(), b->stability().c_str(),
                TimeText(b->stable_since_ns()).c_str(), b->stable_days(),
                b->accepted_at_ns() ? TimeText(b->accepted_at_ns()).c_str()
                                    : "no (conduitctl baseline accept: new tuples become new_behaviour events)");
    std::printf("  %-16s %-16s %-9s %-34s %-5s %-9s %-17s %10s  %-20s %s\n", "CLIENT", "SERVER", "PROTOCOL",
                "FUNCTION / PORT", "UNIT", "DIRECTION", "ADDRESSES", "COUNT", "FIRST SEEN", "LAST SEEN");
    size_t responses = 0;
    for (const v1::BaselineTuple& p : b->tuples()) {
      const baseline::ObservedTuple t = baseline::FromProto(p);
      const observe::TupleKey& k = t.key;
      if (k.is_ics() && k.direction == ics::Direction::kResponse) {
        ++responses;  // they follow their requests; --json lists them
        continue;
      }
      std::string protocol, what, unit = "-", direction = "-", addresses = "-";
      if (k.ip_version == 0) {
        protocol = "non-ip";
        char hex[24];
        std::snprintf(hex, sizeof(hex), "ethertype 0x%04x", k.server_port);
        what = hex;
      } else if (k.is_ics()) {
        protocol = std::string(ics::ProtocolName(k.protocol));
        const std::string_view name = ics::FunctionName(OpOf(k));
        what = name.empty() ? absl::StrCat(k.function) : absl::StrCat(std::string(name), " (", k.function, ")");
        if (k.has_unit != 0) unit = absl::StrCat(k.unit);
        direction = DirectionText(k.direction);
        addresses = RangesText(t.stats);
      } else {
        protocol = L4Text(k.l4_proto);
        what = k.server_port != 0 ? absl::StrCat("port ", k.server_port) : "-";
      }
      std::printf("  %-16s %-16s %-9s %-34s %-5s %-9s %-17s %10llu  %-20s %s\n",
                  AddressText(k.client, k.ip_version).c_str(), AddressText(k.server, k.ip_version).c_str(),
                  protocol.c_str(), what.c_str(), unit.c_str(), direction.c_str(), addresses.c_str(),
                  static_cast<unsigned long long>(t.stats.count), TimeText(t.stats.first_seen_ns).c_str(),
                  TimeText(t.stats.last_seen_ns).c_str());
    }
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
                  JsonQuote(TimeText(reply.accepted_at_ns())).c_str(),
                  static_cast<unsigned long long>(reply.tuples()));
    } else {
      std::printf("%s: baseline of %s accepted at %s (%llu tuples); a tuple outside it is now a "
                  "new_behaviour event\n",
                  target.c_str(),
                  reply.conduit().empty() ? absl::StrCat("wire ", reply.wire()).c_str() : reply.conduit().c_str(),
                  TimeText(reply.accepted_at_ns()).c_str(), static_cast<unsigned long long>(reply.tuples()));
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
