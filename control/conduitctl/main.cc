// conduitctl: the console CLI.
//
//   conduitctl counters [--target HOST:PORT] [--json]
//
// push / status / mode / events / get-policy arrive with the control-plane
// work; simulate with the decoders.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "conduit/v1/gateway.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: conduitctl COMMAND [--target HOST:PORT] [--json]\n"
               "commands:\n"
               "  counters   the gateway's packet counters\n");
  return 2;
}

int Counters(const std::string& target, bool json) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = conduit::v1::Gateway::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  conduit::v1::GetCountersRequest request;
  conduit::v1::Counters reply;
  const grpc::Status status = stub->GetCounters(&context, request, &reply);
  if (!status.ok()) {
    std::fprintf(stderr, "conduitctl: %s: %s\n", target.c_str(), status.error_message().c_str());
    return 1;
  }
  if (json) {
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(reply, &out, options);
    std::printf("%s\n", out.c_str());
    return 0;
  }
  for (const char* name : {"rx_packets", "tx_packets", "dropped_packets", "inspected_packets",
                           "bypassed_packets"}) {
    auto it = reply.totals().find(name);
    std::printf("%-18s %llu\n", name,
                static_cast<unsigned long long>(it == reply.totals().end() ? 0 : it->second));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  std::string target = "127.0.0.1:50051";
  bool json = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--target" && i + 1 < argc) {
      target = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else {
      return Usage();
    }
  }
  if (command == "counters") return Counters(target, json);
  return Usage();
}
