// The control plane over real gRPC on loopback: a real PolicyManager
// (validate → compile → publish → persist) and EventDrain behind the
// GatewayService, called by the generated client stub. The publish function
// stands in for Dataplane::Publish (swap_under_load_test.cc drives the real
// one): it keeps what was published so the tests can see what workers would
// run.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "conduit/v1/gateway.grpc.pb.h"
#include "events/event_drain.h"
#include "events/event_ring.h"
#include "gateway/policy_manager.h"
#include "policy/compiler.h"
#include "policy/policy_yaml.h"
#include "service/gateway_service.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Version "t-1"; each test varies it or breaks one thing.
constexpr const char* kPolicy = R"(version: "t-1"
mode: enforce
zones:
  corporate: [198.18.0.0/25]
  plant: [198.18.0.128/25]
conduits:
  - name: corp-plant
    wire: 0
    sides: {a: corporate, b: plant}
    default: deny
    non_ics: deny
    on_deny: reset
    allow_non_ip: [arp]
    rules:
      - id: historian-read
        protocol: modbus
        from: [corporate]
        to: [198.18.0.200/32]
        functions: [read_holding_registers]
        addresses: ["0-999"]
        action: allow
signatures:
  - id: s7-cpu-stop
    protocol: s7comm
    pattern: 'P_PROGRAM'
    action: deny
)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

v1::PolicySnapshot Snapshot(const std::string& yaml) {
  auto p = policy::LoadPolicyYaml(yaml);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : v1::PolicySnapshot();
}

v1::PolicySnapshot Versioned(const std::string& version) {
  return Snapshot(Replace(kPolicy, "version: \"t-1\"", "version: \"" + version + "\""));
}

// The workers' side of a publish: the pointer they would read, and a count.
class FakeWorkers {
 public:
  PolicyManager::PublishFn Fn() {
    return [this](std::unique_ptr<const policy::CompiledPolicy> next) {
      std::lock_guard<std::mutex> lock(mu_);
      ++publishes_;
      std::swap(active_, next);
      return next;
    };
  }
  int publishes() {
    std::lock_guard<std::mutex> lock(mu_);
    return publishes_;
  }
  // Reads a property of the published policy under the lock.
  template <typename F>
  auto With(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    return f(active_.get());
  }

 private:
  std::mutex mu_;
  int publishes_ = 0;
  std::unique_ptr<const policy::CompiledPolicy> active_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "grpc_service_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

EventRecord Event(uint16_t sport, uint32_t epoch) {
  EventRecord e;
  e.ts_ns = 1795428000000000000ull;
  e.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 30};
  e.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 200};
  e.ip_version = 4;
  e.l4_proto = 6;
  e.sport = sport;
  e.dport = 502;
  e.verdict = EventVerdict::kDeny;
  e.mode = EventMode::kEnforce;
  e.enforced = true;
  e.policy_epoch = epoch;
  e.op.kind = ics::OpKind::kModbus;
  e.op.direction = ics::Direction::kRequest;
  e.op.function = 6;
  return e;
}

int SportOf(const std::string& json) {
  const size_t at = json.find("\"sport\":");
  return at == std::string::npos ? -1 : std::atoi(json.c_str() + at + 8);
}

bool HasSport(const std::string& json, int sport) {
  return json.find("\"sport\":" + std::to_string(sport) + ",") != std::string::npos;
}

