#include "events/event_drain.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "events/sinks/json_file_sink.h"
#include "events/sinks/syslog_sink.h"

namespace conduit {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

EventRecord MakeEvent(uint16_t sport, uint16_t dport, EventVerdict verdict = EventVerdict::kDeny,
                      bool enforced = true) {
  EventRecord e;
  e.ts_ns = 1795428000000001000ull + sport * 1000ull;  // 2026-11-23T10:00:00.000001Z + sport µs
  e.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 30};
  e.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 200};
  e.ip_version = 4;
  e.l4_proto = 6;
  e.sport = sport;
  e.dport = dport;
  e.verdict = verdict;
  e.enforced = enforced;
  e.mode = enforced ? EventMode::kEnforce : EventMode::kMonitor;
  e.op.kind = ics::OpKind::kModbus;
  e.op.direction = ics::Direction::kRequest;
  e.op.function = 6;
  return e;
}

EventNames Names(const EventRecord&) { return {"corp-plant", "", "plant-7"}; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "event_drain_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t CountContaining(const std::vector<std::string>& lines, const std::string& needle) {
  size_t n = 0;
  for (const auto& l : lines) n += l.find(needle) != std::string::npos;
  return n;
}

// Waits for a condition the drain thread makes true; a generous bound only
// so a bug fails instead of hanging.
template <typename Pred>
bool WaitFor(Pred pred) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

TEST(EventDrainTest, WritesJsonLinesToFile) {
  TempDir dir;
  const std::string path = dir / "missing/parent/events.jsonl";
  EventRing ring(64);
  EventDrain drain;
  drain.AddRing(&ring);
  drain.SetNames(Names);
  auto file = std::make_shared<JsonFileSink>(path);
  ASSERT_TRUE(file->is_open());
  drain.AddSink(file);
  drain.Start();
  ASSERT_TRUE(ring.TryPush(MakeEvent(50412, 502)));
  ASSERT_TRUE(ring.TryPush(MakeEvent(50413, 503)));
  ASSERT_TRUE(ring.TryPush(MakeEvent(50414, 504, EventVerdict::kAllow, false)));
  ASSERT_TRUE(WaitFor([&] { return file->lines_written() == 3; }));
  drain.Stop();

  const auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "{\"ts\":\"2026-11-23T10:00:00.050413Z\",\"conduit\":\"corp-plant\",\"src\":\"198.18.0.30\","
            "\"sport\":50412,\"dst\":\"198.18.0.200\",\"dport\":502,\"l4\":\"tcp\","
            "\"protocol\":\"modbus\",\"direction\":\"request\",\"function\":6,"
            "\"function_name\":\"write_single_register\",\"verdict\":\"deny\",\"enforced\":true,"
            "\"mode\":\"enforce\",\"rule\":\"default\",\"policy_version\":\"plant-7\"}");
  EXPECT_NE(lines[1].find("\"dport\":503"), std::string::npos);
  EXPECT_NE(lines[2].find("\"verdict\":\"allow\""), std::string::npos);
  const EventDrainCounters c = drain.counters();
  EXPECT_EQ(c.events_written, 3u);
  EXPECT_EQ(c.events_suppressed, 0u);
  EXPECT_EQ(c.summaries_written, 0u);
  EXPECT_EQ(file->errors(), 0u);
}

TEST(EventDrainTest, StopDrainsWhatIsLeft) {
  TempDir dir;
  EventRing ring(1024);
  for (uint16_t i = 0; i < 500; ++i) ASSERT_TRUE(ring.TryPush(MakeEvent(40000, i)));
  EventDrain drain;
  drain.AddRing(&ring);
  auto file = std::make_shared<JsonFileSink>(dir / "events.jsonl");
  drain.AddSink(file);
  drain.Start();
  drain.Stop();
  EXPECT_EQ(ReadLines(dir / "events.jsonl").size(), 500u);
  EXPECT_EQ(drain.counters().events_written, 500u);
}

TEST(EventDrainTest, RepeatsWithinAWindowAreSummarised) {
  TempDir dir;
  EventRing ring(64);
  EventDrainOptions options;
  options.repeat_window = std::chrono::hours(1);  // closes only at Stop
  EventDrain drain(options);
  drain.AddRing(&ring);
  drain.SetNames(Names);
  auto file = std::make_shared<JsonFileSink>(dir / "events.jsonl");
  drain.AddSink(file);
  // Same key, different source ports and times: repeats.
  for (uint16_t i = 0; i < 10; ++i) ASSERT_TRUE(ring.TryPush(MakeEvent(50000 + i, 502)));
  ASSERT_TRUE(ring.TryPush(MakeEvent(50000, 503)));  // another destination port
  ASSERT_TRUE(ring.TryPush(MakeEvent(50000, 502, EventVerdict::kAllow, false)));  // verdict
  drain.Start();
  drain.Stop();

  const auto lines = ReadLines(dir / "events.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(CountContaining(lines, "\"repeats\":"), 1u);
  const std::string& summary = lines.back();
  // The last repeat, in the event shape, plus the two fields.
  EXPECT_NE(summary.find("\"sport\":50009,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"dport\":502,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"verdict\":\"deny\""), std::string::npos) << summary;
  EXPECT_TRUE(std::regex_search(summary, std::regex(",\"repeats\":9,\"window_ms\":[0-9]+\\}$")))
      << summary;
  const EventDrainCounters c = drain.counters();
  EXPECT_EQ(c.events_written, 3u);
  EXPECT_EQ(c.events_suppressed, 9u);
  EXPECT_EQ(c.summaries_written, 1u);
}

