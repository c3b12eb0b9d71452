#include "grants/grant_validate.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "policy/validate.h"

namespace conduit::grants {
namespace {

namespace v1 = conduit::v1;
using policy::PolicyError;

// Rule id while the grant's rule is validated inside the policy: not a grant
// id (those are reserved) and not one a policy file can hold (no spaces).
constexpr const char* kProbeId = "(grant being validated)";

// Grants name hosts and networks, never zones: a zone is the policy's to
// change, and "the plant zone" is wider than a vendor's laptop.
void Endpoints(const google::protobuf::RepeatedPtrField<std::string>& entries, const char* field,
               std::vector<PolicyError>& errors) {
  for (int i = 0; i < entries.size(); ++i) {
    const std::string path = absl::StrCat("rule.", field, "[", i, "]");
    absl::StatusOr<policy::IpPrefix> prefix = policy::ParsePrefix(entries[i]);
    if (!prefix.ok()) {
      errors.push_back({path, absl::StrCat(std::string(prefix.status().message()),
                                           " (a grant names hosts or networks as CIDR prefixes, not zones)")});
    } else if (prefix->length == 0) {
      errors.push_back({path, absl::StrCat("\"", entries[i], "\" is every address: a grant names the hosts it is for")});
    }
  }
}

}  // namespace

std::string DurationText(uint64_t seconds) {
  if (seconds != 0 && seconds % 86400 == 0) return absl::StrCat(seconds / 86400, "d");
  if (seconds != 0 && seconds % 3600 == 0) return absl::StrCat(seconds / 3600, "h");
  if (seconds != 0 && seconds % 60 == 0) return absl::StrCat(seconds / 60, "m");
  return absl::StrCat(seconds, "s");
}

std::vector<PolicyError> ValidateGrant(const v1::GrantRequest& request,
                                       const std::optional<v1::PolicySnapshot>& active,
                                       uint32_t max_seconds) {
  std::vector<PolicyError> errors;
  const v1::Rule& r = request.rule();
  int conduit = -1;
  if (request.conduit().empty()) {
    errors.push_back({"conduit", "missing: the conduit the grant is an exception in"});
  } else if (!active) {
    errors.push_back({"conduit", "no policy is active: a grant is an exception to a policy (push one first)"});
  } else {
    std::vector<std::string> names;
    for (int i = 0; i < active->conduits_size(); ++i) {
      names.push_back(active->conduits(i).name());
      if (active->conduits(i).name() == request.conduit()) conduit = i;
    }
    if (conduit < 0) {
      errors.push_back({"conduit", absl::StrCat("no conduit \"", request.conduit(), "\" in the active policy ",
                                                active->version(), " (conduits: ", absl::StrJoin(names, ", "), ")")});
    }
  }
  if (request.duration_seconds() == 0) {
    errors.push_back({"duration_seconds", "missing: a grant is for a time (--for 2h)"});
  } else if (request.duration_seconds() > max_seconds) {
    errors.push_back({"duration_seconds",
                      absl::StrCat(DurationText(request.duration_seconds()), " is too long: a grant lasts at most ",
                                   DurationText(max_seconds), " (", max_seconds,
                                   " s); longer access belongs in the policy file")});
  }
  if (request.reason().empty()) errors.push_back({"reason", "missing: why the access is granted (audited)"});

  if (r.from_size() == 0) {
    errors.push_back({"rule.from", "missing: the initiators the grant is for (a CIDR prefix such as 198.18.0.20/32)"});
  }
  Endpoints(r.from(), "from", errors);
  Endpoints(r.to(), "to", errors);
  if (r.protocol() == "tcp" || r.protocol() == "udp") {
    errors.push_back({"rule.protocol", absl::StrCat(r.protocol(), " cannot be granted: a grant names an ICS protocol and its functions")});
  }
  if (r.functions_size() == 0) {
    errors.push_back({"rule.functions", "missing: a grant names the functions it allows (never any function)"});
  }
  if (r.action() != v1::ACTION_UNSPECIFIED && r.action() != v1::ACTION_ALLOW) {
    errors.push_back({"rule.action", "a grant allows; it has no other action"});
  }
  if (r.mode() != v1::MODE_UNSPECIFIED) errors.push_back({"rule.mode", "a grant runs in its conduit's mode"});
  if (!r.expires().empty()) errors.push_back({"rule.expires", "set by the gateway from duration_seconds"});

  // Protocol, functions, units, addresses and port: judged exactly as a
  // policy file's rule, by validating the rule inside the active policy.
  if (active && conduit >= 0) {
    v1::PolicySnapshot probe = *active;
    v1::Conduit* c = probe.mutable_conduits(conduit);
    v1::Rule* rule = c->add_rules();
    *rule = r;
    rule->set_id(kProbeId);
    rule->set_action(v1::ACTION_ALLOW);
    rule->clear_mode();
    rule->clear_expires();
    rule->set_line(0);
    const std::string prefix = absl::StrCat("conduits[", conduit, "].rules[", c->rules_size() - 1, "]");
    for (PolicyError& e : policy::ValidatePolicy(probe)) {
      // The policy's own problems are not the grant's (it was accepted).
      if (!e.path.starts_with(prefix)) continue;
      const std::string field = e.path.substr(prefix.size());
      if (field.starts_with(".from") || field.starts_with(".to")) continue;  // said above, in grant terms
      errors.push_back({"rule" + field, std::move(e.reason)});
    }
  } else if (r.protocol().empty()) {
    errors.push_back({"rule.protocol", "missing: the ICS protocol the grant is for"});
  }
  return errors;
}

}  // namespace conduit::grants
