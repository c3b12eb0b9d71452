#include "conduitctl/shadow_commands.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "conduitctl/rules_commands.h"
#include "policy/expires.h"
#include "policy/validate.h"

namespace conduit::ctl {
namespace {

// One line per target for a push-like reply (push --shadow, promote).
int PrintPush(const std::string& target, const grpc::Status& st, const v1::PushPolicyResponse& r,
              const char* what, bool json) {
  if (!st.ok()) {
    std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
    return 1;
  }
  if (json) {
    std::string errors;
    for (const v1::FieldError& e : r.errors()) {
      absl::StrAppend(&errors, errors.empty() ? "" : ",", JsonQuote(absl::StrCat(e.path(), ": ", e.reason())));
    }
    std::printf("{\"target\":%s,\"accepted\":%s,\"active_version\":%s,\"errors\":[%s]}\n",
                JsonQuote(target).c_str(), r.accepted() ? "true" : "false",
                JsonQuote(r.active_version()).c_str(), errors.c_str());
  } else if (r.accepted()) {
    std::printf("%s: %s (active policy: %s)\n", target.c_str(), what,
                r.active_version().empty() ? "none" : r.active_version().c_str());
  } else {
    std::printf("%s: refused; still running %s\n", target.c_str(),
                r.active_version().empty() ? "no policy" : r.active_version().c_str());
    for (const v1::FieldError& e : r.errors()) std::printf("  %s: %s\n", e.path().c_str(), e.reason().c_str());
  }
  return r.accepted() ? 0 : 1;
}

}  // namespace

int PushShadow(const ClientOptions& options, const std::string& policy_file, bool json) {
  auto snapshot = policy::LoadAndValidateFile(policy_file);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "%s: %s\n", policy_file.c_str(), std::string(snapshot.status().message()).c_str());
    return 2;
  }
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::PushPolicyResponse reply;
    const grpc::Status st = stub->PushShadow(context.get(), *snapshot, &reply);
    const std::string what =
        absl::StrCat("shadow ", snapshot->version(), " judged beside the active policy, not enforced");
    rc |= PrintPush(target, st, reply, what.c_str(), json);
  }
  return rc;
}

int Shadow(const ClientOptions& options, bool json, bool clear) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    if (clear) {
      v1::ClearShadowResponse reply;
      const grpc::Status st = stub->ClearShadow(context.get(), {}, &reply);
      if (!st.ok()) {
        std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
        rc = 1;
      } else {
        std::printf("%s: shadow policy dropped\n", target.c_str());
      }
      continue;
    }
    v1::ShadowReport r;
    const grpc::Status st = stub->GetShadow(context.get(), {}, &r);
    if (!st.ok()) {
      std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), st.error_message().c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::printf("{\"target\":%s,\"candidate_version\":%s,\"active_version\":%s,\"since\":%s,"
                  "\"rules\":%s,\"newly_blocked\":%llu,\"newly_allowed\":%llu}\n",
                  JsonQuote(target).c_str(), JsonQuote(r.candidate_version()).c_str(),
                  JsonQuote(r.active_version()).c_str(), JsonQuote(policy::FormatRfc3339(r.since_unix_ms())).c_str(),
                  RuleHitsJson(r.rules()).c_str(), static_cast<unsigned long long>(r.newly_blocked()),
                  static_cast<unsigned long long>(r.newly_allowed()));
      continue;
    }
    std::printf("%s: shadow %s beside active %s since %s\n  newly blocked %llu, newly allowed %llu "
                "(decisions where the candidate and the active policy disagree)\n",
                target.c_str(), r.candidate_version().c_str(),
                r.active_version().empty() ? "none" : r.active_version().c_str(),
                policy::FormatRfc3339(r.since_unix_ms()).c_str(), static_cast<unsigned long long>(r.newly_blocked()),
                static_cast<unsigned long long>(r.newly_allowed()));
    std::printf("  %-40s %12s %12s\n", "CANDIDATE RULE", "HITS", "WOULD BLOCK");
    for (const v1::RuleHit& h : r.rules()) {
      if (h.hits() == 0) continue;
      std::printf("  %-40s %12llu %12llu\n", h.id().c_str(), static_cast<unsigned long long>(h.hits()),
                  static_cast<unsigned long long>(h.would_block()));
    }
  }
  return rc;
}

int Promote(const ClientOptions& options, bool json, uint32_t confirm_within_seconds) {
  int rc = 0;
  for (const std::string& target : options.targets) {
    auto stub = Connect(options, target);
    auto context = Context(options);
    v1::PromoteShadowRequest request;
    request.set_confirm_within_seconds(confirm_within_seconds);
    v1::PushPolicyResponse reply;
    const grpc::Status st = stub->PromoteShadow(context.get(), request, &reply);
    const std::string what =
        reply.confirm_deadline_unix_ms() == 0
            ? std::string("promoted: the candidate is the active policy")
            : absl::StrCat("promoted: the candidate is the active policy; reverts to ", reply.revert_to_version(),
                           " at ", policy::FormatRfc3339(reply.confirm_deadline_unix_ms()), " unless confirmed (conduitctl confirm)");
    rc |= PrintPush(target, st, reply, what.c_str(), json);
  }
  return rc;
}

}  // namespace conduit::ctl
