// conduitctl: the console CLI.
//
//   conduitctl counters [--target HOST:PORT] [--json]
//   conduitctl simulate --pcap FILE [--jsonl] [--decode-as tcp:PORT=PROTOCOL]...
//
// push / status / mode / events / get-policy arrive with the control-plane
// work; simulate with the decoders.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "conduit/v1/gateway.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "simulate/simulate.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: conduitctl COMMAND [--target HOST:PORT] [--json]\n"
               "       conduitctl simulate --pcap FILE [--jsonl] [--decode-as tcp:PORT=PROTOCOL]...\n"
               "commands:\n"
               "  counters   the gateway's packet counters\n"
               "  simulate   run the gateway's parse/flow/decode code over a capture offline\n");
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

int Simulate(int argc, char** argv) {
  conduit::SimulateOptions options;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--pcap" && i + 1 < argc) {
      options.pcap = argv[++i];
    } else if (arg == "--jsonl") {
      options.jsonl = true;
    } else if (arg == "--decode-as" && i + 1 < argc) {
      if (absl::Status s = conduit::AddDecodeAs(argv[++i], options.ports); !s.ok()) {
        std::fprintf(stderr, "conduitctl: %s\n", std::string(s.message()).c_str());
        return 2;
      }
    } else {
      return Usage();
    }
  }
  if (options.pcap.empty()) return Usage();
  // JSON lines stay machine-readable on stdout; the summary goes to stderr.
  const absl::Status s = conduit::RunSimulate(options, std::cout, options.jsonl ? std::cerr : std::cout);
  if (!s.ok()) {
    std::fprintf(stderr, "conduitctl: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  if (command == "simulate") return Simulate(argc, argv);
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