// One gateway's control plane on a loopback port, and a stub to call it.
class GatewayServer {
 public:
  explicit GatewayServer(std::string state_dir = "",
                         std::shared_ptr<grpc::ServerCredentials> creds = nullptr)
      : policies_(PolicyManager::Options{1, 1, std::move(state_dir)}, workers_.Fn()),
        drain_(EventDrainOptions{.poll_interval = milliseconds(1),
                                 .repeat_window = milliseconds(0),
                                 .subscriber_capacity = 1 << 16}) {
    drain_.AddRing(&ring_);
    drain_.SetNames([this](const EventRecord& e) { return policies_.NamesFor(e); });
    drain_.Start();
    GatewayHooks hooks;
    hooks.counters = [] {
      CounterSnapshot w0, w1;
      w0.totals[static_cast<int>(WorkerCounter::rx_packets)] = 5;
      w1.totals[static_cast<int>(WorkerCounter::rx_packets)] = 7;
      w1.drops[static_cast<int>(DropReason::policy_deny)] = 2;
      w0.malformed[static_cast<int>(ics::MalformedReason::kModbusLengthMismatch)] = 1;
      w1.malformed[static_cast<int>(ics::MalformedReason::kModbusLengthMismatch)] = 2;
      return std::vector<CounterSnapshot>{w0, w1};
    };
    hooks.failure_policy = "open";
    service_ = std::make_unique<GatewayService>(&policies_, &drain_, hooks,
                                                std::vector<unsigned>{1, 3});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", creds ? creds : grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
  }
  ~GatewayServer() {
    // Streams poll for cancellation; a deadline ends any still open.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    drain_.Stop();
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  std::unique_ptr<v1::Gateway::Stub> Stub(
      std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials()) {
    return v1::Gateway::NewStub(grpc::CreateChannel(target(), creds));
  }

  int port_ = 0;
  FakeWorkers workers_;
  PolicyManager policies_;
  EventRing ring_{1 << 16};  // the test thread is its one producer
  EventDrain drain_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
};

// A bounded deadline on every call: a broken server fails the test, never hangs it.
std::unique_ptr<grpc::ClientContext> Ctx(int seconds = 10) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

v1::PushPolicyResponse Push(v1::Gateway::Stub& stub, const v1::PolicySnapshot& p) {
  v1::PushPolicyResponse reply;
  const grpc::Status s = stub.PushPolicy(Ctx().get(), p, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return reply;
}

v1::GatewayStatus Status(v1::Gateway::Stub& stub) {
  v1::GatewayStatus reply;
  const grpc::Status s = stub.GetStatus(Ctx().get(), v1::GetStatusRequest(), &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return reply;
}

grpc::Status SetMode(v1::Gateway::Stub& stub, v1::Mode mode, const std::string& conduit,
                     v1::SetModeResponse* reply) {
  v1::SetModeRequest req;
  req.set_mode(mode);
  req.set_conduit(conduit);
  return stub.SetMode(Ctx().get(), req, reply);
}

class GrpcServiceTest : public ::testing::Test {
 protected:
  GatewayServer gw_;
  std::unique_ptr<v1::Gateway::Stub> stub_ = gw_.Stub();
};

TEST_F(GrpcServiceTest, BeforeAnyPushTheGatewayBypassesAndSaysWhy) {
  ASSERT_NE(gw_.port_, 0);
  const v1::GatewayStatus s = Status(*stub_);
  EXPECT_EQ(s.policy_version(), "");
  EXPECT_EQ(s.policy_hash(), "");
  EXPECT_EQ(s.mode(), v1::MODE_BYPASS);
  EXPECT_EQ(s.failure(), "open");
  EXPECT_EQ(s.bypass(), "no policy loaded");
  v1::PolicySnapshot p;
  EXPECT_EQ(stub_->GetPolicy(Ctx().get(), v1::GetPolicyRequest(), &p).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::SetModeResponse r;
  EXPECT_EQ(SetMode(*stub_, v1::MODE_MONITOR, "", &r).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(gw_.workers_.publishes(), 0);
}

TEST_F(GrpcServiceTest, PushIsAcceptedPublishedAndReadBack) {
  const v1::PolicySnapshot pushed = Snapshot(kPolicy);
  const v1::PushPolicyResponse r = Push(*stub_, pushed);
  ASSERT_TRUE(r.accepted()) << r.DebugString();
  EXPECT_EQ(r.errors_size(), 0);
  EXPECT_EQ(r.active_version(), "t-1");
  EXPECT_EQ(r.active_hash(), policy::PolicyHash(pushed));
  EXPECT_EQ(r.active_hash().size(), 16u);
  EXPECT_GT(r.compile_micros(), 0u);  // a Hyperscan database was built
  // The workers run exactly what was accepted, once.
  EXPECT_EQ(gw_.workers_.publishes(), 1);
  EXPECT_EQ(gw_.workers_.With([](const policy::CompiledPolicy* p) { return p->version(); }), "t-1");
  EXPECT_EQ(gw_.workers_.With([](const policy::CompiledPolicy* p) { return p->epoch(); }), 1u);

  v1::PolicySnapshot got;
  ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), v1::GetPolicyRequest(), &got).ok());
  EXPECT_EQ(got.SerializeAsString(), pushed.SerializeAsString());

  const v1::GatewayStatus s = Status(*stub_);
  EXPECT_EQ(s.policy_version(), "t-1");
  EXPECT_EQ(s.policy_hash(), r.active_hash());
  EXPECT_EQ(s.mode(), v1::MODE_ENFORCE);
  EXPECT_EQ(s.bypass(), "");
  EXPECT_EQ(s.counters().totals().at("rx_packets"), 12u);
}

TEST_F(GrpcServiceTest, IdenticalContentIsANoOp) {
  const v1::PushPolicyResponse first = Push(*stub_, Snapshot(kPolicy));
  ASSERT_TRUE(first.accepted());
  // The same content, even from a file with different line numbers.
  const v1::PushPolicyResponse again =
      Push(*stub_, Snapshot(std::string("# a comment moves every line\n") + kPolicy));
  EXPECT_TRUE(again.accepted());
  EXPECT_EQ(again.active_hash(), first.active_hash());
  EXPECT_EQ(again.active_version(), "t-1");
  EXPECT_EQ(again.compile_micros(), 0u);  // nothing compiled ...
  EXPECT_EQ(again.swap_micros(), 0u);     // ... nothing swapped
  EXPECT_EQ(gw_.workers_.publishes(), 1);
  EXPECT_EQ(gw_.policies_.Status().epoch, 1u);
}

struct BadCase {
  const char* what;
  std::string yaml;
  std::string path;    // the error's field path
  std::string reason;  // a part of the reason
};

TEST_F(GrpcServiceTest, RefusedPushNamesTheFieldAndChangesNothing) {
  const v1::PushPolicyResponse good = Push(*stub_, Snapshot(kPolicy));
  ASSERT_TRUE(good.accepted());
  const std::string p2 = Replace(kPolicy, "version: \"t-1\"", "version: \"t-2\"");
  const std::vector<BadCase> cases = {
      {"bad CIDR", Replace(p2, "198.18.0.0/25", "198.18.0.1/24"), "zones.corporate[0]",
       "host bits set"},
      {"unknown function", Replace(p2, "[read_holding_registers]", "[read_holding_registres]"),
       "conduits[0].rules[0].functions[0]", "unknown modbus function \"read_holding_registres\""},
      {"duplicate id", Replace(p2, "id: s7-cpu-stop", "id: historian-read"), "signatures[0].id",
       "duplicate id \"historian-read\""},
      {"bad Hyperscan pattern", Replace(p2, "pattern: 'P_PROGRAM'", "pattern: '(a)\\1'"),
       "signatures[0].pattern", "Back-references are unsupported"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    const v1::PushPolicyResponse r = Push(*stub_, Snapshot(c.yaml));
    EXPECT_FALSE(r.accepted());
    ASSERT_EQ(r.errors_size(), 1) << r.DebugString();
    EXPECT_EQ(r.errors(0).path(), c.path);
    EXPECT_NE(r.errors(0).reason().find(c.reason), std::string::npos) << r.errors(0).reason();
    EXPECT_EQ(r.active_version(), "t-1");  // what still runs
    EXPECT_EQ(r.active_hash(), good.active_hash());
    const v1::GatewayStatus s = Status(*stub_);
    EXPECT_EQ(s.policy_version(), "t-1");
    EXPECT_EQ(s.policy_hash(), good.active_hash());
    v1::PolicySnapshot got;
    ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), v1::GetPolicyRequest(), &got).ok());
    EXPECT_EQ(got.version(), "t-1");
  }
  EXPECT_EQ(gw_.workers_.publishes(), 1);  // the workers never saw a refused policy
  EXPECT_EQ(gw_.workers_.With([](const policy::CompiledPolicy* p) { return p->version(); }), "t-1");
}

