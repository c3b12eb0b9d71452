#include "service/gateway_service.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "access/caller.h"
#include "policy/compiler.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;

// How long a StreamEvents call waits for a line before checking whether its
// client is still there.
constexpr std::chrono::milliseconds kStreamPoll{200};

// A push's outcome in one audit detail line.
std::string PushDetail(const PushOutcome& out) {
  if (out.accepted) {
    std::string d = absl::StrCat("active ", out.active_version, " hash ", out.active_hash);
    if (out.confirm_deadline_unix_ms != 0) {
      absl::StrAppend(&d, "; reverts to ", out.revert_to_version.empty() ? "no policy" : out.revert_to_version,
                      " unless confirmed by unix ms ", out.confirm_deadline_unix_ms);
    }
    return d;
  }
  std::vector<std::string> errors;
  for (const policy::PolicyError& e : out.errors) errors.push_back(absl::StrCat(e.path, ": ", e.reason));
  return absl::StrJoin(errors, "; ");
}

const char* ModeName(v1::Mode m) {
  switch (m) {
    case v1::MODE_ENFORCE: return "enforce";
    case v1::MODE_MONITOR: return "monitor";
    case v1::MODE_BYPASS: return "bypass";
    default: return "policy";  // MODE_UNSPECIFIED clears the override
  }
}

}  // namespace

GatewayService::Call GatewayService::Authorize(const grpc::ServerContext* context, Permission needed,
                                               std::string_view action, std::string_view target) const {
  Call call;
  if (context != nullptr) call.caller = CallerOf(*context);
  if (hooks_.roles == nullptr || hooks_.roles->Allows(call.caller, needed)) return call;
  call.allowed = false;
  const std::vector<std::string> roles = hooks_.roles->RolesOf(call.caller);
  const std::string who =
      call.caller.identity.empty() ? std::string("a caller without a client certificate identity")
                                   : absl::StrCat("identity \"", call.caller.identity, "\" (roles: ",
                                                  roles.empty() ? "none" : absl::StrJoin(roles, ", "), ")");
  const std::string why = absl::StrCat("permission \"", std::string(PermissionName(needed)), "\" needed for ",
                                       std::string(action), "; ", who, " does not hold it");
  call.refusal = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, why);
  if (hooks_.audit != nullptr) {
    hooks_.audit->Append({call.caller.identity, call.caller.peer, std::string(action),
                          std::string(target), "denied", why});
  }
  return call;
}

