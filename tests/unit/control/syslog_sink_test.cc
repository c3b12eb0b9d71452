// The syslog sink's CEF format, TLS transport and at-least-once buffering
// (event_drain_test has the RFC 5424 basics over UDP and TCP).
#include "events/sinks/syslog_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "events/event_json.h"
#include "events/sinks/cef_format.h"
#include "common/json_fields.h"

namespace conduit {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

EventRecord DenyWrite(uint16_t sport = 50412) {
  EventRecord e;
  e.ts_ns = 1795428000000001000ull + sport * 1000ull;
  e.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 30};
  e.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 200};
  e.ip_version = 4;
  e.l4_proto = 6;
  e.sport = sport;
  e.dport = 502;
  e.verdict = EventVerdict::kDeny;
  e.enforced = true;
  e.mode = EventMode::kEnforce;
  e.bytes = 12;
  e.op.kind = ics::OpKind::kModbus;
  e.op.direction = ics::Direction::kRequest;
  e.op.function = 6;
  e.op.unit = 1;
  e.op.address_first = 10;
  e.op.address_last = 12;
  e.op.flags = ics::kOpHasUnit | ics::kOpHasAddress;
  return e;
}

const EventNames kNames{"corp-plant", "no-writes", "plant-7/2026-11-23.1"};

// "CEF:0|a|b|c|d|e|f|EXT": the seven header fields (unescaped) and the
// extension pairs (unescaped).
struct Cef {
  std::vector<std::string> header;
  std::map<std::string, std::string> ext;
};

Cef ParseCef(const std::string& line) {
  Cef c;
  size_t i = 0;
  std::string field;
  while (c.header.size() < 7 && i < line.size()) {
    const char ch = line[i++];
    if (ch == '\\' && i < line.size()) {
      field += line[i++];
    } else if (ch == '|') {
      c.header.push_back(field);
      field.clear();
    } else {
      field += ch;
    }
  }
  // Extensions: a key is the word before an unescaped '='.
  const std::string ext = line.substr(i);
  std::vector<std::pair<size_t, size_t>> keys;  // (key start, '=' position)
  for (size_t k = 0; k < ext.size(); ++k) {
    if (ext[k] == '\\') {
      ++k;
      continue;
    }
    if (ext[k] == '=') {
      size_t start = k;
      while (start > 0 && ext[start - 1] != ' ') --start;
      keys.emplace_back(start, k);
    }
  }
  for (size_t n = 0; n < keys.size(); ++n) {
    const size_t vstart = keys[n].second + 1;
    const size_t vend = n + 1 < keys.size() ? keys[n + 1].first - 1 : ext.size();
    std::string raw = ext.substr(vstart, vend - vstart), value;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] == '\\' && k + 1 < raw.size()) {
        const char e = raw[++k];
        value += e == 'n' ? '\n' : e == 'r' ? '\r' : e;
      } else {
        value += raw[k];
      }
    }
    c.ext[ext.substr(keys[n].first, keys[n].second - keys[n].first)] = value;
  }
  return c;
}

TEST(CefTest, Escaping) {
  EXPECT_EQ(CefHeaderEscape("a|b\\c=d\ne"), "a\\|b\\\\c=d e");
  EXPECT_EQ(CefExtensionEscape("a|b\\c=d\ne\rf"), "a|b\\\\c\\=d\\ne\\rf");
}

