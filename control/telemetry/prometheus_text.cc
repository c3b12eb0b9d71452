#include "telemetry/prometheus_text.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace conduit::telemetry {
namespace {

namespace v1 = conduit::v1;

class Writer {
 public:
  // One # HELP / # TYPE header per family, then its samples.
  void Family(absl::string_view name, absl::string_view type, absl::string_view help) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(absl::string_view name, absl::string_view labels, uint64_t value) {
    absl::StrAppend(&out_, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", value, "\n");
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Label(absl::string_view name, std::string_view value) {
  return absl::StrCat(name, "=\"", LabelValue(value), "\"");
}

// The normalizer's reasons (DESIGN.md, "Enforcement integrity"): not policy,
// not the TX queue, not a malformed header the policy drops.
bool IsEvasionReason(const std::string& reason) {
  return reason.rfind("bad_", 0) == 0 || reason.rfind("ip_", 0) == 0 || reason.rfind("tcp_", 0) == 0;
}

const char* ModeText(v1::Mode m) {
  switch (m) {
    case v1::MODE_ENFORCE: return "enforce";
    case v1::MODE_MONITOR: return "monitor";
    case v1::MODE_BYPASS: return "bypass";
    default: return "none";
  }
}

}  // namespace

std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string RenderPrometheus(const MetricsInput& input) {
  Writer w;
  const v1::GatewayStatus& s = *input.status;
  const v1::Counters& c = s.counters();

  // Sorted, so a scrape diff is readable and the order is stable.
  const std::map<std::string, uint64_t> totals(c.totals().begin(), c.totals().end());
  for (const auto& [name, value] : totals) {
    const std::string family = absl::StrCat("conduit_", name, "_total");
    w.Family(family, "counter", absl::StrCat("Conduit counter ", name, ", all workers (conduitctl counters)."));
    w.Sample(family, "", value);
  }
  for (const auto& [name, unused] : totals) {
    bool any = false;
    const std::string family = absl::StrCat("conduit_worker_", name, "_total");
    for (const v1::WorkerCounters& wc : c.workers()) {
      auto it = wc.values().find(name);
      if (it == wc.values().end()) continue;
      if (!any) w.Family(family, "counter", absl::StrCat("Conduit counter ", name, ", per worker lcore."));
      any = true;
      w.Sample(family, Label("lcore", std::to_string(wc.lcore())), it->second);
    }
  }

  const std::map<std::string, uint64_t> drops(c.dropped_by_reason().begin(), c.dropped_by_reason().end());
  w.Family("conduit_dropped_total", "counter", "Packets dropped, by reason.");
  for (const auto& [reason, value] : drops) w.Sample("conduit_dropped_total", Label("reason", reason), value);
  w.Family("conduit_evasion_drops_total", "counter",
           "Packets the normalizer dropped so the PLC executes only what was judged, by reason.");
  for (const auto& [reason, value] : drops) {
    if (IsEvasionReason(reason)) w.Sample("conduit_evasion_drops_total", Label("reason", reason), value);
  }

  const std::map<std::string, uint64_t> malformed(c.malformed_by_reason().begin(),
                                                  c.malformed_by_reason().end());
  w.Family("conduit_malformed_pdus_total", "counter",
           "Packets with a PDU whose framer or decoder refused it (judged unparsable), by the check.");
  for (const auto& [reason, value] : malformed) {
    w.Sample("conduit_malformed_pdus_total", Label("reason", reason), value);
  }

  w.Family("conduit_bypass", "gauge", "1 while the gateway forwards without inspecting (reason says why).");
  w.Sample("conduit_bypass", s.bypass().empty() ? "" : Label("reason", s.bypass()), s.bypass().empty() ? 0 : 1);
  w.Family("conduit_worker_overloaded", "gauge", "1 while a worker bypasses inspection under overload.");
  for (const v1::WorkerStatus& ws : s.workers()) {
    w.Sample("conduit_worker_overloaded", Label("lcore", std::to_string(ws.lcore())), ws.bypass() ? 1 : 0);
  }
  w.Family("conduit_worker_healthy", "gauge", "1 while a worker's heartbeat moves.");
  for (const v1::WorkerStatus& ws : s.workers()) {
    w.Sample("conduit_worker_healthy", Label("lcore", std::to_string(ws.lcore())), ws.healthy() ? 1 : 0);
  }

  w.Family("conduit_policy_info", "gauge", "The active policy (version \"\" when none is loaded).");
  w.Sample("conduit_policy_info",
           absl::StrCat(Label("version", s.policy_version()), ",", Label("hash", s.policy_hash()), ",",
                        Label("mode", ModeText(s.mode())), ",", Label("failure", s.failure())),
           1);
  w.Family("conduit_policy_confirm_pending", "gauge", "1 while a pushed policy awaits confirmation.");
  w.Sample("conduit_policy_confirm_pending", "", s.confirm_deadline_unix_ms() != 0 ? 1 : 0);

  // Rule hits: the busiest max_rules rules by name, the rest summed.
  std::vector<const v1::RuleHit*> rules;
  for (const v1::RuleHit& r : s.rule_hits()) rules.push_back(&r);
  std::stable_sort(rules.begin(), rules.end(),
                   [](const v1::RuleHit* a, const v1::RuleHit* b) { return a->hits() > b->hits(); });
  w.Family("conduit_rule_hits_total", "counter", "How often each rule of the active policy decided.");
  uint64_t other = 0;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (i < input.max_rules) {
      w.Sample("conduit_rule_hits_total", Label("rule", rules[i]->id()), rules[i]->hits());
    } else {
      other += rules[i]->hits();
    }
  }
  if (rules.size() > input.max_rules) w.Sample("conduit_rule_hits_total", Label("rule", "_other"), other);

  const EventDrainCounters& e = input.events;
  w.Family("conduit_events_written_total", "counter", "Event lines written to the sinks.");
  w.Sample("conduit_events_written_total", "", e.events_written);
  w.Family("conduit_events_suppressed_total", "counter", "Repeated events folded into summaries.");
  w.Sample("conduit_events_suppressed_total", "", e.events_suppressed);
  w.Family("conduit_events_dropped_total", "counter", "Events lost, by where they were lost.");
  w.Sample("conduit_events_dropped_total", Label("where", "worker_ring"), e.ring_dropped);
  w.Sample("conduit_events_dropped_total", Label("where", "subscriber"), e.subscriber_dropped);
  w.Sample("conduit_events_dropped_total", Label("where", "control"), e.posted_dropped);

  if (s.has_syslog()) {
    // A SIEM that stopped taking events shows here before anyone misses them.
    const v1::SyslogStatus& sl = s.syslog();
    w.Family("conduit_syslog_messages_total", "counter",
             "Syslog messages, by what became of them (resent: again after a connection dropped).");
    w.Sample("conduit_syslog_messages_total", Label("result", "sent"), sl.sent());
    w.Sample("conduit_syslog_messages_total", Label("result", "resent"), sl.resent());
    w.Sample("conduit_syslog_messages_total", Label("result", "dropped"), sl.dropped());
    w.Family("conduit_syslog_errors_total", "counter", "Syslog connection and send errors.");
    w.Sample("conduit_syslog_errors_total", "", sl.errors());
    w.Family("conduit_syslog_connects_total", "counter", "Syslog TCP/TLS connections made.");
    w.Sample("conduit_syslog_connects_total", "", sl.connects());
  }

  w.Family("conduit_audit_records_total", "counter", "Audit records written to state_dir/audit.jsonl.");
  w.Sample("conduit_audit_records_total", "", s.audit_records());
  w.Family("conduit_audit_pending", "gauge", "Audit records waiting for the file to take writes.");
  w.Sample("conduit_audit_pending", "", s.audit_pending());
  w.Family("conduit_audit_failing", "gauge", "1 while the audit file cannot be written.");
  w.Sample("conduit_audit_failing", "", s.audit_error().empty() ? 0 : 1);
  w.Family("conduit_grants", "gauge", "Grants in force.");
  w.Sample("conduit_grants", "", static_cast<uint64_t>(s.grants_size()));
  w.Family("conduit_roles_enabled", "gauge", "1 when control.roles authorizes every RPC.");
  w.Sample("conduit_roles_enabled", "", s.roles_enabled() ? 1 : 0);
  w.Family("conduit_uptime_seconds", "gauge", "Seconds since conduitd started.");
  w.Sample("conduit_uptime_seconds", "", s.uptime_seconds());
  return w.Take();
}

}  // namespace conduit::telemetry
