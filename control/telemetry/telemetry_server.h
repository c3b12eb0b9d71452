// The `metrics.listen` endpoint: /metrics (Prometheus text) and / (the
// status page), served by cpp-httplib on its own threads in the control
// plane. Read-only: nothing here changes the gateway, so it is not behind
// control.roles; bind it to a management address.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "conduit/v1/gateway.pb.h"
#include "events/event_drain.h"
#include "telemetry/recent_events.h"

namespace httplib {
class Server;
}

namespace conduit::telemetry {

struct TelemetrySources {
  std::function<void(conduit::v1::GatewayStatus*)> status;   // GatewayService::FillStatus
  std::function<EventDrainCounters()> events;
  std::function<std::vector<conduit::v1::Baseline>()> maps;  // unset: no baseline store
  RecentEvents* recent = nullptr;
};

class TelemetryServer {
 public:
  // "host:port" (port 0: any free one). Errors name the address.
  static absl::StatusOr<std::unique_ptr<TelemetryServer>> Start(const std::string& listen,
                                                               TelemetrySources sources);
  ~TelemetryServer();  // stops serving and joins

  int port() const { return port_; }

 private:
  explicit TelemetryServer(TelemetrySources sources);

  TelemetrySources sources_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace conduit::telemetry
