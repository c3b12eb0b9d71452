#include "service/gateway_service.h"

#include <string>

namespace conduit {

void FillCounters(const std::vector<CounterSnapshot>& per_worker,
                  const std::vector<unsigned>& lcores, conduit::v1::Counters& out) {
  CounterSnapshot total;
  for (size_t w = 0; w < per_worker.size(); ++w) {
    total.Accumulate(per_worker[w]);
    conduit::v1::WorkerCounters* wc = out.add_workers();
    wc->set_lcore(w < lcores.size() ? lcores[w] : 0);
    for (int i = 0; i < kWorkerCounterCount; ++i) {
      (*wc->mutable_values())[std::string(WorkerCounterName(static_cast<WorkerCounter>(i)))] =
          per_worker[w].totals[i];
    }
  }
  for (int i = 0; i < kWorkerCounterCount; ++i) {
    (*out.mutable_totals())[std::string(WorkerCounterName(static_cast<WorkerCounter>(i)))] =
        total.totals[i];
  }
  for (int i = 0; i < kInspectCounterCount; ++i) {
    (*out.mutable_totals())[std::string(InspectCounterName(static_cast<InspectCounter>(i)))] =
        total.inspect[i];
  }
  for (int i = 0; i < kDropReasonCount; ++i) {
    (*out.mutable_dropped_by_reason())[std::string(DropReasonName(static_cast<DropReason>(i)))] =
        total.drops[i];
  }
}

grpc::Status GatewayService::GetCounters(grpc::ServerContext*,
                                         const conduit::v1::GetCountersRequest*,
                                         conduit::v1::Counters* reply) {
  FillCounters(counters_(), lcores_, *reply);
  return grpc::Status::OK;
}

}  // namespace conduit
