#include "config/daemon_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace conduit {
namespace {

constexpr unsigned kMaxLcore = 128;  // RTE_MAX_LCORE in Debian's DPDK
constexpr size_t kMaxWires = 8;      // kMaxPathsPerWorker / 2

absl::Status FieldError(absl::string_view path, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", reason));
}

std::string Where(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return "";
  return absl::StrCat(" (line ", mark.line + 1, ")");
}

// Rejects keys outside `known`: a typo must not be silently ignored.
absl::Status CheckKeys(const YAML::Node& map, absl::string_view path,
                       std::initializer_list<absl::string_view> known) {
  if (!map.IsMap()) return FieldError(path, absl::StrCat("expected a mapping", Where(map)));
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return FieldError(path.empty() ? key : absl::StrCat(path, ".", key),
                        absl::StrCat("unknown field", Where(kv.first), "; expected one of: ",
                                     absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadString(const YAML::Node& node, absl::string_view path) {
  if (!node.IsScalar()) return FieldError(path, absl::StrCat("expected a string", Where(node)));
  return node.Scalar();
}

absl::StatusOr<uint64_t> ReadUint(const YAML::Node& node, absl::string_view path,
                                  uint64_t min, uint64_t max) {
  uint64_t value;
  if (!node.IsScalar() || !absl::SimpleAtoi(node.Scalar(), &value)) {
    return FieldError(path, absl::StrCat("expected a non-negative integer", Where(node)));
  }
  if (value < min || value > max) {
    return FieldError(path, absl::StrCat(value, " is out of range [", min, ", ", max, "]",
                                         Where(node)));
  }
  return value;
}

absl::Status ParseWires(const YAML::Node& node, DaemonConfig& config) {
  if (!node.IsSequence() || node.size() == 0) {
    return FieldError("wires", "expected a non-empty list of port pairs");
  }
  if (node.size() > kMaxWires) {
    return FieldError("wires", absl::StrCat("at most ", kMaxWires, " wires are supported"));
  }
  std::set<std::string> names, devices;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = absl::StrCat("wires[", i, "]");
    const YAML::Node w = node[i];
    RETURN_IF_ERROR(CheckKeys(w, path, {"name", "a", "b"}));
    WireSpec spec;
    spec.name = absl::StrCat("wire", i);
    if (w["name"]) { ASSIGN_OR_RETURN(spec.name, ReadString(w["name"], path + ".name")); }
    for (const char* side : {"a", "b"}) {
      const std::string side_path = absl::StrCat(path, ".", side);
      if (!w[side]) return FieldError(side_path, "missing (a DPDK device string)");
      ASSIGN_OR_RETURN(std::string dev, ReadString(w[side], side_path));
      if (dev.empty()) return FieldError(side_path, "empty device string");
      if (!devices.insert(dev.substr(0, dev.find(','))).second) {
        return FieldError(side_path, absl::StrCat("device \"", dev, "\" is used twice"));
      }
      (side[0] == 'a' ? spec.a : spec.b) = dev;
    }
    if (!names.insert(spec.name).second) {
      return FieldError(path + ".name", absl::StrCat("duplicate wire name \"", spec.name, "\""));
    }
    config.wires.push_back(std::move(spec));
  }
  return absl::OkStatus();
}

absl::Status ParseSupervisor(const YAML::Node& s, SupervisorConfig& config) {
  RETURN_IF_ERROR(CheckKeys(s, "supervisor", {"bypass_on", "bypass_off", "probe_interval_ms",
                                              "probe_timeout_ms", "probe_failures",
                                              "restart_backoff_ms", "probe_args"}));
  if (s["bypass_on"]) { ASSIGN_OR_RETURN(config.bypass_on, ReadString(s["bypass_on"], "supervisor.bypass_on")); }
  if (s["bypass_off"]) { ASSIGN_OR_RETURN(config.bypass_off, ReadString(s["bypass_off"], "supervisor.bypass_off")); }
  if (s["probe_interval_ms"]) { ASSIGN_OR_RETURN(config.probe_interval_ms, ReadUint(s["probe_interval_ms"], "supervisor.probe_interval_ms", 10, 60000)); }
  if (s["probe_timeout_ms"]) { ASSIGN_OR_RETURN(config.probe_timeout_ms, ReadUint(s["probe_timeout_ms"], "supervisor.probe_timeout_ms", 100, 60000)); }
  if (s["probe_failures"]) { ASSIGN_OR_RETURN(config.probe_failures, ReadUint(s["probe_failures"], "supervisor.probe_failures", 1, 100)); }
  if (const YAML::Node b = s["restart_backoff_ms"]) {
    if (!b.IsSequence() || b.size() != 2) {
      return FieldError("supervisor.restart_backoff_ms", absl::StrCat("expected [min, max]", Where(b)));
    }
    ASSIGN_OR_RETURN(config.restart_backoff_min_ms, ReadUint(b[0], "supervisor.restart_backoff_ms[0]", 0, 3600000));
    ASSIGN_OR_RETURN(config.restart_backoff_max_ms, ReadUint(b[1], "supervisor.restart_backoff_ms[1]", 0, 3600000));
    if (config.restart_backoff_min_ms > config.restart_backoff_max_ms) {
      return FieldError("supervisor.restart_backoff_ms", "min is greater than max");
    }
  }
  if (const YAML::Node a = s["probe_args"]) {
    if (!a.IsSequence()) return FieldError("supervisor.probe_args", "expected a list of conduitctl arguments");
    for (size_t i = 0; i < a.size(); ++i) {
      ASSIGN_OR_RETURN(std::string arg, ReadString(a[i], absl::StrCat("supervisor.probe_args[", i, "]")));
      config.probe_args.push_back(std::move(arg));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadStringList(const YAML::Node& node, absl::string_view path) {
  if (!node.IsSequence()) return FieldError(path, absl::StrCat("expected a list", Where(node)));
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(std::string v, ReadString(node[i], absl::StrCat(path, "[", i, "]")));
    if (v.empty()) return FieldError(absl::StrCat(path, "[", i, "]"), "empty");
    out.push_back(std::move(v));
  }
  return out;
}

// control.roles: {name: {identities: [CN or SAN], may: [permission]}}.
// Roles bind certificate identities, so they need mutual TLS: without client
// certificates nobody could hold a role.
absl::Status ParseRoles(const YAML::Node& roles, DaemonConfig& config) {
  if (!roles.IsMap()) return FieldError("control.roles", absl::StrCat("expected a map of role names", Where(roles)));
  if (config.tls.client_ca.empty()) {
    return FieldError("control.roles",
                      "roles bind client certificate identities: set control.tls.client_ca (mutual TLS)");
  }
  config.roles_configured = true;
  for (const auto& kv : roles) {
    Role role;
    role.name = kv.first.Scalar();
    const std::string path = absl::StrCat("control.roles.", role.name);
    if (!kv.second.IsMap()) return FieldError(path, absl::StrCat("expected {identities: [...], may: [...]}", Where(kv.second)));
    RETURN_IF_ERROR(CheckKeys(kv.second, path, {"identities", "may"}));
    if (!kv.second["identities"]) return FieldError(absl::StrCat(path, ".identities"), "missing");
    if (!kv.second["may"]) return FieldError(absl::StrCat(path, ".may"), "missing");
    ASSIGN_OR_RETURN(role.identities, ReadStringList(kv.second["identities"], absl::StrCat(path, ".identities")));
    ASSIGN_OR_RETURN(std::vector<std::string> may, ReadStringList(kv.second["may"], absl::StrCat(path, ".may")));
    for (size_t i = 0; i < may.size(); ++i) {
      const std::optional<Permission> p = PermissionFromName(may[i]);
      if (!p) {
        return FieldError(absl::StrCat(path, ".may[", i, "]"),
                          absl::StrCat("unknown permission \"", may[i], "\" (one of: ",
                                       std::string(PermissionNames()), ")"));
      }
      role.may.push_back(*p);
    }
    config.roles.push_back(std::move(role));
  }
  return absl::OkStatus();
}

// events.syslog (DESIGN.md, "Telemetry"). The TLS files are read when
// conduitd starts the sink; here only what the text alone can tell.
absl::Status ParseSyslog(const YAML::Node& s, SyslogConfig& config) {
  RETURN_IF_ERROR(CheckKeys(s, "events.syslog",
                            {"address", "transport", "format", "ca", "cert", "key", "server_name"}));
  const auto read = [&s](const char* key, std::string& out) -> absl::Status {
    if (!s[key]) return absl::OkStatus();
    ASSIGN_OR_RETURN(out, ReadString(s[key], absl::StrCat("events.syslog.", key)));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(read("address", config.address));
  RETURN_IF_ERROR(read("transport", config.transport));
  RETURN_IF_ERROR(read("format", config.format));
  RETURN_IF_ERROR(read("ca", config.ca));
  RETURN_IF_ERROR(read("cert", config.cert));
  RETURN_IF_ERROR(read("key", config.key));
  RETURN_IF_ERROR(read("server_name", config.server_name));
  if (config.address.empty()) return FieldError("events.syslog.address", absl::StrCat("missing", Where(s)));
  if (config.transport != "udp" && config.transport != "tcp" && config.transport != "tls") {
    return FieldError("events.syslog.transport", absl::StrCat("\"", config.transport,
                                                              "\": expected udp, tcp or tls"));
  }
  if (config.format != "rfc5424" && config.format != "cef") {
    return FieldError("events.syslog.format", absl::StrCat("\"", config.format,
                                                           "\": expected rfc5424 or cef"));
  }
  if (config.transport == "tls") {
    if (config.ca.empty()) {
      return FieldError("events.syslog.ca", "missing: transport tls verifies the SIEM's certificate against this CA file");
    }
    if (config.cert.empty() != config.key.empty()) {
      return FieldError(config.cert.empty() ? "events.syslog.cert" : "events.syslog.key",
                        "a client certificate needs both cert and key");
    }
  } else {
    for (const char* key : {"ca", "cert", "key", "server_name"}) {
      if (s[key]) {
        return FieldError(absl::StrCat("events.syslog.", key),
                          absl::StrCat("only with transport tls (transport is ", config.transport, ")"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParseRoot(const YAML::Node& root, DaemonConfig& config) {
  RETURN_IF_ERROR(CheckKeys(root, "", {"eal", "workers", "wires", "mempool", "queues", "flows",
                                       "control", "policy", "events", "failure",
                                       "log_level", "supervisor", "watchdog", "overload",
                                       "baseline", "metrics"}));
  if (const YAML::Node eal = root["eal"]) {
    if (!eal.IsSequence()) return FieldError("eal", "expected a list of EAL arguments");
    for (size_t i = 0; i < eal.size(); ++i) {
      ASSIGN_OR_RETURN(std::string arg, ReadString(eal[i], absl::StrCat("eal[", i, "]")));
      config.eal.push_back(std::move(arg));
    }
  }

  const YAML::Node workers = root["workers"];
  if (!workers || !workers.IsSequence() || workers.size() == 0) {
    return FieldError("workers", "expected a non-empty list of worker lcores, e.g. [1]");
  }
  std::set<unsigned> seen;
  for (size_t i = 0; i < workers.size(); ++i) {
    const std::string path = absl::StrCat("workers[", i, "]");
    ASSIGN_OR_RETURN(uint64_t lcore, ReadUint(workers[i], path, 0, kMaxLcore - 1));
    if (!seen.insert(lcore).second) return FieldError(path, absl::StrCat("lcore ", lcore, " listed twice"));
    config.workers.push_back(static_cast<unsigned>(lcore));
  }

  if (!root["wires"]) return FieldError("wires", "missing: at least one port pair is needed");
  RETURN_IF_ERROR(ParseWires(root["wires"], config));

  if (const YAML::Node m = root["mempool"]) {
    RETURN_IF_ERROR(CheckKeys(m, "mempool", {"mbufs", "cache"}));
    if (m["mbufs"]) { ASSIGN_OR_RETURN(config.mempool_mbufs, ReadUint(m["mbufs"], "mempool.mbufs", 1024, 16u << 20)); }
    if (m["cache"]) { ASSIGN_OR_RETURN(config.mempool_cache, ReadUint(m["cache"], "mempool.cache", 0, 512)); }
  }
  if (const YAML::Node q = root["queues"]) {
    RETURN_IF_ERROR(CheckKeys(q, "queues", {"rx_desc", "tx_desc", "burst"}));
    if (q["rx_desc"]) { ASSIGN_OR_RETURN(config.rx_desc, ReadUint(q["rx_desc"], "queues.rx_desc", 32, 32768)); }
    if (q["tx_desc"]) { ASSIGN_OR_RETURN(config.tx_desc, ReadUint(q["tx_desc"], "queues.tx_desc", 32, 32768)); }
    if (q["burst"]) { ASSIGN_OR_RETURN(config.burst, ReadUint(q["burst"], "queues.burst", 1, 64)); }
  }
  if (const YAML::Node m = root["metrics"]) {
    RETURN_IF_ERROR(CheckKeys(m, "metrics", {"listen"}));
    if (m["listen"]) {
      ASSIGN_OR_RETURN(config.metrics_listen, ReadString(m["listen"], "metrics.listen"));
      const size_t colon = config.metrics_listen.rfind(':');
      uint32_t port;
      if (colon == std::string::npos || !absl::SimpleAtoi(config.metrics_listen.substr(colon + 1), &port) ||
          port > 65535) {
        return FieldError("metrics.listen", absl::StrCat("\"", config.metrics_listen, "\" is not host:port"));
      }
    }
  }
  if (const YAML::Node b = root["baseline"]) {
    RETURN_IF_ERROR(CheckKeys(b, "baseline", {"retention_days", "stable_days", "flush_seconds",
                                              "observe_capacity"}));
    BaselineConfig& c = config.baseline;
    if (b["retention_days"]) { ASSIGN_OR_RETURN(c.retention_days, ReadUint(b["retention_days"], "baseline.retention_days", 1, 3650)); }
    if (b["stable_days"]) { ASSIGN_OR_RETURN(c.stable_days, ReadUint(b["stable_days"], "baseline.stable_days", 1, 365)); }
    if (b["flush_seconds"]) { ASSIGN_OR_RETURN(c.flush_seconds, ReadUint(b["flush_seconds"], "baseline.flush_seconds", 1, 3600)); }
    if (b["observe_capacity"]) { ASSIGN_OR_RETURN(c.observe_capacity, ReadUint(b["observe_capacity"], "baseline.observe_capacity", 1024, 1u << 22)); }
  }
  if (const YAML::Node f = root["flows"]) {
    RETURN_IF_ERROR(CheckKeys(f, "flows", {"capacity", "idle_timeout_s"}));
    if (f["capacity"]) { ASSIGN_OR_RETURN(config.flow_capacity, ReadUint(f["capacity"], "flows.capacity", 1024, 1u << 24)); }
    if (f["idle_timeout_s"]) { ASSIGN_OR_RETURN(config.flow_idle_timeout_s, ReadUint(f["idle_timeout_s"], "flows.idle_timeout_s", 1, 86400)); }
  }
  // Every RX and TX descriptor of every queue may hold an mbuf, plus each
  // worker's cache and in-flight burst: fewer mbufs would starve RX.
  const uint64_t queues = config.workers.size();
  const uint64_t needed = config.wires.size() * 2 * queues * (config.rx_desc + config.tx_desc) +
                          queues * (config.mempool_cache + 2 * config.burst);
  if (config.mempool_mbufs < needed) {
    return FieldError("mempool.mbufs",
                      absl::StrCat(config.mempool_mbufs, " mbufs are too few: ",
                                   config.wires.size() * 2, " ports x ", queues,
                                   " queues x (rx_desc + tx_desc) + caches need ", needed));
  }

  if (const YAML::Node c = root["control"]) {
    RETURN_IF_ERROR(CheckKeys(c, "control", {"listen", "tls", "state_dir", "roles"}));
    if (c["listen"]) {
      ASSIGN_OR_RETURN(config.control_listen, ReadString(c["listen"], "control.listen"));
      const size_t colon = config.control_listen.rfind(':');
      uint32_t port;
      if (colon == std::string::npos ||
          !absl::SimpleAtoi(config.control_listen.substr(colon + 1), &port) || port == 0 ||
          port > 65535) {
        return FieldError("control.listen", absl::StrCat("\"", config.control_listen,
                                                         "\" is not host:port"));
      }
    }
    if (const YAML::Node t = c["tls"]) {
      RETURN_IF_ERROR(CheckKeys(t, "control.tls", {"cert", "key", "client_ca"}));
      if (t["cert"]) { ASSIGN_OR_RETURN(config.tls.cert, ReadString(t["cert"], "control.tls.cert")); }
      if (t["key"]) { ASSIGN_OR_RETURN(config.tls.key, ReadString(t["key"], "control.tls.key")); }
      if (t["client_ca"]) { ASSIGN_OR_RETURN(config.tls.client_ca, ReadString(t["client_ca"], "control.tls.client_ca")); }
      if (config.tls.cert.empty() != config.tls.key.empty()) {
        return FieldError("control.tls", "cert and key must be set together");
      }
      if (!config.tls.client_ca.empty() && config.tls.cert.empty()) {
        return FieldError("control.tls.client_ca", "mutual TLS needs cert and key too");
      }
    }
    if (c["state_dir"]) { ASSIGN_OR_RETURN(config.state_dir, ReadString(c["state_dir"], "control.state_dir")); }
    if (const YAML::Node r = c["roles"]) RETURN_IF_ERROR(ParseRoles(r, config));
  }
  if (root["policy"]) { ASSIGN_OR_RETURN(config.policy, ReadString(root["policy"], "policy")); }
  if (const YAML::Node e = root["events"]) {
    RETURN_IF_ERROR(CheckKeys(e, "events", {"jsonl", "syslog", "allowed"}));
    if (e["allowed"]) {
      const std::string v = e["allowed"].IsScalar() ? e["allowed"].Scalar() : "";
      if (v != "true" && v != "false") return FieldError("events.allowed", "expected true or false");
      config.events_allowed = v == "true";
    }
    if (e["jsonl"]) { ASSIGN_OR_RETURN(config.events_jsonl, ReadString(e["jsonl"], "events.jsonl")); }
    if (const YAML::Node s = e["syslog"]) {
      RETURN_IF_ERROR(ParseSyslog(s, config.syslog));
    }
  }
  if (root["failure"]) {
    ASSIGN_OR_RETURN(std::string f, ReadString(root["failure"], "failure"));
    if (f == "open") config.failure = FailurePolicy::kOpen;
    else if (f == "closed") config.failure = FailurePolicy::kClosed;
    else return FieldError("failure", absl::StrCat("\"", f, "\": expected open or closed"));
  }
  if (root["log_level"]) {
    ASSIGN_OR_RETURN(std::string l, ReadString(root["log_level"], "log_level"));
    if (l == "error") config.log_level = LogLevel::kError;
    else if (l == "warning") config.log_level = LogLevel::kWarning;
    else if (l == "info") config.log_level = LogLevel::kInfo;
    else if (l == "debug") config.log_level = LogLevel::kDebug;
    else return FieldError("log_level", absl::StrCat("\"", l, "\": expected error, warning, info or debug"));
  }
  if (root["supervisor"]) RETURN_IF_ERROR(ParseSupervisor(root["supervisor"], config.supervisor));
  if (const YAML::Node w = root["watchdog"]) {
    RETURN_IF_ERROR(CheckKeys(w, "watchdog", {"stall_ms"}));
    if (w["stall_ms"]) { ASSIGN_OR_RETURN(config.watchdog_stall_ms, ReadUint(w["stall_ms"], "watchdog.stall_ms", 50, 60000)); }
  }
  if (const YAML::Node o = root["overload"]) {
    RETURN_IF_ERROR(CheckKeys(o, "overload", {"enter_full_bursts", "exit_calm_polls", "cycle_budget"}));
    if (o["enter_full_bursts"]) { ASSIGN_OR_RETURN(config.overload_enter_full_bursts, ReadUint(o["enter_full_bursts"], "overload.enter_full_bursts", 0, 1u << 24)); }
    if (o["exit_calm_polls"]) { ASSIGN_OR_RETURN(config.overload_exit_calm_polls, ReadUint(o["exit_calm_polls"], "overload.exit_calm_polls", 1, 1u << 24)); }
    if (o["cycle_budget"]) { ASSIGN_OR_RETURN(config.overload_cycle_budget, ReadUint(o["cycle_budget"], "overload.cycle_budget", 0, 1u << 30)); }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseDaemonConfig(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("not valid YAML: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("the config must be a YAML mapping");
  DaemonConfig config;
  try {
    RETURN_IF_ERROR(ParseRoot(root, config));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.what()));
  }
  return config;
}

absl::StatusOr<DaemonConfig> LoadDaemonConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseDaemonConfig(text.str());
}

std::vector<std::string> EalArguments(const DaemonConfig& config) {
  std::vector<std::string> args = config.eal;
  const auto has = [&](std::initializer_list<std::string_view> flags) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
      return std::any_of(flags.begin(), flags.end(), [&](std::string_view f) {
        return a == f || (a.starts_with(f) && a.size() > f.size() && a[f.size()] == '=');
      });
    });
  };
  if (!has({"-l", "-c", "--lcores"})) {
    // The main lcore runs control; pick the lowest lcore not given to a worker.
    unsigned main_lcore = 0;
    while (std::find(config.workers.begin(), config.workers.end(), main_lcore) !=
           config.workers.end()) {
      ++main_lcore;
    }
    std::vector<unsigned> lcores = config.workers;
    lcores.push_back(main_lcore);
    std::sort(lcores.begin(), lcores.end());
    args.insert(args.begin(), {"-l", absl::StrJoin(lcores, ","), "--main-lcore",
                               absl::StrCat(main_lcore)});
  }
  if (!has({"--log-level"})) {
    static constexpr const char* kLevels[] = {"error", "warning", "notice", "debug"};
    args.push_back(absl::StrCat("--log-level=", kLevels[static_cast<int>(config.log_level)]));
  }
  return args;
}

std::string_view FailurePolicyName(FailurePolicy f) {
  return f == FailurePolicy::kOpen ? "open" : "closed";
}

}  // namespace conduit
