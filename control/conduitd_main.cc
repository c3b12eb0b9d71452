// conduitd: the composition root. Config → EAL → wires → workers → control
// services → wait for a signal → stop cleanly.
//
// Exit codes: 0 after SIGINT/SIGTERM, 2 when start-up fails (bad config, EAL
// failure, unknown port, control address in use) with a one-line reason.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <fstream>
#include <sstream>

#include "access/roles.h"
#include "audit/audit_log.h"
#include "baseline/baseline_api.h"
#include "baseline/baseline_recorder.h"
#include "baseline/baseline_store.h"
#include "common/listen_probe.h"
#include "common/log.h"
#include "config/daemon_config.h"
#include "eal/eal.h"
#include "events/event_drain.h"
#include "events/sinks/json_file_sink.h"
#include "events/sinks/syslog_sink.h"
#include "gateway/policy_manager.h"
#include "grants/grant_api.h"
#include "policy/compiler.h"
#include "policy/validate.h"
#include "runtime/dataplane.h"
#include "service/gateway_service.h"
#include "stats/counters_report.h"
#include "telemetry/recent_events.h"
#include "telemetry/telemetry_server.h"
#include "watchdog/watchdog.h"

namespace conduit {
namespace {

constexpr int kExitStartupFailure = 2;
// A worker stalled: exit so the supervisor applies the failure policy.
constexpr int kExitWorkerStalled = 3;

int Fail(absl::string_view reason) {
  std::fprintf(stderr, "conduitd: %.*s\n", static_cast<int>(reason.size()), reason.data());
  return kExitStartupFailure;
}

void PrintUsage() {
  std::fprintf(stderr,
               "usage: conduitd --config FILE [--check]\n"
               "  --config FILE  the daemon config (YAML; see deploy/examples/)\n"
               "  --check        validate the config and its start-up policy (policy:), and exit\n");
}

// Signals are taken synchronously by the main thread; every other thread
// (EAL, workers, gRPC) inherits the blocked mask before it is created.
// CONDUIT_TEST_HOOKS=1 enables test-only hooks: SIGUSR2 stalls worker 0.
bool TestHooksEnabled() {
  const char* v = std::getenv("CONDUIT_TEST_HOOKS");
  return v != nullptr && std::string_view(v) == "1";
}

sigset_t BlockControlSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  if (TestHooksEnabled()) sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* field) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(field, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Plaintext when no certificate is configured (lab only); TLS with cert and
// key; mutual TLS when a client CA is set: clients without a certificate
// signed by it are refused during the handshake.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsConfig& tls) {
  if (tls.cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  auto cert = ReadFile(tls.cert, "control.tls.cert");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(tls.key, "control.tls.key");
  if (!key.ok()) return key.status();
  pair.cert_chain = *cert;
  pair.private_key = *key;
  options.pem_key_cert_pairs.push_back(pair);
  if (!tls.client_ca.empty()) {
    auto ca = ReadFile(tls.client_ca, "control.tls.client_ca");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  return grpc::SslServerCredentials(options);
}

// The event sinks the config asks for. A sink that cannot start is a
// start-up error naming its field (an unreachable SIEM is not: syslog
// reconnects on its own).
absl::Status AddSinks(const DaemonConfig& config, EventDrain& drain,
                      std::shared_ptr<const SyslogSink>* syslog) {
  if (!config.events_jsonl.empty()) drain.AddSink(std::make_shared<JsonFileSink>(config.events_jsonl));
  if (!config.syslog.address.empty()) {
    const SyslogConfig& s = config.syslog;
    auto options = SyslogOptionsFromConfig(s.address, s.transport, s.format);
    if (!options.ok()) return absl::InvalidArgumentError(absl::StrCat("events.syslog.address: ", options.status().message()));
    options->tls = {s.ca, s.cert, s.key, s.server_name};
    // Errors name their field: "events.syslog.ca \"FILE\": cannot load: ...".
    auto sink = SyslogSink::Create(*options);
    if (!sink.ok()) {
      const absl::string_view why = sink.status().message();
      const bool names_field = why.substr(0, 3) == "ca " || why.substr(0, 5) == "cert " || why.substr(0, 4) == "key ";
      return absl::InvalidArgumentError(absl::StrCat(names_field ? "events.syslog." : "events.syslog.address: ", why));
    }
    auto shared = std::shared_ptr<SyslogSink>(std::move(*sink));
    *syslog = shared;
    drain.AddSink(std::move(shared));
  }
  return absl::OkStatus();
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
  spec.report_allowed = config.events_allowed;
  if (config.baseline.observe_capacity != 0) spec.observe_capacity = config.baseline.observe_capacity;
  spec.overload = OverloadSettings{config.overload_enter_full_bursts, config.overload_exit_calm_polls,
                                   config.overload_cycle_budget};
  return spec;
}

// --check: the config's `policy:` file, loaded, validated and compiled.
// The error is the policy file's path, then every error with its field path
// and line, as `conduitctl push` prints them.
absl::Status CheckStartupPolicy(const DaemonConfig& config) {
  if (config.policy.empty()) return absl::OkStatus();
  auto snapshot = policy::LoadAndValidateFile(
      config.policy, policy::ValidateOptions{static_cast<int>(config.wires.size()), nullptr});
  if (!snapshot.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(config.policy, ": ", snapshot.status().message()));
  }
  auto compiled = policy::CompilePolicy(*snapshot, {config.workers.size(), 1});
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(config.policy, ": policy: ", compiled.status().message()));
  }
  return absl::OkStatus();
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
    // The start-up policy is judged as a push would judge it (validated
    // against the config's wires, then compiled): a config that names a
    // policy the gateway would refuse is not "ok".
    if (absl::Status s = CheckStartupPolicy(*config); !s.ok()) return Fail(s.message());
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