void GatewayService::Audit(const Call& call, std::string_view action, std::string_view target,
                           std::string_view result, std::string_view detail) const {
  if (hooks_.audit == nullptr) return;
  hooks_.audit->Append({call.caller.identity, call.caller.peer, std::string(action),
                        std::string(target), std::string(result), std::string(detail)});
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

void FillCounters(const std::vector<CounterSnapshot>& per_worker,
                  const std::vector<unsigned>& lcores, v1::Counters& out) {
  CounterSnapshot total;
  for (size_t w = 0; w < per_worker.size(); ++w) {
    total.Accumulate(per_worker[w]);
    v1::WorkerCounters* wc = out.add_workers();
    wc->set_lcore(w < lcores.size() ? lcores[w] : 0);
    for (int i = 0; i < kWorkerCounterCount; ++i) {
      (*wc->mutable_values())[std::string(WorkerCounterName(static_cast<WorkerCounter>(i)))] =
          per_worker[w].totals[i];
    }
  }
  for (int i = 0; i < kWorkerCounterCount; ++i) {
    (*out.mutable_totals())[std::string(WorkerCounterName(static_cast<WorkerCounter>(i)))] =
        total.totals[i];
  }
  for (int i = 0; i < kInspectCounterCount; ++i) {
    (*out.mutable_totals())[std::string(InspectCounterName(static_cast<InspectCounter>(i)))] =
        total.inspect[i];
  }
  for (int i = 0; i < kDropReasonCount; ++i) {
    (*out.mutable_dropped_by_reason())[std::string(DropReasonName(static_cast<DropReason>(i)))] =
        total.drops[i];
  }
  for (int i = 1; i < ics::kMalformedReasonCount; ++i) {  // 0 is kNone
    (*out.mutable_malformed_by_reason())[std::string(
        ics::MalformedReasonName(static_cast<ics::MalformedReason>(i)))] = total.malformed[i];
  }
}

GatewayService::GatewayService(PolicyManager* policies, EventDrain* events, GatewayHooks hooks,
                               std::vector<unsigned> lcores)
    : policies_(policies), events_(events), hooks_(std::move(hooks)), lcores_(std::move(lcores)) {}

grpc::Status GatewayService::PushPolicy(grpc::ServerContext* context, const v1::PolicySnapshot* request,
                                        v1::PushPolicyResponse* reply) {
  const Call call = Authorize(context, Permission::kPush, "push", request->version());
  if (!call.allowed) return call.refusal;
  const PushOutcome out = policies_->Push(*request);
  Audit(call, "push", request->version(), out.accepted ? "ok" : "refused", PushDetail(out));
  FillPushResponse(out, *reply);
  return grpc::Status::OK;
}

grpc::Status GatewayService::PushPolicyConfirmed(grpc::ServerContext* context,
                                                 const v1::PushPolicyRequest* request,
                                                 v1::PushPolicyResponse* reply) {
  const std::string& version = request->snapshot().version();
  const Call call = Authorize(context, Permission::kPush, "push", version);
  if (!call.allowed) return call.refusal;
  const PushOutcome out = policies_->PushConfirmed(request->snapshot(), request->confirm_within_seconds());
  Audit(call, "push", version, out.accepted ? "ok" : "refused",
        absl::StrCat("confirm within ", request->confirm_within_seconds(), " s; ", PushDetail(out)));
  FillPushResponse(out, *reply);
  return grpc::Status::OK;
}

grpc::Status GatewayService::ConfirmPolicy(grpc::ServerContext* context, const v1::ConfirmPolicyRequest*,
                                           v1::ConfirmPolicyResponse* reply) {
  const Call call = Authorize(context, Permission::kConfirm, "confirm", "");
  if (!call.allowed) return call.refusal;
  // Nothing to confirm is an answer (confirmed=false, error), like a refused push.
  const absl::StatusOr<std::string> version = policies_->Confirm();
  Audit(call, "confirm", version.ok() ? *version : "", version.ok() ? "ok" : "refused",
        version.ok() ? "" : std::string(version.status().message()));
  reply->set_confirmed(version.ok());
  if (version.ok()) {
    reply->set_policy_version(*version);
  } else {
    reply->set_error(std::string(version.status().message()));
    reply->set_policy_version(policies_->Status().version);
  }
  return grpc::Status::OK;
}

void FillPushResponse(const PushOutcome& out, v1::PushPolicyResponse& response) {
  v1::PushPolicyResponse* reply = &response;
  reply->set_accepted(out.accepted);
  reply->set_active_version(out.active_version);
  reply->set_active_hash(out.active_hash);
  reply->set_compile_micros(out.compile_micros);
  reply->set_swap_micros(out.swap_micros);
  for (const policy::PolicyError& e : out.errors) {
    v1::FieldError* fe = reply->add_errors();
    fe->set_path(e.path);
    fe->set_reason(e.line > 0 ? e.reason + " (line " + std::to_string(e.line) + ")" : e.reason);
  }
  reply->set_confirm_deadline_unix_ms(out.confirm_deadline_unix_ms);
  reply->set_revert_to_version(out.revert_to_version);
}

grpc::Status GatewayService::GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest*,
                                       v1::PolicySnapshot* reply) {
  if (const Call call = Authorize(context, Permission::kRead, "get-policy", ""); !call.allowed) {
    return call.refusal;
  }
  std::optional<v1::PolicySnapshot> active = policies_->ActiveSnapshot();
  if (!active) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no policy is loaded");
  *reply = *active;
  return grpc::Status::OK;
}

namespace {

void FillRuleHits(const PolicyManager::RuleHitsReport& report,
                  google::protobuf::RepeatedPtrField<v1::RuleHit>* out) {
  for (size_t i = 0; i < report.totals.size() && i < report.rules.size(); ++i) {
    v1::RuleHit* r = out->Add();
    r->set_id(report.rules[i]);
    r->set_hits(report.totals[i].hits);
    r->set_last_hit_unix_ns(report.totals[i].last_hit_ns);
    r->set_would_block(report.totals[i].would_block);
  }
}

}  // namespace

grpc::Status GatewayService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                                       v1::GatewayStatus* reply) {
  const Call call = Authorize(context, Permission::kRead, "status", "");
  if (!call.allowed) return call.refusal;
  FillStatus(reply);
  reply->set_identity(call.caller.identity);
  return grpc::Status::OK;
}

