#include "telemetry/status_page.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "baseline/map_rows.h"
#include "common/json_fields.h"

namespace conduit::telemetry {
namespace {

namespace v1 = conduit::v1;

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2329}
header{background:#1d2329;color:#fff;padding:12px 20px}
header h1{font-size:18px;margin:0}
main{padding:12px 20px}
section{background:#fff;border:1px solid #d8dce1;border-radius:4px;margin:0 0 14px;padding:10px 14px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eceef1;font-variant-numeric:tabular-nums}
th{font-weight:600;color:#4a5561}
.ok{color:#17733a;font-weight:600}.warn{color:#a15c00;font-weight:600}.bad{color:#b3261e;font-weight:600}
.kv td:first-child{width:180px;color:#4a5561}
.muted{color:#6b7782}
)";

std::string ModeText(v1::Mode m) {
  switch (m) {
    case v1::MODE_ENFORCE: return "enforce";
    case v1::MODE_MONITOR: return "monitor";
    case v1::MODE_BYPASS: return "bypass";
    default: return "none";
  }
}

void Row(std::string& out, const std::string& key, const std::string& value_html) {
  absl::StrAppend(&out, "<tr><td>", HtmlEscape(key), "</td><td>", value_html, "</td></tr>\n");
}

void Overview(std::string& out, const v1::GatewayStatus& s) {
  out += "<section id=\"policy\"><h2>Policy and state</h2><table class=\"kv\">\n";
  Row(out, "policy version",
      s.policy_version().empty() ? "<span class=\"warn\">none loaded</span>"
                                 : absl::StrCat("<b id=\"policy-version\">", HtmlEscape(s.policy_version()), "</b>"));
  Row(out, "policy hash", absl::StrCat("<code>", HtmlEscape(s.policy_hash()), "</code>"));
  Row(out, "mode", HtmlEscape(ModeText(s.mode())));
  Row(out, "failure policy", HtmlEscape(s.failure()));
  Row(out, "bypass",
      s.bypass().empty() ? "<span class=\"ok\">no (inspecting)</span>"
                         : absl::StrCat("<span class=\"bad\">", HtmlEscape(s.bypass()), "</span>"));
  if (!s.policy_refused().empty()) {
    Row(out, "start-up policy", absl::StrCat("<span class=\"bad\">refused: ", HtmlEscape(s.policy_refused()), "</span>"));
  }
  if (s.confirm_deadline_unix_ms() != 0) {
    Row(out, "awaiting confirmation",
        absl::StrCat("<span class=\"warn\">", HtmlEscape(s.confirm_pending_version()), " reverts to ",
                     HtmlEscape(s.revert_to_version().empty() ? "no policy" : s.revert_to_version()), " at ",
                     HtmlEscape(baseline::IsoTimeOrDash(s.confirm_deadline_unix_ms() * 1000000)), "</span>"));
  }
  Row(out, "roles", s.roles_enabled() ? "on: every control call is authorized"
                                      : "<span class=\"warn\">off: every caller may do everything</span>");
  Row(out, "audit trail",
      s.audit_error().empty()
          ? absl::StrCat(s.audit_records(), " records",
                         s.audit_head_hash().empty() ? "" : "; newest hash <code>",
                         HtmlEscape(s.audit_head_hash()), s.audit_head_hash().empty() ? "" : "</code>")
          : absl::StrCat("<span class=\"bad\">", HtmlEscape(s.audit_error()), " (", s.audit_pending(),
                         " waiting)</span>"));
  if (s.has_syslog()) {
    const v1::SyslogStatus& sl = s.syslog();
    const std::string counts = absl::StrCat(sl.sent(), " sent, ", sl.resent(), " resent, ", sl.dropped(),
                                            " dropped, ", sl.errors(), " errors, ", sl.connects(), " connects");
    Row(out, "syslog",
        absl::StrCat(HtmlEscape(sl.transport()), " ", HtmlEscape(sl.address()), ": ",
                     sl.dropped() != 0 ? absl::StrCat("<span class=\"bad\">", counts, "</span>") : counts));
  }
  Row(out, "grants in force", absl::StrCat(s.grants_size()));
  Row(out, "uptime", absl::StrCat(s.uptime_seconds(), " s"));
  out += "</table></section>\n";
}

void Workers(std::string& out, const v1::GatewayStatus& s) {
  out += "<section id=\"workers\"><h2>Workers</h2><table><tr><th>lcore</th><th>health</th><th>inspection</th>"
         "<th>heartbeat age</th></tr>\n";
  for (const v1::WorkerStatus& w : s.workers()) {
    absl::StrAppend(&out, "<tr><td>", w.lcore(), "</td><td>",
                    w.healthy() ? "<span class=\"ok\">healthy</span>" : "<span class=\"bad\">stalled</span>",
                    "</td><td>", w.bypass() ? "<span class=\"bad\">overload bypass</span>" : "inspecting",
                    "</td><td>", w.heartbeat_age_micros(), " µs</td></tr>\n");
  }
  out += "</table></section>\n";
}

void Counters(std::string& out, const v1::GatewayStatus& s) {
  const auto& totals = s.counters().totals();
  out += "<section id=\"counters\"><h2>Counters</h2><table><tr><th>counter</th><th>all workers</th></tr>\n";
  for (const char* name : {"rx_packets", "tx_packets", "dropped_packets", "inspected_packets", "bypassed_packets",
                           "ics_ops", "decode_errors", "resets_sent", "observe_overflow"}) {
    auto it = totals.find(name);
    absl::StrAppend(&out, "<tr><td>", name, "</td><td>", it == totals.end() ? 0 : it->second, "</td></tr>\n");
  }
  out += "</table>";
  const std::map<std::string, uint64_t> drops(s.counters().dropped_by_reason().begin(),
                                               s.counters().dropped_by_reason().end());
  std::string rows;
  for (const auto& [reason, n] : drops) {
    if (n != 0) absl::StrAppend(&rows, "<tr><td>", HtmlEscape(reason), "</td><td>", n, "</td></tr>\n");
  }
  absl::StrAppend(&out, "<h2 style=\"margin-top:10px\">Drops by reason</h2>",
                  rows.empty() ? "<p class=\"muted\">none</p>"
                               : absl::StrCat("<table><tr><th>reason</th><th>packets</th></tr>\n", rows, "</table>"),
                  "</section>\n");
}

void Blocked(std::string& out, const std::vector<std::string>& blocked) {
  out += "<section id=\"blocked\"><h2>Last blocked operations</h2>";
  if (blocked.empty()) {
    out += "<p class=\"muted\">none since this page's gateway started</p></section>\n";
    return;
  }
  out += "<table><tr><th>time</th><th>conduit</th><th>from</th><th>to</th><th>protocol</th><th>operation</th>"
         "<th>rule</th><th>mode</th></tr>\n";
  for (const std::string& line : blocked) {
    const JsonFields fields(line);
    auto field = [&fields](std::string_view key) { return std::string(fields.Get(key)); };
    std::string op = field("function_name");
    if (op.empty()) op = field("function");
    const std::string unit = field("unit");
    if (!unit.empty()) absl::StrAppend(&op, " unit ", unit);
    const std::string mode = field("mode");
    // A summary line stands for the repeats the drain folded into it.
    const std::string repeats = field("repeats");
    if (!repeats.empty()) absl::StrAppend(&op, " (+", repeats, " more)");
    absl::StrAppend(&out, "<tr class=\"blocked-op\"><td>", HtmlEscape(field("ts")), "</td><td>",
                    HtmlEscape(field("conduit")), "</td><td>",
                    HtmlEscape(absl::StrCat(field("src"), ":", field("sport"))), "</td><td>",
                    HtmlEscape(absl::StrCat(field("dst"), ":", field("dport"))), "</td><td>",
                    HtmlEscape(field("protocol")), "</td><td>", HtmlEscape(op), "</td><td>",
                    HtmlEscape(field("rule")), "</td><td>",
                    mode == "enforce" ? "<span class=\"bad\">dropped</span>"
                                      : absl::StrCat("reported (", HtmlEscape(mode), ")"),
                    "</td></tr>\n");
  }
  out += "</table></section>\n";
}

void Map(std::string& out, const std::vector<v1::Baseline>& maps) {
  out += "<section id=\"map\"><h2>Communication map</h2>";
  if (maps.empty()) {
    out += "<p class=\"muted\">no baseline store</p></section>\n";
    return;
  }
  for (const v1::Baseline& b : maps) {
    const baseline::MapRows rows = baseline::BuildMapRows(b);
    absl::StrAppend(&out, "<p><b>", HtmlEscape(b.conduit().empty() ? absl::StrCat("wire ", b.wire()) : b.conduit()),
                    "</b> &mdash; baseline ", HtmlEscape(b.stability()), ", accepted ",
                    HtmlEscape(b.accepted_at_ns() ? baseline::IsoTimeOrDash(b.accepted_at_ns()) : "no"), "</p>");
    if (rows.rows.empty()) {
      out += "<p class=\"muted\">nothing observed yet</p>";
      continue;
    }
    out += "<table><tr><th>client</th><th>server</th><th>protocol</th><th>function / port</th><th>unit</th>"
           "<th>addresses</th><th>count</th><th>first seen</th><th>last seen</th></tr>\n";
    for (const baseline::MapRow& r : rows.rows) {
      absl::StrAppend(&out, "<tr><td>", HtmlEscape(r.client), "</td><td>", HtmlEscape(r.server), "</td><td>",
                      HtmlEscape(r.protocol), "</td><td>", HtmlEscape(r.what), "</td><td>", HtmlEscape(r.unit),
                      "</td><td>", HtmlEscape(r.addresses), "</td><td>", r.count, "</td><td>",
                      HtmlEscape(r.first_seen), "</td><td>", HtmlEscape(r.last_seen), "</td></tr>\n");
    }
    out += "</table>";
  }
  out += "</section>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderStatusPage(const StatusPageInput& input) {
  const v1::GatewayStatus& s = *input.status;
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"", input.refresh_seconds, "\">"
      "<meta name=\"viewport\" content=\"width=device-width\">"
      "<title>Conduit ", HtmlEscape(input.hostname), " - ",
      HtmlEscape(s.policy_version().empty() ? "no policy" : s.policy_version()), "</title><style>", kStyle,
      "</style></head><body><header><h1>Conduit gateway ", HtmlEscape(input.hostname), "</h1></header><main>\n");
  Overview(out, s);
  Blocked(out, input.blocked);
  Counters(out, s);
  Workers(out, s);
  Map(out, input.maps);
  absl::StrAppend(&out, "<p class=\"muted\">Read-only. Refreshes every ", input.refresh_seconds,
                  " s. Metrics for Prometheus at <a href=\"/metrics\">/metrics</a>.</p></main></body></html>\n");
  return out;
}

}  // namespace conduit::telemetry
