// Confirm or roll back (DESIGN.md, "From baseline to policy") over real gRPC
// on loopback: PushPolicyConfirmed, ConfirmPolicy and GetStatus against a
// real PolicyManager whose publish function stands in for Dataplane::Publish
// (as in grpc_service_test.cc). The deadline runs on the manager's own
// (steady) clock; the tests use 1-second deadlines.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "conduit/v1/gateway.grpc.pb.h"
#include "events/event_json.h"
#include "events/event_ring.h"
#include "gateway/policy_manager.h"
#include "policy/policy_yaml.h"
#include "service/gateway_service.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kPolicy = R"(version: "VERSION"
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
    rules:
      - id: historian-read
        protocol: modbus
        from: [corporate]
        to: [198.18.0.200/32]
        functions: [read_holding_registers]
        action: allow
)";

v1::PolicySnapshot Versioned(const std::string& version) {
  std::string yaml = kPolicy;
  yaml.replace(yaml.find("VERSION"), 7, version);
  auto p = policy::LoadPolicyYaml(yaml);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : v1::PolicySnapshot();
}

// The workers' side of a publish: the version they would run.
class FakeWorkers {
 public:
  PolicyManager::PublishFn Fn() {
    return [this](std::unique_ptr<const policy::CompiledPolicy> next) {
      std::lock_guard<std::mutex> lock(mu_);
      std::swap(active_, next);
      return next;
    };
  }
  std::string version() {
    std::lock_guard<std::mutex> lock(mu_);
    return active_ ? active_->version() : "";
  }

 private:
  std::mutex mu_;
  std::unique_ptr<const policy::CompiledPolicy> active_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "confirm_policy_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The version in state_dir/policy.pb: what a restarted gateway would run.
std::string PersistedVersion(const std::string& dir) {
  std::ifstream in(dir + "/policy.pb", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  v1::PolicySnapshot s;
  return s.ParseFromString(bytes.str()) ? s.version() : "(unreadable)";
}

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return ctx;
}

class ConfirmPolicyTest : public ::testing::Test {
 protected:
  ConfirmPolicyTest() : policies_(PolicyManager::Options{1, 1, dir_.path()}, workers_.Fn()) {
    policies_.SetEventRing(&ring_);  // the manager's publisher thread is its one producer
    service_ = std::make_unique<GatewayService>(&policies_, nullptr, GatewayHooks{},
                                                std::vector<unsigned>{1});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1::Gateway::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
  }
  ~ConfirmPolicyTest() override { server_->Shutdown(); }