TEST_F(GrpcServiceTest, SetModeForTheGatewayAndPerConduit) {
  ASSERT_TRUE(Push(*stub_, Snapshot(kPolicy)).accepted());
  auto conduit_mode = [this] {
    return gw_.workers_.With(
        [](const policy::CompiledPolicy* p) { return p->ConduitForWire(0)->mode; });
  };
  v1::SetModeResponse r;
  ASSERT_TRUE(SetMode(*stub_, v1::MODE_MONITOR, "", &r).ok());
  EXPECT_EQ(r.mode(), v1::MODE_MONITOR);
  EXPECT_EQ(Status(*stub_).mode(), v1::MODE_MONITOR);
  EXPECT_EQ(conduit_mode(), policy::Mode::kMonitor);  // republished with the override

  ASSERT_TRUE(SetMode(*stub_, v1::MODE_BYPASS, "corp-plant", &r).ok());
  EXPECT_EQ(conduit_mode(), policy::Mode::kBypass);
  EXPECT_EQ(gw_.policies_.Status().conduit_overrides.at("corp-plant"), policy::Mode::kBypass);

  const grpc::Status unknown = SetMode(*stub_, v1::MODE_BYPASS, "no-such-conduit", &r);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(unknown.error_message().find("no-such-conduit"), std::string::npos);
  EXPECT_EQ(conduit_mode(), policy::Mode::kBypass);  // untouched

  // Clearing both returns to the policy's own modes.
  ASSERT_TRUE(SetMode(*stub_, v1::MODE_UNSPECIFIED, "corp-plant", &r).ok());
  ASSERT_TRUE(SetMode(*stub_, v1::MODE_UNSPECIFIED, "", &r).ok());
  EXPECT_EQ(r.mode(), v1::MODE_ENFORCE);
  EXPECT_EQ(conduit_mode(), policy::Mode::kEnforce);
  const PolicyStatus st = gw_.policies_.Status();
  EXPECT_FALSE(st.mode_override.has_value());
  EXPECT_TRUE(st.conduit_overrides.empty());
  // Overrides never leak into the policy as pushed.
  v1::PolicySnapshot got;
  ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), v1::GetPolicyRequest(), &got).ok());
  EXPECT_EQ(got.SerializeAsString(), Snapshot(kPolicy).SerializeAsString());
}

