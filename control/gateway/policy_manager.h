// The life of a policy push on the gateway: validate → compile → publish
// (RCU) → persist. Owns the active snapshot, its version, hash and epoch, and
// the operator's mode overrides.
//
// Thread safety: every public method may be called from any thread (gRPC
// handlers, start-up). Pushes are serialised on one publisher thread, which
// alone waits for RCU grace periods; callers wait on its answer, never on
// the grace period under a lock of theirs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conduit/v1/policy.pb.h"
#include "events/event_json.h"
#include "events/event_record.h"
#include "events/event_ring.h"
#include "policy/compiled_policy.h"
#include "policy/policy_yaml.h"

namespace conduit {

struct PushOutcome {
  bool accepted = false;
  bool unchanged = false;            // the same content was already active: nothing done
  std::string active_version;        // the accepted version, or the one still running
  std::string active_hash;
  std::vector<policy::PolicyError> errors;  // why a push was refused
  uint64_t compile_micros = 0;
  uint64_t swap_micros = 0;          // publish + grace period
  // Set while the active policy awaits confirmation (PushConfirmed, or a
  // plain push made during the window): when it reverts, and to what.
  uint64_t confirm_deadline_unix_ms = 0;
  std::string revert_to_version;
};

struct PolicyStatus {
  bool has_policy = false;
  std::string version;
  std::string hash;
  uint32_t epoch = 0;
  policy::Mode mode = policy::Mode::kBypass;  // effective gateway mode
  std::optional<policy::Mode> mode_override;
  std::map<std::string, policy::Mode> conduit_overrides;
  // Why a start-up policy (persisted or the config's `policy:`) was refused:
  // "<file>: <errors>", one refusal a line; empty when none. Cleared by the
  // next accepted push.
  std::string refused;
  // Confirm or roll back: the pushed policy awaiting Confirm, the deadline
  // (wall clock, for display; the gateway times it on a steady clock) and
  // the version it reverts to. Empty / 0 when nothing is pending.
  std::string confirm_pending_version;
  uint64_t confirm_deadline_unix_ms = 0;
  std::string revert_to_version;
};

// A rule in force until a wall-clock instant, appended to its conduit of
// the pushed policy: a grant (control/grants).
struct GrantRule {
  std::string conduit;
  conduit::v1::Rule rule;  // its id is the grant's ("grant-<n>")
  uint64_t expires_unix_ms = 0;
};

// A rule that went out of force because its time passed: a policy rule's
// `expires:` or a grant's end.
struct ExpiredRule {
  std::string conduit;
  std::string rule_id;
  bool grant = false;
  uint64_t expires_unix_ms = 0;
};

class PolicyManager {
 public:
  // Publishes a compiled policy to the workers and returns the one it
  // replaced, after the grace period (Dataplane::Publish).
  using PublishFn = std::function<std::unique_ptr<const policy::CompiledPolicy>(
      std::unique_ptr<const policy::CompiledPolicy>)>;

  struct Options {
    size_t worker_count = 1;
    int wire_count = -1;       // for validation; -1: unknown
    std::string state_dir;     // empty: do not persist
  };

  PolicyManager(Options options, PublishFn publish);
  ~PolicyManager();

  // Validates, compiles and publishes; returns once every worker runs it (or
  // with the errors and the running policy untouched).
  PushOutcome Push(const conduit::v1::PolicySnapshot& snapshot);

  // Confirm or roll back: pushes as Push does, then, unless Confirm() is
  // called within `confirm_within_seconds` (steady clock, counted by the
  // publisher thread), re-publishes the previous policy by itself (a
  // policy_reverted event). 0 is a plain Push. With no policy active the
  // revert goes back to none (publishes null: forward and observe).
  //
  // While a push is pending, policy.pb in state_dir keeps the previous
  // (last confirmed) policy: a gateway restarted inside the window comes
  // back with it, never with the unconfirmed one.
  //
  // A second push during the window (with a deadline or without) replaces
  // the pending policy but keeps the revert target: the policy that was
  // running before the first unconfirmed push. A deadline given with it
  // replaces the running one; a plain push keeps it. Re-pushing the pending
  // content with a deadline only resets the deadline.
  PushOutcome PushConfirmed(const conduit::v1::PolicySnapshot& snapshot,
                            uint32_t confirm_within_seconds);

  // Makes the pending policy the confirmed one (persisted as the start-up
  // policy, a policy_confirmed event) and returns its version;
  // FailedPrecondition when nothing awaits confirmation.
  absl::StatusOr<std::string> Confirm();

