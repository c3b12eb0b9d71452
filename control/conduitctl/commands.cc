#include "conduitctl/commands.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <future>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "policy/expires.h"
#include "policy/validate.h"

namespace conduit::ctl {
namespace {

namespace v1 = conduit::v1;

std::string ModeName(v1::Mode m) {
  switch (m) {
    case v1::MODE_ENFORCE: return "enforce";
    case v1::MODE_MONITOR: return "monitor";
    case v1::MODE_BYPASS: return "bypass";
    default: return "none";
  }
}

std::string Unreachable(const std::string& target, const grpc::Status& s) {
  return absl::StrCat(target, ": ", s.error_code() == grpc::StatusCode::UNAVAILABLE ? "unreachable: " : "error: ",
                      s.error_message());
}

// Runs `fn` against every target in parallel; results in target order.
template <typename R>
std::vector<R> ForEachTarget(const ClientOptions& options, R (*fn)(const ClientOptions&, const std::string&, const void*),
                             const void* arg) {
  std::vector<std::future<R>> futures;
  for (const std::string& t : options.targets) {
    futures.push_back(std::async(std::launch::async, fn, std::cref(options), t, arg));
  }
  std::vector<R> out;
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

struct PushResult {
  std::string target;
  grpc::Status status;
  v1::PushPolicyResponse reply;
};

struct PushArgs {
  const v1::PolicySnapshot* snapshot;
  uint32_t confirm_within_seconds;
};

PushResult PushOne(const ClientOptions& options, const std::string& target, const void* arg) {
  const auto& args = *static_cast<const PushArgs*>(arg);
  PushResult r{target, grpc::Status::OK, {}};
  auto stub = Connect(options, target);
  auto context = Context(options);
  if (args.confirm_within_seconds == 0) {
    r.status = stub->PushPolicy(context.get(), *args.snapshot, &r.reply);
  } else {
    v1::PushPolicyRequest request;
    *request.mutable_snapshot() = *args.snapshot;
    request.set_confirm_within_seconds(args.confirm_within_seconds);
    r.status = stub->PushPolicyConfirmed(context.get(), request, &r.reply);
  }
  return r;
}

// "2026-11-23T10:03:00Z"; JSON null for 0 (no deadline).
std::string IsoUtcJson(uint64_t unix_ms) { return unix_ms == 0 ? "null" : JsonQuote(policy::FormatRfc3339(unix_ms)); }

// `,"key":{"name":count,...}`, names sorted (a proto map has no order).
template <typename Map>
void AppendCountsByName(std::string& out, std::string_view key, const Map& counts) {
  const std::map<std::string, uint64_t> sorted(counts.begin(), counts.end());
  absl::StrAppend(&out, ",", JsonQuote(key), ":{");
  bool first = true;
  for (const auto& [name, value] : sorted) {
    absl::StrAppend(&out, first ? "" : ",", JsonQuote(name), ":", value);
    first = false;
  }
  out += "}";
}

std::string CountersJson(const v1::Counters& c) {
  // DESIGN.md's shape: the totals at the top level, then the breakdowns.
  std::string out = "{";
  bool first = true;
  for (const char* name : {"rx_packets", "tx_packets", "dropped_packets", "inspected_packets",
                           "bypassed_packets"}) {
    auto it = c.totals().find(name);
    absl::StrAppend(&out, first ? "" : ",", JsonQuote(name), ":", it == c.totals().end() ? 0 : it->second);
    first = false;
  }
  std::map<std::string, uint64_t> rest(c.totals().begin(), c.totals().end());
  for (const auto& [k, v] : rest) {
    if (k == "rx_packets" || k == "tx_packets" || k == "dropped_packets" || k == "inspected_packets" ||
        k == "bypassed_packets") {
      continue;
    }
    absl::StrAppend(&out, ",", JsonQuote(k), ":", v);
  }
  AppendCountsByName(out, "dropped_by_reason", c.dropped_by_reason());
  AppendCountsByName(out, "malformed_by_reason", c.malformed_by_reason());
  absl::StrAppend(&out, ",\"workers\":[");
  for (int i = 0; i < c.workers_size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", "{\"lcore\":", c.workers(i).lcore());
    std::map<std::string, uint64_t> values(c.workers(i).values().begin(), c.workers(i).values().end());
    for (const auto& [k, v] : values) absl::StrAppend(&out, ",", JsonQuote(k), ":", v);
    absl::StrAppend(&out, "}");
  }
  return out + "]}";
}

}  // namespace

int Push(const ClientOptions& options, const std::string& policy_file, bool json,
         uint32_t confirm_within_seconds) {
  // Validate here first: an invalid file never leaves the console.
  auto snapshot = policy::LoadAndValidateFile(policy_file);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "%s: %s\n", policy_file.c_str(), std::string(snapshot.status().message()).c_str());
    return 2;
  }
  const PushArgs args{&*snapshot, confirm_within_seconds};
  const std::vector<PushResult> results = ForEachTarget<PushResult>(options, &PushOne, &args);
  int rc = 0;
  if (json) std::printf("[");
  for (size_t i = 0; i < results.size(); ++i) {
    const PushResult& r = results[i];
    const bool ok = r.status.ok() && r.reply.accepted();
    rc |= ok ? 0 : 1;
    if (json) {
      std::string errors;
      for (const v1::FieldError& e : r.reply.errors()) {
        absl::StrAppend(&errors, errors.empty() ? "" : ",", JsonQuote(absl::StrCat(e.path(), ": ", e.reason())));
      }
      std::printf("%s{\"target\":%s,\"accepted\":%s,\"active_version\":%s,\"active_hash\":%s,"
                  "\"compile_micros\":%llu,\"swap_micros\":%llu,\"confirm_deadline\":%s,"
                  "\"revert_to_version\":%s,\"errors\":[%s]%s}",
                  i ? "," : "", JsonQuote(r.target).c_str(), ok ? "true" : "false",
                  JsonQuote(r.reply.active_version()).c_str(), JsonQuote(r.reply.active_hash()).c_str(),
                  static_cast<unsigned long long>(r.reply.compile_micros()),
                  static_cast<unsigned long long>(r.reply.swap_micros()),
                  IsoUtcJson(r.reply.confirm_deadline_unix_ms()).c_str(),
                  JsonQuote(r.reply.revert_to_version()).c_str(), errors.c_str(),
                  r.status.ok() ? "" : absl::StrCat(",\"rpc_error\":", JsonQuote(r.status.error_message())).c_str());
      continue;
    }
    if (!r.status.ok()) {
      std::printf("%s\n", Unreachable(r.target, r.status).c_str());
    } else if (r.reply.accepted()) {
      std::string confirm;
      if (r.reply.confirm_deadline_unix_ms() != 0) {
        confirm = absl::StrCat("; reverts to ", r.reply.revert_to_version(), " at ",
                               policy::FormatRfc3339(r.reply.confirm_deadline_unix_ms()),
                               " unless confirmed (conduitctl confirm)");
      } else if (confirm_within_seconds != 0) {
        confirm = "; unchanged: nothing to confirm";
      }
      std::printf("%s: accepted %s (%s), compile %llu us, swap %llu us%s\n", r.target.c_str(),
                  r.reply.active_version().c_str(), r.reply.active_hash().c_str(),
                  static_cast<unsigned long long>(r.reply.compile_micros()),
                  static_cast<unsigned long long>(r.reply.swap_micros()), confirm.c_str());
    } else {
      std::printf("%s: refused; still running %s\n", r.target.c_str(),
                  r.reply.active_version().empty() ? "no policy" : r.reply.active_version().c_str());
      for (const v1::FieldError& e : r.reply.errors()) {
        std::printf("  %s: %s\n", e.path().c_str(), e.reason().c_str());
      }
    }
  }
  if (json) std::printf("]\n");
  return rc;
}

