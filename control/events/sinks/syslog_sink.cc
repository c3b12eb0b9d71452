#include "events/sinks/syslog_sink.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/time_text.h"
#include "events/sinks/cef_format.h"

namespace conduit {
namespace {

constexpr int kFacilityLocal0 = 16;
constexpr int kWarning = 4;
constexpr int kNotice = 5;
constexpr int kInfo = 6;

// RFC 5424 TIMESTAMP (RFC 3339, UTC, microseconds); "-" when unknown.
std::string Timestamp(uint64_t ns) {
  if (ns == 0) return "-";
  return Rfc3339Micros(ns);
}

// HOSTNAME is 1..255 PRINTUSASCII (no space).
std::string SanitizeHostname(std::string name) {
  if (name.empty()) return "-";
  if (name.size() > 255) name.resize(255);
  for (char& c : name) {
    if (c <= ' ' || c > '~') c = '_';
  }
  return name;
}

std::string_view MsgId(const EventRecord& e) {
  switch (e.verdict) {
    case EventVerdict::kAllow: return "allow";
    case EventVerdict::kDeny: return "deny";
    case EventVerdict::kAlert: return "alert";
    default: return "event";
  }
}

}  // namespace

absl::StatusOr<SyslogSinkOptions> SyslogOptionsFromConfig(std::string_view address,
                                                          std::string_view transport,
                                                          std::string_view format) {
  SyslogSinkOptions o;
  if (transport == "udp") {
    o.transport = SyslogTransport::kUdp;
  } else if (transport == "tcp") {
    o.transport = SyslogTransport::kTcp;
  } else if (transport == "tls") {
    o.transport = SyslogTransport::kTls;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "syslog transport \"", std::string(transport), "\": want udp, tcp or tls"));
  }
  if (format == "rfc5424") {
    o.format = SyslogFormat::kRfc5424;
  } else if (format == "cef") {
    o.format = SyslogFormat::kCef;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("syslog format \"", std::string(format), "\": want rfc5424 or cef"));
  }
  std::string_view host;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("syslog address \"", std::string(address), "\": want [addr]:port"));
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("syslog address \"", std::string(address), "\": want host:port"));
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("syslog address \"", std::string(address), "\": bad host or port"));
  }
  o.host = std::string(host);
  o.port = static_cast<uint16_t>(value);
  return o;
}

SyslogSink::SyslogSink(SyslogSinkOptions options)
    : options_(std::move(options)), backoff_(options_.reconnect_min) {}

absl::StatusOr<std::unique_ptr<SyslogSink>> SyslogSink::Create(SyslogSinkOptions options) {
  if (options.transport == SyslogTransport::kTls && options.tls.server_name.empty()) {
    options.tls.server_name = options.host;
  }
  std::unique_ptr<SyslogSink> sink(new SyslogSink(std::move(options)));
  const SyslogSinkOptions& o = sink->options_;
  const bool udp = o.transport == SyslogTransport::kUdp;

  if (o.transport == SyslogTransport::kTls) {
    auto context = TlsClientContext::Create(o.tls);
    if (!context.ok()) return context.status();
    sink->tls_context_ = std::move(*context);
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(o.port);
  if (const int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("syslog host \"", o.host, "\": ", gai_strerror(rc)));
  }
  std::memcpy(&sink->addr_, res->ai_addr, res->ai_addrlen);
  sink->addr_len_ = res->ai_addrlen;
  freeaddrinfo(res);

  if (o.hostname.empty()) {
    char buf[256] = {};
    gethostname(buf, sizeof(buf) - 1);
    sink->hostname_ = SanitizeHostname(buf);
  } else {
    sink->hostname_ = SanitizeHostname(o.hostname);
  }
  sink->procid_ = std::to_string(getpid());

  if (udp) {
    const int fd = socket(sink->addr_.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("syslog socket: ", std::strerror(errno)));
    // Connected UDP: plain send(), and an ICMP unreachable surfaces as an error.
    if (connect(fd, reinterpret_cast<const sockaddr*>(&sink->addr_), sink->addr_len_) != 0) {
      const int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("syslog connect: ", std::strerror(err)));
    }
    sink->fd_ = fd;
    sink->state_ = State::kConnected;
  }
  sink->created_ = true;
  return sink;
}

SyslogSink::~SyslogSink() {
  if (options_.transport != SyslogTransport::kUdp) {
    // The drain has stopped: waiting here costs nobody. What the SIEM has
    // not taken by the deadline is lost with the process.
    const Clock::time_point deadline = Clock::now() + options_.shutdown_grace;
    while (!pending_.empty() && Clock::now() < deadline) {
      Flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!pending_.empty()) dropped_.fetch_add(pending_.size(), std::memory_order_relaxed);
    if (tls_ != nullptr) tls_->Shutdown();
  }
  if (fd_ >= 0) close(fd_);
  if (!created_) return;
  LogInfo("syslog ", Describe(), ": sent ", sent(), ", resent ", resent(), ", dropped ", dropped(),
          ", errors ", errors(), ", connects ", connects());
}

