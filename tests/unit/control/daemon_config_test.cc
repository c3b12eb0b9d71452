#include "config/daemon_config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace conduit {
namespace {

constexpr const char* kGood = R"(
eal: [--no-huge, -m, "512", --file-prefix, lab, --no-pci]
workers: [1]
wires:
  - name: corp-plant
    a: "net_af_packet0,iface=gw-corp"
    b: "net_af_packet1,iface=gw-plant"
mempool: {mbufs: 8191, cache: 256}
queues: {rx_desc: 1024, tx_desc: 1024, burst: 32}
control:
  listen: "127.0.0.1:50051"
  tls: {cert: "", key: "", client_ca: ""}
  state_dir: /var/lib/conduit
policy: deploy/examples/lab-policy.yaml
events:
  jsonl: /var/log/conduit/events.jsonl
  syslog: {address: "127.0.0.1:5514", transport: udp}
failure: open
log_level: info
)";

std::string ErrorOf(const std::string& yaml) {
  auto c = ParseDaemonConfig(yaml);
  return c.ok() ? "ok" : std::string(c.status().message());
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(DaemonConfig, TheDesignExampleLoads) {
  auto c = ParseDaemonConfig(kGood);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, std::vector<unsigned>{1});
  ASSERT_EQ(c->wires.size(), 1u);
  EXPECT_EQ(c->wires[0].name, "corp-plant");
  EXPECT_EQ(c->wires[0].b, "net_af_packet1,iface=gw-plant");
  EXPECT_EQ(c->mempool_mbufs, 8191u);
  EXPECT_EQ(c->burst, 32);
  EXPECT_EQ(c->control_listen, "127.0.0.1:50051");
  EXPECT_EQ(c->syslog.address, "127.0.0.1:5514");
  EXPECT_EQ(c->failure, FailurePolicy::kOpen);
  EXPECT_EQ(c->log_level, LogLevel::kInfo);
}

TEST(DaemonConfig, TheShippedExampleLoads) {
  std::ifstream in(std::string(CONDUIT_SOURCE_ROOT) + "/deploy/examples/conduitd-lab.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto c = ParseDaemonConfig(text.str());
  EXPECT_TRUE(c.ok()) << c.status();
}

TEST(DaemonConfig, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf("workers: [1]\nwires: []\n"), "wires: expected a non-empty list of port pairs");
  EXPECT_EQ(ErrorOf("wires: [{a: x, b: y}]\n"),
            "workers: expected a non-empty list of worker lcores, e.g. [1]");
  EXPECT_EQ(ErrorOf("workers: [1]\nwires: [{a: x}]\n"), "wires[0].b: missing (a DPDK device string)");
  EXPECT_EQ(ErrorOf("workers: [1]\nwires: [{a: x, b: x}]\n"), "wires[0].b: device \"x\" is used twice");
  EXPECT_EQ(ErrorOf("workers: [1, 1]\nwires: [{a: x, b: y}]\n"), "workers[1]: lcore 1 listed twice");
  EXPECT_EQ(ErrorOf("workers: [one]\nwires: [{a: x, b: y}]\n"),
            "workers[0]: expected a non-negative integer (line 1)");
  EXPECT_NE(ErrorOf(Replace(kGood, "failure: open", "failure: sometimes")).find("failure: \"sometimes\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kGood, "127.0.0.1:50051", "localhost")).find("control.listen"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kGood, "burst: 32", "burst: 500")).find("queues.burst: 500 is out of range"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kGood, "mbufs: 8191", "mbufs: 2000")).find("mempool.mbufs: 2000 mbufs are too few"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kGood, "transport: udp", "transport: sctp")).find("events.syslog.transport"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(kGood, "cert: \"\"", "cert: /etc/c.pem")).find("control.tls: cert and key"),
            std::string::npos);
}