    // Policy and mode changes are events too, from the control side.
    EventRing control_events(1024);
    PolicyManager policies(
        PolicyManager::Options{config->workers.size(), static_cast<int>(config->wires.size()),
                               config->state_dir},
        [&dp](std::unique_ptr<const policy::CompiledPolicy> next) { return dp.Publish(std::move(next)); });
    policies.SetEventRing(&control_events);
    policies.SetShadowPublisher(
        [&dp](std::unique_ptr<const policy::CompiledPolicy> next) { return dp.PublishShadow(std::move(next)); });
    // A refused start-up policy does not stop the gateway (availability
    // first: it forwards as with no policy) but is an error: logged as one,
    // a policy_refused event, and in status until a push is accepted.
    const std::string loaded = policies.LoadAtStart(config->policy);
    if (policies.Status().refused.empty()) {
      LogInfo(loaded);
    } else {
      LogError(loaded);
    }

    // The baseline store: what the workers observe, merged into
    // state_dir/baseline.sqlite. A store that cannot open costs the
    // baseline, never the wire: logged, and the gateway runs without it.
    EventRing baseline_events(1024);
    std::unique_ptr<baseline::BaselineRecorder> recorder;
    std::unique_ptr<baseline::BaselineApi> baseline_api;
    {
      const std::string path = config->state_dir + "/baseline.sqlite";
      std::error_code ignored;  // Open names the path if the directory is still missing
      std::filesystem::create_directories(config->state_dir, ignored);
      auto store = baseline::BaselineStore::Open(path);
      if (!store.ok()) {
        LogError("baseline: ", store.status().message(), "; running without a baseline store");
      } else {
        constexpr uint64_t kDayNs = 86400ull * 1000000000;
        baseline::BaselineRecorder::Options options;
        options.interval = std::chrono::seconds(config->baseline.flush_seconds);
        options.retention_ns = config->baseline.retention_days * kDayNs;
        options.stable_after_ns = config->baseline.stable_days * kDayNs;
        options.wires = static_cast<uint32_t>(config->wires.size());
        recorder = std::make_unique<baseline::BaselineRecorder>(
            std::move(*store),
            [&dp](const baseline::BaselineRecorder::Callback& cb) { dp.DrainObservations(cb); },
            [&policies](uint32_t wire) -> std::optional<uint16_t> {
              const auto active = policies.ActiveSnapshot();
              if (!active) return std::nullopt;
              for (int i = 0; i < active->conduits_size(); ++i) {
                if (active->conduits(i).wire() == wire) return static_cast<uint16_t>(i);
              }
              return std::nullopt;
            },
            &baseline_events, options);
        baseline_api = std::make_unique<baseline::BaselineApi>(
            recorder.get(), [&policies] { return policies.ActiveSnapshot(); },
            config->baseline.stable_days);
        LogInfo("baseline: ", path, " (merged every ", config->baseline.flush_seconds,
                " s, kept ", config->baseline.retention_days, " days)");
      }
    }

    EventDrain drain;
    for (EventRing* ring : dp.event_rings()) drain.AddRing(ring);
    drain.AddRing(&control_events);
    drain.AddRing(&baseline_events);
    drain.SetNames([&policies](const EventRecord& e) { return policies.NamesFor(e); });
    std::shared_ptr<const SyslogSink> syslog;  // its counters, for status and /metrics
    if (absl::Status s = AddSinks(*config, drain, &syslog); !s.ok()) {
      dataplane->reset();
      CleanupEal();
      return Fail(s.message());
    }
    drain.Start();