std::string SyslogSink::Describe() const {
  const char* transport = options_.transport == SyslogTransport::kUdp   ? "udp"
                          : options_.transport == SyslogTransport::kTcp ? "tcp"
                                                                        : "tls";
  return absl::StrCat(options_.host, ":", options_.port, " (", transport,
                      options_.format == SyslogFormat::kCef ? ", cef" : "", ")");
}

int SyslogSink::Severity(const EventRecord& e) {
  switch (e.verdict) {
    case EventVerdict::kDeny: return e.enforced ? kWarning : kNotice;
    case EventVerdict::kAlert: return kNotice;
    default: return kInfo;
  }
}

std::string SyslogSink::FormatMessage(const EventRecord& e, std::string_view json_line) const {
  const std::string msg = options_.format == SyslogFormat::kCef ? FormatCef(e, json_line)
                                                                : std::string(json_line);
  return absl::StrCat("<", kFacilityLocal0 * 8 + Severity(e), ">1 ", Timestamp(e.ts_ns), " ",
                      hostname_, " ", options_.app_name, " ", procid_, " ",
                      std::string(MsgId(e)), " - ", msg);
}

void SyslogSink::Error(const char* what, const std::string& why) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  std::string text = *what != '\0' ? absl::StrCat(what, ": ", why) : why;
  if (text != last_error_) {
    LogWarning("syslog ", Describe(), ": ", text);
    last_error_ = std::move(text);
  }
}

void SyslogSink::Write(const EventRecord& event, std::string_view json_line) {
  std::string message = FormatMessage(event, json_line);
  if (options_.transport == SyslogTransport::kUdp) {
    WriteUdp(message);
    return;
  }
  Enqueue(absl::StrCat(message.size(), " ", message));  // RFC 6587 3.4.1 / RFC 5425 4.3
  Pump(false);
}

void SyslogSink::WriteUdp(const std::string& message) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (send(fd_, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
      sent_.fetch_add(1, std::memory_order_relaxed);
      last_error_.clear();
      return;
    }
    const int err = errno;
    Error("send", std::strerror(err));
    if (err != ECONNREFUSED) break;
    // An ICMP port unreachable for an earlier datagram: that one was lost
    // (counted now), and this one may still go (the error is consumed).
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
}

void SyslogSink::Enqueue(std::string frame) {
  // Room first from the unconfirmed: they were written and acknowledged by
  // TCP or are about to be, so they are the likeliest to have arrived.
  while (pending_bytes_ + unconfirmed_bytes_ + frame.size() > options_.max_pending_bytes &&
         !unconfirmed_.empty()) {
    unconfirmed_bytes_ -= unconfirmed_.front().bytes.size();
    unconfirmed_.pop_front();
  }
  if (pending_bytes_ + frame.size() > options_.max_pending_bytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // SIEM down or slow for too long
    return;
  }
  pending_bytes_ += frame.size();
  pending_.push_back(Frame{std::move(frame), false});
}

void SyslogSink::Flush() {
  if (options_.transport == SyslogTransport::kUdp) return;
  Pump(true);
}

void SyslogSink::Pump(bool check_peer) {
  if (state_ == State::kIdle) {
    if (pending_.empty() || Clock::now() < next_attempt_) return;  // backing off
    StartConnect();
  }
  if (state_ == State::kConnecting) CheckConnect();
  if (state_ == State::kHandshaking) Handshake();
  if (state_ != State::kConnected) return;
  if (check_peer) {
    CheckPeerClosed();
    if (state_ != State::kConnected) return;
  }
  if (!pending_.empty()) SendPending();
  if (check_peer && state_ == State::kConnected) Confirm();
}

void SyslogSink::CheckPeerClosed() {
  // A SIEM restart closes our connection; notice it before we send into it.
  if (tls_ != nullptr) {
    const TlsIo r = tls_->Poll();
    if (r != TlsIo::kOk) Disconnect("", tls_->error());
    return;
  }
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return;
  char buf[512];
  const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);  // receivers say nothing: discard
  if (n == 0) {
    Disconnect("peer", "connection closed");
  } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    Disconnect("recv", std::strerror(errno));
  }
}

