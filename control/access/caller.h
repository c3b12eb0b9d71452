// The caller of an RPC, from gRPC's authentication context: the verified
// client certificate's subject CN and SANs (empty over plaintext, or TLS
// without client certificates).
#pragma once

#include <grpcpp/server_context.h>

#include "access/roles.h"

namespace conduit {

Caller CallerOf(const grpc::ServerContext& context);

}  // namespace conduit
