// Syslog sink to a SIEM: RFC 5424 messages over UDP (one per datagram), TCP
// (octet-counting framing, RFC 6587 3.4.1: "LEN SP MSG") or TLS (RFC 5425:
// the same framing inside TLS, server certificate verified against a CA):
//
//   <PRI>1 TIMESTAMP HOSTNAME conduitd PROCID MSGID - {"ts":...}
//   <PRI>1 TIMESTAMP HOSTNAME conduitd PROCID MSGID - CEF:0|Conduit|...   (format: cef)
//
// Facility local0 (16). Severity from the record: deny + enforced ->
// warning (4); deny only reported (monitor) or alert -> notice (5); allow and
// decode-only -> info (6). MSGID is the verdict ("deny", "allow", "alert";
// "event" without one). TIMESTAMP is the event's own time. CEF: cef_format.h.
//
// It never blocks the drain: sockets are non-blocking, and TCP/TLS connect
// and handshake are driven from Write()/Flush().
//
// Delivery over TCP and TLS is at-least-once within a bounded buffer
// (max_pending_bytes): while the SIEM is down messages are kept, and a
// back-off (doubling, capped) spaces the reconnect attempts. A message
// written to the socket is still kept ("unconfirmed") until the peer's TCP
// has acknowledged it AND the connection stayed up for confirm_after since
// it was written; syslog has no application acknowledgement, and a
// receiver killed with data in its socket buffer loses it silently. When a
// connection drops, the unconfirmed messages are sent again first, then the
// rest, in order: the last messages before a drop may arrive twice
// (counted in resent), none that were still buffered is lost. Only a full
// buffer drops (the newest message, counted in dropped).
//
// UDP has no delivery signal except ICMP port unreachable: a send that
// fails with ECONNREFUSED means the previous datagram was refused, so both
// are counted as dropped; losses beyond that (filtered ICMP, a full
// receive buffer) cannot be seen.
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
#include "events/sinks/tls_stream.h"

namespace conduit {

enum class SyslogTransport : uint8_t { kUdp, kTcp, kTls };
enum class SyslogFormat : uint8_t { kRfc5424, kCef };

struct SyslogSinkOptions {
  std::string host;  // name or address; resolved once, in Create()
  uint16_t port = 514;
  SyslogTransport transport = SyslogTransport::kUdp;
  SyslogFormat format = SyslogFormat::kRfc5424;
  TlsClientOptions tls;  // kTls: ca required; server_name empty: `host`
  std::string hostname;  // HOSTNAME field; empty: gethostname()
  std::string app_name = "conduitd";
  std::chrono::milliseconds reconnect_min{200};     // first back-off after a failure
  std::chrono::milliseconds reconnect_max{30000};   // back-off cap
  std::chrono::milliseconds connect_timeout{3000};  // connect + TLS handshake give up here
  std::chrono::milliseconds confirm_after{2000};    // sent and acked this long ago: delivered
  std::chrono::milliseconds shutdown_grace{2000};   // destructor: time to send what is left
  size_t max_pending_bytes = 1024 * 1024;           // TCP/TLS: unsent + unconfirmed
};

// From the daemon config's events.syslog: "host:port" or "[v6addr]:port",
// transport "udp", "tcp" or "tls", format "rfc5424" or "cef".
absl::StatusOr<SyslogSinkOptions> SyslogOptionsFromConfig(std::string_view address,
                                                          std::string_view transport,
                                                          std::string_view format = "rfc5424");

// Thread safety: Write()/Flush() on the drain thread (EventSink contract);
// the counters from any thread.
class SyslogSink : public EventSink {
 public:
  // Resolves the host, loads the TLS files and, for UDP, opens the socket.
  // Errors: an unresolvable host, a TLS file that cannot be loaded (named),
  // a socket that cannot be created.
  static absl::StatusOr<std::unique_ptr<SyslogSink>> Create(SyslogSinkOptions options);
  // Gives what is still buffered up to shutdown_grace to go out, then logs
  // the counters.
  ~SyslogSink() override;

  void Write(const EventRecord& event, std::string_view json_line) override;
  // TCP/TLS: completes a connect or handshake, reconnects after the
  // back-off, sends what is buffered, confirms what was delivered.
  void Flush() override;

  // The RFC 5424 message (without framing), and its severity.
  std::string FormatMessage(const EventRecord& event, std::string_view json_line) const;
  static int Severity(const EventRecord& event);

  // Any thread: what the sink did so far (GatewayStatus.syslog: status, /metrics).
  struct Counters {
    uint64_t sent = 0, resent = 0, dropped = 0, errors = 0, connects = 0;
  };
  Counters counters() const { return {sent(), resent(), dropped(), errors(), connects()}; }

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }  // first sends
  uint64_t resent() const { return resent_.load(std::memory_order_relaxed); }  // again, after a drop
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  uint64_t connects() const { return connects_.load(std::memory_order_relaxed); }
  // Drain thread only (tests call them between Write/Flush).
  bool connected() const { return state_ == State::kConnected; }
  size_t pending_bytes() const { return pending_bytes_; }  // not yet written
  size_t unconfirmed() const { return unconfirmed_.size(); }  // written, kept for a re-send

 private:
  enum class State : uint8_t { kIdle, kConnecting, kHandshaking, kConnected };
  using Clock = std::chrono::steady_clock;
  struct Frame {
    std::string bytes;  // "LEN SP MSG"
    bool retry = false;   // written once before, on a connection that dropped
  };
  struct Written {
    std::string bytes;
    uint64_t end = 0;  // socket bytes written when its last byte was
    Clock::time_point at;
  };

  explicit SyslogSink(SyslogSinkOptions options);

  std::string Describe() const;
  void WriteUdp(const std::string& message);
  void Enqueue(std::string frame);
  void Pump(bool check_peer);
  void StartConnect();
  void CheckConnect();
  void Handshake();
  void Connected();
  void SendPending();
  void Confirm();
  void CheckPeerClosed();
  uint64_t SocketBytesWritten() const;
  // Closes the connection, puts the unconfirmed messages back in front of
  // the pending ones, backs off.
  void Disconnect(const char* what, const std::string& why);
  void Error(const char* what, const std::string& why);

  const SyslogSinkOptions options_;
  std::string hostname_;
  std::string procid_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  std::unique_ptr<TlsClientContext> tls_context_;

  int fd_ = -1;
  std::unique_ptr<TlsConnection> tls_;
  State state_ = State::kIdle;
  Clock::time_point next_attempt_{};  // TCP/TLS: no connect before this
  Clock::time_point connect_started_{};
  Clock::time_point connected_at_{};
  std::chrono::milliseconds backoff_;
  std::deque<Frame> pending_;        // not yet written; the front may be part-written
  size_t front_sent_ = 0;            // bytes of pending_.front() already written
  size_t pending_bytes_ = 0;
  std::deque<Written> unconfirmed_;  // written, not yet known delivered
  size_t unconfirmed_bytes_ = 0;
  uint64_t tcp_written_ = 0;         // TCP: bytes written on this connection
  std::string last_error_;           // log a failure once per kind, not per message
  bool created_ = false;             // Create() succeeded: the destructor reports

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> resent_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> errors_{0};
  std::atomic<uint64_t> connects_{0};
};

}  // namespace conduit
