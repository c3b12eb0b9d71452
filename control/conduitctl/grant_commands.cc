#include "conduitctl/grant_commands.h"

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "conduitctl/baseline_commands.h"
#include "conduitctl/client.h"
#include "policy/expires.h"

namespace conduit::ctl {
namespace {

namespace v1 = conduit::v1;

int Usage() {
  std::fprintf(stderr,
               "usage: conduitctl grant --conduit C --from CIDR[,CIDR] [--to CIDR[,CIDR]] --protocol P\n"
               "                        --functions F[,F] [--units U[,U]] [--addresses LO-HI[,LO-HI]]\n"
               "                        --for 2h --reason TEXT [--json]\n"
               "       conduitctl grants [--json]\n"
               "       conduitctl revoke ID [--json]\n"
               "  --for: 30s, 10m, 2h, 1d (at most 7d); functions by name or number\n"
               "options: --target HOST:PORT | --targets FILE, --ca F --cert F --key F, --timeout S\n");
  return 2;
}

std::vector<std::string> List(const std::string& text) {
  return absl::StrSplit(text, ',', absl::SkipWhitespace());
}

// "0x06" -> "6", as the policy file's loader normalises function numbers
// (the gateway reads numbers as decimal); names are kept.
std::string NormaliseFunction(const std::string& f) {
  uint32_t v = 0;
  if (f.size() > 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X') && absl::SimpleHexAtoi(f.substr(2), &v)) {
    return absl::StrCat(v);
  }
  return f;
}

std::string Or(const std::string& s, const char* fallback) { return s.empty() ? fallback : s; }

std::string JsonList(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out = "[";
  for (int i = 0; i < items.size(); ++i) absl::StrAppend(&out, i ? "," : "", JsonQuote(items[i]));
  return out + "]";
}

std::string GrantJson(const v1::GrantInfo& g) {
  const v1::Rule& r = g.rule();
  return absl::StrCat("{\"id\":", JsonQuote(g.id()), ",\"conduit\":", JsonQuote(g.conduit()),
                      ",\"from\":", JsonList(r.from()), ",\"to\":", JsonList(r.to()),
                      ",\"protocol\":", JsonQuote(r.protocol()), ",\"functions\":", JsonList(r.functions()),
                      ",\"units\":[", absl::StrJoin(r.units(), ","), "],\"addresses\":", JsonList(r.addresses()),
                      ",\"start\":", JsonQuote(policy::FormatRfc3339(g.start_unix_ms())),
                      ",\"expires\":", JsonQuote(policy::FormatRfc3339(g.expires_unix_ms())),
                      ",\"expires_unix_ms\":", g.expires_unix_ms(), ",\"reason\":", JsonQuote(g.reason()),
                      ",\"granted_by\":", JsonQuote(g.granted_by()), "}");
}

std::string Remaining(uint64_t expires_ms) {
  const uint64_t now = policy::WallClockMs();
  uint64_t s = expires_ms > now ? (expires_ms - now + 999) / 1000 : 0;
  if (s >= 3600) return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m");
  if (s >= 60) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s, "s");
}

int DoGrant(const ClientOptions& options, const v1::GrantRequest& request, bool json) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::GrantResponse reply;
    const grpc::Status st = stub->Grant(context.get(), request, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
      rc = 1;
      continue;
    }
    const bool ok = reply.errors_size() == 0 && !reply.id().empty();
    rc |= ok ? 0 : 1;
    if (json) {
      std::string errors = "[";
      for (int i = 0; i < reply.errors_size(); ++i) {
        absl::StrAppend(&errors, i ? "," : "", "{\"path\":", JsonQuote(reply.errors(i).path()),
                        ",\"reason\":", JsonQuote(reply.errors(i).reason()), "}");
      }
      std::printf("{\"target\":%s,\"granted\":%s,\"id\":%s,\"expires\":%s,\"expires_unix_ms\":%llu,\"errors\":%s]}\n",
                  JsonQuote(target).c_str(), ok ? "true" : "false", JsonQuote(reply.id()).c_str(),
                  ok ? JsonQuote(policy::FormatRfc3339(reply.expires_unix_ms())).c_str() : "null",
                  static_cast<unsigned long long>(reply.expires_unix_ms()), errors.c_str());
      continue;
    }
    if (ok) {
      std::printf("%s: %s until %s (%s from now)\n", target.c_str(), reply.id().c_str(),
                  policy::FormatRfc3339(reply.expires_unix_ms()).c_str(), Remaining(reply.expires_unix_ms()).c_str());
      continue;
    }
    std::printf("%s: refused:\n", target.c_str());
    for (const v1::FieldError& e : reply.errors()) {
      std::printf("  %s%s%s\n", e.path().c_str(), e.path().empty() ? "" : ": ", e.reason().c_str());
    }
  }
  return rc;
}

int DoList(const ClientOptions& options, bool json) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::GrantList reply;
    const grpc::Status st = stub->ListGrants(context.get(), {}, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::string grants = "[";
      for (int i = 0; i < reply.grants_size(); ++i) absl::StrAppend(&grants, i ? "," : "", GrantJson(reply.grants(i)));
      std::printf("{\"target\":%s,\"grants\":%s]}\n", JsonQuote(target).c_str(), grants.c_str());
      continue;
    }
    std::printf("%s: %d grant%s in force\n", target.c_str(), reply.grants_size(), reply.grants_size() == 1 ? "" : "s");
    for (const v1::GrantInfo& g : reply.grants()) {
      const v1::Rule& r = g.rule();
      std::string what = absl::StrCat(r.protocol(), " ", absl::StrJoin(r.functions(), ","));
      if (r.units_size() > 0) absl::StrAppend(&what, " units ", absl::StrJoin(r.units(), ","));
      if (r.addresses_size() > 0) absl::StrAppend(&what, " addresses ", absl::StrJoin(r.addresses(), ","));
      std::printf("  %s  conduit %s  from %s to %s  %s\n      until %s (%s left)  by %s: %s\n", g.id().c_str(),
                  g.conduit().c_str(), absl::StrJoin(r.from(), ",").c_str(),
                  Or(absl::StrJoin(r.to(), ","), "any").c_str(), what.c_str(),
                  policy::FormatRfc3339(g.expires_unix_ms()).c_str(), Remaining(g.expires_unix_ms()).c_str(),
                  Or(g.granted_by(), "-").c_str(), g.reason().c_str());
    }
  }
  return rc;
}