TEST(EventDrainTest, WindowEndEmitsSummaryAndStartsAfresh) {
  EventRing ring(64);
  EventDrainOptions options;
  options.repeat_window = milliseconds(50);
  EventDrain drain(options);
  drain.AddRing(&ring);
  auto sub = drain.Subscribe();
  drain.Start();
  for (uint16_t i = 0; i < 5; ++i) ASSERT_TRUE(ring.TryPush(MakeEvent(50000 + i, 502)));
  ASSERT_TRUE(WaitFor([&] { return drain.counters().summaries_written == 1; }));
  // A new window: the same event is news again.
  ASSERT_TRUE(ring.TryPush(MakeEvent(50010, 502)));
  ASSERT_TRUE(WaitFor([&] { return drain.counters().events_written == 2; }));
  drain.Stop();
  std::vector<std::string> lines;
  sub->PopBatch(&lines, 100);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[1].find("\"repeats\":4,"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2].find("\"repeats\""), std::string::npos) << lines[2];
  EXPECT_EQ(drain.counters().events_suppressed, 4u);
}

TEST(EventDrainTest, FullRepeatTablePassesEventsThrough) {
  EventRing ring(64);
  EventDrainOptions options;
  options.repeat_window = std::chrono::hours(1);
  options.max_repeat_keys = 2;
  EventDrain drain(options);
  drain.AddRing(&ring);
  for (int round = 0; round < 2; ++round) {
    for (uint16_t port = 1; port <= 3; ++port) ASSERT_TRUE(ring.TryPush(MakeEvent(50000, port)));
  }
  drain.Start();
  drain.Stop();
  const EventDrainCounters c = drain.counters();
  EXPECT_EQ(c.events_written, 4u);  // ports 1, 2 once; port 3 twice (no room to track it)
  EXPECT_EQ(c.events_suppressed, 2u);
  EXPECT_EQ(c.summaries_written, 2u);
  EXPECT_EQ(c.repeat_table_full, 2u);
}

TEST(EventDrainTest, ZeroWindowDisablesRateLimiting) {
  EventRing ring(64);
  EventDrainOptions options;
  options.repeat_window = milliseconds(0);
  EventDrain drain(options);
  drain.AddRing(&ring);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ring.TryPush(MakeEvent(50000, 502)));
  drain.Start();
  drain.Stop();
  EXPECT_EQ(drain.counters().events_written, 10u);
  EXPECT_EQ(drain.counters().events_suppressed, 0u);
}

TEST(EventDrainTest, CountsRingDropsOverAllRings) {
  EventRing a(2), b(4);
  for (uint16_t i = 0; i < 5; ++i) a.TryPush(MakeEvent(1, i));
  for (uint16_t i = 0; i < 6; ++i) b.TryPush(MakeEvent(2, 100 + i));  // other keys
  EventDrain drain;
  drain.AddRing(&a);
  drain.AddRing(&b);
  drain.Start();
  drain.Stop();
  EXPECT_EQ(drain.counters().ring_dropped, 5u);
  EXPECT_EQ(drain.counters().events_written, 6u);
}

TEST(EventDrainTest, SlowOrVanishedSubscriberNeverBlocksTheDrain) {
  EventRing ring(256);
  EventDrain drain;
  drain.AddRing(&ring);
  auto stuck = drain.Subscribe(4);    // never reads
  auto gone = drain.Subscribe(4);
  gone.reset();                       // left without a word
  auto reader = drain.Subscribe(1000);
  drain.Start();
  for (uint16_t i = 0; i < 200; ++i) ASSERT_TRUE(ring.TryPush(MakeEvent(50000, i)));
  ASSERT_TRUE(WaitFor([&] { return drain.counters().events_written == 200; }));
  drain.Stop();
  EXPECT_EQ(stuck->dropped(), 196u);
  EXPECT_EQ(drain.counters().subscriber_dropped, 196u);
  // The stuck one kept the newest lines.
  std::string line;
  ASSERT_TRUE(stuck->Next(&line, milliseconds(0)));
  EXPECT_NE(line.find("\"dport\":196,"), std::string::npos) << line;
  // The reader saw all of them, in order; Stop closed the stream.
  for (uint16_t i = 0; i < 200; ++i) {
    ASSERT_TRUE(reader->Next(&line, milliseconds(0)));
    ASSERT_NE(line.find("\"dport\":" + std::to_string(i) + ","), std::string::npos) << line;
  }
  EXPECT_FALSE(reader->Next(&line, milliseconds(1000)));  // closed: returns at once
  EXPECT_TRUE(reader->closed());
}

