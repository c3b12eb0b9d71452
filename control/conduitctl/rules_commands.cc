#include "conduitctl/rules_commands.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/time_text.h"

namespace conduit::ctl {
std::string RuleHitsJson(const google::protobuf::RepeatedPtrField<v1::RuleHit>& rules) {
  std::string out = "[";
  for (const v1::RuleHit& r : rules) {
    absl::StrAppend(&out, out.size() > 1 ? "," : "", "{\"id\":", JsonQuote(r.id()), ",\"hits\":", r.hits(),
                    ",\"last_hit\":",
                    r.last_hit_unix_ns() ? JsonQuote(Rfc3339Seconds(r.last_hit_unix_ns())) : std::string("null"));
    if (r.would_block() != 0) absl::StrAppend(&out, ",\"would_block\":", r.would_block());
    out += "}";
  }
  return out + "]";
}

int Rules(const ClientOptions& options, bool json) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::RuleHits reply;
    const grpc::Status st = stub->GetRuleHits(context.get(), {}, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::printf("{\"target\":%s,\"policy_version\":%s,\"rules\":%s}\n", JsonQuote(target).c_str(),
                  JsonQuote(reply.policy_version()).c_str(), RuleHitsJson(reply.rules()).c_str());
      continue;
    }
    std::printf("%s: policy %s\n  %-40s %12s  %s\n", target.c_str(), reply.policy_version().c_str(), "RULE",
                "HITS", "LAST HIT");
    size_t never = 0;
    for (const v1::RuleHit& r : reply.rules()) {
      never += r.hits() == 0;
      std::printf("  %-40s %12llu  %s\n", r.id().c_str(), static_cast<unsigned long long>(r.hits()),
                  r.last_hit_unix_ns() ? Rfc3339Seconds(r.last_hit_unix_ns()).c_str() : "never");
    }
    std::printf("  (%zu of %d never decided anything since the policy was compiled)\n", never,
                reply.rules_size());
  }
  return rc;
}

}  // namespace conduit::ctl
