#include "conduitctl/fleet_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/json.h"
#include "conduitctl/baseline_commands.h"
#include "policy/validate.h"

namespace conduit::ctl {
namespace {

namespace v1 = conduit::v1;

// What became of one gateway; printed once `outcome` is set.
struct GatewayLine {
  const Target* target = nullptr;
  bool canary = false;
  std::string outcome;  // promoted pushed cleared skipped unreachable refused failed
  std::optional<uint64_t> would_block;
  std::string version;  // what it runs afterwards, where known
  bool confirmed = false;
  std::string detail;
};

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    default: return absl::StrCat("code ", static_cast<int>(code));
  }
}

// Newlines would break the one-line-per-gateway output.
std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

class FleetRollout {
 public:
  FleetRollout(const ClientOptions& client, const RolloutOptions& options, const std::vector<Target>& targets,
          size_t canaries, uint64_t soak_seconds, uint64_t max_would_block, v1::PolicySnapshot snapshot)
      : client_(client),
        options_(options),
        canaries_(canaries),
        soak_seconds_(soak_seconds),
        max_(max_would_block),
        snapshot_(std::move(snapshot)),
        version_(snapshot_.version()) {
    for (size_t i = 0; i < targets.size(); ++i) {
      GatewayLine l;
      l.target = &targets[i];
      l.canary = i < canaries;
      lines_.push_back(std::move(l));
    }
    holds_shadow_.assign(targets.size(), false);
  }