TEST(CefTest, DenyCarriesTheOtFields) {
  const EventRecord e = DenyWrite();
  const std::string cef = FormatCef(e, RenderEventJson(e, kNames));
  const Cef c = ParseCef(cef);
  ASSERT_EQ(c.header.size(), 7u) << cef;
  EXPECT_EQ(c.header[0], "CEF:0");
  EXPECT_EQ(c.header[1], "Conduit");
  EXPECT_EQ(c.header[2], "conduitd");
  EXPECT_FALSE(c.header[3].empty());
  EXPECT_EQ(c.header[4], "deny");
  EXPECT_EQ(c.header[5], "deny modbus write_single_register");
  EXPECT_EQ(c.header[6], "7");
  const std::map<std::string, std::string> want = {
      {"rt", "1795428000050"}, {"cat", "verdict"}, {"act", "deny"}, {"outcome", "blocked"},
      {"src", "198.18.0.30"}, {"spt", "50412"}, {"dst", "198.18.0.200"}, {"dpt", "502"},
      {"proto", "TCP"}, {"app", "modbus"}, {"in", "12"},
      {"cs1Label", "conduit"}, {"cs1", "corp-plant"}, {"cs2Label", "rule"}, {"cs2", "no-writes"},
      {"cs3Label", "function"}, {"cs3", "write_single_register"},
      {"cs4Label", "policy_version"}, {"cs4", "plant-7/2026-11-23.1"},
      {"cs5Label", "mode"}, {"cs5", "enforce"}, {"cs6Label", "address"}, {"cs6", "10-12"},
      {"cn1Label", "unit"}, {"cn1", "1"}, {"cn2Label", "function_code"}, {"cn2", "6"},
      {"flexString1Label", "direction"}, {"flexString1", "request"}};
  EXPECT_EQ(c.ext, want) << cef;
}

TEST(CefTest, MonitorDenyIsNotBlocked) {
  EventRecord e = DenyWrite();
  e.enforced = false;
  e.mode = EventMode::kMonitor;
  const Cef c = ParseCef(FormatCef(e, RenderEventJson(e, kNames)));
  EXPECT_EQ(c.header[6], "6");
  EXPECT_EQ(c.ext.at("outcome"), "passed");
  EXPECT_EQ(c.ext.at("cs5"), "monitor");
}

TEST(CefTest, StateChangesAndControlLines) {
  EventRecord e;
  e.ts_ns = 1795428000000001000ull;
  e.kind = EventKind::kModeChange;
  e.conduit = kGatewayScope;
  e.mode = EventMode::kMonitor;
  Cef c = ParseCef(FormatCef(e, RenderEventJson(e, kNames)));
  EXPECT_EQ(c.header[4], "mode_change");
  EXPECT_EQ(c.header[5], "mode_change gateway");
  EXPECT_EQ(c.header[6], "3");
  EXPECT_EQ(c.ext.at("cat"), "mode_change");
  EXPECT_EQ(c.ext.at("cs5"), "monitor");
  EXPECT_EQ(c.ext.at("msg"), "operator (SetMode)");
  EXPECT_EQ(c.ext.count("src"), 0u);

  // A control-side line with hostile text: header and extension escaping.
  EventRecord control;
  control.kind = EventKind::kControlLine;
  const std::string audit =
      R"({"event":"audit","seq":7,"ts":"2026-11-23T10:00:00.000Z","identity":"soc|x","peer":"ipv4:127.0.0.1:1",)"
      R"("action":"mode","target":"corp-plant","result":"denied","detail":"a=b\\c|d\nnew \u00e9"})";
  const std::string cef = FormatCef(control, audit);
  EXPECT_NE(cef.find("|audit|audit mode denied|5|"), std::string::npos) << cef;
  EXPECT_EQ(cef.find('\n'), std::string::npos);
  c = ParseCef(cef);
  EXPECT_EQ(c.ext.at("act"), "mode");
  EXPECT_EQ(c.ext.at("outcome"), "denied");
  EXPECT_EQ(c.ext.at("suser"), "soc|x");
  EXPECT_EQ(c.ext.at("externalId"), "7");
  EXPECT_EQ(c.ext.at("msg"), "corp-plant: a=b\\c|d\nnew \xc3\xa9");
  EXPECT_EQ(c.ext.count("rt"), 0u);  // the record had no time
}

TEST(CefTest, PipeInHeaderNamesIsEscaped) {
  const std::string cef = FormatCef(EventRecord{}, R"({"event":"we|ird\\name"})");
  EXPECT_NE(cef.find("|we\\|ird\\\\name|we\\|ird\\\\name|3|"), std::string::npos) << cef;
}

TEST(JsonFieldsTest, ReadsTopLevelFields) {
  const JsonFields f(
      R"({"a":"x\"y\u0041\ud83d\ude00","n":-12,"b":true,"arr":[1,[2,3]],"o":{"k":"}","z":{}},"last":null})");
  EXPECT_EQ(f.Get("a"), "x\"yA\xf0\x9f\x98\x80");
  EXPECT_EQ(f.Get("n"), "-12");
  EXPECT_EQ(f.Get("b"), "true");
  EXPECT_EQ(f.Get("arr"), "[1,[2,3]]");
  EXPECT_EQ(f.Get("o"), R"({"k":"}","z":{}})");
  EXPECT_EQ(f.Get("last"), "null");
  EXPECT_FALSE(f.Has("k"));  // nested keys are not top-level
  EXPECT_EQ(JsonFields("not json").fields().size(), 0u);
  EXPECT_EQ(JsonFields(R"({"a":1,"b":"unterminated)").fields().size(), 1u);
}

