// Syslog sink to a SIEM: RFC 5424 messages over UDP (one per datagram) or TCP
// (octet-counting framing, RFC 6587 3.4.1: "LEN SP MSG"):
//
//   <PRI>1 TIMESTAMP HOSTNAME conduitd PROCID MSGID - {"ts":...}
//
// Facility local0 (16). Severity from the record: deny + enforced ->
// warning (4); deny only reported (monitor) or alert -> notice (5); allow and
// decode-only -> info (6). MSGID is the verdict ("deny", "allow", "alert";
// "event" without one). TIMESTAMP is the event's own time.
//
// It never blocks the drain: sockets are non-blocking. TCP connects lazily,
// queues a bounded number of bytes while connecting or while the peer is
// slow, and when the SIEM is down (refused, reset, connect timeout) drops
// and counts until a back-off (doubling, capped) allows the next attempt.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "events/event_sink.h"

namespace conduit {

enum class SyslogTransport : uint8_t { kUdp, kTcp };

struct SyslogSinkOptions {
  std::string host;  // name or address; resolved once, in Create()
  uint16_t port = 514;
  SyslogTransport transport = SyslogTransport::kUdp;
  std::string hostname;  // HOSTNAME field; empty: gethostname()
  std::string app_name = "conduitd";
  std::chrono::milliseconds reconnect_min{200};     // first back-off after a failure
  std::chrono::milliseconds reconnect_max{30000};   // back-off cap
  std::chrono::milliseconds connect_timeout{3000};  // a SYN into the void gives up here
  size_t max_pending_bytes = 256 * 1024;            // TCP: queued, not yet sent
};

// From the daemon config's events.syslog: "host:port" or "[v6addr]:port",
// transport "udp" or "tcp".
absl::StatusOr<SyslogSinkOptions> SyslogOptionsFromConfig(std::string_view address,
                                                          std::string_view transport);

// Thread safety: Write()/Flush() on the drain thread (EventSink contract);
// the counters from any thread.
class SyslogSink : public EventSink {
 public:
  // Resolves the host and, for UDP, opens the socket. Errors: an unresolvable
  // host or a socket that cannot be created.
  static absl::StatusOr<std::unique_ptr<SyslogSink>> Create(SyslogSinkOptions options);
  ~SyslogSink() override;

  void Write(const EventRecord& event, std::string_view json_line) override;
  // TCP: completes a pending connect and sends what is queued.
  void Flush() override;

  // The RFC 5424 message (without TCP framing), and its severity.
  std::string FormatMessage(const EventRecord& event, std::string_view json_line) const;
  static int Severity(const EventRecord& event);

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }
  // Drain thread only (tests call them between Write/Flush).
  bool connected() const { return state_ == State::kConnected; }
  size_t pending_bytes() const { return pending_bytes_; }

 private:
  enum class State : uint8_t { kIdle, kConnecting, kConnected };
  using Clock = std::chrono::steady_clock;

  explicit SyslogSink(SyslogSinkOptions options);

  void WriteUdp(const std::string& message);
  void WriteTcp(std::string frame);
  void StartConnect();
  void CheckConnect();
  void SendPending();
  void CheckPeerClosed();
  // Closes the TCP socket, drops (and counts) what was queued, backs off.
  void Disconnect(const char* what, int err);
  void Error(const char* what, int err);

  const SyslogSinkOptions options_;
  std::string hostname_;
  std::string procid_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;

  int fd_ = -1;
  State state_ = State::kIdle;
  Clock::time_point next_attempt_{};  // TCP: no connect before this
  Clock::time_point connect_started_{};
  std::chrono::milliseconds backoff_;
  std::deque<std::string> pending_;  // whole frames; the front may be part-sent
  size_t front_sent_ = 0;            // bytes of pending_.front() already sent
  size_t pending_bytes_ = 0;
  int last_errno_ = 0;  // log a failure once per kind, not per message

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> connects_{0};
};

}  // namespace conduit
