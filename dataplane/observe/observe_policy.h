// The policy a worker judges by when no policy covers a burst (no policy
// pushed yet, no conduit on the wire, or a conduit in bypass mode), so that
// observation runs in every mode: one conduit on wire 0 in monitor mode,
// everything allowed (ICS operations, other IP, unparsable bytes),
// no rules, no signatures. The worker forwards every packet of such a burst
// as it came and emits no events (worker/worker.cc), whatever this policy
// would say.
#pragma once

#include <cstdint>
#include <memory>

#include "policy/compiled_policy.h"

namespace conduit::observe {

// Its epoch: never a pushed policy's (those count up from 1), so no verdict
// a flow cached under it is taken for a real policy's.
inline constexpr uint32_t kObserveOnlyEpoch = ~0u;

std::unique_ptr<const policy::CompiledPolicy> ObserveOnlyPolicy();

}  // namespace conduit::observe