void GatewayService::FillStatus(v1::GatewayStatus* reply) const {
  reply->set_roles_enabled(hooks_.roles != nullptr && hooks_.roles->enabled());
  if (hooks_.audit != nullptr) {
    hooks_.audit->Retry();  // a disk that has room again takes what waited
    const AuditHealth audit = hooks_.audit->health();
    reply->set_audit_records(audit.records);
    reply->set_audit_error(audit.error);
    reply->set_audit_pending(audit.pending);
    reply->set_audit_head_seq(audit.head_seq);
    reply->set_audit_head_hash(audit.head_hash);
  }
  if (hooks_.syslog) hooks_.syslog(reply->mutable_syslog());
  const PolicyStatus s = policies_->Status();
  reply->set_policy_version(s.version);
  reply->set_policy_hash(s.hash);
  reply->set_mode(policy::ToProtoMode(s.mode));
  reply->set_failure(hooks_.failure_policy);
  std::string bypass = hooks_.bypass_reason ? hooks_.bypass_reason() : "";
  if (bypass.empty() && !s.has_policy) {
    bypass = s.refused.empty() ? "no policy loaded"
                               : "no policy loaded: the start-up policy was refused (see policy_refused)";
  }
  if (bypass.empty() && s.mode == policy::Mode::kBypass) bypass = "mode bypass";
  reply->set_bypass(bypass);
  reply->set_policy_refused(s.refused);
  reply->set_confirm_deadline_unix_ms(s.confirm_deadline_unix_ms);
  reply->set_confirm_pending_version(s.confirm_pending_version);
  reply->set_revert_to_version(s.revert_to_version);
  reply->set_uptime_seconds(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count()));
  if (hooks_.workers) {
    for (const WorkerHealth& w : hooks_.workers()) {
      v1::WorkerStatus* ws = reply->add_workers();
      ws->set_lcore(w.lcore);
      ws->set_healthy(w.healthy);
      ws->set_bypass(w.bypass);
      ws->set_heartbeat_age_micros(w.heartbeat_age_micros);
    }
  }
  if (hooks_.counters) FillCounters(hooks_.counters(), lcores_, *reply->mutable_counters());
  if (const auto hits = policies_->ActiveRuleHits()) FillRuleHits(*hits, reply->mutable_rule_hits());
  FillGrants(reply);
}

grpc::Status GatewayService::SetMode(grpc::ServerContext* context, const v1::SetModeRequest* request,
                                     v1::SetModeResponse* reply) {
  const std::string target = request->conduit().empty() ? "gateway" : request->conduit();
  const Call call = Authorize(context, Permission::kMode, "mode", target);
  if (!call.allowed) return call.refusal;
  std::optional<policy::Mode> mode;
  switch (request->mode()) {
    case v1::MODE_ENFORCE: mode = policy::Mode::kEnforce; break;
    case v1::MODE_MONITOR: mode = policy::Mode::kMonitor; break;
    case v1::MODE_BYPASS: mode = policy::Mode::kBypass; break;
    default: break;  // MODE_UNSPECIFIED clears the override: the policy's own modes again
  }
  const absl::Status set = policies_->SetMode(request->conduit(), mode);
  Audit(call, "mode", target, set.ok() ? "ok" : "refused",
        set.ok() ? absl::StrCat("mode ", ModeName(request->mode())) : std::string(set.message()));
  if (!set.ok()) return ToGrpc(set);
  reply->set_mode(policy::ToProtoMode(policies_->Status().mode));
  return grpc::Status::OK;
}