TEST(SyslogFormatTest, CefRidesInAnRfc5424Message) {
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.port = 9;
  o.hostname = "gw1";
  o.format = SyslogFormat::kCef;
  auto sink = SyslogSink::Create(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  const EventRecord e = DenyWrite();
  const std::string msg = (*sink)->FormatMessage(e, RenderEventJson(e, kNames));
  EXPECT_TRUE(std::regex_match(
      msg, std::regex(R"(^<132>1 2026-11-23T10:00:00\.050413Z gw1 conduitd \d+ deny - CEF:0\|Conduit\|conduitd\|[^|]+\|deny\|.*)")))
      << msg;
}

TEST(SyslogOptionsTest, TransportsAndFormats) {
  EXPECT_EQ(SyslogOptionsFromConfig("siem:6514", "tls")->transport, SyslogTransport::kTls);
  EXPECT_EQ(SyslogOptionsFromConfig("siem:514", "tcp", "cef")->format, SyslogFormat::kCef);
  const auto bad = SyslogOptionsFromConfig("siem:514", "tcp", "leef");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("rfc5424 or cef"), std::string::npos);
}

// --- a local receiver --------------------------------------------------------

int Listener(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(*port);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  EXPECT_EQ(listen(fd, 4), 0);
  return fd;
}

int Accept(int listener) {
  const int fd = accept(listener, nullptr, nullptr);
  timeval tv{5, 0};  // a broken sink fails the test, not hangs it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// Splits octet-counted frames off `data`.
void TakeFrames(std::string& data, std::vector<std::string>& frames) {
  for (;;) {
    const size_t sp = data.find(' ');
    if (sp == std::string::npos) return;
    const size_t len = std::stoul(data.substr(0, sp));
    if (data.size() < sp + 1 + len) return;
    frames.push_back(data.substr(sp + 1, len));
    data.erase(0, sp + 1 + len);
  }
}

// Drives the sink (it never blocks) while `read` pulls frames in a thread.
template <typename Pred>
bool Pump(SyslogSink& sink, Pred done) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    sink.Flush();
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return false;
}

std::vector<std::string> ReadTcp(int fd, size_t count) {
  std::string data;
  std::vector<std::string> frames;
  char buf[4096];
  while (frames.size() < count) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    TakeFrames(data, frames);
  }
  return frames;
}

SyslogSinkOptions TcpOptions(uint16_t port) {
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.transport = SyslogTransport::kTcp;
  o.reconnect_min = milliseconds(10);
  o.reconnect_max = milliseconds(50);
  o.shutdown_grace = milliseconds(0);
  return o;
}

std::string Json(int i) { return "{\"n\":" + std::to_string(i) + "}"; }

// The receiver goes away after taking three messages; three more are
// written while it is down. When it is back, all six arrive: the three it
// had (never confirmed: confirm_after is long) again, then the rest.
TEST(SyslogReconnectTest, UnconfirmedAreResentAndNothingBufferedIsLost) {
  uint16_t port = 0;
  int listener = Listener(&port);
  SyslogSinkOptions o = TcpOptions(port);
  o.confirm_after = std::chrono::seconds(60);
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok());
  SyslogSink& sink = **created;
  const EventRecord e = DenyWrite();
  for (int i = 0; i < 3; ++i) sink.Write(e, Json(i));
  ASSERT_TRUE(Pump(sink, [&] { return sink.sent() == 3; }));
  int conn = Accept(listener);
  EXPECT_EQ(ReadTcp(conn, 3).size(), 3u);
  close(conn);
  close(listener);
  ASSERT_TRUE(Pump(sink, [&] { return !sink.connected(); }));
  for (int i = 3; i < 6; ++i) sink.Write(e, Json(i));
  for (int k = 0; k < 20; ++k) {  // refused a few times: backing off, keeping
    sink.Flush();
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_EQ(sink.dropped(), 0u);

  listener = Listener(&port);
  ASSERT_TRUE(Pump(sink, [&] { return sink.sent() == 6 && sink.resent() == 3; }));
  conn = Accept(listener);
  const std::vector<std::string> frames = ReadTcp(conn, 6);
  ASSERT_EQ(frames.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    EXPECT_NE(frames[i].find(" - " + Json(i)), std::string::npos) << i << ": " << frames[i];
  }
  EXPECT_EQ(sink.dropped(), 0u);
  EXPECT_GE(sink.connects(), 2u);
  close(conn);
  close(listener);
}

