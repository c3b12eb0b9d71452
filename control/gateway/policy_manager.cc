#include "gateway/policy_manager.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/atomic_file.h"
#include "policy/compiler.h"
#include "policy/expires.h"
#include "policy/validate.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;
using Clock = std::chrono::steady_clock;

constexpr size_t kEpochsKept = 8;
constexpr const char* kPolicyFile = "policy.pb";
constexpr const char* kModesFile = "modes";
// The wall clock may be stepped (NTP) while the publisher waits for an
// expiry on the steady clock: it looks at the wall clock again this often.
constexpr uint64_t kExpiryRecheckMs = 30000;

const char* ModeWord(policy::Mode m) {
  switch (m) {
    case policy::Mode::kEnforce: return "enforce";
    case policy::Mode::kMonitor: return "monitor";
    case policy::Mode::kBypass: return "bypass";
  }
  return "";
}

std::optional<policy::Mode> ModeFromWord(const std::string& w) {
  if (w == "enforce") return policy::Mode::kEnforce;
  if (w == "monitor") return policy::Mode::kMonitor;
  if (w == "bypass") return policy::Mode::kBypass;
  return std::nullopt;
}

uint64_t MicrosSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

// The wall-clock instant `seconds` from now, in ms since the epoch (shown to
// operators; the deadline itself runs on the steady clock).
uint64_t UnixMillisIn(uint32_t seconds) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) +
         uint64_t{seconds} * 1000;
}


}  // namespace

PolicyManager::PolicyManager(Options options, PublishFn publish)
    : options_(std::move(options)), publish_(std::move(publish)) {
  publisher_ = std::thread([this] { PublisherLoop(); });
}

PolicyManager::~PolicyManager() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  publisher_.join();
}

void PolicyManager::PublisherLoop() {
  for (;;) {
    // A pending confirm deadline is timed here, on the steady clock: this
    // thread alone writes pending_, so reading it first cannot go stale
    // before the wait.
    // The next rule expiry (policy `expires:`, grants) is waited for the
    // same way: a wall-clock instant turned into a steady-clock wait.
    std::optional<Clock::time_point> revert_at, expire_at;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_) revert_at = pending_->deadline;
      if (const std::optional<uint64_t> ms = NextExpiryMs()) {
        const uint64_t now = policy::WallClockMs();
        const uint64_t delay = std::min(*ms > now ? *ms - now : 0, kExpiryRecheckMs);
        expire_at = Clock::now() + std::chrono::milliseconds(delay);
      }
    }
    std::optional<Clock::time_point> wake = revert_at;
    if (expire_at && (!wake || *expire_at < *wake)) wake = expire_at;
    Job job;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      const auto ready = [this] { return stopping_ || !queue_.empty(); };
      if (!wake) {
        queue_cv_.wait(lock, ready);
      } else if (!queue_cv_.wait_until(lock, *wake, ready)) {
        lock.unlock();
        if (revert_at && Clock::now() >= *revert_at) RevertUnconfirmed();
        ExpireDue();
        continue;
      }
      // Stopping with a push still pending reverts nothing here: policy.pb
      // holds the previous policy, which the next start runs.
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.run();
  }
}

template <typename T>
T PolicyManager::OnPublisher(std::function<T()> work) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> result = promise->get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    queue_.push_back(Job{[promise, work = std::move(work)] { promise->set_value(work()); }});
  }
  queue_cv_.notify_one();
  return result.get();
}

PushOutcome PolicyManager::Refused(std::vector<policy::PolicyError> errors) const {
  PushOutcome out;
  out.errors = std::move(errors);
  std::lock_guard<std::mutex> lock(mu_);
  if (active_) {
    out.active_version = active_->version();
    out.active_hash = active_hash_;
  }
  return out;
}

v1::PolicySnapshot PolicyManager::WithOverrides(const v1::PolicySnapshot& s) const {
  v1::PolicySnapshot out = s;
  if (mode_override_) out.set_mode(policy::ToProtoMode(*mode_override_));
  for (v1::Conduit& c : *out.mutable_conduits()) {
    if (auto it = conduit_overrides_.find(c.name()); it != conduit_overrides_.end()) {
      c.set_mode(policy::ToProtoMode(it->second));
      for (v1::Rule& r : *c.mutable_rules()) r.set_mode(v1::MODE_UNSPECIFIED);
    } else if (mode_override_) {
      // A gateway-wide override wins over the policy's conduit modes too.
      c.set_mode(v1::MODE_UNSPECIFIED);
      for (v1::Rule& r : *c.mutable_rules()) r.set_mode(v1::MODE_UNSPECIFIED);
    }
  }
  return out;
}

