// The appliance's read-only status page at `metrics.listen` / : policy,
// mode, failure policy, bypass and why, counters, the last blocked
// operations, the communication map. Plain HTML and inline CSS, no scripts
// or external assets (it must work air-gapped); it refreshes itself.
#pragma once

#include <string>
#include <vector>

#include "conduit/v1/gateway.pb.h"

namespace conduit::telemetry {

struct StatusPageInput {
  const conduit::v1::GatewayStatus* status = nullptr;
  std::vector<std::string> blocked;             // event JSON lines, newest first
  std::vector<conduit::v1::Baseline> maps;      // one per conduit; empty: no baseline store
  std::string hostname;
  int refresh_seconds = 5;
};

std::string RenderStatusPage(const StatusPageInput& input);

// Text made safe inside HTML elements and attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace conduit::telemetry
