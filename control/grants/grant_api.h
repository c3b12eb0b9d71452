// Time-limited, function-level grants (DESIGN.md, "Ownership and change
// control"): Grant, ListGrants and Revoke over the grant store, applied by
// the policy manager (appended to their conduit, recompiled on grant, revoke
// and expiry) and reported as events (grant_started, grant_expired,
// grant_revoked; rule_expired for a policy rule's `expires:`).
//
// Thread safety: every public method may be called from any thread. Start()
// once, before the gRPC server takes calls.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "conduit/v1/gateway.pb.h"
#include "events/event_drain.h"
#include "gateway/policy_manager.h"
#include "grants/grant_store.h"
#include "grants/grant_validate.h"

namespace conduit::grants {

class GrantApi {
 public:
  // Told of every change: action "grant_started", "grant_expired" or
  // "grant_revoked", target the grant id, detail GrantSummary() (and who
  // revoked it). Called on the thread that made the change, never under a
  // lock of the policy manager's publisher.
  using ChangeHook =
      std::function<void(std::string_view action, std::string_view target, std::string_view detail)>;

  struct Options {
    std::string state_dir;  // grants.json lives here; empty: in memory only
    uint32_t max_seconds = kMaxGrantSeconds;
  };

  // `events` may be null (no events).
  GrantApi(PolicyManager* policies, EventDrain* events, Options options);
  // Stops listening for expiries (the policy manager outlives this).
  ~GrantApi();
  GrantApi(const GrantApi&) = delete;
  GrantApi& operator=(const GrantApi&) = delete;

  void SetChangeHook(ChangeHook hook) { hook_ = std::move(hook); }

  // Loads the persisted grants; the ones that ended while the gateway was
  // down are reported (grant_expired) and dropped; the rest go to the
  // policy manager. Also listens for expiries from now on. Returns a line
  // for the log.
  std::string Start();

  // Refused requests leave reply->errors set and change nothing (an OK
  // answer, as a refused push is). `identity`: the caller (granted_by).
  absl::Status Grant(const conduit::v1::GrantRequest& request, const std::string& identity,
                     conduit::v1::GrantResponse* reply);
  void List(conduit::v1::GrantList* reply);
  absl::Status Revoke(const conduit::v1::RevokeRequest& request, const std::string& identity,
                      conduit::v1::RevokeResponse* reply);

 private:
  // The grants as the policy manager takes them. Under mu_.
  std::vector<GrantRule> Rules() const;
  // Hands the store's grants to the policy manager (serialised by apply_mu_).
  absl::Status Apply();
  // The policy manager's publisher thread: rules whose time passed.
  void OnExpired(const std::vector<ExpiredRule>& expired);
  // Drops, reports and persists the store's grants that ended by now.
  void SweepExpired(std::string_view cause);
  void Report(std::string_view event, const conduit::v1::GrantInfo& grant,
              std::string_view extra_key = "", std::string_view extra_value = "");
  void Persist();

  PolicyManager* policies_;
  EventDrain* events_;
  const Options options_;
  ChangeHook hook_;
  bool started_ = false;

  // Order: apply_mu_ then mu_. The expiry listener (publisher thread) takes
  // mu_ only; apply_mu_ is held across SetGrants, which waits on the
  // publisher, so the listener must never need it.
  std::mutex apply_mu_;
  mutable std::mutex mu_;
  GrantStore store_;
};

}  // namespace conduit::grants