v1::PolicySnapshot PolicyManager::InForce(const v1::PolicySnapshot& s, uint64_t now_ms,
                                           std::vector<ExpiredRule>* timed,
                                           std::vector<ExpiredRule>* gone) const {
  v1::PolicySnapshot out = s;
  for (v1::Conduit& c : *out.mutable_conduits()) {
    google::protobuf::RepeatedPtrField<v1::Rule> kept;
    for (v1::Rule& r : *c.mutable_rules()) {
      const uint64_t ms = policy::RuleExpiryMs(r);
      if (ms != 0 && ms <= now_ms) {
        if (gone != nullptr) gone->push_back({c.name(), r.id(), false, ms});
        continue;  // its time passed: the rule no longer exists
      }
      if (ms != 0 && timed != nullptr) timed->push_back({c.name(), r.id(), false, ms});
      *kept.Add() = std::move(r);
    }
    c.mutable_rules()->Swap(&kept);
    // After the policy's own rules: the first match decides, so the
    // policy's explicit deny/alert rules keep winning over a grant.
    for (const GrantRule& g : grants_) {
      if (g.conduit != c.name() || g.expires_unix_ms <= now_ms) continue;
      *c.add_rules() = g.rule;
      if (timed != nullptr) timed->push_back({c.name(), g.rule.id(), true, g.expires_unix_ms});
    }
  }
  return out;
}

std::optional<uint64_t> PolicyManager::NextExpiryMs() const {
  std::optional<uint64_t> next;
  for (const ExpiredRule& t : timed_) {
    if (!next || t.expires_unix_ms < *next) next = t.expires_unix_ms;
  }
  // Grants outside the compiled policy (none active, conduit gone) still
  // end on time: they are reported and dropped.
  for (const GrantRule& g : grants_) {
    if (!next || g.expires_unix_ms < *next) next = g.expires_unix_ms;
  }
  return next;
}

void PolicyManager::ExpireDue() {
  const uint64_t now = policy::WallClockMs();
  std::vector<ExpiredRule> expired;
  std::optional<v1::PolicySnapshot> snapshot;
  bool recompile = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const ExpiredRule& t : timed_) {
      if (t.expires_unix_ms <= now) expired.push_back(t);
    }
    recompile = !expired.empty();
    for (const GrantRule& g : grants_) {
      if (g.expires_unix_ms > now) continue;
      const bool listed = std::any_of(expired.begin(), expired.end(), [&](const ExpiredRule& e) {
        return e.grant && e.rule_id == g.rule.id();
      });
      if (!listed) expired.push_back({g.conduit, g.rule.id(), true, g.expires_unix_ms});
    }
    std::erase_if(grants_, [now](const GrantRule& g) { return g.expires_unix_ms <= now; });
    if (expired.empty()) return;
    snapshot = active_;
  }
  if (recompile && snapshot) {
    // The same pushed policy, compiled as it runs now (forced: same content).
    const PushOutcome out = PushLocked(*snapshot, /*force=*/true);
    if (!out.accepted) {
      std::fprintf(stderr, "conduitd: error: rules expired but policy %s could not be recompiled: %s\n",
                   snapshot->version().c_str(), policy::FormatPolicyErrors(out.errors).c_str());
      // Not waited for again (the wait would spin): the next push or grant
      // recompiles without them.
      std::lock_guard<std::mutex> lock(mu_);
      std::erase_if(timed_, [now](const ExpiredRule& t) { return t.expires_unix_ms <= now; });
    }
  }
  for (const ExpiredRule& e : expired) {
    std::fprintf(stderr, "conduitd: %s %s of conduit %s expired at %s\n", e.grant ? "grant" : "rule",
                 e.rule_id.c_str(), e.conduit.c_str(), policy::FormatRfc3339(e.expires_unix_ms).c_str());
  }
  if (expiry_listener_) expiry_listener_(expired);
}