grpc::Status GatewayService::StreamEvents(grpc::ServerContext* context,
                                          const v1::StreamEventsRequest*,
                                          grpc::ServerWriter<v1::Event>* writer) {
  if (const Call call = Authorize(context, Permission::kEvents, "events", ""); !call.allowed) {
    return call.refusal;
  }
  if (events_ == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no event drain");
  // A bounded queue of our own: a slow client loses its oldest lines (the
  // drain counts them), never slows the drain or the workers.
  std::shared_ptr<EventSubscription> sub = events_->Subscribe();
  std::string line;
  v1::Event event;
  while (!context->IsCancelled()) {
    if (!sub->Next(&line, kStreamPoll)) {
      if (sub->closed()) break;  // the gateway is stopping
      continue;
    }
    event.set_json(line);
    if (!writer->Write(event)) break;  // the client went away
  }
  sub->Close();
  return grpc::Status::OK;
}

grpc::Status GatewayService::GetCounters(grpc::ServerContext* context, const v1::GetCountersRequest*,
                                         v1::Counters* reply) {
  if (const Call call = Authorize(context, Permission::kRead, "counters", ""); !call.allowed) {
    return call.refusal;
  }
  if (hooks_.counters) FillCounters(hooks_.counters(), lcores_, *reply);
  return grpc::Status::OK;
}

grpc::Status GatewayService::GetRuleHits(grpc::ServerContext* context, const v1::GetRuleHitsRequest*,
                                         v1::RuleHits* reply) {
  if (const Call call = Authorize(context, Permission::kRead, "rules", ""); !call.allowed) {
    return call.refusal;
  }
  const auto report = policies_->ActiveRuleHits();
  if (!report) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no policy is active");
  reply->set_policy_version(report->version);
  FillRuleHits(*report, reply->mutable_rules());
  return grpc::Status::OK;
}

grpc::Status GatewayService::PushShadow(grpc::ServerContext* context, const v1::PolicySnapshot* request,
                                        v1::PushPolicyResponse* reply) {
  const Call call = Authorize(context, Permission::kPush, "shadow", request->version());
  if (!call.allowed) return call.refusal;
  const PushOutcome out = policies_->PushShadow(*request);
  Audit(call, "shadow", request->version(), out.accepted ? "ok" : "refused",
        out.accepted ? absl::StrCat("judged beside ", out.active_version) : PushDetail(out));
  FillPushResponse(out, *reply);
  return grpc::Status::OK;
}

grpc::Status GatewayService::GetShadow(grpc::ServerContext* context, const v1::GetShadowRequest*,
                                       v1::ShadowReport* reply) {
  if (const Call call = Authorize(context, Permission::kRead, "shadow-report", ""); !call.allowed) {
    return call.refusal;
  }
  const auto report = policies_->Shadow();
  if (!report) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "no shadow policy is being judged (conduitctl push --shadow FILE)");
  }
  reply->set_candidate_version(report->candidate_version);
  reply->set_active_version(report->active_version);
  reply->set_since_unix_ms(report->since_unix_ms);
  reply->set_newly_blocked(report->newly_blocked);
  reply->set_newly_allowed(report->newly_allowed);
  FillRuleHits(PolicyManager::RuleHitsReport{report->candidate_version, report->rules, report->totals},
               reply->mutable_rules());
  return grpc::Status::OK;
}

grpc::Status GatewayService::PromoteShadow(grpc::ServerContext* context,
                                           const v1::PromoteShadowRequest* request,
                                           v1::PushPolicyResponse* reply) {
  const Call call = Authorize(context, Permission::kPush, "promote", "");
  if (!call.allowed) return call.refusal;
  const PushOutcome out = policies_->PromoteShadow(request->confirm_within_seconds());
  Audit(call, "promote", out.active_version, out.accepted ? "ok" : "refused", PushDetail(out));
  FillPushResponse(out, *reply);
  return grpc::Status::OK;
}

grpc::Status GatewayService::ClearShadow(grpc::ServerContext* context, const v1::ClearShadowRequest*,
                                         v1::ClearShadowResponse*) {
  const Call call = Authorize(context, Permission::kPush, "shadow-clear", "");
  if (!call.allowed) return call.refusal;
  const absl::Status cleared = policies_->ClearShadow();
  Audit(call, "shadow-clear", "", cleared.ok() ? "ok" : "refused", std::string(cleared.message()));
  return ToGrpc(cleared);
}

grpc::Status GatewayService::GetBaseline(grpc::ServerContext* context, const v1::GetBaselineRequest* request,
                                         v1::Baseline* reply) {
  if (const Call call = Authorize(context, Permission::kRead, "baseline", request->conduit()); !call.allowed) {
    return call.refusal;
  }
  if (!hooks_.get_baseline) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "this gateway keeps no baseline store");
  }
  return hooks_.get_baseline(*request, reply);
}

grpc::Status GatewayService::AcceptBaseline(grpc::ServerContext* context,
                                            const v1::AcceptBaselineRequest* request,
                                            v1::AcceptBaselineResponse* reply) {
  const Call call = Authorize(context, Permission::kPush, "baseline-accept", request->conduit());
  if (!call.allowed) return call.refusal;
  if (!hooks_.accept_baseline) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "this gateway keeps no baseline store");
  }
  const grpc::Status accepted = hooks_.accept_baseline(*request, reply);
  Audit(call, "baseline-accept", request->conduit(), accepted.ok() ? "ok" : "failed",
        accepted.error_message());
  return accepted;
}

grpc::Status GatewayService::GetAudit(grpc::ServerContext* context, const v1::GetAuditRequest* request,
                                      v1::AuditRecords* reply) {
  if (const Call call = Authorize(context, Permission::kAudit, "audit", ""); !call.allowed) {
    return call.refusal;
  }
  if (hooks_.audit == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "this gateway keeps no audit trail");
  }
  auto records = hooks_.audit->Read(request->since_seq(), request->limit());
  if (!records.ok()) {
    reply->set_error(std::string(records.status().message()));
    return grpc::Status::OK;
  }
  for (std::string& r : *records) reply->add_records(std::move(r));
  return grpc::Status::OK;
}

}  // namespace conduit