TEST_F(GrpcServiceTest, GetCountersSumsWorkers) {
  v1::Counters c;
  ASSERT_TRUE(stub_->GetCounters(Ctx().get(), v1::GetCountersRequest(), &c).ok());
  EXPECT_EQ(c.totals().at("rx_packets"), 12u);
  EXPECT_EQ(c.dropped_by_reason().at("policy_deny"), 2u);
  EXPECT_EQ(c.malformed_by_reason().at("modbus_length_mismatch"), 3u);  // summed over workers
  EXPECT_EQ(c.malformed_by_reason().at("dnp3_crc"), 0u);  // every reason, zero or not
  EXPECT_EQ(c.malformed_by_reason().count("none"), 0u);
  ASSERT_EQ(c.workers_size(), 2);
  EXPECT_EQ(c.workers(0).lcore(), 1u);
  EXPECT_EQ(c.workers(1).lcore(), 3u);
  EXPECT_EQ(c.workers(0).values().at("rx_packets"), 5u);
  EXPECT_EQ(c.workers(1).values().at("rx_packets"), 7u);
}

// Reads a stream on its own thread, keeping every line.
class StreamReader {
 public:
  explicit StreamReader(v1::Gateway::Stub& stub)
      : reader_(stub.StreamEvents(&ctx_, v1::StreamEventsRequest())) {
    thread_ = std::thread([this] {
      v1::Event e;
      while (reader_->Read(&e)) {
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back(e.json());
      }
      finish_ = reader_->Finish();
    });
  }
  ~StreamReader() {
    ctx_.TryCancel();
    thread_.join();
  }
  void Cancel() { ctx_.TryCancel(); }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  size_t CountSport(int sport) {
    size_t n = 0;
    for (const std::string& l : lines()) n += HasSport(l, sport);
    return n;
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  grpc::Status finish_;
};

template <typename Pred>
bool WaitFor(Pred pred, milliseconds limit = milliseconds(10000)) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return pred();
}