// events.syslog (DESIGN.md "Telemetry"): transports, formats, TLS files.
TEST(DaemonConfig, SyslogTlsAndCef) {
  const auto syslog = [](const std::string& body) {
    return Replace(kGood, "syslog: {address: \"127.0.0.1:5514\", transport: udp}", "syslog: {" + body + "}");
  };
  auto c = ParseDaemonConfig(syslog(
      "address: \"siem.plant:6514\", transport: tls, format: cef, ca: /etc/conduit/siem-ca.pem, "
      "cert: /etc/conduit/gw.pem, key: /etc/conduit/gw.key, server_name: siem.plant"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->syslog.transport, "tls");
  EXPECT_EQ(c->syslog.format, "cef");
  EXPECT_EQ(c->syslog.ca, "/etc/conduit/siem-ca.pem");
  EXPECT_EQ(c->syslog.cert, "/etc/conduit/gw.pem");
  EXPECT_EQ(c->syslog.key, "/etc/conduit/gw.key");
  EXPECT_EQ(c->syslog.server_name, "siem.plant");
  c = ParseDaemonConfig(syslog("address: \"siem:514\", transport: tcp"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->syslog.format, "rfc5424");  // the default

  EXPECT_EQ(ErrorOf(syslog("address: \"siem:6514\", transport: tls")),
            "events.syslog.ca: missing: transport tls verifies the SIEM's certificate against this CA file");
  EXPECT_EQ(ErrorOf(syslog("address: \"siem:514\", format: leef")),
            "events.syslog.format: \"leef\": expected rfc5424 or cef");
  EXPECT_EQ(ErrorOf(syslog("address: \"siem:514\", transport: sctp")),
            "events.syslog.transport: \"sctp\": expected udp, tcp or tls");
  EXPECT_EQ(ErrorOf(syslog("address: \"siem:514\", transport: tcp, ca: /ca.pem")),
            "events.syslog.ca: only with transport tls (transport is tcp)");
  EXPECT_EQ(ErrorOf(syslog("address: \"siem:6514\", transport: tls, ca: /ca.pem, cert: /c.pem")),
            "events.syslog.key: a client certificate needs both cert and key");
  EXPECT_NE(ErrorOf(syslog("transport: tcp")).find("events.syslog.address: missing"), std::string::npos);
  EXPECT_NE(ErrorOf(syslog("address: \"siem:514\", tls: true")).find("events.syslog.tls: unknown field"),
            std::string::npos);
}

TEST(DaemonConfig, AllowedEventsAreOptIn) {
  auto off = ParseDaemonConfig(kGood);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->events_allowed);
  auto on = ParseDaemonConfig(Replace(kGood, "  jsonl: /var/log/conduit/events.jsonl",
                                      "  jsonl: /var/log/conduit/events.jsonl\n  allowed: true"));
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->events_allowed);
  EXPECT_NE(ErrorOf(Replace(kGood, "  jsonl: /var/log/conduit/events.jsonl",
                            "  jsonl: /var/log/conduit/events.jsonl\n  allowed: sometimes"))
                .find("events.allowed: expected true or false"),
            std::string::npos);
}

TEST(DaemonConfig, UnknownFieldsAreErrorsNotIgnored) {
  const std::string e = ErrorOf(Replace(kGood, "log_level: info", "log_levle: info"));
  EXPECT_NE(e.find("log_levle: unknown field"), std::string::npos) << e;
  const std::string q = ErrorOf(Replace(kGood, "burst: 32", "brust: 32"));
  EXPECT_NE(q.find("queues.brust: unknown field"), std::string::npos) << q;
}

TEST(DaemonConfig, SupervisorSectionIsParsedAndValidated) {
  auto defaults = ParseDaemonConfig(kGood);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->supervisor.probe_interval_ms, 200u);
  EXPECT_EQ(defaults->supervisor.restart_backoff_max_ms, 5000u);
  EXPECT_TRUE(defaults->supervisor.bypass_on.empty());

  const std::string with = std::string(kGood) +
      "supervisor: {bypass_on: \"bpctl on\", bypass_off: \"bpctl off\", probe_interval_ms: 100,\n"
      "             probe_failures: 5, restart_backoff_ms: [300, 9000], probe_args: [--ca, ca.pem]}\n";
  auto c = ParseDaemonConfig(with);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->supervisor.bypass_on, "bpctl on");
  EXPECT_EQ(c->supervisor.bypass_off, "bpctl off");
  EXPECT_EQ(c->supervisor.probe_interval_ms, 100u);
  EXPECT_EQ(c->supervisor.probe_timeout_ms, 1000u);
  EXPECT_EQ(c->supervisor.probe_failures, 5u);
  EXPECT_EQ(c->supervisor.restart_backoff_min_ms, 300u);
  EXPECT_EQ(c->supervisor.restart_backoff_max_ms, 9000u);
  EXPECT_EQ(c->supervisor.probe_args, (std::vector<std::string>{"--ca", "ca.pem"}));

  EXPECT_NE(ErrorOf(Replace(with, "[300, 9000]", "[9000, 300]"))
                .find("supervisor.restart_backoff_ms: min is greater than max"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(with, "[300, 9000]", "500")).find("supervisor.restart_backoff_ms: expected [min, max]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(with, "probe_failures: 5", "probe_failures: 0"))
                .find("supervisor.probe_failures: 0 is out of range"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Replace(with, "bypass_off:", "bypas_off:")).find("supervisor.bypas_off: unknown field"),
            std::string::npos);
}