  int Run() {
    std::fprintf(stderr, "rollout %s: %zu canar%s (", version_.c_str(), canaries_, canaries_ == 1 ? "y" : "ies");
    for (size_t i = 0; i < canaries_; ++i) std::fprintf(stderr, "%s%s", i ? " " : "", Name(i).c_str());
    std::fprintf(stderr, ") in shadow for %llus, at most %llu would-block each; then %zu more\n",
                 static_cast<unsigned long long>(soak_seconds_), static_cast<unsigned long long>(max_),
                 lines_.size() - canaries_);

    // 1. The candidate beside the active policy on every canary.
    for (size_t i = 0; i < canaries_; ++i) {
      auto stub = Connect(client_, Address(i));
      auto context = Context(client_);
      v1::PushPolicyResponse reply;
      const grpc::Status st = stub->PushShadow(context.get(), snapshot_, &reply);
      if (!st.ok() || !reply.accepted()) {
        if (st.ok()) Refused(i, reply); else RpcFailed(i, st);
        return Stop(absl::StrCat("rollout stopped at canary ", Name(i), " (", lines_[i].outcome, ")"), i, 1);
      }
      holds_shadow_[i] = true;
      lines_[i].version = reply.active_version();
      std::fprintf(stderr, "%s: shadow %s judged beside %s\n", Name(i).c_str(), version_.c_str(),
                   reply.active_version().empty() ? "no policy" : reply.active_version().c_str());
    }

    // 2. Soak: progress on stderr; a canary over the limit ends it early.
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::seconds(soak_seconds_);
    const auto step = std::chrono::seconds(std::clamp<uint64_t>(soak_seconds_ / 10, 1, 60));
    bool over_early = false;
    for (auto next = start + step; next < end && !over_early; next += step) {
      std::this_thread::sleep_until(next);
      std::string progress;
      bool over = false;
      for (size_t i = 0; i < canaries_; ++i) {
        v1::ShadowReport r;
        const grpc::Status st = Report(i, r);
        absl::StrAppend(&progress, " ", Name(i), "=",
                        st.ok() ? absl::StrCat(r.newly_blocked()) : std::string("unreadable"));
        over |= st.ok() && r.newly_blocked() > max_;
      }
      const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(next - start).count();
      std::fprintf(stderr, "soak %s: %llds of %llus, would_block%s%s\n", version_.c_str(),
                   static_cast<long long>(elapsed), static_cast<unsigned long long>(soak_seconds_),
                   progress.c_str(), over ? "; over the limit, stopping early" : "");
      over_early = over;
    }
    if (!over_early) std::this_thread::sleep_until(end);

    // 3. The verdict: every canary's report, read now.
    std::optional<size_t> worst;
    for (size_t i = 0; i < canaries_; ++i) {
      v1::ShadowReport r;
      const grpc::Status st = Report(i, r);
      if (!st.ok()) {
        RpcFailed(i, st);
        lines_[i].detail = absl::StrCat("shadow report unreadable: ", lines_[i].detail);
        return Stop(absl::StrCat("rollout stopped at canary ", Name(i), " (", lines_[i].outcome, ")"), i, 1);
      }
      if (r.candidate_version() != version_) {
        lines_[i].outcome = "failed";
        lines_[i].detail = absl::StrCat("the shadow candidate is ", r.candidate_version(), ", not ", version_,
                                        " (replaced by someone else); left as it is");
        holds_shadow_[i] = false;
        return Stop(absl::StrCat("rollout stopped at canary ", Name(i), " (shadow replaced)"), i, 1);
      }
      lines_[i].would_block = r.newly_blocked();
      lines_[i].version = r.active_version();
      if (r.newly_blocked() > max_ && (!worst || r.newly_blocked() > *lines_[*worst].would_block)) worst = i;
    }
    if (worst) {
      const size_t w = *worst;
      lines_[w].outcome = "cleared";
      lines_[w].detail = absl::StrCat("would_block=", *lines_[w].would_block, " > max ", max_);
      return Stop(absl::StrCat("rollout stopped after canary ", Name(w), " (would_block=", *lines_[w].would_block,
                               " > ", max_, ")"),
                  w, 3);
    }

    // 4. Promote the canaries, 5. push the rest, one at a time.
    for (size_t i = 0; i < lines_.size(); ++i) {
      auto stub = Connect(client_, Address(i));
      auto context = Context(client_);
      v1::PushPolicyResponse reply;
      grpc::Status st;
      if (lines_[i].canary) {
        v1::PromoteShadowRequest request;
        request.set_confirm_within_seconds(options_.confirm_within_seconds);
        st = stub->PromoteShadow(context.get(), request, &reply);
      } else if (options_.confirm_within_seconds == 0) {
        st = stub->PushPolicy(context.get(), snapshot_, &reply);
      } else {
        v1::PushPolicyRequest request;
        *request.mutable_snapshot() = snapshot_;
        request.set_confirm_within_seconds(options_.confirm_within_seconds);
        st = stub->PushPolicyConfirmed(context.get(), request, &reply);
      }
      if (!st.ok() || !reply.accepted()) {
        if (st.ok()) Refused(i, reply); else RpcFailed(i, st);
        return Stop(absl::StrCat("rollout stopped at ", Name(i), " (", lines_[i].outcome, ")"), i, 1);
      }
      holds_shadow_[i] = false;  // promoted (the gateway drops it) or never had one
      lines_[i].version = reply.active_version();
      if (reply.active_version() != version_) {
        // PromoteShadow promotes whatever candidate the gateway holds.
        lines_[i].outcome = "failed";
        lines_[i].detail = absl::StrCat("now runs ", reply.active_version(), ", not ", version_);
        return Stop(absl::StrCat("rollout stopped at ", Name(i), " (wrong version)"), i, 1);
      }
      lines_[i].outcome = lines_[i].canary ? "promoted" : "pushed";
      if (options_.confirm_within_seconds != 0 && !ConfirmAfterSwap(i)) {
        return Stop(absl::StrCat("rollout stopped at ", Name(i), " (not confirmed)"), i, 1);
      }
      Print();
    }
    summary_ = absl::StrCat("complete: ", lines_.size(), " of ", lines_.size(), " gateways run it");
    return Finish(0);
  }

 private:
  const std::string& Name(size_t i) const { return lines_[i].target->name; }
  const std::string& Address(size_t i) const { return lines_[i].target->address; }

  grpc::Status Report(size_t i, v1::ShadowReport& r) {
    auto stub = Connect(client_, Address(i));
    auto context = Context(client_);
    return stub->GetShadow(context.get(), {}, &r);
  }