void PolicyManager::SetExpiryListener(ExpiryListener listener) {
  OnPublisher<bool>([this, &listener] {
    expiry_listener_ = std::move(listener);
    return true;
  });
}

absl::Status PolicyManager::SetGrants(std::vector<GrantRule> grants) {
  return OnPublisher<absl::Status>([this, grants]() -> absl::Status {
    std::optional<v1::PolicySnapshot> snapshot;
    std::vector<GrantRule> previous;
    {
      std::lock_guard<std::mutex> lock(mu_);
      previous = std::move(grants_);
      grants_ = grants;
      snapshot = active_;
    }
    if (!snapshot) {
      return absl::FailedPreconditionError("no policy is loaded: a grant is an exception to a policy");
    }
    const PushOutcome out = PushLocked(*snapshot, /*force=*/true);
    if (!out.accepted) {
      // The running policy is untouched; so are the grants it runs with.
      std::lock_guard<std::mutex> lock(mu_);
      grants_ = std::move(previous);
      return absl::InternalError(policy::FormatPolicyErrors(out.errors));
    }
    return absl::OkStatus();
  });
}

PushOutcome PolicyManager::PushLocked(const v1::PolicySnapshot& snapshot, bool force,
                                      uint32_t confirm_within_seconds) {
  // Runs on the publisher thread: the only writer of the active policy.
  const std::string hash = policy::PolicyHash(snapshot);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!force && active_ && active_hash_ == hash) {
      PushOutcome out;
      out.accepted = true;
      out.unchanged = true;
      out.active_version = active_->version();
      out.active_hash = hash;
      // Re-pushing the pending content with a deadline restarts its clock;
      // the confirmed content starts no window (nothing would change back).
      if (pending_ && confirm_within_seconds > 0) {
        pending_->deadline = Clock::now() + std::chrono::seconds(confirm_within_seconds);
        pending_->deadline_unix_ms = UnixMillisIn(confirm_within_seconds);
      }
      if (pending_) {
        out.confirm_deadline_unix_ms = pending_->deadline_unix_ms;
        out.revert_to_version = RevertTarget(*pending_);
      }
      return out;
    }
  }
  std::vector<policy::PolicyError> errors =
      policy::ValidatePolicy(snapshot, policy::ValidateOptions{options_.wire_count, nullptr});
  if (!errors.empty()) return Refused(std::move(errors));

  const Clock::time_point compile_start = Clock::now();
  v1::PolicySnapshot effective;
  uint32_t epoch;
  std::vector<ExpiredRule> timed, gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    effective = WithOverrides(InForce(snapshot, policy::WallClockMs(), &timed, &gone));
    epoch = epoch_ + 1;
  }
  std::string rule_ids;
  for (const v1::Conduit& c : effective.conduits()) {
    for (const v1::Rule& r : c.rules()) absl::StrAppend(&rule_ids, r.id(), "\n");
  }
  std::shared_ptr<policy::RuleHits> keep_hits;
  {
    // The same policy recompiled (a mode change) keeps counting its hits;
    // a grant or an expiry changes the rules, and so the counters.
    std::lock_guard<std::mutex> lock(mu_);
    if (active_ && active_hash_ == hash && active_rule_ids_ == rule_ids) keep_hits = active_hits_;
  }
  auto compiled = policy::CompilePolicy(effective, {options_.worker_count, epoch, keep_hits});
  if (!compiled.ok()) {
    return Refused({policy::PolicyError{"policy", std::string(compiled.status().message()), 0}});
  }
  const uint64_t compile_micros = MicrosSince(compile_start);
  if (!force) {
    for (const ExpiredRule& e : gone) {
      std::fprintf(stderr, "conduitd: policy %s: rule %s of conduit %s expired at %s: left out\n",
                   snapshot.version().c_str(), e.rule_id.c_str(), e.conduit.c_str(),
                   policy::FormatRfc3339(e.expires_unix_ms).c_str());
    }
  }

  EpochNames names;
  names.version = snapshot.version();
  for (const policy::ConduitPolicy& c : (*compiled)->conduits()) names.conduits.push_back(c.name);
  names.rules = (*compiled)->rule_names();
  const policy::Mode mode = (*compiled)->mode();
  std::shared_ptr<policy::RuleHits> hits = (*compiled)->shared_hits();
  {
    // Names first: a worker may emit an event of the new epoch as soon as
    // the pointer is published.
    std::lock_guard<std::mutex> lock(mu_);
    names_[epoch] = std::move(names);
    while (names_.size() > kEpochsKept) names_.erase(names_.begin());
  }
  const Clock::time_point swap_start = Clock::now();
  std::unique_ptr<const policy::CompiledPolicy> old = publish_(*std::move(compiled));
  old.reset();  // every worker has moved on: free it here, off the hot path
  const uint64_t swap_micros = MicrosSince(swap_start);

  // What a restart should run (nullopt: no policy).
  std::optional<v1::PolicySnapshot> start_up = snapshot;
  uint64_t deadline_unix_ms = 0;
  std::string revert_to_version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (confirm_within_seconds > 0) {
      // A second push inside the window keeps the first one's revert
      // target: the last confirmed policy, not the unconfirmed one it replaces.
      if (!pending_) pending_ = PendingConfirm{active_, {}, 0};
      pending_->deadline = Clock::now() + std::chrono::seconds(confirm_within_seconds);
      pending_->deadline_unix_ms = UnixMillisIn(confirm_within_seconds);
    }
    active_ = snapshot;
    active_hash_ = hash;
    active_hits_ = std::move(hits);
    active_rule_ids_ = std::move(rule_ids);
    timed_ = std::move(timed);
    epoch_ = epoch;
    effective_mode_ = mode;
    if (!force) refused_.clear();  // an accepted policy answers the start-up refusal
    if (pending_) {
      // Unconfirmed (also a plain push or a mode change inside the window):
      // a restart comes back with the last confirmed policy.
      start_up = pending_->revert_to;
      deadline_unix_ms = pending_->deadline_unix_ms;
      revert_to_version = RevertTarget(*pending_);
    }
  }
  if (!force) Report(EventKind::kPolicyChange, epoch, mode, kGatewayScope, confirm_within_seconds);
  if (!options_.state_dir.empty()) {
    // The policy runs already; failing to persist it is reported, not undone.
    // No start-up policy (an unconfirmed first push): nothing persisted,
    // so a restart runs as before it.
    const absl::Status s = start_up ? Persist(*start_up) : Unpersist();
    if (!s.ok()) {
      std::fprintf(stderr, "conduitd: warning: policy %s is active but not persisted: %s\n",
                   start_up ? start_up->version().c_str() : "(none)", std::string(s.message()).c_str());
    }
  }
  PushOutcome out;
  out.accepted = true;
  out.confirm_deadline_unix_ms = deadline_unix_ms;
  out.revert_to_version = revert_to_version;
  out.active_version = snapshot.version();
  out.active_hash = hash;
  out.compile_micros = compile_micros;
  out.swap_micros = swap_micros;
  return out;
}

