#include "observe/observe_policy.h"

#include "policy/policy_builder.h"

namespace conduit::observe {

std::unique_ptr<const policy::CompiledPolicy> ObserveOnlyPolicy() {
  policy::PolicyBuilder b("observe-only", policy::Mode::kMonitor);
  b.SetEpoch(kObserveOnlyEpoch);
  policy::ConduitPolicy c;
  c.name = "observe-only";
  c.wire = 0;
  c.mode = policy::Mode::kMonitor;
  c.default_action = c.non_ics = c.unparsable = policy::Action::kAllow;
  c.on_deny = policy::OnDeny::kDrop;
  b.AddConduit(c);
  return b.Build();
}

}  // namespace conduit::observe