  // Start-up: the persisted policy if there is a valid one, else `fallback_file`
  // (the config's `policy:`), else none (bypass). A corrupt or invalid
  // persisted file, or an invalid `policy:`, is ignored (availability first)
  // but not silently: it is in the returned message, in Status().refused
  // until a push is accepted, and a policy_refused event (per refusal).
  std::string LoadAtStart(const std::string& fallback_file);

  // Operator overrides of the policy's modes (SetMode). An empty conduit
  // name means the whole gateway; nullopt clears the override. Recompiles
  // the active policy with the override, publishes it, and persists the
  // overrides so a restarted gateway keeps enforcing what it enforced.
  absl::Status SetMode(const std::string& conduit, std::optional<policy::Mode> mode);

  // Time-limited rules. What the workers run is the pushed policy minus
  // its rules whose `expires` has passed, plus the grants in force appended
  // to their conduits (after the policy's own rules: the first matching rule
  // decides, so an explicit deny or alert of the policy that matches the
  // same operation wins over a grant; a grant wins over the conduit's
  // default). Status keeps the pushed policy's version and hash.
  //
  // The publisher thread recompiles by itself when the next expiry passes on
  // the wall clock (the confirm-deadline wait, shared); a restarted gateway
  // compiles the persisted policy without the rules that expired meanwhile.
  //
  // SetGrants replaces the grants and recompiles the active policy with
  // them; every later push re-applies them (a grant whose conduit the new
  // policy lacks is left out). FailedPrecondition when no policy is active
  // (the grants are kept for the next push).
  absl::Status SetGrants(std::vector<GrantRule> grants);
  // Told, on the publisher thread, which rules went out of force (after the
  // recompile without them); also grants that expired with no policy to be
  // part of. It must not call back into this PolicyManager's blocking
  // methods.
  using ExpiryListener = std::function<void(const std::vector<ExpiredRule>&)>;
  // Runs on the publisher thread (so it may also clear the listener while
  // the manager runs, before its owner goes away).
  void SetExpiryListener(ExpiryListener listener);

  std::optional<conduit::v1::PolicySnapshot> ActiveSnapshot() const;
  PolicyStatus Status() const;

  // Where policy and mode changes are reported (a ring the event drain
  // reads). Set before the first push; written only by the publisher thread.
  void SetEventRing(EventRing* ring) { events_ = ring; }
  // What the gateway changes by itself, on its own clock (a confirm deadline
  // passing): (action, target, detail), for the audit trail. Before Start.
  using SelfActionHook = std::function<void(const std::string& action, const std::string& target,
                                            const std::string& detail)>;
  void SetSelfActionHook(SelfActionHook hook) { self_action_ = std::move(hook); }

  // Names for an event, by the epoch it came from (the drain thread).
  EventNames NamesFor(const EventRecord& event) const;

  // Each rule of the active policy (built-in reasons first, then the
  // policy's rule ids) with its hits since the policy was compiled (a push
  // or a mode change); nullopt without a policy.
  struct RuleHitsReport {
    std::string version;
    std::vector<std::string> rules;
    std::vector<policy::RuleHits::Total> totals;
  };
  std::optional<RuleHitsReport> ActiveRuleHits() const;

  // Shadow policy (policy_manager_shadow.cc): a candidate judged beside the
  // active policy on live traffic, never enforced. `publish` hands a
  // compiled candidate to the workers (Dataplane::PublishShadow); set it
  // before the first PushShadow. Without it, PushShadow is refused.
  void SetShadowPublisher(PublishFn publish) { publish_shadow_ = std::move(publish); }
  // Validates and compiles the candidate (as Push would, errors alike) and
  // starts judging with it; replaces an earlier candidate.
  PushOutcome PushShadow(const conduit::v1::PolicySnapshot& snapshot);
  // Stops judging with the candidate; FailedPrecondition when there is none.
  absl::Status ClearShadow();
  // Pushes the candidate as the active policy (Push, or PushConfirmed with
  // a deadline: validated and compiled again, with the operator's mode
  // overrides) and, once accepted, clears it.
  PushOutcome PromoteShadow(uint32_t confirm_within_seconds = 0);
  struct ShadowReport {
    std::string candidate_version;
    std::string active_version;
    uint64_t since_unix_ms = 0;
    std::vector<std::string> rules;  // the candidate's, built-in reasons first
    std::vector<policy::RuleHits::Total> totals;
    uint64_t newly_blocked = 0;  // decisions the candidate denies and the active does not
    uint64_t newly_allowed = 0;  // ... and the other way round
  };
  std::optional<ShadowReport> Shadow() const;