void PolicyManager::Report(EventKind kind, uint32_t epoch, policy::Mode mode, uint16_t scope,
                           uint32_t rule) {
  if (events_ == nullptr) return;
  EventRecord e;
  e.ts_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
  e.kind = kind;
  e.mode = static_cast<EventMode>(mode);
  e.conduit = scope;
  e.rule = rule;
  e.policy_epoch = epoch;
  events_->TryPush(e);
}

void PolicyManager::ReportRefused(const std::vector<std::string>& refusals) {
  uint32_t epoch;
  std::vector<uint32_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& text : refusals) {
      absl::StrAppend(&refused_, refused_.empty() ? "" : "\n", text);
      const uint32_t id = refusal_texts_.empty() ? 1 : refusal_texts_.rbegin()->first + 1;
      refusal_texts_[id] = text;
      ids.push_back(id);
    }
    epoch = epoch_;
  }
  if (events_ == nullptr) return;
  for (uint32_t id : ids) {
    EventRecord e;
    e.ts_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    e.kind = EventKind::kPolicyRefused;
    e.conduit = kGatewayScope;
    e.rule = id;  // NamesFor finds the text by it
    e.policy_epoch = epoch;
    events_->TryPush(e);
  }
}

PushOutcome PolicyManager::Push(const v1::PolicySnapshot& snapshot) {
  return OnPublisher<PushOutcome>([this, &snapshot] { return PushLocked(snapshot, false); });
}