// Acknowledged by the peer's TCP and older than confirm_after: not resent.
TEST(SyslogReconnectTest, ConfirmedAreNotResent) {
  uint16_t port = 0;
  int listener = Listener(&port);
  SyslogSinkOptions o = TcpOptions(port);
  o.confirm_after = milliseconds(0);
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok());
  SyslogSink& sink = **created;
  const EventRecord e = DenyWrite();
  for (int i = 0; i < 3; ++i) sink.Write(e, Json(i));
  int conn = Accept(listener);
  ASSERT_TRUE(Pump(sink, [&] { return sink.sent() == 3 && sink.unconfirmed() == 0; }));
  EXPECT_EQ(ReadTcp(conn, 3).size(), 3u);
  close(conn);
  ASSERT_TRUE(Pump(sink, [&] { return !sink.connected(); }));
  sink.Write(e, Json(3));
  ASSERT_TRUE(Pump(sink, [&] { return sink.sent() == 4; }));  // the backlog takes it
  conn = Accept(listener);
  const std::vector<std::string> frames = ReadTcp(conn, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].find(Json(3)), std::string::npos);
  EXPECT_EQ(sink.resent(), 0u);
  close(conn);
  close(listener);
}

TEST(SyslogReconnectTest, AFullBufferDropsAndCounts) {
  uint16_t port = 0;
  close(Listener(&port));  // nothing listens
  SyslogSinkOptions o = TcpOptions(port);
  o.max_pending_bytes = 1000;
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok());
  SyslogSink& sink = **created;
  const EventRecord e = DenyWrite();
  const std::string json(200, 'x');
  for (int i = 0; i < 20; ++i) {
    sink.Write(e, json);
    sink.Flush();
  }
  EXPECT_LE(sink.pending_bytes(), 1000u);
  EXPECT_GT(sink.pending_bytes(), 500u);
  EXPECT_GE(sink.dropped(), 15u);
}

// --- TLS ------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "syslog_sink_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A CA, a server certificate for 127.0.0.1 and siem.test, and an unrelated CA.
class Certs {
 public:
  Certs() {
    const std::string script =
        "cd " + dir_.path() + " && set -e && "
        "ca() { openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout $1.key -subj /CN=$1 -days 2 -out $1.pem; } && ca ca && ca other && "
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
        "-subj /CN=siem.test -out server.csr && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:siem.test\\n' > server.ext && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.pem";
    ok_ = std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0;
  }
  bool ok() const { return ok_; }
  std::string operator/(const std::string& rel) const { return dir_ / rel; }

 private:
  TempDir dir_;
  bool ok_ = false;
};

// One TLS connection accepted in a thread; `frames` once it ends.
class TlsReceiver {
 public:
  TlsReceiver(const Certs& certs, size_t want) {
    listener_ = Listener(&port_);
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx_, (certs / "server.pem").c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, (certs / "server.key").c_str(), SSL_FILETYPE_PEM);
    thread_ = std::thread([this, want] {
      const int fd = Accept(listener_);
      if (fd < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        handshake_ok_ = true;
        std::string data;
        char buf[4096];
        while (frames_.size() < want) {
          const int n = SSL_read(ssl, buf, sizeof(buf));
          if (n <= 0) break;
          data.append(buf, static_cast<size_t>(n));
          TakeFrames(data, frames_);
        }
      }
      SSL_free(ssl);
      close(fd);
    });
  }
  ~TlsReceiver() {
    shutdown(listener_, SHUT_RDWR);  // unblocks an accept that never came
    if (thread_.joinable()) thread_.join();
    close(listener_);
    SSL_CTX_free(ctx_);
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> Frames() {
    if (thread_.joinable()) thread_.join();
    return frames_;
  }
  bool handshake_ok() const { return handshake_ok_; }

 private:
  uint16_t port_ = 0;
  int listener_ = -1;
  SSL_CTX* ctx_ = nullptr;
  std::thread thread_;
  std::vector<std::string> frames_;
  bool handshake_ok_ = false;
};

