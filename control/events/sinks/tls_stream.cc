#include "events/sinks/tls_stream.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace conduit {
namespace {

// Everything OpenSSL queued on this thread, as one line.
std::string SslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The socket BIO, but with send(MSG_NOSIGNAL) and a byte count.
BIO_METHOD* NoSigpipeMethod(int (*write)(BIO*, const char*, int), int (*read)(BIO*, char*, int),
                            long (*ctrl)(BIO*, int, long, void*)) {
  static BIO_METHOD* method = [&] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "conduit-socket");
    BIO_meth_set_write(m, write);
    BIO_meth_set_read(m, read);
    BIO_meth_set_ctrl(m, ctrl);
    BIO_meth_set_create(m, [](BIO* b) {
      BIO_set_init(b, 1);
      return 1;
    });
    return m;
  }();
  return method;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsClientContext>> TlsClientContext::Create(
    const TlsClientOptions& options) {
  std::unique_ptr<TlsClientContext> c(new TlsClientContext());
  ERR_clear_error();
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (c->ctx_ == nullptr) return absl::InternalError(absl::StrCat("tls: ", SslErrors()));
  SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);  // RFC 5425 as updated by RFC 9662
  SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  if (options.ca.empty()) return absl::InvalidArgumentError("ca: required with transport tls");
  if (SSL_CTX_load_verify_locations(c->ctx_, options.ca.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ca \"", options.ca, "\": cannot load: ", SslErrors()));
  }
  if (options.cert.empty() != options.key.empty()) {
    return absl::InvalidArgumentError("cert and key must be set together");
  }
  if (!options.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(c->ctx_, options.cert.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("cert \"", options.cert, "\": cannot load: ", SslErrors()));
    }
    if (SSL_CTX_use_PrivateKey_file(c->ctx_, options.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ctx_) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("key \"", options.key, "\": cannot load or does not match cert: ", SslErrors()));
    }
  }
  c->server_name_ = options.server_name;
  return c;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

TlsConnection::TlsConnection(const TlsClientContext& context, int fd) : fd_(fd) {
  ERR_clear_error();
  ssl_ = SSL_new(context.ctx());
  if (ssl_ == nullptr) {
    error_ = SslErrors();
    return;
  }
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const std::string& name = context.server_name();
  if (IsIpAddress(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
  } else {
    SSL_set1_host(ssl_, name.c_str());
    SSL_set_tlsext_host_name(ssl_, name.c_str());  // SNI: names only, never addresses
  }
  BIO* bio = BIO_new(NoSigpipeMethod(&BioWrite, &BioRead, &BioCtrl));
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_
  SSL_set_connect_state(ssl_);
}

TlsConnection::~TlsConnection() { SSL_free(ssl_); }

int TlsConnection::BioWrite(BIO* bio, const char* data, int len) {
  auto* self = static_cast<TlsConnection*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t n = send(self->fd_, data, static_cast<size_t>(len), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    self->last_errno_ = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(bio);
    return -1;
  }
  self->socket_written_ += static_cast<uint64_t>(n);
  return static_cast<int>(n);
}

int TlsConnection::BioRead(BIO* bio, char* data, int len) {
  auto* self = static_cast<TlsConnection*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const ssize_t n = recv(self->fd_, data, static_cast<size_t>(len), MSG_DONTWAIT);
  if (n < 0) {
    self->last_errno_ = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(bio);
    return -1;
  }
  return static_cast<int>(n);
}

long TlsConnection::BioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // unbuffered: nothing to flush
}

TlsIo TlsConnection::Result(int ret, const char* what) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return TlsIo::kWant;
    case SSL_ERROR_ZERO_RETURN:
      error_ = absl::StrCat(what, ": closed by the server");
      return TlsIo::kClosed;
    case SSL_ERROR_SYSCALL:
      error_ = absl::StrCat(what, ": ", last_errno_ != 0 ? std::strerror(last_errno_) : "connection closed");
      if (const std::string more = SslErrors(); !more.empty()) absl::StrAppend(&error_, " (", more, ")");
      return last_errno_ == 0 ? TlsIo::kClosed : TlsIo::kError;
    default: {
      error_ = absl::StrCat(what, ": ", SslErrors());
      if (const long v = SSL_get_verify_result(ssl_); v != X509_V_OK) {
        absl::StrAppend(&error_, " (", X509_verify_cert_error_string(v), ")");
      }
      return TlsIo::kError;
    }
  }
}

TlsIo TlsConnection::Handshake() {
  if (ssl_ == nullptr) return TlsIo::kError;
  ERR_clear_error();
  last_errno_ = 0;
  const int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? TlsIo::kOk : Result(ret, "tls handshake");
}

TlsIo TlsConnection::Write(const char* data, size_t len, size_t* written) {
  *written = 0;
  ERR_clear_error();
  last_errno_ = 0;
  const int ret = SSL_write_ex(ssl_, data, len, written);
  return ret == 1 ? TlsIo::kOk : Result(ret, "tls write");
}

TlsIo TlsConnection::Poll() {
  char buf[1024];
  for (;;) {
    ERR_clear_error();
    last_errno_ = 0;
    size_t n = 0;
    const int ret = SSL_read_ex(ssl_, buf, sizeof(buf), &n);
    if (ret == 1) continue;  // receivers say nothing we need: discard
    const TlsIo r = Result(ret, "tls read");
    // OpenSSL 3 reports an EOF without close_notify (a killed server) as an
    // SSL error; either way the connection is gone.
    return r == TlsIo::kWant ? TlsIo::kOk : r == TlsIo::kError ? TlsIo::kClosed : r;
  }
}

void TlsConnection::Shutdown() {
  if (ssl_ == nullptr) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace conduit