PushOutcome PolicyManager::PushConfirmed(const v1::PolicySnapshot& snapshot,
                                         uint32_t confirm_within_seconds) {
  return OnPublisher<PushOutcome>([this, &snapshot, confirm_within_seconds] {
    return PushLocked(snapshot, false, confirm_within_seconds);
  });
}

absl::StatusOr<std::string> PolicyManager::Confirm() {
  return OnPublisher<absl::StatusOr<std::string>>([this]() -> absl::StatusOr<std::string> {
    v1::PolicySnapshot confirmed;
    uint32_t epoch;
    policy::Mode mode;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pending_ || !active_) {
        return absl::FailedPreconditionError("no pushed policy is awaiting confirmation");
      }
      pending_.reset();
      confirmed = *active_;
      epoch = epoch_;
      mode = effective_mode_;
    }
    Report(EventKind::kPolicyConfirmed, epoch, mode, kGatewayScope);
    if (!options_.state_dir.empty()) {
      // From now on a restart runs the confirmed policy.
      if (absl::Status s = Persist(confirmed); !s.ok()) {
        std::fprintf(stderr, "conduitd: warning: policy %s is confirmed but not persisted: %s\n",
                     confirmed.version().c_str(), std::string(s.message()).c_str());
      }
    }
    return confirmed.version();
  });
}

std::string PolicyManager::RevertTarget(const PendingConfirm& p) {
  return p.revert_to ? p.revert_to->version() : std::string("none (no policy)");
}

absl::Status PolicyManager::Unpersist() const {
  std::error_code error;
  std::filesystem::remove(std::filesystem::path(options_.state_dir) / kPolicyFile, error);
  return error ? absl::InternalError(error.message()) : absl::OkStatus();
}

void PolicyManager::RevertUnconfirmed() {
  // The publisher thread, once the deadline has passed with no Confirm.
  std::optional<v1::PolicySnapshot> previous;
  std::string unconfirmed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!pending_) return;
    previous = std::move(pending_->revert_to);
    pending_.reset();  // first: the re-publish below persists `previous`
    if (active_) unconfirmed = active_->version();
  }
  if (!previous) {
    // The unconfirmed push was the first policy: back to none, as before it
    // (the workers forward and observe; nothing persisted).
    publish_(nullptr).reset();
    uint32_t epoch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active_.reset();
      active_hash_.clear();
      active_hits_.reset();
      active_rule_ids_.clear();
      timed_.clear();
      effective_mode_ = policy::Mode::kBypass;
      epoch = ++epoch_;
      EpochNames names;
      names.version = "none (no policy)";
      names.reverted_from = unconfirmed;
      names_[epoch] = std::move(names);
    }
    if (!options_.state_dir.empty()) (void)Unpersist();
    std::fprintf(stderr, "conduitd: policy %s was not confirmed in time: back to no policy\n",
                 unconfirmed.c_str());
    Report(EventKind::kPolicyReverted, epoch, policy::Mode::kBypass, kGatewayScope);
    if (self_action_) self_action_("revert", unconfirmed, "not confirmed in time: back to no policy");
    return;
  }
  // Exactly as a push of the previous policy (compile with the operator's
  // mode overrides, RCU publish, persist), forced: its content may equal
  // the active one (a plain push of it inside the window).
  const PushOutcome out = PushLocked(*previous, /*force=*/true);
  if (!out.accepted) {
    // It ran before under the same options; only a compile failure gets here.
    std::fprintf(stderr, "conduitd: error: confirm deadline passed but policy %s could not be restored: %s\n",
                 previous->version().c_str(), policy::FormatPolicyErrors(out.errors).c_str());
    return;
  }
  uint32_t epoch;
  policy::Mode mode;
  {
    std::lock_guard<std::mutex> lock(mu_);
    epoch = epoch_;
    mode = effective_mode_;
    if (auto it = names_.find(epoch); it != names_.end()) it->second.reverted_from = unconfirmed;
  }
  std::fprintf(stderr, "conduitd: policy %s was not confirmed in time: reverted to %s\n",
               unconfirmed.c_str(), previous->version().c_str());
  Report(EventKind::kPolicyReverted, epoch, mode, kGatewayScope);
  if (self_action_) {
    self_action_("revert", unconfirmed, "not confirmed in time: reverted to " + previous->version());
  }
}

