#include "grants/grant_api.h"

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "grants/grant_events.h"
#include "policy/expires.h"

namespace conduit::grants {
namespace {

namespace v1 = conduit::v1;

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string StorePath(const std::string& state_dir) {
  return state_dir.empty() ? std::string() : (std::filesystem::path(state_dir) / "grants.json").string();
}

}  // namespace

GrantApi::GrantApi(PolicyManager* policies, EventDrain* events, Options options)
    : policies_(policies), events_(events), options_(std::move(options)), store_(StorePath(options_.state_dir)) {}

GrantApi::~GrantApi() {
  if (started_) policies_->SetExpiryListener(nullptr);
}

std::vector<GrantRule> GrantApi::Rules() const {
  std::vector<GrantRule> out;
  for (const v1::GrantInfo& g : store_.grants()) out.push_back({g.conduit(), g.rule(), g.expires_unix_ms()});
  return out;
}

absl::Status GrantApi::Apply() {
  std::vector<GrantRule> rules;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rules = Rules();
  }
  return policies_->SetGrants(std::move(rules));
}

void GrantApi::Report(std::string_view event, const v1::GrantInfo& grant, std::string_view extra_key,
                      std::string_view extra_value) {
  if (events_ != nullptr) {
    EventRecord e;
    e.kind = EventKind::kControlLine;
    e.ts_ns = NowNs();
    e.conduit = kGatewayScope;
    events_->Post(e, GrantEventJson(event, grant, e.ts_ns, extra_key, extra_value));
  }
  if (hook_) {
    std::string detail = GrantSummary(grant);
    if (!extra_key.empty()) absl::StrAppend(&detail, " ", std::string(extra_key), "=", std::string(extra_value));
    hook_(event, grant.id(), detail);
  }
}

void GrantApi::Persist() {
  // Under mu_. A store that cannot be written keeps the grants in memory:
  // they still end on time while the gateway runs, and a restart loses them
  // (which takes access away, never adds it).
  if (absl::Status s = store_.Save(); !s.ok()) LogError("grants: ", s.message());
}

std::string GrantApi::Start() {
  std::string report;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (absl::Status s = store_.Load(); !s.ok()) {
      LogError("grants: ", s.message(), "; starting with no grants");
    }
  }
  // Ended while the gateway was down: gone before any packet is judged.
  SweepExpired("expired while the gateway was down");
  policies_->SetExpiryListener([this](const std::vector<ExpiredRule>& expired) { OnExpired(expired); });
  started_ = true;
  std::lock_guard<std::mutex> apply(apply_mu_);
  size_t count;
  {
    std::lock_guard<std::mutex> lock(mu_);
    count = store_.grants().size();
  }
  const absl::Status s = Apply();
  report = absl::StrCat("grants: ", count, " in force",
                        store_.path().empty() ? std::string(" (not persisted: no state_dir)")
                                              : absl::StrCat(" (", store_.path(), ")"));
  if (!s.ok() && count > 0) absl::StrAppend(&report, "; not applied yet: ", s.message());
  return report;
}

void GrantApi::SweepExpired(std::string_view cause) {
  std::vector<v1::GrantInfo> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    expired = store_.TakeExpired(policy::WallClockMs());
    if (!expired.empty()) Persist();
  }
  for (const v1::GrantInfo& g : expired) Report("grant_expired", g, "cause", cause);
}

void GrantApi::OnExpired(const std::vector<ExpiredRule>& expired) {
  // The policy manager already runs without them; the store follows.
  std::vector<v1::GrantInfo> ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const ExpiredRule& e : expired) {
      v1::GrantInfo g;
      if (e.grant && store_.Remove(e.rule_id, &g)) ended.push_back(std::move(g));
    }
    if (!ended.empty()) Persist();
  }
  for (const v1::GrantInfo& g : ended) Report("grant_expired", g, "cause", "its time passed");
  for (const ExpiredRule& e : expired) {
    if (e.grant || events_ == nullptr) continue;
    EventRecord rec;
    rec.kind = EventKind::kControlLine;
    rec.ts_ns = NowNs();
    rec.conduit = kGatewayScope;
    events_->Post(rec, RuleExpiredJson(e.conduit, e.rule_id, e.expires_unix_ms, rec.ts_ns));
  }
}