void SyslogSink::StartConnect() {
  const int fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fd_ = -1;
    Disconnect("socket", std::strerror(errno));
    return;
  }
  fd_ = fd;
  // A SIEM that vanishes without a FIN or RST (power, network): unacked
  // data fails the connection after 20 s, an idle one keepalive finds.
  const int user_timeout_ms = 20000, on = 1, idle = 30, intvl = 10, cnt = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
  connect_started_ = Clock::now();
  tcp_written_ = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) == 0) {
    state_ = State::kConnecting;
    CheckConnect();
  } else if (errno == EINPROGRESS) {
    state_ = State::kConnecting;
  } else {
    Disconnect("connect", std::strerror(errno));
  }
}

void SyslogSink::CheckConnect() {
  pollfd p{fd_, POLLOUT, 0};
  const int rc = poll(&p, 1, 0);  // never waits
  if (rc == 0) {
    if (Clock::now() - connect_started_ >= options_.connect_timeout) {
      Disconnect("connect", std::strerror(ETIMEDOUT));
    }
    return;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (rc < 0) {
    err = errno;
  } else if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  if (err != 0) {
    Disconnect("connect", std::strerror(err));
    return;
  }
  if (options_.transport == SyslogTransport::kTls) {
    tls_ = std::make_unique<TlsConnection>(*tls_context_, fd_);
    state_ = State::kHandshaking;
    return;
  }
  Connected();
}

void SyslogSink::Handshake() {
  switch (tls_->Handshake()) {
    case TlsIo::kOk:
      Connected();
      return;
    case TlsIo::kWant:
      if (Clock::now() - connect_started_ >= options_.connect_timeout) {
        Disconnect("tls handshake", std::strerror(ETIMEDOUT));
      }
      return;
    default:
      Disconnect("", tls_->error());
  }
}

void SyslogSink::Connected() {
  state_ = State::kConnected;
  connected_at_ = Clock::now();
  connects_.fetch_add(1, std::memory_order_relaxed);
  if (!last_error_.empty()) LogInfo("syslog ", Describe(), ": connected");
  last_error_.clear();
}

uint64_t SyslogSink::SocketBytesWritten() const {
  return tls_ != nullptr ? tls_->socket_bytes_written() : tcp_written_;
}

void SyslogSink::SendPending() {
  while (!pending_.empty()) {
    Frame& frame = pending_.front();
    const char* data = frame.bytes.data() + front_sent_;
    const size_t left = frame.bytes.size() - front_sent_;
    size_t n = 0;
    if (tls_ != nullptr) {
      const TlsIo r = tls_->Write(data, left, &n);
      if (r == TlsIo::kWant) return;  // peer slow: try next Flush
      if (r != TlsIo::kOk) {
        Disconnect("", tls_->error());
        return;
      }
    } else {
      const ssize_t w = send(fd_, data, left, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // peer slow: try next Flush
        Disconnect("send", std::strerror(errno));
        return;
      }
      n = static_cast<size_t>(w);
      tcp_written_ += n;
    }
    front_sent_ += n;
    if (front_sent_ < frame.bytes.size()) continue;
    (frame.retry ? resent_ : sent_).fetch_add(1, std::memory_order_relaxed);
    pending_bytes_ -= frame.bytes.size();
    unconfirmed_bytes_ += frame.bytes.size();
    unconfirmed_.push_back(Written{std::move(frame.bytes), SocketBytesWritten(), Clock::now()});
    pending_.pop_front();
    front_sent_ = 0;
  }
}

void SyslogSink::Confirm() {
  const Clock::time_point now = Clock::now();
  // The connection held this long: reconnects may start fast again.
  if (now - connected_at_ >= options_.confirm_after) backoff_ = options_.reconnect_min;
  if (unconfirmed_.empty()) return;
  int queued = 0;  // bytes the peer's TCP has not acknowledged yet
  if (ioctl(fd_, SIOCOUTQ, &queued) != 0) return;
  const uint64_t acked = SocketBytesWritten() - static_cast<uint64_t>(queued);
  while (!unconfirmed_.empty() && unconfirmed_.front().end <= acked &&
         now - unconfirmed_.front().at >= options_.confirm_after) {
    unconfirmed_bytes_ -= unconfirmed_.front().bytes.size();
    unconfirmed_.pop_front();
  }
}

void SyslogSink::Disconnect(const char* what, const std::string& why) {
  Error(what, why);
  tls_.reset();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kIdle;
  // A part-written frame starts over on the next connection (the framing
  // is per connection); the unconfirmed go first, in their order.
  front_sent_ = 0;
  while (!unconfirmed_.empty()) {
    Written& w = unconfirmed_.back();
    pending_bytes_ += w.bytes.size();
    pending_.push_front(Frame{std::move(w.bytes), true});
    unconfirmed_.pop_back();
  }
  unconfirmed_bytes_ = 0;
  next_attempt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
}

}  // namespace conduit
