#include "events/sinks/cef_format.h"

#include <cctype>

#include "absl/strings/str_cat.h"

#ifndef CONDUIT_VERSION
#define CONDUIT_VERSION "unknown"
#endif

namespace conduit {
namespace {

// Debian's abseil has its own string_view, not constructible from std's.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

// Extension pairs in a fixed order, empty values left out.
class Extensions {
 public:
  void Add(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!out_.empty()) out_ += ' ';
    out_.append(key.data(), key.size());
    out_ += '=';
    out_ += CefExtensionEscape(value);
  }
  // A custom key with its label: cs1Label=conduit cs1=corp-plant.
  void AddLabelled(std::string_view key, std::string_view label, std::string_view value) {
    if (value.empty()) return;
    Add(absl::StrCat(A(key), "Label"), label);
    Add(key, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// "[10,12]" -> "10-12".
std::string AddressRange(std::string_view json) {
  if (json.size() < 2 || json.front() != '[') return std::string(json);
  std::string out(json.substr(1, json.size() - 2));
  for (char& c : out) {
    if (c == ',') c = '-';
  }
  return out;
}

// {"group":30,"variation":2,"instance":5} -> "30/2/5" (group/variation/instance).
std::string ObjectText(std::string_view json) {
  if (json.empty()) return "";
  const JsonFields o(json);
  return absl::StrCat(A(o.Get("group")), "/", A(o.Get("variation")),
                      "/", A(o.Get("instance")));
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "modbus write_single_register", "modbus function 90", or "tcp".
std::string OpText(const JsonFields& f) {
  const absl::string_view protocol = A(f.Get("protocol"));
  if (!f.Has("function")) return std::string(protocol);
  if (f.Has("function_name")) return absl::StrCat(protocol, " ", A(f.Get("function_name")));
  return absl::StrCat(protocol, " function ", A(f.Get("function")));
}

}  // namespace

std::string CefHeaderEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\' || c == '|') {
      out += '\\';
      out += c;
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string CefExtensionEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '=': out += "\\="; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

int CefSeverity(const JsonFields& f) {
  const std::string_view event = f.Get("event");
  if (event.empty()) {  // a verdict record (or decode-only)
    const std::string_view verdict = f.Get("verdict");
    if (verdict == "deny") return f.Get("enforced") == "true" ? 7 : 6;
    if (verdict == "alert") return 5;
    return 1;
  }
  if (event == "evasion") return f.Get("suspicious") == "true" ? 9 : 8;
  if (event == "policy_refused" || event == "overload_bypass_enter") return 8;
  if (event == "audit_failed") return 7;
  if (event == "policy_reverted") return 6;
  if (event == "new_behaviour") return 5;
  if (event == "audit") return f.Get("result") == "ok" ? 2 : 5;
  return 3;  // state changes, shadow differences, grants: worth a record, not an alarm
}

std::string CefSignature(const JsonFields& f) {
  if (const std::string_view event = f.Get("event"); !event.empty()) return std::string(event);
  if (const std::string_view verdict = f.Get("verdict"); !verdict.empty()) return std::string(verdict);
  return "observed";
}

std::string CefName(const JsonFields& f) {
  const absl::string_view event = A(f.Get("event"));
  if (event.empty()) {
    const absl::string_view verdict = A(f.Get("verdict"));
    return absl::StrCat(verdict.empty() ? absl::string_view("observed") : verdict, " ", OpText(f));
  }
  if (event == "audit") {
    return absl::StrCat("audit ", A(f.Get("action")), " ",
                        A(f.Get("result")));
  }
  if (event == "evasion") return absl::StrCat("evasion ", A(f.Get("reason")));
  if (event == "shadow") {
    return absl::StrCat("shadow ", A(f.Get("change")), " ", OpText(f));
  }
  if (event == "new_behaviour") return absl::StrCat("new_behaviour ", OpText(f));
  std::string name(event);
  if (f.Has("scope")) absl::StrAppend(&name, " ", A(f.Get("scope")));
  if (f.Has("worker")) absl::StrAppend(&name, " worker ", A(f.Get("worker")));
  return name;
}

std::string FormatCef(const EventRecord& e, std::string_view json_line) {
  const JsonFields f(json_line);
  Extensions x;
  if (e.ts_ns != 0) x.Add("rt", std::to_string(e.ts_ns / 1000000));
  const std::string_view event = f.Get("event");
  x.Add("cat", event.empty() ? std::string_view("verdict") : event);
  x.Add("act", f.Has("verdict") ? f.Get("verdict") : f.Get("action"));
  if (f.Get("verdict") != "") {
    x.Add("outcome", f.Get("verdict") == "deny" && f.Get("enforced") == "true" ? "blocked" : "passed");
  } else {
    x.Add("outcome", f.Get("result"));
  }
  x.Add("src", f.Get("src"));
  x.Add("spt", f.Get("sport"));
  x.Add("dst", f.Get("dst"));
  x.Add("dpt", f.Get("dport"));
  if (f.Has("l4")) x.Add("proto", Upper(f.Get("l4")));
  if (f.Get("protocol") != f.Get("l4")) x.Add("app", f.Get("protocol"));
  x.Add("in", f.Get("bytes"));
  x.Add("cnt", f.Get("repeats"));
  x.AddLabelled("cs1", "conduit", f.Get("conduit"));
  x.AddLabelled("cs2", "rule", f.Get("rule"));
  x.AddLabelled("cs3", "function", f.Get("function_name"));
  x.AddLabelled("cs4", "policy_version", f.Get("policy_version"));
  x.AddLabelled("cs5", "mode", f.Get("mode"));
  x.AddLabelled("cs6", "address", AddressRange(f.Get("address")));
  x.AddLabelled("cn1", "unit", f.Get("unit"));
  x.AddLabelled("cn2", "function_code", f.Get("function"));
  x.AddLabelled("cn3", "sub_function", f.Get("sub_function"));
  x.AddLabelled("flexNumber1", "exception", f.Get("exception"));
  x.AddLabelled("flexString1", "direction", f.Get("direction"));
  x.AddLabelled("flexString2", "object", ObjectText(f.Get("object")));
  x.Add("suser", f.Has("identity") ? f.Get("identity") : f.Get("granted_by"));
  x.Add("externalId", f.Has("id") ? f.Get("id") : f.Get("seq"));
  x.Add("reason", f.Get("reason"));
  // One free-text line: why (state changes), what failed, or the audit detail.
  std::string msg(f.Has("error") ? f.Get("error") : f.Has("detail") ? f.Get("detail") : f.Get("cause"));
  if (const std::string_view target = f.Get("target"); !target.empty()) {
    msg = msg.empty() ? std::string(target)
                      : absl::StrCat(A(target), ": ", msg);
  }
  x.Add("msg", msg);
  return absl::StrCat("CEF:0|Conduit|conduitd|", CefHeaderEscape(CONDUIT_VERSION), "|",
                      CefHeaderEscape(CefSignature(f)), "|", CefHeaderEscape(CefName(f)), "|",
                      CefSeverity(f), "|", x.Take());
}

}  // namespace conduit