absl::Status PolicyManager::Persist(const v1::PolicySnapshot& snapshot) const {
  std::string bytes;
  if (!snapshot.SerializeToString(&bytes)) return absl::InternalError("cannot serialize the policy");
  return WriteAtomically((std::filesystem::path(options_.state_dir) / kPolicyFile).string(), bytes);
}

absl::Status PolicyManager::PersistModes() const {
  if (options_.state_dir.empty()) return absl::OkStatus();
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (mode_override_) absl::StrAppend(&text, "gateway ", ModeWord(*mode_override_), "\n");
    for (const auto& [name, mode] : conduit_overrides_) absl::StrAppend(&text, "conduit ", ModeWord(mode), " ", name, "\n");
  }
  return WriteAtomically((std::filesystem::path(options_.state_dir) / kModesFile).string(), text);
}

void PolicyManager::LoadModes() {
  if (options_.state_dir.empty()) return;
  std::ifstream in(std::filesystem::path(options_.state_dir) / kModesFile);
  std::string scope, word;
  std::lock_guard<std::mutex> lock(mu_);
  while (in >> scope >> word) {
    const std::optional<policy::Mode> mode = ModeFromWord(word);
    std::string name;
    if (scope == "conduit") std::getline(in >> std::ws, name);
    if (!mode) continue;  // an unreadable line is skipped, not fatal
    if (scope == "gateway") mode_override_ = mode;
    if (scope == "conduit" && !name.empty()) conduit_overrides_[name] = *mode;
  }
}

std::string PolicyManager::LoadAtStart(const std::string& fallback_file) {
  std::vector<std::string> refusals;
  std::string report = LoadAtStartInto(fallback_file, refusals);
  // Reported once the outcome is known: the event says what runs instead.
  ReportRefused(refusals);
  return report;
}

std::string PolicyManager::LoadAtStartInto(const std::string& fallback_file,
                                           std::vector<std::string>& refusals) {
  LoadModes();
  std::string report;
  if (mode_override_) report = absl::StrCat("mode override ", ModeWord(*mode_override_), " restored; ");
  if (!options_.state_dir.empty()) {
    const std::string path = (std::filesystem::path(options_.state_dir) / kPolicyFile).string();
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream bytes;
      bytes << in.rdbuf();
      v1::PolicySnapshot snapshot;
      if (!snapshot.ParseFromString(bytes.str())) {
        report = absl::StrCat("persisted policy ", path, " is corrupt: ignored; ");
        refusals.push_back(absl::StrCat(path, ": corrupt: not a policy snapshot"));
      } else {
        const PushOutcome out = Push(snapshot);
        if (out.accepted) return absl::StrCat("policy ", out.active_version, " (", out.active_hash,
                                              ") restored from ", path);
        report = absl::StrCat("persisted policy ", path, " was refused (",
                              policy::FormatPolicyErrors(out.errors), "): ignored; ");
        refusals.push_back(absl::StrCat(path, ": ", policy::FormatPolicyErrors(out.errors)));
      }
    }
  }
  if (fallback_file.empty()) return report + "no policy: forwarding everything uninspected";
  auto snapshot = policy::LoadAndValidateFile(fallback_file, {options_.wire_count, nullptr});
  if (!snapshot.ok()) {
    refusals.push_back(absl::StrCat(fallback_file, ": ", snapshot.status().message()));
    return absl::StrCat(report, "policy ", fallback_file, " refused: ", snapshot.status().message(),
                        "; no policy: forwarding everything uninspected");
  }
  const PushOutcome out = Push(*snapshot);
  if (!out.accepted) {
    refusals.push_back(absl::StrCat(fallback_file, ": ", policy::FormatPolicyErrors(out.errors)));
    return absl::StrCat(report, "policy ", fallback_file, " refused: ",
                        policy::FormatPolicyErrors(out.errors),
                        "; no policy: forwarding everything uninspected");
  }
  return absl::StrCat(report, "policy ", out.active_version, " (", out.active_hash, ") loaded from ",
                      fallback_file);
}

