#include "telemetry/telemetry_server.h"

#include <httplib.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/listen_probe.h"
#include "telemetry/prometheus_text.h"
#include "telemetry/status_page.h"

namespace conduit::telemetry {

namespace {

absl::Status CannotListen(const std::string& listen) {
  return absl::UnavailableError(CannotListenMessage("metrics.listen", listen));
}

}  // namespace

TelemetryServer::TelemetryServer(TelemetrySources sources)
    : sources_(std::move(sources)), server_(std::make_unique<httplib::Server>()) {}

TelemetryServer::~TelemetryServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<TelemetryServer>> TelemetryServer::Start(const std::string& listen,
                                                                       TelemetrySources sources) {
  const size_t colon = listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("metrics.listen: \"", listen, "\" is not host:port"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);

  std::unique_ptr<TelemetryServer> t(new TelemetryServer(std::move(sources)));
  TelemetryServer* self = t.get();
  t->server_->Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    conduit::v1::GatewayStatus status;
    self->sources_.status(&status);
    MetricsInput input;
    input.status = &status;
    if (self->sources_.events) input.events = self->sources_.events();
    res.set_content(RenderPrometheus(input), "text/plain; version=0.0.4; charset=utf-8");
  });
  t->server_->Get("/", [self](const httplib::Request&, httplib::Response& res) {
    conduit::v1::GatewayStatus status;
    self->sources_.status(&status);
    StatusPageInput input;
    input.status = &status;
    if (self->sources_.recent != nullptr) input.blocked = self->sources_.recent->Blocked();
    if (self->sources_.maps) input.maps = self->sources_.maps();
    char hostname[256] = {};
    ::gethostname(hostname, sizeof(hostname) - 1);
    input.hostname = hostname;
    res.set_header("Cache-Control", "no-store");
    res.set_content(RenderStatusPage(input), "text/html; charset=utf-8");
  });
  if (port == 0) {
    t->port_ = t->server_->bind_to_any_port(host);
    if (t->port_ <= 0) return CannotListen(listen);
  } else {
    if (!t->server_->bind_to_port(host, port)) return CannotListen(listen);
    t->port_ = port;
  }
  t->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  return t;
}

}  // namespace conduit::telemetry