  v1::PushPolicyResponse Push(const std::string& version, uint32_t confirm_within_seconds = 0) {
    v1::PushPolicyRequest request;
    *request.mutable_snapshot() = Versioned(version);
    request.set_confirm_within_seconds(confirm_within_seconds);
    v1::PushPolicyResponse reply;
    const grpc::Status s = stub_->PushPolicyConfirmed(Ctx().get(), request, &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply;
  }
  v1::ConfirmPolicyResponse Confirm() {
    v1::ConfirmPolicyResponse reply;
    const grpc::Status s = stub_->ConfirmPolicy(Ctx().get(), v1::ConfirmPolicyRequest(), &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply;
  }
  v1::GatewayStatus Status() {
    v1::GatewayStatus reply;
    const grpc::Status s = stub_->GetStatus(Ctx().get(), v1::GetStatusRequest(), &reply);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return reply;
  }
  // The events the manager reported so far, as JSON lines.
  std::vector<std::string> Events() {
    std::vector<EventRecord> batch(64);
    const size_t n = ring_.PopBatch(batch.data(), batch.size());
    for (size_t i = 0; i < n; ++i) events_.push_back(RenderEventJson(batch[i], policies_.NamesFor(batch[i])));
    return events_;
  }
  static uint64_t NowUnixMs() {
    return static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  }

  TempDir dir_;
  FakeWorkers workers_;
  EventRing ring_{256};
  PolicyManager policies_;
  std::unique_ptr<GatewayService> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Gateway::Stub> stub_;
  std::vector<std::string> events_;
};

bool Has(const std::string& line, const std::string& part) { return line.find(part) != std::string::npos; }

TEST_F(ConfirmPolicyTest, AnUnconfirmedFirstPolicyRevertsToNone) {
  // No policy yet: unconfirmed, the first policy goes away again and the
  // gateway forwards as it did before it; nothing is persisted meanwhile.
  const Clock::time_point pushed = Clock::now();
  const v1::PushPolicyResponse first = Push("A", 1);
  ASSERT_TRUE(first.accepted());
  EXPECT_EQ(first.revert_to_version(), "none (no policy)");
  EXPECT_EQ(workers_.version(), "A");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/policy.pb"));
  while (workers_.version() != "" && Clock::now() - pushed < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(workers_.version(), "");
  const v1::GatewayStatus s = Status();
  EXPECT_EQ(s.policy_version(), "");
  EXPECT_EQ(s.confirm_deadline_unix_ms(), 0u);
  const std::vector<std::string> events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(Has(events[1], "\"event\":\"policy_reverted\"")) << events[1];
  EXPECT_TRUE(Has(events[1], "\"unconfirmed_version\":\"A\"")) << events[1];
  EXPECT_TRUE(Has(events[1], "reverted to none (no policy)")) << events[1];
}

TEST_F(ConfirmPolicyTest, NothingPendingIsAnError) {
  v1::ConfirmPolicyResponse c = Confirm();
  EXPECT_FALSE(c.confirmed());
  EXPECT_EQ(c.error(), "no pushed policy is awaiting confirmation");

  ASSERT_TRUE(Push("A").accepted());  // confirm_within 0: an ordinary push
  c = Confirm();
  EXPECT_FALSE(c.confirmed());
  EXPECT_EQ(c.policy_version(), "A");
  const v1::GatewayStatus s = Status();
  EXPECT_EQ(s.confirm_deadline_unix_ms(), 0u);
  EXPECT_EQ(s.confirm_pending_version(), "");
  EXPECT_EQ(s.revert_to_version(), "");
}

TEST_F(ConfirmPolicyTest, UnconfirmedPushRevertsOnTheGatewaysClock) {
  ASSERT_TRUE(Push("A").accepted());
  const uint64_t before = NowUnixMs();
  const Clock::time_point pushed = Clock::now();
  const v1::PushPolicyResponse b = Push("B", 1);
  ASSERT_TRUE(b.accepted());
  EXPECT_EQ(b.revert_to_version(), "A");
  EXPECT_GE(b.confirm_deadline_unix_ms(), before + 1000);
  EXPECT_LE(b.confirm_deadline_unix_ms(), NowUnixMs() + 1000);

  v1::GatewayStatus s = Status();
  EXPECT_EQ(s.policy_version(), "B");
  EXPECT_EQ(workers_.version(), "B");
  EXPECT_EQ(s.confirm_pending_version(), "B");
  EXPECT_EQ(s.revert_to_version(), "A");
  EXPECT_EQ(s.confirm_deadline_unix_ms(), b.confirm_deadline_unix_ms());
  // Until confirmed, a restart comes back with A.
  EXPECT_EQ(PersistedVersion(dir_.path()), "A");

  // Nobody confirms: the gateway reverts by itself.
  while (workers_.version() != "A" && Clock::now() - pushed < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(workers_.version(), "A");
  EXPECT_GE(Clock::now() - pushed, milliseconds(990));
  s = Status();
  EXPECT_EQ(s.policy_version(), "A");
  EXPECT_EQ(s.confirm_deadline_unix_ms(), 0u);
  EXPECT_EQ(s.confirm_pending_version(), "");
  EXPECT_EQ(PersistedVersion(dir_.path()), "A");
  EXPECT_FALSE(Confirm().confirmed());  // too late: nothing pending any more

  const std::vector<std::string> events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(Has(events[0], "\"event\":\"policy_change\"")) << events[0];
  EXPECT_FALSE(Has(events[0], "confirm_within_s")) << events[0];
  EXPECT_TRUE(Has(events[1], "\"policy_version\":\"B\",\"confirm_within_s\":1}")) << events[1];
  EXPECT_TRUE(Has(events[2], "\"event\":\"policy_reverted\",\"scope\":\"gateway\",\"policy_version\":\"A\","
                             "\"unconfirmed_version\":\"B\","
                             "\"cause\":\"confirm deadline passed: reverted to A\"}"))
      << events[2];
}

TEST_F(ConfirmPolicyTest, ConfirmedPushStaysPastItsDeadline) {
  ASSERT_TRUE(Push("A").accepted());
  const Clock::time_point pushed = Clock::now();
  ASSERT_TRUE(Push("B", 1).accepted());
  const v1::ConfirmPolicyResponse c = Confirm();
  EXPECT_TRUE(c.confirmed()) << c.error();
  EXPECT_EQ(c.policy_version(), "B");
  EXPECT_EQ(PersistedVersion(dir_.path()), "B");  // now the start-up policy
  std::this_thread::sleep_until(pushed + milliseconds(1500));
  const v1::GatewayStatus s = Status();
  EXPECT_EQ(s.policy_version(), "B");
  EXPECT_EQ(workers_.version(), "B");
  EXPECT_EQ(s.confirm_deadline_unix_ms(), 0u);
  EXPECT_EQ(s.revert_to_version(), "");
  EXPECT_FALSE(Confirm().confirmed());  // confirmed once

  const std::vector<std::string> events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(Has(events[2], "\"event\":\"policy_confirmed\",\"scope\":\"gateway\",\"policy_version\":\"B\","
                             "\"cause\":\"operator (conduitctl confirm)\"}"))
      << events[2];
}

TEST_F(ConfirmPolicyTest, ASecondPushInTheWindowKeepsTheRevertTarget) {
  ASSERT_TRUE(Push("A").accepted());
  ASSERT_TRUE(Push("B", 30).accepted());
  const Clock::time_point pushed = Clock::now();
  const v1::PushPolicyResponse c = Push("C", 1);  // its deadline replaces B's
  ASSERT_TRUE(c.accepted());
  EXPECT_EQ(c.revert_to_version(), "A");
  EXPECT_EQ(Status().confirm_pending_version(), "C");
  EXPECT_EQ(PersistedVersion(dir_.path()), "A");
  while (workers_.version() != "A" && Clock::now() - pushed < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(Status().policy_version(), "A");
  const std::vector<std::string> events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(Has(events[3], "\"unconfirmed_version\":\"C\"")) << events[3];
}

// A gateway stopped inside the window comes back with the last confirmed
// policy; stopping does not wait for the deadline.
TEST(ConfirmPolicyRestart, RestartInsideTheWindowRunsThePreviousPolicy) {
  TempDir dir;
  FakeWorkers workers;
  auto pm = std::make_unique<PolicyManager>(PolicyManager::Options{1, 1, dir.path()}, workers.Fn());
  const PushOutcome a = pm->Push(Versioned("A"));
  ASSERT_TRUE(a.accepted) << policy::FormatPolicyErrors(a.errors);
  const PushOutcome b = pm->PushConfirmed(Versioned("B"), 600);
  ASSERT_TRUE(b.accepted);
  EXPECT_EQ(b.revert_to_version, "A");
  EXPECT_EQ(workers.version(), "B");
  // A plain push or a mode change inside the window stays unconfirmed too.
  const PushOutcome c = pm->Push(Versioned("C"));
  EXPECT_EQ(c.revert_to_version, "A");
  EXPECT_EQ(c.confirm_deadline_unix_ms, b.confirm_deadline_unix_ms);
  ASSERT_TRUE(pm->SetMode("", policy::Mode::kMonitor).ok());
  EXPECT_EQ(pm->Status().confirm_pending_version, "C");
  EXPECT_EQ(PersistedVersion(dir.path()), "A");

  const Clock::time_point stop = Clock::now();
  pm.reset();
  EXPECT_LT(Clock::now() - stop, std::chrono::seconds(2));
  pm = std::make_unique<PolicyManager>(PolicyManager::Options{1, 1, dir.path()}, workers.Fn());
  const std::string report = pm->LoadAtStart("");
  EXPECT_NE(report.find("policy A"), std::string::npos) << report;
  EXPECT_EQ(pm->Status().version, "A");
  EXPECT_EQ(pm->Status().mode, policy::Mode::kMonitor);  // the override survives, as always
  EXPECT_EQ(pm->Status().confirm_deadline_unix_ms, 0u);
  EXPECT_FALSE(pm->Confirm().ok());
}

}  // namespace
}  // namespace conduit
