// The TLS client side of the syslog sink (RFC 5425): OpenSSL over a socket
// the sink connected itself, non-blocking throughout, so the handshake and
// every write are driven from the drain's Write()/Flush() and never wait.
//
// The server certificate must chain to `ca` and name the server (DNS name
// or IP address in its SAN, checked by OpenSSL). Socket writes use
// MSG_NOSIGNAL (a custom BIO): a SIEM that resets the connection must not
// SIGPIPE the daemon.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace conduit {

struct TlsClientOptions {
  std::string ca;           // PEM file with the CA(s) the server's certificate must chain to
  std::string cert;         // optional client certificate (PEM chain) ...
  std::string key;          // ... and its key, for servers that require one
  std::string server_name;  // name or address the certificate must carry
};

// One per sink: the CA, client certificate and verification settings.
class TlsClientContext {
 public:
  // Errors name the file that could not be loaded ("ca \"FILE\": ...").
  static absl::StatusOr<std::unique_ptr<TlsClientContext>> Create(const TlsClientOptions& options);
  ~TlsClientContext();

  SSL_CTX* ctx() const { return ctx_; }
  const std::string& server_name() const { return server_name_; }

 private:
  TlsClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
  std::string server_name_;
};

enum class TlsIo : uint8_t { kOk, kWant, kClosed, kError };

// One connection. The fd stays the caller's (opened, connected, closed by it).
class TlsConnection {
 public:
  TlsConnection(const TlsClientContext& context, int fd);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // kWant: call again when the socket may be readable/writable (next Flush).
  TlsIo Handshake();
  // Writes up to `len` bytes; `*written` is what was taken (partial writes on).
  // After kWant the same bytes must be offered again.
  TlsIo Write(const char* data, size_t len, size_t* written);
  // Reads and discards what the server sends (session tickets, alerts).
  // kClosed: the server closed the connection (close_notify or EOF).
  TlsIo Poll();
  // Best effort close_notify; never waits.
  void Shutdown();

  // Why the last kError/kClosed happened, for the log.
  const std::string& error() const { return error_; }
  // Bytes handed to the socket so far (TLS records, handshake included).
  uint64_t socket_bytes_written() const { return socket_written_; }

 private:
  TlsIo Result(int ret, const char* what);
  static int BioWrite(BIO* bio, const char* data, int len);
  static int BioRead(BIO* bio, char* data, int len);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);

  SSL* ssl_ = nullptr;
  int fd_;
  int last_errno_ = 0;
  uint64_t socket_written_ = 0;
  std::string error_;
};

}  // namespace conduit
