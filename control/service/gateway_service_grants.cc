// Grant, ListGrants and Revoke: delegated to the grant API (control/grants)
// through GatewayHooks, as the baseline is, so the service stays a
// translation layer and a gateway without grants answers UNAVAILABLE.
#include <string>

#include "service/gateway_service.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;

const grpc::Status kNoGrants(grpc::StatusCode::UNAVAILABLE, "this gateway keeps no grants");

// The caller as granted_by / revoked_by records it: the access layer
// (control/access) knows the mTLS identity; without it, none.
std::string IdentityOf(const grpc::ServerContext*) { return std::string(); }

}  // namespace

grpc::Status GatewayService::Grant(grpc::ServerContext* context, const v1::GrantRequest* request,
                                   v1::GrantResponse* reply) {
  if (!hooks_.grant) return kNoGrants;
  return hooks_.grant(*request, IdentityOf(context), reply);
}

grpc::Status GatewayService::ListGrants(grpc::ServerContext*, const v1::ListGrantsRequest*,
                                        v1::GrantList* reply) {
  if (!hooks_.list_grants) return kNoGrants;
  return hooks_.list_grants(reply);
}

grpc::Status GatewayService::Revoke(grpc::ServerContext* context, const v1::RevokeRequest* request,
                                    v1::RevokeResponse* reply) {
  if (!hooks_.revoke) return kNoGrants;
  return hooks_.revoke(*request, IdentityOf(context), reply);
}

void GatewayService::FillGrants(v1::GatewayStatus* reply) const {
  if (!hooks_.list_grants) return;
  v1::GrantList list;
  if (hooks_.list_grants(&list).ok()) *reply->mutable_grants() = std::move(*list.mutable_grants());
}

}  // namespace conduit
