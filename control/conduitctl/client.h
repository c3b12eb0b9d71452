// How conduitctl reaches gateways: targets and channel credentials.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "conduit/v1/gateway.grpc.pb.h"

namespace conduit::ctl {

struct ClientOptions {
  std::vector<std::string> targets;  // host:port
  std::string ca;                    // PEM: verify the gateway (TLS when set)
  std::string cert;                  // PEM: our certificate (mutual TLS)
  std::string key;
  int timeout_seconds = 10;
};

// "--targets FILE": one host:port per line; blank lines and # comments skipped.
absl::StatusOr<std::vector<std::string>> ReadTargets(const std::string& path);

std::unique_ptr<conduit::v1::Gateway::Stub> Connect(const ClientOptions& options,
                                                    const std::string& target);

// A client context with the options' deadline.
std::unique_ptr<grpc::ClientContext> Context(const ClientOptions& options);

}  // namespace conduit::ctl
