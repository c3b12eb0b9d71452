// The gRPC Gateway service: proto <-> domain translation at the edge.
//
// GetCounters is served now; policy push, status, mode and events arrive with
// the control-plane work and answer UNIMPLEMENTED until then.
#pragma once

#include <functional>
#include <vector>

#include "conduit/v1/gateway.grpc.pb.h"
#include "stats/counters.h"

namespace conduit {

class GatewayService final : public conduit::v1::Gateway::Service {
 public:
  using CountersSource = std::function<std::vector<CounterSnapshot>()>;

  GatewayService(CountersSource counters, std::vector<unsigned> lcores)
      : counters_(std::move(counters)), lcores_(std::move(lcores)) {}

  grpc::Status GetCounters(grpc::ServerContext* context,
                           const conduit::v1::GetCountersRequest* request,
                           conduit::v1::Counters* reply) override;

 private:
  CountersSource counters_;
  std::vector<unsigned> lcores_;
};

// Fills the proto from per-worker snapshots (totals, drops, per worker).
void FillCounters(const std::vector<CounterSnapshot>& per_worker,
                  const std::vector<unsigned>& lcores, conduit::v1::Counters& out);

}  // namespace conduit