// A stream subscribes when its handler starts, which the client cannot see:
// push a probe until it arrives.
void WaitSubscribed(GatewayServer& gw, StreamReader& r, uint16_t probe) {
  ASSERT_TRUE(WaitFor([&] {
    gw.ring_.TryPush(Event(probe, 0));
    return r.CountSport(probe) > 0;
  })) << "the stream never received a probe";
}

TEST_F(GrpcServiceTest, StreamEventsDeliversRingEventsWithPolicyNames) {
  ASSERT_TRUE(Push(*stub_, Snapshot(kPolicy)).accepted());
  StreamReader reader(*stub_);
  WaitSubscribed(gw_, reader, 1);
  for (uint16_t sport = 100; sport < 110; ++sport) ASSERT_TRUE(gw_.ring_.TryPush(Event(sport, 1)));
  ASSERT_TRUE(WaitFor([&] { return reader.CountSport(109) == 1; }));
  std::vector<std::string> got;
  for (const std::string& l : reader.lines()) {
    if (!HasSport(l, 1)) got.push_back(l);
  }
  ASSERT_EQ(got.size(), 10u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(HasSport(got[i], 100 + static_cast<int>(i))) << got[i];  // in ring order
    EXPECT_NE(got[i].find("\"policy_version\":\"t-1\""), std::string::npos) << got[i];
    EXPECT_NE(got[i].find("\"conduit\":\"corp-plant\""), std::string::npos) << got[i];
    EXPECT_NE(got[i].find("\"function\":6"), std::string::npos) << got[i];
  }
}

TEST_F(GrpcServiceTest, GoneOrStalledClientsBlockNeitherTheDrainNorOthers) {
  auto stub2 = gw_.Stub();
  auto stub3 = gw_.Stub();
  auto gone = std::make_unique<StreamReader>(*stub_);
  WaitSubscribed(gw_, *gone, 1);
  // A client that is connected but never reads after its first line: the
  // server's writes to it back up behind HTTP/2 flow control; the drain and
  // the other clients must not.
  grpc::ClientContext stalled_ctx;
  auto stalled = stub2->StreamEvents(&stalled_ctx, v1::StreamEventsRequest());
  {
    std::atomic<bool> subscribed{false};
    std::thread probe([&] {  // the ring's one producer while it runs
      while (!subscribed) {
        gw_.ring_.TryPush(Event(2, 0));
        std::this_thread::sleep_for(milliseconds(2));
      }
    });
    v1::Event first;
    const bool read = stalled->Read(&first);
    subscribed = true;
    probe.join();
    ASSERT_TRUE(read);
  }
  gone->Cancel();
  gone.reset();

  StreamReader live(*stub3);
  WaitSubscribed(gw_, live, 3);
  constexpr int kEvents = 20000;  // megabytes of lines: far more than an HTTP/2 window
  constexpr int kFirst = 10000;
  const EventDrainCounters before = gw_.drain_.counters();
  for (int i = 0; i < kEvents; ++i) {
    while (!gw_.ring_.TryPush(Event(static_cast<uint16_t>(kFirst + i), 0))) {
      std::this_thread::yield();
    }
  }
  ASSERT_TRUE(WaitFor([&] { return live.CountSport(kFirst + kEvents - 1) == 1; },
                      milliseconds(60000)))
      << "live client got " << live.lines().size() << " lines";
  EXPECT_GE(gw_.drain_.counters().events_written - before.events_written, uint64_t(kEvents));
  EXPECT_EQ(gw_.ring_.dropped(), 0u);
  // Every event reached the live client exactly once, in order.
  int next = kFirst;
  for (const std::string& l : live.lines()) {
    const int sport = SportOf(l);
    if (sport < kFirst) continue;  // a late probe
    ASSERT_EQ(sport, next) << l;
    ++next;
  }
  EXPECT_EQ(next, kFirst + kEvents);
  // And the control plane still answers while the stalled stream is open.
  EXPECT_TRUE(Push(*stub_, Snapshot(kPolicy)).accepted());
  stalled_ctx.TryCancel();
  v1::Event ignored;
  while (stalled->Read(&ignored)) {
  }
  stalled->Finish();
}