absl::Status GrantApi::Grant(const v1::GrantRequest& request, const std::string& identity,
                             v1::GrantResponse* reply) {
  std::lock_guard<std::mutex> apply(apply_mu_);
  SweepExpired("its time passed");
  std::vector<policy::PolicyError> errors =
      ValidateGrant(request, policies_->ActiveSnapshot(), options_.max_seconds);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors.empty() && store_.grants().size() >= kMaxGrants) {
      errors.push_back({"", absl::StrCat(kMaxGrants, " grants are in force already: revoke some, or put ",
                                         "standing access in the policy file")});
    }
  }
  if (!errors.empty()) {
    for (const policy::PolicyError& e : errors) {
      v1::FieldError* fe = reply->add_errors();
      fe->set_path(e.path);
      fe->set_reason(e.reason);
    }
    return absl::OkStatus();
  }
  v1::GrantInfo grant;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t now = policy::WallClockMs();
    grant.set_id(store_.NextId());
    grant.set_conduit(request.conduit());
    *grant.mutable_rule() = request.rule();
    grant.mutable_rule()->set_id(grant.id());
    grant.mutable_rule()->set_action(v1::ACTION_ALLOW);
    grant.mutable_rule()->clear_line();
    grant.mutable_rule()->set_expires(policy::FormatRfc3339(now + uint64_t{request.duration_seconds()} * 1000));
    grant.set_start_unix_ms(now);
    grant.set_expires_unix_ms(now + uint64_t{request.duration_seconds()} * 1000);
    grant.set_reason(request.reason());
    grant.set_granted_by(identity);
    store_.Add(grant);
    // Persisted first: a grant in force is one a restart still knows to end.
    if (absl::Status s = store_.Save(); !s.ok()) {
      store_.Remove(grant.id(), nullptr);
      return absl::InternalError(absl::StrCat("the grant could not be persisted, so it was not made: ", s.message()));
    }
  }
  if (absl::Status s = Apply(); !s.ok()) {
    // The policy went away (or would not compile) in between: not granted.
    std::lock_guard<std::mutex> lock(mu_);
    store_.Remove(grant.id(), nullptr);
    Persist();
    v1::FieldError* fe = reply->add_errors();
    fe->set_path("conduit");
    fe->set_reason(std::string(s.message()));
    return absl::OkStatus();
  }
  reply->set_id(grant.id());
  reply->set_expires_unix_ms(grant.expires_unix_ms());
  Report("grant_started", grant);
  return absl::OkStatus();
}

void GrantApi::List(v1::GrantList* reply) {
  SweepExpired("its time passed");
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::GrantInfo& g : store_.grants()) *reply->add_grants() = g;
}

absl::Status GrantApi::Revoke(const v1::RevokeRequest& request, const std::string& identity,
                              v1::RevokeResponse* reply) {
  std::lock_guard<std::mutex> apply(apply_mu_);
  v1::GrantInfo grant;
  std::string persist_error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!store_.Remove(request.id(), &grant)) {
      reply->set_revoked(false);
      reply->set_error(absl::StrCat("no grant \"", request.id(), "\" is in force (conduitctl grants lists them)"));
      return absl::OkStatus();
    }
    if (absl::Status s = store_.Save(); !s.ok()) persist_error = std::string(s.message());
  }
  // Taken out of the running policy even when the store could not be
  // written: access ends now; the error says a restart would bring it back
  // until it expires.
  const absl::Status applied = Apply();
  reply->set_revoked(true);
  if (!persist_error.empty()) {
    reply->set_error(absl::StrCat("revoked, but not persisted (", persist_error,
                                  "): a restart before it expires brings it back"));
  }
  if (!applied.ok() && policies_->ActiveSnapshot().has_value()) {
    reply->set_error(absl::StrCat(reply->error(), reply->error().empty() ? "" : "; ",
                                  "the running policy could not be recompiled: ", applied.message()));
  }
  Report("grant_revoked", grant, "revoked_by", identity);
  return absl::OkStatus();
}

}  // namespace conduit::grants