TEST(JsonFileSinkTest, ReopenFollowsLogrotate) {
  TempDir dir;
  const std::string path = dir / "events.jsonl";
  JsonFileSink sink(path);
  const EventRecord e = MakeEvent(1, 2);
  sink.Write(e, "{\"n\":1}");
  sink.Flush();
  std::filesystem::rename(path, path + ".1");
  sink.Write(e, "{\"n\":2}");
  sink.Flush();  // still the old (renamed) file
  sink.Reopen();
  sink.Write(e, "{\"n\":3}");
  sink.Flush();
  EXPECT_EQ(ReadLines(path + ".1"), (std::vector<std::string>{"{\"n\":1}", "{\"n\":2}"}));
  EXPECT_EQ(ReadLines(path), (std::vector<std::string>{"{\"n\":3}"}));
  EXPECT_EQ(sink.lines_written(), 3u);
  EXPECT_EQ(sink.errors(), 0u);
}

TEST(JsonFileSinkTest, UnwritablePathIsCountedNotFatal) {
  TempDir dir;
  const std::string blocker = dir / "file";
  std::ofstream(blocker) << "x";
  JsonFileSink sink(blocker + "/events.jsonl");  // parent is a regular file
  EXPECT_FALSE(sink.is_open());
  EXPECT_GE(sink.errors(), 1u);
  sink.Write(MakeEvent(1, 2), "{}");
  sink.Flush();
  EXPECT_EQ(sink.lines_written(), 0u);
}

// --- syslog ---------------------------------------------------------------

int BoundSocket(int type, uint16_t* port) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  timeval tv{5, 0};  // a broken sink fails the test, not hangs it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// <PRI>1 TIMESTAMP HOSTNAME APP PROCID MSGID SD MSG
const std::regex kRfc5424(R"(^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\d+) (\S+) - (\{.*\})$)");

TEST(SyslogSinkTest, SeverityFollowsVerdict) {
  EXPECT_EQ(SyslogSink::Severity(MakeEvent(1, 2, EventVerdict::kDeny, true)), 4);
  EXPECT_EQ(SyslogSink::Severity(MakeEvent(1, 2, EventVerdict::kDeny, false)), 5);
  EXPECT_EQ(SyslogSink::Severity(MakeEvent(1, 2, EventVerdict::kAlert, false)), 5);
  EXPECT_EQ(SyslogSink::Severity(MakeEvent(1, 2, EventVerdict::kAllow, false)), 6);
  EXPECT_EQ(SyslogSink::Severity(MakeEvent(1, 2, EventVerdict::kNone, false)), 6);
}

TEST(SyslogSinkTest, OptionsFromConfig) {
  auto o = SyslogOptionsFromConfig("127.0.0.1:5514", "tcp");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 5514);
  EXPECT_EQ(o->transport, SyslogTransport::kTcp);
  o = SyslogOptionsFromConfig("[::1]:514", "udp");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->transport, SyslogTransport::kUdp);
  EXPECT_FALSE(SyslogOptionsFromConfig("siem", "udp").ok());
  EXPECT_FALSE(SyslogOptionsFromConfig("siem:0", "udp").ok());
  EXPECT_FALSE(SyslogOptionsFromConfig("siem:70000", "udp").ok());
  EXPECT_FALSE(SyslogOptionsFromConfig("siem:514", "sctp").ok());
  EXPECT_FALSE(SyslogOptionsFromConfig("siem:514", "tcp", "leef").ok());
}

TEST(SyslogSinkTest, UdpDeliversAnRfc5424Line) {
  uint16_t port = 0;
  const int rx = BoundSocket(SOCK_DGRAM, &port);
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.hostname = "gw1";
  auto sink = SyslogSink::Create(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  const EventRecord e = MakeEvent(50412, 502);
  const std::string json = RenderEventJson(e, Names(e));
  (*sink)->Write(e, json);
  (*sink)->Flush();
  EXPECT_EQ((*sink)->sent(), 1u);

  char buf[4096];
  const ssize_t n = recv(rx, buf, sizeof(buf), 0);
  ASSERT_GT(n, 0);
  const std::string msg(buf, static_cast<size_t>(n));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(msg, m, kRfc5424)) << msg;
  EXPECT_EQ(m[1], "132");  // local0 (16) * 8 + warning (4)
  EXPECT_EQ(m[2], "2026-11-23T10:00:00.050413Z");
  EXPECT_EQ(m[3], "gw1");
  EXPECT_EQ(m[4], "conduitd");
  EXPECT_EQ(m[5], std::to_string(getpid()));
  EXPECT_EQ(m[6], "deny");
  EXPECT_EQ(m[7], json);
  close(rx);
}