  void RpcFailed(size_t i, const grpc::Status& st) {
    GatewayLine& l = lines_[i];
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
      l.outcome = "unreachable";
      l.detail = OneLine(st.error_message());
    } else if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      l.outcome = "unreachable";
      l.detail = absl::StrCat("no answer within ", client_.timeout_seconds, "s (", OneLine(st.error_message()), ")");
    } else if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
               st.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // Not a fault of the gateway: this identity may not do it there.
      l.outcome = "denied";
      l.detail = absl::StrCat(CodeName(st.error_code()), ": ", OneLine(st.error_message()));
    } else {
      l.outcome = "failed";
      l.detail = absl::StrCat(CodeName(st.error_code()), ": ", OneLine(st.error_message()));
    }
  }

  void Refused(size_t i, const v1::PushPolicyResponse& reply) {
    GatewayLine& l = lines_[i];
    l.outcome = "refused";
    l.version = reply.active_version();
    for (const v1::FieldError& e : reply.errors()) {
      absl::StrAppend(&l.detail, l.detail.empty() ? "" : "; ", e.path(), ": ", OneLine(e.reason()));
    }
  }

  // After a swap with a deadline: a fresh call must find the gateway running
  // the new version pending confirmation; then it is confirmed.
  bool ConfirmAfterSwap(size_t i) {
    GatewayLine& l = lines_[i];
    auto stub = Connect(client_, Address(i));
    v1::GatewayStatus status;
    grpc::Status st;
    {
      auto context = Context(client_);
      st = stub->GetStatus(context.get(), {}, &status);
    }
    std::string why;
    if (!st.ok()) {
      why = absl::StrCat("status unreadable after the swap: ", OneLine(st.error_message()));
    } else if (status.policy_version() != version_ || status.confirm_pending_version() != version_) {
      why = absl::StrCat("after the swap it runs ", status.policy_version(), " with ",
                         status.confirm_pending_version().empty() ? std::string("nothing")
                                                                  : status.confirm_pending_version(),
                         " pending");
    } else {
      auto context = Context(client_);
      v1::ConfirmPolicyResponse reply;
      st = stub->ConfirmPolicy(context.get(), {}, &reply);
      if (st.ok() && reply.confirmed()) {
        l.confirmed = true;
        return true;
      }
      why = st.ok() ? reply.error() : OneLine(st.error_message());
    }
    l.outcome = "failed";
    l.detail = absl::StrCat("not confirmed: ", why, "; it reverts by itself when the deadline passes");
    return false;
  }

  // The rollout stops at gateway `at` (its line already says why): every
  // canary still holding the candidate as a shadow drops it, the gateways
  // not reached yet are skipped.
  int Stop(const std::string& reason, size_t at, int rc) {
    for (size_t i = 0; i < lines_.size(); ++i) {
      GatewayLine& l = lines_[i];
      const bool ours = i == at;
      if (holds_shadow_[i]) {
        // The canary it stopped at: cleared when it answers (over the limit,
        // or it refused or denied the promotion); left alone when it did not
        // answer.
        if (ours && l.outcome != "cleared" && l.outcome != "refused" && l.outcome != "denied") {
          absl::StrAppend(&l.detail, "; its shadow candidate is left in place");
          continue;
        }
        auto stub = Connect(client_, Address(i));
        auto context = Context(client_);
        v1::ClearShadowResponse reply;
        const grpc::Status st = stub->ClearShadow(context.get(), {}, &reply);
        const std::string own = ours ? l.detail : "";
        if (st.ok()) {
          holds_shadow_[i] = false;
          if (!ours) l.outcome = "cleared";
          l.detail = ours ? absl::StrCat(own, "; shadow cleared") : absl::StrCat("shadow cleared: ", reason);
        } else {
          l.outcome = "failed";
          l.detail = absl::StrCat(ours ? own : reason, "; shadow NOT cleared: ", OneLine(st.error_message()));
        }
        continue;
      }
      if (l.outcome.empty()) {
        l.outcome = "skipped";
        l.detail = reason;
      }
    }
    // "rollout stopped after canary X (...)" -> "stopped after canary X (...)"
    const absl::string_view why = absl::StripPrefix(reason, "rollout ");
    summary_ = absl::StrCat(why, ": ", Running(), " of ", lines_.size(), " gateways run it");
    return Finish(rc);
  }

  size_t Running() const {
    size_t n = 0;
    for (const GatewayLine& l : lines_) n += l.outcome == "promoted" || l.outcome == "pushed";
    return n;
  }

  std::string Text(const GatewayLine& l) const {
    std::string out = absl::StrCat(l.target->name, " ", l.target->address, " ", l.canary ? "canary" : "rest", " ",
                                   l.outcome);
    if (l.would_block) absl::StrAppend(&out, " would_block=", *l.would_block);
    if (!l.version.empty()) absl::StrAppend(&out, " version=", l.version);
    if (l.confirmed) absl::StrAppend(&out, " confirmed");
    if (!l.detail.empty()) absl::StrAppend(&out, ": ", l.detail);
    return out;
  }

  // Prints (text mode) every decided line not printed yet, in file order.
  void Print() {
    if (options_.json) return;
    while (printed_ < lines_.size() && !lines_[printed_].outcome.empty()) {
      std::printf("%s\n", Text(lines_[printed_++]).c_str());
    }
    std::fflush(stdout);
  }

  int Finish(int rc) {
    if (!options_.json) {
      Print();
      std::printf("rollout %s: %s\n", version_.c_str(), summary_.c_str());
      return rc;
    }
    std::string out = absl::StrCat("{\"policy_version\":", JsonQuote(version_), ",\"complete\":",
                                   rc == 0 ? "true" : "false", ",\"summary\":", JsonQuote(summary_),
                                   ",\"canary\":", canaries_, ",\"soak_seconds\":", soak_seconds_,
                                   ",\"max_would_block\":", max_, ",\"gateways\":[");
    for (size_t i = 0; i < lines_.size(); ++i) {
      const GatewayLine& l = lines_[i];
      absl::StrAppend(&out, i ? "," : "", "{\"name\":", JsonQuote(l.target->name),
                      ",\"address\":", JsonQuote(l.target->address), ",\"role\":",
                      l.canary ? "\"canary\"" : "\"rest\"", ",\"outcome\":", JsonQuote(l.outcome),
                      ",\"would_block\":", l.would_block ? absl::StrCat(*l.would_block) : std::string("null"),
                      ",\"version\":", JsonQuote(l.version), ",\"confirmed\":", l.confirmed ? "true" : "false",
                      ",\"detail\":", JsonQuote(l.detail), "}");
    }
    std::printf("%s]}\n", out.c_str());
    return rc;
  }

  const ClientOptions& client_;
  const RolloutOptions& options_;
  const size_t canaries_;
  const uint64_t soak_seconds_;
  const uint64_t max_;
  const v1::PolicySnapshot snapshot_;
  const std::string version_;
  std::vector<GatewayLine> lines_;
  std::vector<bool> holds_shadow_;  // our candidate is a shadow there
  size_t printed_ = 0;
  std::string summary_;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "conduitctl: %s\n", message.c_str());
  return 2;
}

}  // namespace

