#include "access/caller.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <algorithm>

namespace conduit {
namespace {

void AddProperty(const grpc::AuthContext& auth, const char* property, std::vector<std::string>& out) {
  for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
    std::string name(value.data(), value.size());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
}

}  // namespace

Caller CallerOf(const grpc::ServerContext& context) {
  Caller caller;
  caller.peer = context.peer();
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  // Only a peer that presented a certificate the CA verified is
  // authenticated; an unauthenticated context's properties are not trusted.
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return caller;
  AddProperty(*auth, GRPC_X509_CN_PROPERTY_NAME, caller.names);
  AddProperty(*auth, GRPC_X509_SAN_PROPERTY_NAME, caller.names);
  if (!caller.names.empty()) caller.identity = caller.names.front();
  return caller;
}

}  // namespace conduit