TEST(DaemonConfig, BrokenYamlIsAnErrorNotACrash) {
  EXPECT_NE(ErrorOf("workers: [1\nwires:").find("not valid YAML"), std::string::npos);
  EXPECT_EQ(ErrorOf("- just\n- a list\n"), "the config must be a YAML mapping");
  EXPECT_EQ(ErrorOf(""), "the config must be a YAML mapping");
}

TEST(DaemonConfig, EalArgumentsAddLcoresAndLogLevel) {
  auto c = ParseDaemonConfig(kGood);
  ASSERT_TRUE(c.ok());
  const auto args = EalArguments(*c);
  auto at = std::find(args.begin(), args.end(), "-l");
  ASSERT_NE(at, args.end());
  EXPECT_EQ(*(at + 1), "0,1");
  EXPECT_NE(std::find(args.begin(), args.end(), "--log-level=notice"), args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "--no-huge"), args.end());

  c->eal.push_back("-l");
  c->eal.push_back("2-3");
  const auto given = EalArguments(*c);
  EXPECT_EQ(std::count(given.begin(), given.end(), "-l"), 1);  // the operator's list wins
}

TEST(DaemonConfig, RolesBindIdentitiesToPermissionsOverMutualTls) {
  const std::string mtls = Replace(kGood, R"(tls: {cert: "", key: "", client_ca: ""})",
                                   R"(tls: {cert: s.pem, key: s.key, client_ca: ca.pem}
  roles:
    engineering: {identities: [plant-eng], may: [read, push, mode, grant, confirm]}
    security: {identities: [soc, soc-backup], may: [read, events, audit]})");
  auto c = ParseDaemonConfig(mtls);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->roles_configured);
  ASSERT_EQ(c->roles.size(), 2u);
  EXPECT_EQ(c->roles[1].name, "security");
  EXPECT_EQ(c->roles[1].identities, (std::vector<std::string>{"soc", "soc-backup"}));
  EXPECT_EQ(c->roles[0].may.size(), 5u);
  const RoleTable table(c->roles);
  Caller soc{"soc", {"soc"}, "peer"};
  EXPECT_TRUE(table.Allows(soc, Permission::kAudit));
  EXPECT_FALSE(table.Allows(soc, Permission::kPush));
  EXPECT_FALSE(table.Allows(Caller{}, Permission::kRead));  // no certificate, no role
  EXPECT_TRUE(RoleTable().Allows(Caller{}, Permission::kPush));  // roles off: everything

  EXPECT_EQ(ErrorOf(Replace(mtls, "may: [read, events, audit]", "may: [read, sudo]")),
            "control.roles.security.may[1]: unknown permission \"sudo\" (one of: read, events, push, "
            "confirm, mode, grant, audit)");
  EXPECT_EQ(ErrorOf(Replace(mtls, "identities: [soc, soc-backup], ", "")),
            "control.roles.security.identities: missing");
  EXPECT_EQ(ErrorOf(Replace(mtls, ", client_ca: ca.pem", "")),
            "control.roles: roles bind client certificate identities: set control.tls.client_ca (mutual TLS)");
}

TEST(DaemonConfig, MetricsListen) {
  auto c = ParseDaemonConfig(std::string(kGood) + "metrics: {listen: \"127.0.0.1:9460\"}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9460");
  EXPECT_EQ(ErrorOf(std::string(kGood) + "metrics: {listen: nowhere}\n"),
            "metrics.listen: \"nowhere\" is not host:port");
  EXPECT_NE(ErrorOf(std::string(kGood) + "metrics: {lisen: \"127.0.0.1:1\"}\n").find("metrics.lisen: unknown field"),
            std::string::npos);
}

}  // namespace
}  // namespace conduit
