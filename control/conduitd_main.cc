// conduitd: the composition root. Config → EAL → wires → workers → control
// services → wait for a signal → stop cleanly.
//
// Exit codes: 0 after SIGINT/SIGTERM, 2 when start-up fails (bad config, EAL
// failure, unknown port, control address in use) with a one-line reason.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "common/log.h"
#include "config/daemon_config.h"
#include "eal/eal.h"
#include "runtime/dataplane.h"
#include "service/gateway_service.h"
#include "stats/counters_report.h"

namespace conduit {
namespace {

constexpr int kExitStartupFailure = 2;

int Fail(absl::string_view reason) {
  std::fprintf(stderr, "conduitd: %.*s\n", static_cast<int>(reason.size()), reason.data());
  return kExitStartupFailure;
}

void PrintUsage() {
  std::fprintf(stderr,
               "usage: conduitd --config FILE [--check]\n"
               "  --config FILE  the daemon config (YAML; see deploy/examples/)\n"
               "  --check        validate the config and exit\n");
}

// Signals are taken synchronously by the main thread; every other thread
// (EAL, workers, gRPC) inherits the blocked mask before it is created.
sigset_t BlockControlSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

DataplaneSpec SpecFrom(const DaemonConfig& config) {
  DataplaneSpec spec;
  spec.worker_lcores = config.workers;
  spec.wires = config.wires;
  spec.rx_desc = config.rx_desc;
  spec.tx_desc = config.tx_desc;
  spec.burst = config.burst;
  spec.mbufs = config.mempool_mbufs;
  spec.mbuf_cache = config.mempool_cache;
  spec.flow_capacity = config.flow_capacity;
  spec.flow_idle_timeout_s = config.flow_idle_timeout_s;
  return spec;
}

int Run(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      config_path = std::string(arg.substr(9));
    } else if (arg == "--check") {
      check_only = true;
    } else if (arg == "--help" || arg == "-h") {
      PrintUsage();
      return 0;
    } else {
      PrintUsage();
      return Fail(absl::StrCat("unknown argument \"", std::string(arg), "\""));
    }
  }
  if (config_path.empty()) {
    PrintUsage();
    return Fail("--config FILE is required");
  }
  auto config = LoadDaemonConfig(config_path);
  if (!config.ok()) return Fail(absl::StrCat(config_path, ": ", config.status().message()));
  SetLogLevel(config->log_level);
  if (check_only) {
    std::printf("%s: ok\n", config_path.c_str());
    return 0;
  }

  const sigset_t signals = BlockControlSignals();
  if (absl::Status s = InitEal(EalArguments(*config)); !s.ok()) {
    return Fail(absl::StrCat("eal: ", s.message()));
  }
  int exit_code = 0;
  {
    auto dataplane = Dataplane::Create(SpecFrom(*config));
    if (!dataplane.ok()) {
      CleanupEal();
      return Fail(dataplane.status().message());
    }
    Dataplane& dp = **dataplane;

    GatewayService service([&dp] { return dp.CountersPerWorker(); }, config->workers);
    grpc::ServerBuilder builder;
    int bound_port = 0;
    builder.AddListeningPort(config->control_listen, grpc::InsecureServerCredentials(),
                             &bound_port);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr || bound_port == 0) {
      dataplane->reset();
      CleanupEal();
      return Fail(absl::StrCat("control.listen: cannot listen on ", config->control_listen));
    }

    if (absl::Status s = dp.Launch(); !s.ok()) {
      server->Shutdown();
      dataplane->reset();
      CleanupEal();
      return Fail(s.message());
    }
    for (const Wire& w : dp.wires()) {
      LogInfo("wire ", w.name, ": port ", w.port_a, " <-> port ", w.port_b);
    }
    LogInfo("forwarding with ", dp.worker_count(), " worker(s); control on ",
            config->control_listen, "; no policy loaded: forwarding everything");

    for (;;) {
      siginfo_t info;
      const int sig = sigwaitinfo(&signals, &info);
      if (sig == SIGUSR1) {
        std::fputs(FormatCounters(dp.CountersPerWorker(), config->workers).c_str(), stdout);
        std::fflush(stdout);
        continue;
      }
      if (sig == SIGINT || sig == SIGTERM) {
        LogInfo("received ", strsignal(sig), ", stopping");
        break;
      }
    }
    server->Shutdown();
    dp.Stop();
    std::fputs(FormatCounters(dp.CountersPerWorker(), config->workers).c_str(), stdout);
    std::fflush(stdout);
  }
  CleanupEal();
  return exit_code;
}

}  // namespace
}  // namespace conduit

int main(int argc, char** argv) { return conduit::Run(argc, argv); }
