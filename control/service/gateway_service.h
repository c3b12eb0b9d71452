// The gRPC Gateway service: proto <-> domain translation at the edge.
// absl::Status codes map to grpc::Status codes; a refused push is an OK RPC
// whose reply says accepted=false with the field errors (it is an answer,
// not a transport failure).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "access/roles.h"
#include "audit/audit_log.h"
#include "conduit/v1/gateway.grpc.pb.h"
#include "events/event_drain.h"
#include "gateway/policy_manager.h"
#include "stats/counters.h"

namespace conduit {

struct WorkerHealth {
  unsigned lcore = 0;
  bool healthy = true;
  bool bypass = false;
  uint64_t heartbeat_age_micros = 0;
};

// What the service reads from the running gateway.
struct GatewayHooks {
  std::function<std::vector<CounterSnapshot>()> counters;
  std::function<std::vector<WorkerHealth>()> workers;
  std::function<std::string()> bypass_reason;  // "" when inspecting
  std::string failure_policy = "open";
  // The baseline store (control/baseline/baseline_api.h); unset: no store.
  std::function<grpc::Status(const conduit::v1::GetBaselineRequest&, conduit::v1::Baseline*)>
      get_baseline;
  std::function<grpc::Status(const conduit::v1::AcceptBaselineRequest&,
                             conduit::v1::AcceptBaselineResponse*)>
      accept_baseline;
  // Time-limited grants (control/grants/grant_api.h); unset: this gateway
  // grants nothing (UNAVAILABLE). `identity` is the caller, recorded as
  // granted_by / revoked_by.
  std::function<grpc::Status(const conduit::v1::GrantRequest&, const std::string& identity,
                             conduit::v1::GrantResponse*)>
      grant;
  std::function<grpc::Status(conduit::v1::GrantList*)> list_grants;
  std::function<grpc::Status(const conduit::v1::RevokeRequest&, const std::string& identity,
                             conduit::v1::RevokeResponse*)>
      revoke;
  // Ownership (DESIGN.md, "Ownership and change control"). Unset roles: every
  // caller may do everything. Unset audit: nothing is recorded.
  const RoleTable* roles = nullptr;
  AuditLog* audit = nullptr;
  // The syslog sink's address and counters (GatewayStatus.syslog); unset:
  // events.syslog is not configured.
  std::function<void(conduit::v1::SyslogStatus*)> syslog;
};

class GatewayService final : public conduit::v1::Gateway::Service {
 public:
  GatewayService(PolicyManager* policies, EventDrain* events, GatewayHooks hooks,
                 std::vector<unsigned> lcores);

  grpc::Status PushPolicy(grpc::ServerContext*, const conduit::v1::PolicySnapshot* request,
                          conduit::v1::PushPolicyResponse* reply) override;
  grpc::Status PushPolicyConfirmed(grpc::ServerContext*, const conduit::v1::PushPolicyRequest* request,
                                   conduit::v1::PushPolicyResponse* reply) override;
  grpc::Status ConfirmPolicy(grpc::ServerContext*, const conduit::v1::ConfirmPolicyRequest*,
                             conduit::v1::ConfirmPolicyResponse* reply) override;
  grpc::Status GetPolicy(grpc::ServerContext*, const conduit::v1::GetPolicyRequest*,
                         conduit::v1::PolicySnapshot* reply) override;
  grpc::Status GetStatus(grpc::ServerContext*, const conduit::v1::GetStatusRequest*,
                         conduit::v1::GatewayStatus* reply) override;
  grpc::Status SetMode(grpc::ServerContext*, const conduit::v1::SetModeRequest* request,
                       conduit::v1::SetModeResponse* reply) override;
  grpc::Status StreamEvents(grpc::ServerContext* context, const conduit::v1::StreamEventsRequest*,
                            grpc::ServerWriter<conduit::v1::Event>* writer) override;
  grpc::Status GetCounters(grpc::ServerContext*, const conduit::v1::GetCountersRequest*,
                           conduit::v1::Counters* reply) override;
  grpc::Status PushShadow(grpc::ServerContext*, const conduit::v1::PolicySnapshot* request,
                          conduit::v1::PushPolicyResponse* reply) override;
  grpc::Status GetShadow(grpc::ServerContext*, const conduit::v1::GetShadowRequest*,
                         conduit::v1::ShadowReport* reply) override;
  grpc::Status PromoteShadow(grpc::ServerContext*, const conduit::v1::PromoteShadowRequest*,
                             conduit::v1::PushPolicyResponse* reply) override;
  grpc::Status ClearShadow(grpc::ServerContext*, const conduit::v1::ClearShadowRequest*,
                           conduit::v1::ClearShadowResponse* reply) override;
  grpc::Status GetRuleHits(grpc::ServerContext*, const conduit::v1::GetRuleHitsRequest*,
                           conduit::v1::RuleHits* reply) override;
  grpc::Status GetBaseline(grpc::ServerContext*, const conduit::v1::GetBaselineRequest* request,
                           conduit::v1::Baseline* reply) override;
  grpc::Status AcceptBaseline(grpc::ServerContext*, const conduit::v1::AcceptBaselineRequest* request,
                              conduit::v1::AcceptBaselineResponse* reply) override;
  // Grants (gateway_service_grants.cc).
  grpc::Status Grant(grpc::ServerContext* context, const conduit::v1::GrantRequest* request,
                     conduit::v1::GrantResponse* reply) override;
  grpc::Status ListGrants(grpc::ServerContext* context, const conduit::v1::ListGrantsRequest*,
                          conduit::v1::GrantList* reply) override;
  grpc::Status Revoke(grpc::ServerContext* context, const conduit::v1::RevokeRequest* request,
                      conduit::v1::RevokeResponse* reply) override;
  // The grants in force, for GetStatus (none without the hook).
  void FillGrants(conduit::v1::GatewayStatus* reply) const;
  grpc::Status GetAudit(grpc::ServerContext*, const conduit::v1::GetAuditRequest* request,
                        conduit::v1::AuditRecords* reply) override;

 // Everything GetStatus answers but the caller's identity, without
  // authorization: for the read-only metrics listener (control/telemetry).
  void FillStatus(conduit::v1::GatewayStatus* reply) const;

 private:
  // One RPC's caller and whether it may go on. A refusal is already audited
  // and `refusal` is the PERMISSION_DENIED to return, naming the permission.
  struct Call {
    Caller caller;
    bool allowed = true;
    grpc::Status refusal;
  };
  Call Authorize(const grpc::ServerContext* context, Permission needed, std::string_view action,
                 std::string_view target) const;
  // Appends what an allowed call did to the audit trail.
  void Audit(const Call& call, std::string_view action, std::string_view target,
             std::string_view result, std::string_view detail) const;

  PolicyManager* policies_;
  EventDrain* events_;
  GatewayHooks hooks_;
  std::vector<unsigned> lcores_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Fills the proto from per-worker snapshots (totals, drops, per worker).
void FillCounters(const std::vector<CounterSnapshot>& per_worker,
                  const std::vector<unsigned>& lcores, conduit::v1::Counters& out);

grpc::Status ToGrpc(const absl::Status& status);

// A push's outcome as the PushPolicy / PushPolicyConfirmed reply.
void FillPushResponse(const PushOutcome& out, conduit::v1::PushPolicyResponse& reply);

}  // namespace conduit
