#include "events/sinks/syslog_sink.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace conduit {
namespace {

constexpr int kFacilityLocal0 = 16;
constexpr int kWarning = 4;
constexpr int kNotice = 5;
constexpr int kInfo = 6;

// RFC 5424 TIMESTAMP (RFC 3339, UTC, microseconds); "-" when unknown.
std::string Timestamp(uint64_t ns) {
  if (ns == 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06uZ",
                static_cast<unsigned>(ns % 1000000000 / 1000));
  return buf;
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
                                                          std::string_view transport) {
  SyslogSinkOptions o;
  if (transport == "udp") {
    o.transport = SyslogTransport::kUdp;
  } else if (transport == "tcp") {
    o.transport = SyslogTransport::kTcp;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("syslog transport \"", std::string(transport), "\": want udp or tcp"));
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
  std::unique_ptr<SyslogSink> sink(new SyslogSink(std::move(options)));
  const SyslogSinkOptions& o = sink->options_;
  const bool udp = o.transport == SyslogTransport::kUdp;

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
  return sink;
}

SyslogSink::~SyslogSink() {
  if (fd_ >= 0) close(fd_);
}

int SyslogSink::Severity(const EventRecord& e) {
  switch (e.verdict) {
    case EventVerdict::kDeny: return e.enforced ? kWarning : kNotice;
    case EventVerdict::kAlert: return kNotice;
    default: return kInfo;
  }
}

std::string SyslogSink::FormatMessage(const EventRecord& e, std::string_view json_line) const {
  return absl::StrCat("<", kFacilityLocal0 * 8 + Severity(e), ">1 ", Timestamp(e.ts_ns), " ",
                      hostname_, " ", options_.app_name, " ", procid_, " ",
                      std::string(MsgId(e)), " - ", std::string(json_line));
}

void SyslogSink::Error(const char* what, int err) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (err != last_errno_) {
    last_errno_ = err;
    LogWarning("syslog ", options_.host, ":", options_.port, ": ", what, ": ",
               std::strerror(err));
  }
}

void SyslogSink::Write(const EventRecord& event, std::string_view json_line) {
  std::string message = FormatMessage(event, json_line);
  if (options_.transport == SyslogTransport::kUdp) {
    WriteUdp(message);
  } else {
    WriteTcp(absl::StrCat(message.size(), " ", message));  // RFC 6587 octet counting
  }
}

void SyslogSink::WriteUdp(const std::string& message) {
  if (send(fd_, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    Error("send", errno);
    return;
  }
  sent_.fetch_add(1, std::memory_order_relaxed);
  last_errno_ = 0;
}

void SyslogSink::WriteTcp(std::string frame) {
  if (state_ == State::kIdle) {
    if (Clock::now() < next_attempt_) {  // SIEM down: back off, drop
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    StartConnect();
    if (state_ == State::kIdle) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  if (pending_bytes_ + frame.size() > options_.max_pending_bytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);  // peer too slow
    return;
  }
  pending_bytes_ += frame.size();
  pending_.push_back(std::move(frame));
  if (state_ == State::kConnected) SendPending();
}

void SyslogSink::Flush() {
  if (options_.transport != SyslogTransport::kTcp) return;
  if (state_ == State::kConnecting) CheckConnect();
  if (state_ == State::kConnected) {
    CheckPeerClosed();
    if (state_ == State::kConnected && !pending_.empty()) SendPending();
  }
}

void SyslogSink::CheckPeerClosed() {
  // A SIEM restart closes our connection; notice it before we send into it.
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return;
  char buf[512];
  const ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);  // receivers say nothing: discard
  if (n == 0) {
    Disconnect("peer", ECONNRESET);
  } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    Disconnect("recv", errno);
  }
}

void SyslogSink::StartConnect() {
  const int fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fd_ = -1;
    Disconnect("socket", errno);
    return;
  }
  fd_ = fd;
  connect_started_ = Clock::now();
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) == 0) {
    state_ = State::kConnected;
    connects_.fetch_add(1, std::memory_order_relaxed);
    backoff_ = options_.reconnect_min;
    last_errno_ = 0;
  } else if (errno == EINPROGRESS) {
    state_ = State::kConnecting;
  } else {
    Disconnect("connect", errno);
  }
}

void SyslogSink::CheckConnect() {
  pollfd p{fd_, POLLOUT, 0};
  const int rc = poll(&p, 1, 0);  // never waits
  if (rc == 0) {
    if (Clock::now() - connect_started_ >= options_.connect_timeout) {
      Disconnect("connect", ETIMEDOUT);
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
    Disconnect("connect", err);
    return;
  }
  state_ = State::kConnected;
  connects_.fetch_add(1, std::memory_order_relaxed);
  backoff_ = options_.reconnect_min;
  last_errno_ = 0;
}

void SyslogSink::SendPending() {
  while (!pending_.empty()) {
    const std::string& frame = pending_.front();
    const ssize_t n = send(fd_, frame.data() + front_sent_, frame.size() - front_sent_,
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // peer slow: try next Flush
      Disconnect("send", errno);
      return;
    }
    front_sent_ += static_cast<size_t>(n);
    if (front_sent_ == frame.size()) {
      pending_bytes_ -= frame.size();
      pending_.pop_front();
      front_sent_ = 0;
      sent_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void SyslogSink::Disconnect(const char* what, int err) {
  Error(what, err);
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  state_ = State::kIdle;
  // A part-sent frame cannot be resumed on a new connection without
  // breaking the framing: everything queued is lost, and counted.
  dropped_.fetch_add(pending_.size(), std::memory_order_relaxed);
  pending_.clear();
  pending_bytes_ = 0;
  front_sent_ = 0;
  next_attempt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
}

}  // namespace conduit