TEST_F(GrpcServiceTest, ConcurrentPushesAllCompleteAndOneWins) {
  constexpr int kThreads = 8, kPerThread = 5;
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  std::set<std::string> versions;
  std::map<std::string, std::string> hash_of;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string v = "c-" + std::to_string(t) + "-" + std::to_string(i);
      versions.insert(v);
      hash_of[v] = policy::PolicyHash(Versioned(v));
    }
  }
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = gw_.Stub();  // a channel each, as separate consoles would
      for (int i = 0; i < kPerThread; ++i) {
        const std::string v = "c-" + std::to_string(t) + "-" + std::to_string(i);
        const v1::PushPolicyResponse r = Push(*stub, Versioned(v));
        if (r.accepted() && r.active_version() == v && r.active_hash() == hash_of.at(v)) ++accepted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), kThreads * kPerThread);
  EXPECT_EQ(gw_.workers_.publishes(), kThreads * kPerThread);
  const v1::GatewayStatus s = Status(*stub_);
  ASSERT_TRUE(versions.contains(s.policy_version())) << s.policy_version();
  EXPECT_EQ(s.policy_hash(), hash_of.at(s.policy_version()));
  // What status reports, GetPolicy returns and the workers run agree.
  v1::PolicySnapshot got;
  ASSERT_TRUE(stub_->GetPolicy(Ctx().get(), v1::GetPolicyRequest(), &got).ok());
  EXPECT_EQ(got.version(), s.policy_version());
  EXPECT_EQ(gw_.workers_.With([](const policy::CompiledPolicy* p) { return p->version(); }),
            s.policy_version());
  EXPECT_EQ(gw_.policies_.Status().epoch, uint32_t(kThreads * kPerThread));
}

TEST(PolicyPersistence, AcceptedPolicyIsWrittenAndRestoredAtStart) {
  TempDir dir;
  const std::string file = dir / "policy.pb";
  std::string hash;
  {
    FakeWorkers workers;
    PolicyManager pm({1, 1, dir.path()}, workers.Fn());
    EXPECT_NE(pm.LoadAtStart("").find("no policy"), std::string::npos);
    const PushOutcome out = pm.Push(Versioned("persist-1"));
    ASSERT_TRUE(out.accepted);
    hash = out.active_hash;
    v1::PolicySnapshot on_disk;
    ASSERT_TRUE(on_disk.ParseFromString(ReadAll(file)));
    EXPECT_EQ(on_disk.SerializeAsString(), Versioned("persist-1").SerializeAsString());
    // Written beside and renamed over: no temporary is left behind.
    EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
    // A refused push leaves the file as it was.
    const std::string before = ReadAll(file);
    EXPECT_FALSE(pm.Push(Snapshot(Replace(kPolicy, "198.18.0.0/25", "198.18.0.1/24"))).accepted);
    EXPECT_EQ(ReadAll(file), before);
  }
  FakeWorkers workers;
  PolicyManager restarted({1, 1, dir.path()}, workers.Fn());
  const std::string report = restarted.LoadAtStart("");
  EXPECT_NE(report.find("restored from " + file), std::string::npos) << report;
  const PolicyStatus s = restarted.Status();
  EXPECT_TRUE(s.has_policy);
  EXPECT_EQ(s.version, "persist-1");
  EXPECT_EQ(s.hash, hash);
  EXPECT_EQ(workers.publishes(), 1);
}