int DoRevoke(const ClientOptions& options, const std::string& id, bool json) {
  int rc = 0;
  v1::RevokeRequest request;
  request.set_id(id);
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::RevokeResponse reply;
    const grpc::Status st = stub->Revoke(context.get(), request, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
      rc = 1;
      continue;
    }
    rc |= reply.revoked() ? 0 : 1;
    if (json) {
      std::printf("{\"target\":%s,\"id\":%s,\"revoked\":%s,\"error\":%s}\n", JsonQuote(target).c_str(),
                  JsonQuote(id).c_str(), reply.revoked() ? "true" : "false",
                  reply.error().empty() ? "null" : JsonQuote(reply.error()).c_str());
    } else if (reply.revoked()) {
      std::printf("%s: %s revoked%s%s\n", target.c_str(), id.c_str(), reply.error().empty() ? "" : ": ",
                  reply.error().c_str());
    } else {
      std::printf("%s: %s not revoked: %s\n", target.c_str(), id.c_str(), reply.error().c_str());
    }
  }
  return rc;
}

}  // namespace

int GrantMain(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  ClientOptions options;
  std::string targets_file, conduit, from, to, protocol, functions, units, addresses, duration, reason;
  bool json = false;
  std::vector<std::string> positional;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--target" && value(v)) options.targets.push_back(v);
    else if (arg == "--targets" && value(targets_file)) {}
    else if (arg == "--json") json = true;
    else if (arg == "--ca" && value(options.ca)) {}
    else if (arg == "--cert" && value(options.cert)) {}
    else if (arg == "--key" && value(options.key)) {}
    else if (arg == "--timeout" && value(v) && absl::SimpleAtoi(v, &options.timeout_seconds)) {}
    else if (command == "grant" && arg == "--conduit" && value(conduit)) {}
    else if (command == "grant" && arg == "--from" && value(from)) {}
    else if (command == "grant" && arg == "--to" && value(to)) {}
    else if (command == "grant" && arg == "--protocol" && value(protocol)) {}
    else if (command == "grant" && arg == "--functions" && value(functions)) {}
    else if (command == "grant" && arg == "--units" && value(units)) {}
    else if (command == "grant" && arg == "--addresses" && value(addresses)) {}
    else if (command == "grant" && arg == "--for" && value(duration)) {}
    else if (command == "grant" && arg == "--reason" && value(reason)) {}
    else if (!arg.starts_with("--")) positional.push_back(arg);
    else return Usage();
  }
  if (!targets_file.empty()) {
    auto t = ReadTargets(targets_file);
    if (!t.ok()) {
      std::fprintf(stderr, "conduitctl: %s\n", std::string(t.status().message()).c_str());
      return 2;
    }
    options.targets.insert(options.targets.end(), t->begin(), t->end());
  }
  if (options.targets.empty()) options.targets.push_back("127.0.0.1:50051");

  if (command == "grants" && positional.empty()) return DoList(options, json);
  if (command == "revoke" && positional.size() == 1) return DoRevoke(options, positional[0], json);
  if (command != "grant" || !positional.empty()) return Usage();

  // What is missing or malformed is said here; what the policy makes of it
  // (conduit, functions, ranges) the gateway says.
  std::vector<std::string> missing;
  for (const auto& [flag, text] : {std::pair{"--conduit", &conduit}, std::pair{"--from", &from},
                                   std::pair{"--protocol", &protocol}, std::pair{"--functions", &functions},
                                   std::pair{"--for", &duration}, std::pair{"--reason", &reason}}) {
    if (text->empty()) missing.push_back(flag);
  }
  if (!missing.empty()) {
    std::fprintf(stderr, "conduitctl: grant needs %s\n", absl::StrJoin(missing, ", ").c_str());
    return Usage();
  }
  uint64_t seconds = 0;
  if (!ParseSince(duration, &seconds) || seconds > UINT32_MAX) {
    std::fprintf(stderr, "conduitctl: --for wants a duration such as 30s, 10m, 2h or 1d\n");
    return 2;
  }
  v1::GrantRequest request;
  request.set_conduit(conduit);
  request.set_duration_seconds(static_cast<uint32_t>(seconds));
  request.set_reason(reason);
  v1::Rule* rule = request.mutable_rule();
  rule->set_protocol(protocol);
  for (const std::string& f : List(from)) rule->add_from(f);
  for (const std::string& t : List(to)) rule->add_to(t);
  for (const std::string& f : List(functions)) rule->add_functions(NormaliseFunction(f));
  for (const std::string& u : List(units)) {
    uint32_t unit = 0;
    if (!absl::SimpleAtoi(u, &unit)) {
      std::fprintf(stderr, "conduitctl: --units: \"%s\" is not a number\n", u.c_str());
      return 2;
    }
    rule->add_units(unit);
  }
  for (const std::string& a : List(addresses)) rule->add_addresses(a);
  return DoGrant(options, request, json);
}

}  // namespace conduit::ctl