int Status(const ClientOptions& options, bool json) {
  int rc = 0;
  if (json && options.targets.size() > 1) std::printf("[");
  for (size_t i = 0; i < options.targets.size(); ++i) {
    const std::string& t = options.targets[i];
    auto stub = Connect(options, t);
    auto context = Context(options);
    v1::GatewayStatus s;
    const grpc::Status st = stub->GetStatus(context.get(), {}, &s);
    if (!st.ok()) {
      std::fprintf(json ? stderr : stdout, "%s\n", Unreachable(t, st).c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::string workers;
      for (const v1::WorkerStatus& w : s.workers()) {
        absl::StrAppend(&workers, workers.empty() ? "" : ",", "{\"lcore\":", w.lcore(), ",\"healthy\":",
                        w.healthy() ? "true" : "false", ",\"bypass\":", w.bypass() ? "true" : "false",
                        ",\"heartbeat_age_micros\":", w.heartbeat_age_micros(), "}");
      }
      std::string grants;  // in force: id, conduit, expiry (conduitctl grants has the rest)
      for (const v1::GrantInfo& g : s.grants()) {
        absl::StrAppend(&grants, grants.empty() ? "" : ",", "{\"id\":", JsonQuote(g.id()), ",\"conduit\":",
                        JsonQuote(g.conduit()), ",\"expires\":", IsoUtcJson(g.expires_unix_ms()), "}");
      }
      std::string syslog = "null";  // events.syslog not configured
      if (s.has_syslog()) {
        const v1::SyslogStatus& sl = s.syslog();
        syslog = absl::StrCat("{\"address\":", JsonQuote(sl.address()), ",\"transport\":",
                              JsonQuote(sl.transport()), ",\"sent\":", sl.sent(), ",\"resent\":",
                              sl.resent(), ",\"dropped\":", sl.dropped(), ",\"errors\":",
                              sl.errors(), ",\"connects\":", sl.connects(), "}");
      }
      std::printf("%s{\"target\":%s,\"policy_version\":%s,\"policy_hash\":%s,\"mode\":%s,\"failure\":%s,"
                  "\"bypass\":%s,\"policy_refused\":%s,\"confirm_deadline\":%s,"
                  "\"confirm_pending_version\":%s,\"revert_to_version\":%s,"
                  "\"uptime_seconds\":%llu,\"workers\":[%s],\"counters\":%s,"
                  "\"identity\":%s,\"roles_enabled\":%s,\"audit\":{\"records\":%llu,\"pending\":%llu,\"error\":%s,"
                  "\"head_seq\":%llu,\"head_hash\":%s},"
                  "\"syslog\":%s,\"grants\":[%s]}",
                  i ? "," : "", JsonQuote(t).c_str(), JsonQuote(s.policy_version()).c_str(),
                  JsonQuote(s.policy_hash()).c_str(), JsonQuote(ModeName(s.mode())).c_str(),
                  JsonQuote(s.failure()).c_str(), JsonQuote(s.bypass()).c_str(),
                  JsonQuote(s.policy_refused()).c_str(), IsoUtcJson(s.confirm_deadline_unix_ms()).c_str(),
                  JsonQuote(s.confirm_pending_version()).c_str(), JsonQuote(s.revert_to_version()).c_str(),
                  static_cast<unsigned long long>(s.uptime_seconds()), workers.c_str(),
                  CountersJson(s.counters()).c_str(), JsonQuote(s.identity()).c_str(),
                  s.roles_enabled() ? "true" : "false", static_cast<unsigned long long>(s.audit_records()),
                  static_cast<unsigned long long>(s.audit_pending()), JsonQuote(s.audit_error()).c_str(),
                  static_cast<unsigned long long>(s.audit_head_seq()), JsonQuote(s.audit_head_hash()).c_str(),
                  syslog.c_str(), grants.c_str());
      continue;
    }
    std::printf("%s\n  policy   %s (%s)\n  mode     %s\n  failure  %s\n  bypass   %s\n  uptime   %llus\n",
                t.c_str(), s.policy_version().empty() ? "none" : s.policy_version().c_str(),
                s.policy_hash().c_str(), ModeName(s.mode()).c_str(), s.failure().c_str(),
                s.bypass().empty() ? "no (inspecting)" : s.bypass().c_str(),
                static_cast<unsigned long long>(s.uptime_seconds()));
    if (!s.policy_refused().empty()) {
      // Until a valid policy is pushed: the gateway runs without the policy it was given.
      std::string refused = s.policy_refused();
      for (size_t at = 0; (at = refused.find('\n', at)) != std::string::npos; at += 12) {
        refused.replace(at, 1, "\n           ");
      }
      std::printf("  REFUSED  start-up policy refused: %s\n", refused.c_str());
    }
    std::printf("  caller   %s (%s)\n", s.identity().empty() ? "no client certificate" : s.identity().c_str(),
                s.roles_enabled() ? "roles on" : "roles off: every caller may do everything");
    if (!s.audit_error().empty()) {
      std::printf("  AUDIT    %s (%llu record(s) waiting)\n", s.audit_error().c_str(),
                  static_cast<unsigned long long>(s.audit_pending()));
    } else {
      std::printf("  audit    %llu record(s)%s%s\n", static_cast<unsigned long long>(s.audit_records()),
                  s.audit_head_hash().empty() ? "" : ", head ", s.audit_head_hash().c_str());
    }
    if (s.has_syslog()) {
      // Upper case when messages were lost: the SIEM is missing events.
      const v1::SyslogStatus& sl = s.syslog();
      std::printf("  %s   %s %s: %llu sent, %llu resent, %llu dropped, %llu error(s), %llu connect(s)\n",
                  sl.dropped() != 0 ? "SYSLOG" : "syslog", sl.transport().c_str(), sl.address().c_str(),
                  static_cast<unsigned long long>(sl.sent()), static_cast<unsigned long long>(sl.resent()),
                  static_cast<unsigned long long>(sl.dropped()), static_cast<unsigned long long>(sl.errors()),
                  static_cast<unsigned long long>(sl.connects()));
    }
    if (s.confirm_deadline_unix_ms() != 0) {
      std::printf("  confirm  %s awaits confirmation: reverts to %s at %s\n",
                  s.confirm_pending_version().c_str(), s.revert_to_version().c_str(),
                  policy::FormatRfc3339(s.confirm_deadline_unix_ms()).c_str());
    }
    for (const v1::GrantInfo& g : s.grants()) {
      std::printf("  grant    %s in %s from %s (%s) until %s\n", g.id().c_str(), g.conduit().c_str(),
                  absl::StrJoin(g.rule().from(), ",").c_str(), g.rule().protocol().c_str(),
                  policy::FormatRfc3339(g.expires_unix_ms()).c_str());
    }
    const auto& totals = s.counters().totals();
    for (const char* name : {"rx_packets", "tx_packets", "dropped_packets", "inspected_packets", "bypassed_packets"}) {
      auto it = totals.find(name);
      std::printf("  %-18s %llu\n", name, static_cast<unsigned long long>(it == totals.end() ? 0 : it->second));
    }
  }
  if (json) std::printf(options.targets.size() > 1 ? "]\n" : "\n");
  return rc;
}

int Confirm(const ClientOptions& options, bool json) {
  int rc = 0;
  if (json) std::printf("[");
  for (size_t i = 0; i < options.targets.size(); ++i) {
    const std::string& t = options.targets[i];
    auto stub = Connect(options, t);
    auto context = Context(options);
    v1::ConfirmPolicyResponse reply;
    const grpc::Status st = stub->ConfirmPolicy(context.get(), {}, &reply);
    rc |= st.ok() && reply.confirmed() ? 0 : 1;
    if (json) {
      std::printf("%s{\"target\":%s,\"confirmed\":%s,\"policy_version\":%s,\"error\":%s}", i ? "," : "",
                  JsonQuote(t).c_str(), st.ok() && reply.confirmed() ? "true" : "false",
                  JsonQuote(reply.policy_version()).c_str(),
                  JsonQuote(st.ok() ? reply.error() : st.error_message()).c_str());
    } else if (!st.ok()) {
      std::printf("%s\n", Unreachable(t, st).c_str());
    } else if (reply.confirmed()) {
      std::printf("%s: confirmed %s\n", t.c_str(), reply.policy_version().c_str());
    } else {
      std::printf("%s: not confirmed: %s (running %s)\n", t.c_str(), reply.error().c_str(),
                  reply.policy_version().empty() ? "no policy" : reply.policy_version().c_str());
    }
  }
  if (json) std::printf("]\n");
  return rc;
}

int Mode(const ClientOptions& options, const std::string& mode, const std::string& conduit, bool json) {
  v1::SetModeRequest request;
  if (mode == "enforce") request.set_mode(v1::MODE_ENFORCE);
  else if (mode == "monitor") request.set_mode(v1::MODE_MONITOR);
  else if (mode == "bypass") request.set_mode(v1::MODE_BYPASS);
  else if (mode == "clear") request.set_mode(v1::MODE_UNSPECIFIED);
  else {
    std::fprintf(stderr, "conduitctl: mode must be enforce, monitor, bypass or clear\n");
    return 2;
  }
  request.set_conduit(conduit);
  int rc = 0;
  for (const std::string& t : options.targets) {
    auto stub = Connect(options, t);
    auto context = Context(options);
    v1::SetModeResponse reply;
    const grpc::Status st = stub->SetMode(context.get(), request, &reply);
    if (!st.ok()) {
      std::printf("%s\n", Unreachable(t, st).c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::printf("{\"target\":%s,\"mode\":%s}\n", JsonQuote(t).c_str(), JsonQuote(ModeName(reply.mode())).c_str());
    } else {
      const std::string what = conduit.empty() ? "gateway" : "conduit " + conduit;
      if (mode == "clear") {
        std::printf("%s: %s override cleared; gateway mode is %s\n", t.c_str(), what.c_str(),
                    ModeName(reply.mode()).c_str());
      } else {
        std::printf("%s: %s set to %s; gateway mode is %s\n", t.c_str(), what.c_str(), mode.c_str(),
                    ModeName(reply.mode()).c_str());
      }
    }
  }
  return rc;
}

int Counters(const ClientOptions& options, bool json) {
  int rc = 0;
  for (const std::string& t : options.targets) {
    auto stub = Connect(options, t);
    auto context = Context(options);
    v1::Counters reply;
    const grpc::Status st = stub->GetCounters(context.get(), {}, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", Unreachable(t, st).c_str());
      rc = 1;
      continue;
    }
    if (json) {
      std::printf("%s\n", CountersJson(reply).c_str());
      continue;
    }
    if (options.targets.size() > 1) std::printf("%s\n", t.c_str());
    std::map<std::string, uint64_t> totals(reply.totals().begin(), reply.totals().end());
    for (const char* name : {"rx_packets", "tx_packets", "dropped_packets", "inspected_packets", "bypassed_packets"}) {
      std::printf("%-18s %llu\n", name, static_cast<unsigned long long>(totals[name]));
      totals.erase(name);
    }
    for (const auto& [k, v] : totals) {
      if (v != 0) std::printf("%-18s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
    }
    for (const auto& [k, v] : reply.dropped_by_reason()) {
      if (v != 0) std::printf("dropped: %-9s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
    }
    for (const auto& [k, v] : reply.malformed_by_reason()) {
      if (v != 0) std::printf("malformed: %-9s %llu\n", k.c_str(), static_cast<unsigned long long>(v));
    }
  }
  return rc;
}

int Events(const ClientOptions& options, bool follow, int seconds, int count) {
  if (options.targets.size() != 1) {
    std::fprintf(stderr, "conduitctl: events reads one gateway (--target)\n");
    return 2;
  }
  auto stub = Connect(options, options.targets[0]);
  grpc::ClientContext context;
  if (!follow) context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  auto reader = stub->StreamEvents(&context, {});
  v1::Event event;
  int n = 0;
  while (reader->Read(&event)) {
    std::printf("%s\n", event.json().c_str());
    std::fflush(stdout);
    if (count > 0 && ++n >= count) {
      context.TryCancel();
      break;
    }
  }
  const grpc::Status st = reader->Finish();
  // Our own deadline or cancel ends a bounded read normally.
  if (!st.ok() && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
      st.error_code() != grpc::StatusCode::CANCELLED) {
    std::fprintf(stderr, "%s\n", Unreachable(options.targets[0], st).c_str());
    return 1;
  }
  return 0;
}

int GetPolicy(const ClientOptions& options) {
  int rc = 0;
  for (const std::string& t : options.targets) {
    auto stub = Connect(options, t);
    auto context = Context(options);
    v1::PolicySnapshot reply;
    const grpc::Status st = stub->GetPolicy(context.get(), {}, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", Unreachable(t, st).c_str());
      rc = 1;
      continue;
    }
    std::string out;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    o.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(reply, &out, o);
    std::printf("%s", out.c_str());
  }
  return rc;
}

}  // namespace conduit::ctl