TEST(PolicyPersistence, CorruptFileIsReportedAndIgnored) {
  TempDir dir;
  WriteAll(dir / "policy.pb", std::string("this is not a policy\xff\xff", 22));
  {
    FakeWorkers workers;
    PolicyManager pm({1, 1, dir.path()}, workers.Fn());
    const std::string report = pm.LoadAtStart("");
    EXPECT_NE(report.find("is corrupt: ignored"), std::string::npos) << report;
    EXPECT_NE(report.find("no policy: forwarding everything uninspected"), std::string::npos);
    EXPECT_FALSE(pm.Status().has_policy);
    EXPECT_EQ(workers.publishes(), 0);
  }
  // With a fallback file from the config, that one is loaded instead.
  WriteAll(dir / "fallback.yaml", Replace(kPolicy, "\"t-1\"", "\"fallback-1\""));
  {
    FakeWorkers workers;
    PolicyManager pm({1, 1, dir.path()}, workers.Fn());
    const std::string report = pm.LoadAtStart(dir / "fallback.yaml");
    EXPECT_NE(report.find("is corrupt: ignored"), std::string::npos) << report;
    EXPECT_NE(report.find("loaded from"), std::string::npos) << report;
    EXPECT_EQ(pm.Status().version, "fallback-1");
  }
  // A file that parses but no longer validates is refused the same way.
  v1::PolicySnapshot invalid = Versioned("stale");
  invalid.mutable_zones(0)->set_prefixes(0, "198.18.0.1/24");
  WriteAll(dir / "policy.pb", invalid.SerializeAsString());
  FakeWorkers workers;
  PolicyManager pm({1, 1, dir.path()}, workers.Fn());
  const std::string report = pm.LoadAtStart("");
  EXPECT_NE(report.find("was refused (zones.corporate[0]"), std::string::npos) << report;
  EXPECT_FALSE(pm.Status().has_policy);
  EXPECT_EQ(pm.Status().refused.rfind((dir / "policy.pb") + ": zones.corporate[0]", 0), 0u)
      << pm.Status().refused;
}

// A start-up policy that is refused (the config's `policy:` invalid, or the
// persisted one unreadable) leaves the gateway forwarding without one, but it
// is a policy_refused event and in Status().refused until a push is accepted.
TEST(PolicyPersistence, RefusedStartupPolicyIsReportedUntilAPushIsAccepted) {
  TempDir dir;
  WriteAll(dir / "bad.yaml", Replace(kPolicy, "functions: [read_holding_registers]",
                                     "functions: [read_holding_registers, wrte_coil]"));
  const std::string want = (dir / "bad.yaml") +
                           ": conduits[0].rules[0].functions[1]: unknown modbus function \"wrte_coil\" (line 19)";
  EventRing ring(64);
  FakeWorkers workers;
  PolicyManager pm({1, 1, dir.path()}, workers.Fn());
  pm.SetEventRing(&ring);
  const std::string report = pm.LoadAtStart(dir / "bad.yaml");
  EXPECT_NE(report.find("no policy: forwarding everything uninspected"), std::string::npos) << report;
  EXPECT_FALSE(pm.Status().has_policy);
  EXPECT_EQ(pm.Status().refused, want);
  EXPECT_EQ(workers.publishes(), 0);

  EventRecord e;
  ASSERT_EQ(ring.PopBatch(&e, 1), 1u);
  EXPECT_EQ(e.kind, EventKind::kPolicyRefused);
  const std::string line = RenderEventJson(e, pm.NamesFor(e));
  EXPECT_NE(line.find("\"event\":\"policy_refused\""), std::string::npos) << line;
  std::string quoted = want;  // as a JSON string: the quotes escaped
  for (size_t at = 0; (at = quoted.find('"', at)) != std::string::npos; at += 2) quoted.insert(at, "\\");
  EXPECT_NE(line.find("\"error\":\"" + quoted + "\""), std::string::npos) << line;

  // The persisted policy is refused too when corrupt; with a valid fallback
  // the gateway runs that, and still says what it refused.
  WriteAll(dir / "policy.pb", std::string("this is not a policy\xff\xff", 22));
  WriteAll(dir / "fallback.yaml", Replace(kPolicy, "\"t-1\"", "\"fallback-1\""));
  {
    EventRing ring2(64);
    FakeWorkers workers2;
    PolicyManager restarted({1, 1, dir.path()}, workers2.Fn());
    restarted.SetEventRing(&ring2);
    restarted.LoadAtStart(dir / "fallback.yaml");
    EXPECT_EQ(restarted.Status().version, "fallback-1");
    EXPECT_EQ(restarted.Status().refused, (dir / "policy.pb") + ": corrupt: not a policy snapshot");
    std::vector<EventRecord> events(8);
    const size_t n = ring2.PopBatch(events.data(), events.size());
    bool reported = false;
    for (size_t i = 0; i < n; ++i) {
      if (events[i].kind != EventKind::kPolicyRefused) continue;
      const std::string text = RenderEventJson(events[i], restarted.NamesFor(events[i]));
      EXPECT_NE(text.find("\"policy_version\":\"fallback-1\""), std::string::npos) << text;
      reported = true;
    }
    EXPECT_TRUE(reported);
  }

  // An accepted push clears the refusal.
  ASSERT_TRUE(pm.Push(Versioned("pushed-1")).accepted);
  EXPECT_EQ(pm.Status().refused, "");
}