SyslogSinkOptions TlsOptions(const Certs& certs, uint16_t port, const std::string& ca = "ca.pem") {
  SyslogSinkOptions o = TcpOptions(port);
  o.transport = SyslogTransport::kTls;
  o.tls.ca = certs / ca;
  return o;
}

TEST(SyslogTlsTest, DeliversOctetCountedFramesOverVerifiedTls) {
  Certs certs;
  if (!certs.ok()) GTEST_SKIP() << "openssl CLI failed";
  TlsReceiver rx(certs, 3);
  SyslogSinkOptions o = TlsOptions(certs, rx.port());
  o.format = SyslogFormat::kCef;
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok()) << created.status();
  SyslogSink& sink = **created;
  for (uint16_t i = 0; i < 3; ++i) {
    const EventRecord e = DenyWrite(50000 + i);
    sink.Write(e, RenderEventJson(e, kNames));
  }
  ASSERT_TRUE(Pump(sink, [&] { return sink.sent() == 3; })) << "errors " << sink.errors();
  const std::vector<std::string> frames = rx.Frames();
  ASSERT_EQ(frames.size(), 3u);
  for (uint16_t i = 0; i < 3; ++i) {
    const size_t at = frames[i].find(" - CEF:0|");
    ASSERT_NE(at, std::string::npos) << frames[i];
    EXPECT_EQ(ParseCef(frames[i].substr(at + 3)).ext.at("spt"), std::to_string(50000 + i));
  }
  EXPECT_EQ(sink.connects(), 1u);
  EXPECT_EQ(sink.errors(), 0u);
}

TEST(SyslogTlsTest, ServerNameIsVerifiedByName) {
  Certs certs;
  if (!certs.ok()) GTEST_SKIP() << "openssl CLI failed";
  TlsReceiver rx(certs, 1);
  SyslogSinkOptions o = TlsOptions(certs, rx.port());
  o.tls.server_name = "siem.test";  // the address is 127.0.0.1; the name is checked
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok()) << created.status();
  (*created)->Write(DenyWrite(), "{}");
  ASSERT_TRUE(Pump(**created, [&] { return (*created)->sent() == 1; }));
  EXPECT_EQ(rx.Frames().size(), 1u);
}

// An untrusted CA or a certificate for another name: no connection, the
// messages stay buffered, errors counted.
TEST(SyslogTlsTest, RefusesAnUnverifiedServer) {
  Certs certs;
  if (!certs.ok()) GTEST_SKIP() << "openssl CLI failed";
  for (const bool wrong_ca : {true, false}) {
    TlsReceiver rx(certs, 1);
    SyslogSinkOptions o = TlsOptions(certs, rx.port(), wrong_ca ? "other.pem" : "ca.pem");
    if (!wrong_ca) o.tls.server_name = "plc.test";
    auto created = SyslogSink::Create(o);
    ASSERT_TRUE(created.ok()) << created.status();
    SyslogSink& sink = **created;
    sink.Write(DenyWrite(), "{}");
    ASSERT_TRUE(Pump(sink, [&] { return sink.errors() >= 1; }));
    EXPECT_EQ(sink.sent(), 0u);
    EXPECT_EQ(sink.connects(), 0u);
    EXPECT_FALSE(sink.connected());
    EXPECT_GT(sink.pending_bytes(), 0u);
    EXPECT_FALSE(rx.handshake_ok());
  }
}

TEST(SyslogTlsTest, UnreadableFilesAreNamed) {
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.transport = SyslogTransport::kTls;
  auto s = SyslogSink::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("ca"), std::string::npos) << s.status();
  o.tls.ca = "/nonexistent/ca.pem";
  s = SyslogSink::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().substr(0, 24), "ca \"/nonexistent/ca.pem\"") << s.status();
}

}  // namespace
}  // namespace conduit