bool WantsRollout(const RolloutOptions& options) {
  return !options.canary.empty() || !options.soak.empty() || !options.max_would_block.empty();
}

int Rollout(const ClientOptions& client, const RolloutOptions& options) {
  if (options.targets_file.empty() || !client.targets.empty()) {
    return UsageError("a staged rollout (--canary, --soak, --max-would-block) takes its gateways from "
                      "--targets FILE only");
  }
  if (options.canary.empty() || options.soak.empty()) {
    return UsageError("a staged rollout wants --canary N and --soak D (and --max-would-block K, default 0)");
  }
  auto targets = ReadNamedTargets(options.targets_file);
  if (!targets.ok()) return UsageError(std::string(targets.status().message()));
  size_t canaries = 0;
  if (!absl::SimpleAtoi(options.canary, &canaries) || canaries == 0 || canaries > targets->size()) {
    return UsageError(absl::StrCat("--canary wants a number from 1 to ", targets->size(),
                                   " (the gateways in ", options.targets_file, "), got \"", options.canary, "\""));
  }
  uint64_t soak = 0;
  if (!ParseSince(options.soak, &soak)) {
    return UsageError(absl::StrCat("--soak wants a duration such as 10m, 90s, 2h or 600, got \"", options.soak,
                                   "\""));
  }
  uint64_t max_would_block = 0;
  if (!options.max_would_block.empty() && !absl::SimpleAtoi(options.max_would_block, &max_would_block)) {
    return UsageError(absl::StrCat("--max-would-block wants a count (0 or more), got \"",
                                   options.max_would_block, "\""));
  }
  // Validate here first: an invalid file never leaves the console.
  auto snapshot = policy::LoadAndValidateFile(options.policy_file);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "%s: %s\n", options.policy_file.c_str(), std::string(snapshot.status().message()).c_str());
    return 2;
  }
  FleetRollout rollout(client, options, *targets, canaries, soak, max_would_block, *std::move(snapshot));
  return rollout.Run();
}

}  // namespace conduit::ctl