 private:
  struct Job {
    std::function<void()> run;
  };
  PushOutcome PushLocked(const conduit::v1::PolicySnapshot& snapshot, bool force,
                         uint32_t confirm_within_seconds = 0);
  // The publisher thread, when a pending push's deadline has passed.
  void RevertUnconfirmed();
  SelfActionHook self_action_;
  PushOutcome Refused(std::vector<policy::PolicyError> errors) const;
  absl::Status Persist(const conduit::v1::PolicySnapshot& snapshot) const;
  // The operator's mode overrides survive a restart too (state_dir/modes).
  absl::Status PersistModes() const;
  void LoadModes();
  conduit::v1::PolicySnapshot WithOverrides(const conduit::v1::PolicySnapshot& s) const;
  // The pushed snapshot as it runs at `now_ms` (see SetGrants). `timed`
  // gets every rule with an expiry that made it in, `gone` the pushed rules
  // already expired. Under mu_.
  conduit::v1::PolicySnapshot InForce(const conduit::v1::PolicySnapshot& s, uint64_t now_ms,
                                      std::vector<ExpiredRule>* timed,
                                      std::vector<ExpiredRule>* gone) const;
  // The publisher thread: recompiles without the rules whose time passed
  // and tells the listener. Does nothing when none did.
  void ExpireDue();
  // The earliest expiry among the compiled rules and the grants (ms); under mu_.
  std::optional<uint64_t> NextExpiryMs() const;
  template <typename T>
  T OnPublisher(std::function<T()> work);
  void PublisherLoop();

  void Report(EventKind kind, uint32_t epoch, policy::Mode mode, uint16_t scope, uint32_t rule = 0);
  // Start-up refusals: into `refused_` and one policy_refused event each.
  void ReportRefused(const std::vector<std::string>& refusals);
  std::string LoadAtStartInto(const std::string& fallback_file, std::vector<std::string>& refusals);

  const Options options_;
  PublishFn publish_;
  EventRing* events_ = nullptr;

  mutable std::mutex mu_;  // guards everything below
  std::optional<conduit::v1::PolicySnapshot> active_;  // as pushed (no overrides)
  std::string active_hash_;
  std::shared_ptr<policy::RuleHits> active_hits_;  // the active compiled policy's
  PublishFn publish_shadow_;
  struct ShadowState {
    conduit::v1::PolicySnapshot snapshot;
    std::shared_ptr<policy::RuleHits> hits;
    uint32_t epoch = 0;  // kShadowEpochBit set: never an active epoch
    uint64_t since_unix_ms = 0;
  };
  std::optional<ShadowState> shadow_;
  uint32_t shadow_count_ = 0;
  uint32_t epoch_ = 0;
  policy::Mode effective_mode_ = policy::Mode::kBypass;
  std::optional<policy::Mode> mode_override_;
  std::map<std::string, policy::Mode> conduit_overrides_;
  struct EpochNames {
    std::string version;
    std::vector<std::string> conduits;
    std::vector<std::string> rules;
    std::string reverted_from;  // set when this epoch reverted an unconfirmed push
  };
  std::map<uint32_t, EpochNames> names_;  // the last few epochs: events lag behind swaps
  std::string refused_;                    // PolicyStatus::refused
  std::map<uint32_t, std::string> refusal_texts_;  // policy_refused events' text, by id (their `rule`)
  // A push awaiting Confirm (written only by the publisher thread).
  struct PendingConfirm {
    // The last confirmed policy (as pushed); nullopt: none (the gateway
    // forwarded with no policy, and goes back to that).
    std::optional<conduit::v1::PolicySnapshot> revert_to;
    std::chrono::steady_clock::time_point deadline;
    uint64_t deadline_unix_ms = 0;           // the same instant, for display
  };
  std::optional<PendingConfirm> pending_;
  // Time-limited rules (written only by the publisher thread).
  std::vector<GrantRule> grants_;
  std::vector<ExpiredRule> timed_;   // the compiled policy's rules that expire
  std::string active_rule_ids_;      // the compiled rule ids: same ids, same hit counters
  ExpiryListener expiry_listener_;
  static std::string RevertTarget(const PendingConfirm& p);  // its version, or "none (no policy)"
  absl::Status Unpersist() const;  // removes the persisted policy

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread publisher_;
};

}  // namespace conduit