// Reads octet-counted frames ("LEN SP MSG") until `count` are complete.
std::vector<std::string> ReadFrames(int fd, size_t count) {
  std::string data;
  std::vector<std::string> frames;
  char buf[4096];
  while (frames.size() < count) {
    const size_t sp = data.find(' ');
    if (sp != std::string::npos) {
      const size_t len = std::stoul(data.substr(0, sp));
      if (data.size() >= sp + 1 + len) {
        frames.push_back(data.substr(sp + 1, len));
        data.erase(0, sp + 1 + len);
        continue;
      }
    }
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;  // closed or SO_RCVTIMEO
    data.append(buf, static_cast<size_t>(n));
  }
  EXPECT_TRUE(data.empty()) << "trailing bytes: " << data;
  return frames;
}

TEST(SyslogSinkTest, TcpDeliversWithOctetCounting) {
  uint16_t port = 0;
  const int listener = BoundSocket(SOCK_STREAM, &port);
  ASSERT_EQ(listen(listener, 4), 0);
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.transport = SyslogTransport::kTcp;
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok()) << created.status();
  SyslogSink& sink = **created;

  std::vector<std::string> sent_json;
  for (uint16_t i = 0; i < 3; ++i) {
    const EventRecord e = MakeEvent(50000 + i, 502, i == 2 ? EventVerdict::kAllow : EventVerdict::kDeny,
                                    i == 0);
    sent_json.push_back(RenderEventJson(e, Names(e)));
    sink.Write(e, sent_json.back());
  }
  ASSERT_TRUE(WaitFor([&] {
    sink.Flush();
    return sink.sent() == 3;
  }));
  EXPECT_EQ(sink.connects(), 1u);
  EXPECT_EQ(sink.dropped(), 0u);

  const int conn = accept(listener, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  timeval tv{5, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const auto frames = ReadFrames(conn, 3);
  ASSERT_EQ(frames.size(), 3u);
  const char* pri[] = {"132", "133", "134"};
  for (size_t i = 0; i < 3; ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(frames[i], m, kRfc5424)) << frames[i];
    EXPECT_EQ(m[1], pri[i]);
    EXPECT_EQ(m[7], sent_json[i]);
  }
  close(conn);
  close(listener);
}

// Nobody listening: the messages wait in the bounded buffer (syslog_sink_test
// covers the reconnect that delivers them and the bound that drops).
TEST(SyslogSinkTest, TcpWithNobodyListeningKeepsAndCountsErrors) {
  uint16_t port = 0;
  close(BoundSocket(SOCK_STREAM, &port));  // a port nothing listens on
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.transport = SyslogTransport::kTcp;
  o.shutdown_grace = milliseconds(0);
  auto created = SyslogSink::Create(o);
  ASSERT_TRUE(created.ok()) << created.status();
  SyslogSink& sink = **created;
  const EventRecord e = MakeEvent(1, 502);
  for (int i = 0; i < 50; ++i) {
    sink.Write(e, "{}");
    sink.Flush();
  }
  ASSERT_TRUE(WaitFor([&] {
    sink.Flush();
    return sink.errors() >= 1;
  }));
  EXPECT_EQ(sink.sent(), 0u);
  EXPECT_EQ(sink.dropped(), 0u);
  EXPECT_GT(sink.pending_bytes(), 50 * 2u);
  EXPECT_FALSE(sink.connected());
}

TEST(SyslogSinkTest, DrainFeedsSyslogOverUdp) {
  uint16_t port = 0;
  const int rx = BoundSocket(SOCK_DGRAM, &port);
  SyslogSinkOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  auto sink = SyslogSink::Create(o);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EventRing ring(16);
  EventDrain drain;
  drain.AddRing(&ring);
  drain.AddSink(std::shared_ptr<SyslogSink>(std::move(*sink)));
  drain.Start();
  ASSERT_TRUE(ring.TryPush(MakeEvent(50000, 502, EventVerdict::kDeny, false)));
  char buf[4096];
  const ssize_t n = recv(rx, buf, sizeof(buf), 0);
  drain.Stop();
  ASSERT_GT(n, 0);
  std::smatch m;
  const std::string msg(buf, static_cast<size_t>(n));
  ASSERT_TRUE(std::regex_match(msg, m, kRfc5424)) << msg;
  EXPECT_EQ(m[1], "133");  // monitor deny: notice
  close(rx);
}

}  // namespace
}  // namespace conduit