    // The audit trail (state_dir/audit.jsonl), mirrored to the event sinks.
    // One that cannot be read costs the trail, never the wire: logged, in
    // status, and the gateway runs on.
    const RoleTable roles = config->roles_configured ? RoleTable(config->roles) : RoleTable();
    std::unique_ptr<AuditLog> audit;
    {
      EventRecord control_line;
      control_line.kind = EventKind::kControlLine;
      auto opened = AuditLog::Open(config->state_dir + "/audit.jsonl",
                                   [&drain, control_line](const std::string& line) mutable {
                                     control_line.ts_ns = static_cast<uint64_t>(
                                         std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
                                     drain.Post(control_line, line);
                                   });
      if (!opened.ok()) {
        LogError("audit: ", opened.status().message(), "; running without an audit trail");
      } else {
        audit = std::move(*opened);
        audit->Append({"", "gateway", "start", policies.Status().version, "ok",
                       absl::StrCat(loaded, roles.enabled() ? "; roles on" : "; roles off (every caller may do everything)")});
        if (const AuditHealth h = audit->health(); !h.error.empty()) LogError("audit: ", h.error);
      }
    }
    LogInfo(roles.enabled() ? absl::StrCat("control.roles: ", roles.roles().size(), " role(s); every RPC is authorized")
                            : std::string("control.roles not set: every caller may do everything"));

    policies.SetSelfActionHook([&audit](const std::string& action, const std::string& target,
                                        const std::string& detail) {
      if (audit != nullptr) audit->Append({"", "gateway", action, target, "ok", detail});
    });

    // Time-limited grants (state_dir/grants.json): the persisted ones are
    // applied (those that ended while the gateway was down dropped and
    // reported) before the workers judge a packet. Start, end and
    // revocation are events, and go to on_grant_change.
    grants::GrantApi grant_api(&policies, &drain, grants::GrantApi::Options{config->state_dir});
    // Grants given and revoked are audited by the service with the caller's
    // identity; an expiry is the gateway's own act, audited here.
    grant_api.SetChangeHook([&audit](std::string_view action, std::string_view target, std::string_view detail) {
      LogInfo(std::string(action), " ", std::string(target), ": ", std::string(detail));
      if (audit != nullptr && action == "grant_expired") {
        audit->Append({"", "gateway", "grant-expired", std::string(target), "ok", std::string(detail)});
      }
    });
    LogInfo(grant_api.Start());

    Watchdog watchdog(
        dp.worker_count(), [&dp](size_t i) { return dp.heartbeat(i); },
        [&config, &dp](size_t i, std::chrono::milliseconds age) {
          LogError("worker ", i, " (lcore ", config->workers[i], ") stalled: no heartbeat for ", age.count(),
                   " ms; failure policy ", std::string(FailurePolicyName(config->failure)),
                   ": exiting so the supervisor ", config->failure == FailurePolicy::kOpen
                                                        ? "bypasses the wire"
                                                        : "keeps the wire cut",
                   " and restarts conduitd");
          std::fputs(FormatCounters(dp.CountersPerWorker(), config->workers).c_str(), stdout);
          std::fflush(stdout);
          std::_Exit(kExitWorkerStalled);  // a stuck lcore cannot be joined: leave now
        },
        std::chrono::milliseconds(config->watchdog_stall_ms));

    GatewayHooks hooks;
    hooks.roles = &roles;
    hooks.audit = audit.get();
    hooks.counters = [&dp] { return dp.CountersPerWorker(); };
    hooks.workers = [&dp, &watchdog, &config] {
      std::vector<WorkerHealth> out;
      const auto ages = watchdog.Ages();
      for (size_t i = 0; i < dp.worker_count(); ++i) {
        const uint64_t age = static_cast<uint64_t>(ages[i].count());
        out.push_back(WorkerHealth{config->workers[i], age < uint64_t(config->watchdog_stall_ms) * 1000,
                                   dp.worker_overloaded(i), age});
      }
      return out;
    };
    hooks.bypass_reason = [&dp] {
      for (size_t i = 0; i < dp.worker_count(); ++i) {
        if (dp.worker_overloaded(i)) return std::string("overload: worker ") + std::to_string(i) + " bypasses inspection";
      }
      return std::string();
    };
    hooks.failure_policy = std::string(FailurePolicyName(config->failure));
    if (baseline_api != nullptr) {
      hooks.get_baseline = [&baseline_api](const v1::GetBaselineRequest& r, v1::Baseline* out) {
        return ToGrpc(baseline_api->Get(r, out));
      };
      hooks.accept_baseline = [&baseline_api](const v1::AcceptBaselineRequest& r,
                                              v1::AcceptBaselineResponse* out) {
        return ToGrpc(baseline_api->Accept(r, out));
      };
    }
    hooks.grant = [&grant_api](const v1::GrantRequest& r, const std::string& identity, v1::GrantResponse* out) {
      return ToGrpc(grant_api.Grant(r, identity, out));
    };
    hooks.list_grants = [&grant_api](v1::GrantList* out) {
      grant_api.List(out);
      return grpc::Status::OK;
    };
    hooks.revoke = [&grant_api](const v1::RevokeRequest& r, const std::string& identity, v1::RevokeResponse* out) {
      return ToGrpc(grant_api.Revoke(r, identity, out));
    };
    if (syslog != nullptr) {
      hooks.syslog = [syslog, where = config->syslog](v1::SyslogStatus* out) {
        const SyslogSink::Counters c = syslog->counters();
        out->set_address(where.address);
        out->set_transport(where.transport);
        out->set_sent(c.sent);
        out->set_resent(c.resent);
        out->set_dropped(c.dropped);
        out->set_errors(c.errors);
        out->set_connects(c.connects);
      };
    }
    GatewayService service(&policies, &drain, hooks, config->workers);
    auto credentials = ServerCredentials(config->tls);
    if (!credentials.ok()) {
      drain.Stop();
      dataplane->reset();
      CleanupEal();
      return Fail(credentials.status().message());
    }
    grpc::ServerBuilder builder;
    int bound_port = 0;
    builder.AddListeningPort(config->control_listen, *credentials, &bound_port);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (server == nullptr || bound_port == 0) {
      drain.Stop();
      dataplane->reset();
      CleanupEal();
      return Fail(CannotListenMessage("control.listen", config->control_listen));
    }

    // metrics.listen: Prometheus and the status page. A port that cannot be
    // bound is a start-up error naming the field, like control.listen.
    std::unique_ptr<telemetry::RecentEvents> recent;
    std::unique_ptr<telemetry::TelemetryServer> metrics;
    if (!config->metrics_listen.empty()) {
      recent = std::make_unique<telemetry::RecentEvents>(&drain);
      telemetry::TelemetrySources sources;
      sources.status = [&service](v1::GatewayStatus* out) { service.FillStatus(out); };
      sources.events = [&drain] { return drain.counters(); };
      sources.recent = recent.get();
      if (baseline_api != nullptr) {
        sources.maps = [&baseline_api, &policies, &config] {
          std::vector<v1::Baseline> maps;
          const auto active = policies.ActiveSnapshot();
          std::vector<std::string> conduits;
          if (active) {
            for (const auto& c : active->conduits()) conduits.push_back(c.name());
          }
          if (conduits.empty()) conduits.push_back("");  // wire 0, no policy
          for (const std::string& name : conduits) {
            v1::GetBaselineRequest request;
            request.set_conduit(name);
            v1::Baseline map;
            if (baseline_api->Get(request, &map).ok()) maps.push_back(std::move(map));
          }
          return maps;
        };
      }
      auto started = telemetry::TelemetryServer::Start(config->metrics_listen, std::move(sources));
      if (!started.ok()) {
        server->Shutdown();
        recent.reset();
        drain.Stop();
        dataplane->reset();
        CleanupEal();
        return Fail(started.status().message());
      }
      metrics = std::move(*started);
      LogInfo("metrics and status page on http://", config->metrics_listen, "/");
    }

    if (absl::Status s = dp.Launch(); !s.ok()) {
      server->Shutdown();
      drain.Stop();
      dataplane->reset();
      CleanupEal();
      return Fail(s.message());
    }
    watchdog.Start();
    if (recorder != nullptr) recorder->Start();
    for (const Wire& w : dp.wires()) {
      LogInfo("wire ", w.name, ": port ", w.port_a, " <-> port ", w.port_b);
    }
    LogInfo("running with ", dp.worker_count(), " worker(s); control on ", config->control_listen,
            config->tls.cert.empty() ? " (plaintext)" : " (TLS)");

    for (;;) {
      siginfo_t info;
      const int sig = sigwaitinfo(&signals, &info);
      if (sig == SIGUSR1) {
        std::fputs(FormatCounters(dp.CountersPerWorker(), config->workers).c_str(), stdout);
        std::fflush(stdout);
        continue;
      }
      if (sig == SIGUSR2) {
        LogWarning("test hook: stalling worker 0");
        dp.StallWorkerForTest(0);
        continue;
      }
      if (sig == SIGINT || sig == SIGTERM) {
        LogInfo("received ", strsignal(sig), ", stopping");
        if (audit != nullptr) audit->Append({"", "gateway", "stop", policies.Status().version, "ok", strsignal(sig)});
        break;
      }
    }
    // Stop taking requests, then the workers, then drain their last events.
    metrics.reset();
    recent.reset();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    watchdog.Stop();
    // The last observations go into the store before the workers stop for good.
    if (recorder != nullptr) recorder->Stop();
    dp.Stop();
    drain.Stop();
    std::fputs(FormatCounters(dp.CountersPerWorker(), config->workers).c_str(), stdout);
    std::fflush(stdout);
  }
  CleanupEal();
  return exit_code;
}

}  // namespace
}  // namespace conduit

int main(int argc, char** argv) { return conduit::Run(argc, argv); }
