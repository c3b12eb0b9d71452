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

// One line of a targets file: "ADDRESS [NAME]" (NAME defaults to ADDRESS).
struct Target {
  std::string address;  // host:port (or a gRPC scheme such as unix:PATH)
  std::string name;
  int line = 0;
};

// "--targets FILE": one gateway per line, "host:port [name]"; blank lines
// and # comments skipped. A line with more than two fields, an address that
// is not host:port, or a name or address given twice is an error naming
// the file and line.
absl::StatusOr<std::vector<Target>> ReadNamedTargets(const std::string& path);
// The addresses of ReadNamedTargets.
absl::StatusOr<std::vector<std::string>> ReadTargets(const std::string& path);

std::unique_ptr<conduit::v1::Gateway::Stub> Connect(const ClientOptions& options,
                                                    const std::string& target);

// A client context with the options' deadline.
std::unique_ptr<grpc::ClientContext> Context(const ClientOptions& options);

}  // namespace conduit::ctl
