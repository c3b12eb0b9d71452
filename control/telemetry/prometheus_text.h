// The gateway's state in Prometheus text exposition format (0.0.4), for
// `metrics.listen` /metrics (DESIGN.md, "Telemetry"). Built from what
// GetStatus answers, so it reads the workers' counters the way conduitctl
// does: each worker's own, lock-free, nothing asked of the workers.
//
//   conduit_<counter>_total                  every counter, summed over workers
//   conduit_worker_<counter>_total{lcore}    the same per worker
//   conduit_dropped_total{reason}            drops by reason
//   conduit_evasion_drops_total{reason}      the normalizer's share of them
//   conduit_bypass{reason}, conduit_worker_overloaded{lcore}, conduit_worker_healthy{lcore}
//   conduit_policy_info{version,hash,mode,failure} 1
//   conduit_rule_hits_total{rule}            at most max_rules series; the rest in rule="_other"
//   conduit_events_*_total, conduit_audit_*, conduit_grants, conduit_uptime_seconds
//   conduit_syslog_*_total                   with events.syslog (GatewayStatus.syslog)
#pragma once

#include <string>

#include "conduit/v1/gateway.pb.h"
#include "events/event_drain.h"

namespace conduit::telemetry {

struct MetricsInput {
  const conduit::v1::GatewayStatus* status = nullptr;
  EventDrainCounters events;
  size_t max_rules = 200;  // bounded cardinality: a 10k-rule policy stays scrapeable
};

std::string RenderPrometheus(const MetricsInput& input);

// A Prometheus label value: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view v);

}  // namespace conduit::telemetry