// mTLS with certificates made by the openssl CLI at test time.
class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "openssl CLI not found: cannot make test certificates";
    }
    // A CA with a server and a client certificate, and a rogue CA with a
    // client certificate of its own.
    std::ofstream(dir_ / "make_certs.sh") << R"(set -e
ca() { openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -subj /CN=$1 -days 2 -out $1.pem; }
leaf() {  # name CN issuer extension
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $1.key -subj /CN=$2 -out $1.csr
  printf '%s\n' "$4" > $1.ext
  openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -days 2 -extfile $1.ext -out $1.pem
}
ca ca
ca rogue
leaf server 127.0.0.1 ca subjectAltName=IP:127.0.0.1
leaf client console ca extendedKeyUsage=clientAuth
leaf intruder intruder rogue extendedKeyUsage=clientAuth
)";
    ASSERT_EQ(std::system(("cd '" + dir_.path() + "' && bash make_certs.sh >openssl.log 2>&1").c_str()), 0)
        << "openssl failed: " << ReadAll(dir_ / "openssl.log");
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_key_cert_pairs.push_back({ReadAll(dir_ / "server.key"), ReadAll(dir_ / "server.pem")});
    options.pem_root_certs = ReadAll(dir_ / "ca.pem");
    gw_ = std::make_unique<GatewayServer>("", grpc::SslServerCredentials(options));
    ASSERT_NE(gw_->port_, 0);
  }

  std::shared_ptr<grpc::ChannelCredentials> Client(const std::string& name) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadAll(dir_ / "ca.pem");
    if (!name.empty()) {
      o.pem_private_key = ReadAll(dir_ / (name + ".key"));
      o.pem_cert_chain = ReadAll(dir_ / (name + ".pem"));
    }
    return grpc::SslCredentials(o);
  }

  grpc::StatusCode CallWith(std::shared_ptr<grpc::ChannelCredentials> creds) {
    v1::GatewayStatus reply;
    return gw_->Stub(creds)->GetStatus(Ctx(5).get(), v1::GetStatusRequest(), &reply).error_code();
  }

  TempDir dir_;
  std::unique_ptr<GatewayServer> gw_;
};

TEST_F(MtlsTest, OnlyClientsWithACertificateFromTheCaGetIn) {
  EXPECT_EQ(CallWith(Client("client")), grpc::StatusCode::OK);
  EXPECT_EQ(CallWith(Client("")), grpc::StatusCode::UNAVAILABLE);          // no certificate
  EXPECT_EQ(CallWith(Client("intruder")), grpc::StatusCode::UNAVAILABLE);  // another CA's
  EXPECT_EQ(CallWith(grpc::InsecureChannelCredentials()), grpc::StatusCode::UNAVAILABLE);
  // And the one that got in can do real work.
  auto stub = gw_->Stub(Client("client"));
  EXPECT_TRUE(Push(*stub, Snapshot(kPolicy)).accepted());
  EXPECT_EQ(Status(*stub).policy_version(), "t-1");
}

}  // namespace
}  // namespace conduit