absl::Status PolicyManager::SetMode(const std::string& conduit, std::optional<policy::Mode> mode) {
  return OnPublisher<absl::Status>([this, conduit, mode]() -> absl::Status {
    std::optional<v1::PolicySnapshot> snapshot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!conduit.empty()) {
        bool known = false;
        if (active_) {
          for (const v1::Conduit& c : active_->conduits()) known |= c.name() == conduit;
        }
        if (!known) return absl::NotFoundError(absl::StrCat("no conduit named \"", conduit, "\""));
        if (mode) conduit_overrides_[conduit] = *mode; else conduit_overrides_.erase(conduit);
      } else {
        mode_override_ = mode;
        if (mode) conduit_overrides_.clear();  // one gateway-wide mode: the operator's last word
      }
      snapshot = active_;
    }
    if (!snapshot) {
      return absl::FailedPreconditionError("no policy is loaded: the gateway bypasses inspection");
    }
    const PushOutcome out = PushLocked(*snapshot, /*force=*/true);
    if (!out.accepted) return absl::InternalError(policy::FormatPolicyErrors(out.errors));
    uint16_t scope = kGatewayScope;
    policy::Mode reported;
    {
      std::lock_guard<std::mutex> lock(mu_);
      reported = effective_mode_;
      for (int i = 0; i < active_->conduits_size(); ++i) {
        if (!conduit.empty() && active_->conduits(i).name() == conduit) scope = static_cast<uint16_t>(i);
      }
      if (scope != kGatewayScope && mode) reported = *mode;
      Report(EventKind::kModeChange, epoch_, reported, scope);
    }
    return PersistModes();
  });
}

std::optional<v1::PolicySnapshot> PolicyManager::ActiveSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

PolicyStatus PolicyManager::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  PolicyStatus s;
  s.has_policy = active_.has_value();
  if (active_) s.version = active_->version();
  s.hash = active_hash_;
  s.epoch = epoch_;
  s.mode = active_ ? effective_mode_ : policy::Mode::kBypass;
  s.mode_override = mode_override_;
  s.conduit_overrides = conduit_overrides_;
  s.refused = refused_;
  if (pending_ && active_) {
    s.confirm_pending_version = active_->version();
    s.confirm_deadline_unix_ms = pending_->deadline_unix_ms;
    s.revert_to_version = RevertTarget(*pending_);
  }
  return s;
}

// Shadow epochs never collide with active ones (which count up from 1):
// events of a candidate find its names, flows never cache its verdicts.
constexpr uint32_t kShadowEpochBit = 0x80000000u;

static uint64_t UnixMsNow() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

PushOutcome PolicyManager::PushShadow(const v1::PolicySnapshot& snapshot) {
  return OnPublisher<PushOutcome>([this, &snapshot]() -> PushOutcome {
    if (!publish_shadow_) {
      return Refused({policy::PolicyError{"shadow", "this gateway cannot judge a shadow policy", 0}});
    }
    std::vector<policy::PolicyError> errors =
        policy::ValidatePolicy(snapshot, policy::ValidateOptions{options_.wire_count, nullptr});
    if (!errors.empty()) return Refused(std::move(errors));
    const Clock::time_point compile_start = Clock::now();
    uint32_t epoch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      epoch = kShadowEpochBit | ++shadow_count_;
    }
    // As it would run now (expired rules out, the grants in), but without
    // the operator's mode overrides: those are for the active policy. It is
    // not recompiled when a rule expires later.
    v1::PolicySnapshot candidate;
    {
      std::lock_guard<std::mutex> lock(mu_);
      candidate = InForce(snapshot, policy::WallClockMs(), nullptr, nullptr);
    }
    auto compiled = policy::CompilePolicy(candidate, {options_.worker_count, epoch});
    if (!compiled.ok()) {
      return Refused({policy::PolicyError{"policy", std::string(compiled.status().message()), 0}});
    }
    const uint64_t compile_micros = MicrosSince(compile_start);
    ShadowState state{snapshot, (*compiled)->shared_hits(), epoch, UnixMsNow()};
    {
      std::lock_guard<std::mutex> lock(mu_);
      EpochNames names;
      names.version = snapshot.version();
      for (const policy::ConduitPolicy& c : (*compiled)->conduits()) names.conduits.push_back(c.name);
      names.rules = (*compiled)->rule_names();
      // Keep the previous candidate's names (its last events may lag) and
      // none older.
      for (auto it = names_.begin(); it != names_.end();) {
        const bool stale_shadow = (it->first & kShadowEpochBit) != 0 && shadow_ && it->first != shadow_->epoch;
        it = stale_shadow ? names_.erase(it) : std::next(it);
      }
      names_[epoch] = std::move(names);
    }
    const Clock::time_point swap_start = Clock::now();
    publish_shadow_(*std::move(compiled)).reset();
    const uint64_t swap_micros = MicrosSince(swap_start);
    PushOutcome out;
    {
      std::lock_guard<std::mutex> lock(mu_);
      shadow_ = std::move(state);
      if (active_) {
        out.active_version = active_->version();
        out.active_hash = active_hash_;
      }
    }
    out.accepted = true;
    out.compile_micros = compile_micros;
    out.swap_micros = swap_micros;
    return out;
  });
}

