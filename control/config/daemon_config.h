// The appliance's one file: conduitd --config FILE.
//
// Field names are an interface (DESIGN.md, "The daemon config"). Unknown
// fields are errors, so a misspelt option never silently does nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "access/roles.h"
#include "port/wire.h"

namespace conduit {

enum class FailurePolicy : uint8_t { kOpen, kClosed };
enum class LogLevel : uint8_t { kError, kWarning, kInfo, kDebug };

struct TlsConfig {
  std::string cert;
  std::string key;
  std::string client_ca;  // set: mutual TLS
};

struct SyslogConfig {
  std::string address;             // host:port; empty: no syslog sink
  std::string transport = "udp";   // udp | tcp | tls (RFC 5425)
  std::string format = "rfc5424";  // rfc5424 (the JSON line as MSG) | cef
  std::string ca;                  // tls: the CA the SIEM's certificate must chain to
  std::string cert;                // tls, optional: client certificate ...
  std::string key;                 // ... and its key
  std::string server_name;         // tls, optional: name to verify; default the address's host
};

// Read by deploy/supervisor/conduit-supervisor, not by conduitd; parsed here
// so that one validator owns the whole file.
struct SupervisorConfig {
  std::string bypass_on;    // shell command: hardware bypass NICs carry the wire
  std::string bypass_off;   // shell command: hand the wire back to conduitd
  uint32_t probe_interval_ms = 200;
  uint32_t probe_timeout_ms = 1000;
  uint32_t probe_failures = 3;   // this many failed probes in a row: hung
  uint32_t restart_backoff_min_ms = 200;
  uint32_t restart_backoff_max_ms = 5000;
  std::vector<std::string> probe_args;  // extra conduitctl args (TLS: --ca/--cert/--key)
};

// The baseline store (control/baseline/): what the workers observed, kept
// in state_dir/baseline.sqlite.
struct BaselineConfig {
  uint32_t retention_days = 90;   // tuples not seen for this long are deleted
  uint32_t stable_days = 7;       // no new tuple for this long: "stable"
  uint32_t flush_seconds = 10;    // how often the workers' tables are merged in
  uint32_t observe_capacity = 0;  // tuples per worker table; 0: the dataplane's default
};

struct DaemonConfig {
  std::vector<std::string> eal;    // passed to rte_eal_init
  std::vector<unsigned> workers;   // lcores running workers
  std::vector<WireSpec> wires;
  uint32_t mempool_mbufs = 8191;
  uint32_t mempool_cache = 256;
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t burst = 32;
  uint32_t flow_capacity = 65536;       // flows per worker
  uint32_t flow_idle_timeout_s = 300;   // an idle flow may be replaced after this
  std::string control_listen = "127.0.0.1:50051";
  TlsConfig tls;
  // control.roles (DESIGN.md, "Ownership and change control"); unset: every
  // caller may do everything (lab, plaintext), and status says so.
  bool roles_configured = false;
  std::vector<Role> roles;
  std::string state_dir = "/var/lib/conduit";
  std::string policy;              // optional start-up policy file
  std::string events_jsonl;
  bool events_allowed = false;       // also an event for every allowed operation
  SyslogConfig syslog;
  FailurePolicy failure = FailurePolicy::kOpen;
  LogLevel log_level = LogLevel::kInfo;
  SupervisorConfig supervisor;
  BaselineConfig baseline;
  // metrics.listen: /metrics and the status page (control/telemetry); "" off.
  std::string metrics_listen;
  // A worker whose heartbeat has not moved for this long is stalled: the
  // process exits so the supervisor applies the failure policy to the wire.
  uint32_t watchdog_stall_ms = 1000;
  // Overload bypass watermarks (dataplane/bypass/overload.h).
  uint32_t overload_enter_full_bursts = 512;
  uint32_t overload_exit_calm_polls = 64;
  uint32_t overload_cycle_budget = 0;
};

// Errors read "<field path>: <reason>", e.g. "wires[0].b: missing".
absl::StatusOr<DaemonConfig> ParseDaemonConfig(std::string_view yaml);
absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path);

// The EAL arguments: the config's `eal:` list, plus an lcore list (the main
// lcore and the workers) and a log level unless the list already has them.
std::vector<std::string> EalArguments(const DaemonConfig& config);

std::string_view FailurePolicyName(FailurePolicy f);

}  // namespace conduit
