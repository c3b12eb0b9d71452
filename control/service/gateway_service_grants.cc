// Grant, ListGrants and Revoke: delegated to the grant API (control/grants)
// through GatewayHooks, as the baseline is, so the service stays a
// translation layer and a gateway without grants answers UNAVAILABLE.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "service/gateway_service.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;

const grpc::Status kNoGrants(grpc::StatusCode::UNAVAILABLE, "this gateway keeps no grants");

}  // namespace

grpc::Status GatewayService::Grant(grpc::ServerContext* context, const v1::GrantRequest* request,
                                   v1::GrantResponse* reply) {
  const Call call = Authorize(context, Permission::kGrant, "grant", request->conduit());
  if (!call.allowed) return call.refusal;
  if (!hooks_.grant) return kNoGrants;
  const grpc::Status s = hooks_.grant(*request, call.caller.identity, reply);
  std::string detail = s.ok() ? absl::StrCat("expires unix ms ", reply->expires_unix_ms(), "; ",
                                             request->rule().protocol(), " ",
                                             absl::StrJoin(request->rule().functions(), ","), " from ",
                                             absl::StrJoin(request->rule().from(), ","), "; reason: ",
                                             request->reason())
                              : s.error_message();
  for (const v1::FieldError& e : reply->errors()) absl::StrAppend(&detail, "; ", e.path(), ": ", e.reason());
  Audit(call, "grant", reply->id().empty() ? request->conduit() : reply->id(),
        s.ok() && reply->errors_size() == 0 ? "ok" : "refused", detail);
  return s;
}

grpc::Status GatewayService::ListGrants(grpc::ServerContext* context, const v1::ListGrantsRequest*,
                                        v1::GrantList* reply) {
  if (const Call call = Authorize(context, Permission::kRead, "grants", ""); !call.allowed) {
    return call.refusal;
  }
  if (!hooks_.list_grants) return kNoGrants;
  return hooks_.list_grants(reply);
}

grpc::Status GatewayService::Revoke(grpc::ServerContext* context, const v1::RevokeRequest* request,
                                    v1::RevokeResponse* reply) {
  const Call call = Authorize(context, Permission::kGrant, "revoke", request->id());
  if (!call.allowed) return call.refusal;
  if (!hooks_.revoke) return kNoGrants;
  const grpc::Status s = hooks_.revoke(*request, call.caller.identity, reply);
  Audit(call, "revoke", request->id(), s.ok() && reply->revoked() ? "ok" : "refused",
        s.ok() ? reply->error() : s.error_message());
  return s;
}

void GatewayService::FillGrants(v1::GatewayStatus* reply) const {
  if (!hooks_.list_grants) return;
  v1::GrantList list;
  if (hooks_.list_grants(&list).ok()) *reply->mutable_grants() = std::move(*list.mutable_grants());
}

}  // namespace conduit