absl::Status PolicyManager::ClearShadow() {
  return OnPublisher<absl::Status>([this]() -> absl::Status {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!shadow_) return absl::FailedPreconditionError("no shadow policy is being judged");
    }
    if (publish_shadow_) publish_shadow_(nullptr).reset();
    std::lock_guard<std::mutex> lock(mu_);
    shadow_.reset();
    return absl::OkStatus();
  });
}

PushOutcome PolicyManager::PromoteShadow(uint32_t confirm_within_seconds) {
  std::optional<v1::PolicySnapshot> candidate;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shadow_) candidate = shadow_->snapshot;
  }
  if (!candidate) {
    return Refused({policy::PolicyError{"shadow", "no shadow policy to promote (push --shadow FILE first)", 0}});
  }
  PushOutcome out = PushConfirmed(*candidate, confirm_within_seconds);
  if (out.accepted) {
    // The candidate enforces now; judging it beside itself tells nothing.
    (void)ClearShadow();
  }
  return out;
}

std::optional<PolicyManager::ShadowReport> PolicyManager::Shadow() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!shadow_) return std::nullopt;
  ShadowReport out;
  out.candidate_version = shadow_->snapshot.version();
  if (active_) out.active_version = active_->version();
  out.since_unix_ms = shadow_->since_unix_ms;
  if (auto n = names_.find(shadow_->epoch); n != names_.end()) out.rules = n->second.rules;
  if (shadow_->hits != nullptr) {
    out.totals = shadow_->hits->Totals();
    const auto d = shadow_->hits->TotalDisagreements();
    out.newly_blocked = d.newly_blocked;
    out.newly_allowed = d.newly_allowed;
  }
  return out;
}

std::optional<PolicyManager::RuleHitsReport> PolicyManager::ActiveRuleHits() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!active_ || active_hits_ == nullptr) return std::nullopt;
  RuleHitsReport out;
  out.version = active_->version();
  const auto names = names_.find(epoch_);
  if (names != names_.end()) out.rules = names->second.rules;
  out.totals = active_hits_->Totals();
  return out;
}

EventNames PolicyManager::NamesFor(const EventRecord& event) const {
  std::lock_guard<std::mutex> lock(mu_);
  EventNames out;
  if (event.kind == EventKind::kPolicyRefused) {
    if (auto r = refusal_texts_.find(event.rule); r != refusal_texts_.end()) out.error = r->second;
    if (auto n = names_.find(event.policy_epoch); n != names_.end()) out.policy_version = n->second.version;
    return out;
  }
  auto it = names_.find(event.policy_epoch);
  if (it == names_.end()) return out;
  const EpochNames& n = it->second;
  out.policy_version = n.version;
  if (event.kind == EventKind::kPolicyReverted) out.reverted_from = n.reverted_from;
  if (event.conduit < n.conduits.size()) out.conduit = n.conduits[event.conduit];
  if (event.rule < n.rules.size()) out.rule = n.rules[event.rule];
  return out;
}

}  // namespace conduit
