// Time-limited rules: `expires:` in the policy file (parse, validate, left
// out once passed), grant requests (what may and may not be granted), the
// persisted grant store, and the policy manager's effective policy (grants
// appended, expiries recompiled on its own clock, judged as the workers do).
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/policy_manager.h"
#include "grants/grant_store.h"
#include "grants/grant_validate.h"
#include "policy/compiler.h"
#include "policy/expires.h"
#include "policy/policy_yaml.h"
#include "policy/validate.h"

namespace conduit {
namespace {

namespace v1 = conduit::v1;

constexpr const char* kPolicy = R"(version: "lab/grants"
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
        from: [198.18.0.10/32]
        to: [198.18.0.200/32]
        functions: [read_holding_registers]
        action: allow
      - id: no-writes-to-safety
        protocol: modbus
        to: [198.18.0.201/32]
        functions: [write_single_register]
        action: deny
)";

v1::PolicySnapshot Policy(const std::string& extra_rule = "") {
  auto p = policy::LoadAndValidateText(std::string(kPolicy) + extra_rule);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : v1::PolicySnapshot();
}

// ---- expires: -------------------------------------------------------------

TEST(Expires, ParsesRfc3339) {
  EXPECT_EQ(*policy::ParseRfc3339("1970-01-01T00:00:00Z"), 0u);
  EXPECT_EQ(*policy::ParseRfc3339("2026-12-06T18:00:00Z"), 1796580000000u);
  EXPECT_EQ(*policy::ParseRfc3339("2026-12-06T19:00:00+01:00"), 1796580000000u);
  EXPECT_EQ(*policy::ParseRfc3339("2026-12-06T18:00:00.250Z"), 1796580000250u);
  EXPECT_EQ(policy::FormatRfc3339(1796580000250u), "2026-12-06T18:00:00Z");
  for (const char* bad : {"", "2026-12-06", "2026-12-06T18:00:00", "2026-13-06T18:00:00Z",
                          "2026-02-30T10:00:00Z", "2026-12-06 18:00:00Z", "2026-12-06T25:00:00Z",
                          "2026-12-06T18:00:00Zjunk", "tomorrow", "2026-12-06T18:00:00+1"}) {
    EXPECT_FALSE(policy::ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(Expires, LoadedIntoTheRule) {
  const v1::PolicySnapshot p = Policy(R"(      - id: vendor
        protocol: modbus
        from: [198.18.0.20/32]
        functions: [write_single_register]
        action: allow
        expires: "2026-12-06T18:00:00Z"
)");
  ASSERT_EQ(p.conduits(0).rules_size(), 3);
  EXPECT_EQ(p.conduits(0).rules(2).expires(), "2026-12-06T18:00:00Z");
  EXPECT_EQ(policy::RuleExpiryMs(p.conduits(0).rules(2)), 1796580000000u);
  EXPECT_TRUE(policy::RuleExpired(p.conduits(0).rules(2), 1796580000000u));
  EXPECT_FALSE(policy::RuleExpired(p.conduits(0).rules(2), 1796579999999u));
  EXPECT_FALSE(policy::RuleExpired(p.conduits(0).rules(0), UINT64_MAX));  // no expiry: never
}

TEST(Expires, MalformedNamesPathAndLine) {
  auto p = policy::LoadAndValidateText(std::string(kPolicy) + R"(      - id: vendor
        protocol: modbus
        from: [198.18.0.20/32]
        functions: [write_single_register]
        action: allow
        expires: "2026-12-32T18:00:00Z"
)");
  ASSERT_FALSE(p.ok());
  const std::string message(p.status().message());
  EXPECT_NE(message.find("conduits[0].rules[2].expires: \"2026-12-32T18:00:00Z\" is not an RFC 3339 time"),
            std::string::npos) << message;
  EXPECT_NE(message.find("(line 29)"), std::string::npos) << message;
}

TEST(Expires, PassedIsNoError) {
  // A rule whose time passed is valid; it just no longer exists.
  EXPECT_TRUE(policy::LoadAndValidateText(std::string(kPolicy) + R"(      - id: old
        protocol: modbus
        from: [198.18.0.20/32]
        functions: [3]
        action: allow
        expires: 2020-01-01T00:00:00Z
)").ok());
}

TEST(Expires, GrantIdsAreReserved) {
  auto p = policy::LoadAndValidateText(std::string(kPolicy) + R"(      - id: grant-7
        protocol: modbus
        from: [198.18.0.20/32]
        functions: [3]
        action: allow
)");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("reserved for grants"), std::string::npos);
}

// ---- grant requests --------------------------------------------------------

v1::GrantRequest VendorWrite() {
  v1::GrantRequest r;
  r.set_conduit("corp-plant");
  r.set_duration_seconds(7200);
  r.set_reason("vendor maintenance, ticket 4711");
  r.mutable_rule()->add_from("198.18.0.20/32");
  r.mutable_rule()->add_to("198.18.0.200/32");
  r.mutable_rule()->set_protocol("modbus");
  r.mutable_rule()->add_functions("write_single_register");
  r.mutable_rule()->add_units(1);
  r.mutable_rule()->add_addresses("100-199");
  return r;
}

std::string Errors(const std::vector<policy::PolicyError>& errors) { return policy::FormatPolicyErrors(errors); }

TEST(GrantValidate, AcceptsANarrowGrant) {
  EXPECT_EQ(Errors(grants::ValidateGrant(VendorWrite(), Policy())), "");
  v1::GrantRequest numeric = VendorWrite();
  numeric.mutable_rule()->set_functions(0, "6");
  numeric.mutable_rule()->clear_to();
  EXPECT_EQ(Errors(grants::ValidateGrant(numeric, Policy())), "");
}

TEST(GrantValidate, NeedsAPolicyAndItsConduit) {
  EXPECT_NE(Errors(grants::ValidateGrant(VendorWrite(), std::nullopt)).find("conduit: no policy is active"),
            std::string::npos);
  v1::GrantRequest r = VendorWrite();
  r.set_conduit("elsewhere");
  const std::string e = Errors(grants::ValidateGrant(r, Policy()));
  EXPECT_NE(e.find("conduit: no conduit \"elsewhere\" in the active policy lab/grants (conduits: corp-plant)"),
            std::string::npos) << e;
}

TEST(GrantValidate, NeverWidensBeyondWhatItNames) {
  const v1::PolicySnapshot p = Policy();
  auto expect = [&](v1::GrantRequest r, const std::string& needle) {
    const std::string e = Errors(grants::ValidateGrant(r, p));
    EXPECT_NE(e.find(needle), std::string::npos) << "want \"" << needle << "\" in:\n" << e;
  };
  v1::GrantRequest r = VendorWrite();
  r.mutable_rule()->clear_from();
  expect(r, "rule.from: missing");
  r = VendorWrite();
  r.mutable_rule()->set_from(0, "0.0.0.0/0");
  expect(r, "rule.from[0]: \"0.0.0.0/0\" is every address");
  r = VendorWrite();
  r.mutable_rule()->set_from(0, "corporate");
  expect(r, "rule.from[0]: \"corporate\" is not a CIDR prefix");
  r = VendorWrite();
  r.mutable_rule()->set_to(0, "::/0");
  expect(r, "rule.to[0]: \"::/0\" is every address");
  r = VendorWrite();
  r.mutable_rule()->clear_functions();
  expect(r, "rule.functions: missing");
  r = VendorWrite();
  r.mutable_rule()->set_protocol("tcp");
  expect(r, "rule.protocol: tcp cannot be granted");
  r = VendorWrite();
  r.mutable_rule()->set_protocol("profibus");
  expect(r, "rule.protocol: unknown protocol \"profibus\"");
  r = VendorWrite();
  r.mutable_rule()->set_functions(0, "write_everything");
  expect(r, "rule.functions[0]: unknown modbus function \"write_everything\"");
  r = VendorWrite();
  r.mutable_rule()->set_addresses(0, "200-100");
  expect(r, "rule.addresses[0]");
  r = VendorWrite();
  r.mutable_rule()->set_units(0, 300);
  expect(r, "rule.units[0]: unit 300 is out of range");
  r = VendorWrite();
  r.mutable_rule()->set_action(v1::ACTION_DENY);
  expect(r, "rule.action: a grant allows");
  r = VendorWrite();
  r.mutable_rule()->set_mode(v1::MODE_MONITOR);
  expect(r, "rule.mode");
}

TEST(GrantValidate, BoundedDurationAndAReason) {
  v1::GrantRequest r = VendorWrite();
  r.set_duration_seconds(0);
  EXPECT_NE(Errors(grants::ValidateGrant(r, Policy())).find("duration_seconds: missing"), std::string::npos);
  r.set_duration_seconds(8 * 86400);
  const std::string e = Errors(grants::ValidateGrant(r, Policy()));
  EXPECT_NE(e.find("duration_seconds: 8d is too long: a grant lasts at most 7d (604800 s)"), std::string::npos) << e;
  r.set_duration_seconds(7 * 86400);
  EXPECT_EQ(Errors(grants::ValidateGrant(r, Policy())), "");
  r.clear_reason();
  EXPECT_NE(Errors(grants::ValidateGrant(r, Policy())).find("reason: missing"), std::string::npos);
}

// ---- the store ------------------------------------------------------------

class GrantStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("grant_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return (dir_ / "grants.json").string(); }
  std::filesystem::path dir_;
};

v1::GrantInfo Info(const std::string& id, uint64_t expires_ms) {
  v1::GrantInfo g;
  g.set_id(id);
  g.set_conduit("corp-plant");
  *g.mutable_rule() = VendorWrite().rule();
  g.mutable_rule()->set_id(id);
  g.set_start_unix_ms(1000);
  g.set_expires_unix_ms(expires_ms);
  g.set_reason("ticket \"4711\"");
  g.set_granted_by("plant-eng");
  return g;
}

TEST_F(GrantStoreTest, SurvivesARestartWithItsIds) {
  {
    grants::GrantStore store(Path());
    ASSERT_TRUE(store.Load().ok());  // no file: empty
    EXPECT_EQ(store.NextId(), "grant-1");
    store.Add(Info("grant-1", 5000));
    EXPECT_EQ(store.NextId(), "grant-2");
    store.Add(Info("grant-2", 9000));
    ASSERT_TRUE(store.Save().ok());
  }
  grants::GrantStore store(Path());
  ASSERT_TRUE(store.Load().ok());
  ASSERT_EQ(store.grants().size(), 2u);
  EXPECT_EQ(store.grants()[0].reason(), "ticket \"4711\"");
  EXPECT_EQ(store.grants()[1].expires_unix_ms(), 9000u);
  EXPECT_EQ(store.grants()[1].rule().functions(0), "write_single_register");
  EXPECT_EQ(store.grants()[1].rule().units(0), 1u);
  EXPECT_EQ(store.grants()[1].granted_by(), "plant-eng");
  // Ids are not reused once their grants are gone.
  const std::vector<v1::GrantInfo> expired = store.TakeExpired(5000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id(), "grant-1");
  EXPECT_TRUE(store.Remove("grant-2", nullptr));
  EXPECT_FALSE(store.Remove("grant-2", nullptr));
  ASSERT_TRUE(store.Save().ok());
  grants::GrantStore again(Path());
  ASSERT_TRUE(again.Load().ok());
  EXPECT_TRUE(again.grants().empty());
  EXPECT_EQ(again.NextId(), "grant-3");
}

TEST_F(GrantStoreTest, CorruptFileIsAnErrorAndEmpty) {
  std::ofstream(Path()) << "{\"next_id\": 3, \"grants\": [";
  grants::GrantStore store(Path());
  const absl::Status s = store.Load();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("not a grant store"), std::string::npos);
  EXPECT_TRUE(store.grants().empty());
}

// ---- the policy manager's effective policy ----------------------------------

class Workers {
 public:
  PolicyManager::PublishFn Fn() {
    return [this](std::unique_ptr<const policy::CompiledPolicy> next) {
      std::lock_guard<std::mutex> lock(mu_);
      std::shared_ptr<const policy::CompiledPolicy> n(std::move(next));
      active_ = n;
      ++publishes_;
      cv_.notify_all();
      return std::unique_ptr<const policy::CompiledPolicy>();
    };
  }
  std::shared_ptr<const policy::CompiledPolicy> active() {
    std::lock_guard<std::mutex> lock(mu_);
    return active_;
  }
  int publishes() {
    std::lock_guard<std::mutex> lock(mu_);
    return publishes_;
  }
  bool WaitForPublishes(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return publishes_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const policy::CompiledPolicy> active_;
  int publishes_ = 0;
};

policy::Address V4(const char* text) {
  std::array<uint8_t, 16> bytes{};
  bytes[10] = bytes[11] = 0xff;
  inet_pton(AF_INET, text, bytes.data() + 12);
  return policy::AddressFrom(bytes);
}

// A Modbus write_single_register of `reg` from `client` to `server`, judged.
policy::Action JudgeWrite(const policy::CompiledPolicy& p, const char* client, const char* server,
                          uint32_t reg = 120) {
  ics::IcsOp op;
  op.kind = ics::OpKind::kModbus;
  op.direction = ics::Direction::kRequest;
  op.function = 6;
  op.unit = 1;
  op.address_first = op.address_last = reg;
  op.flags = ics::kOpHasUnit | ics::kOpHasAddress;
  const policy::ConduitPolicy* c = p.ConduitForWire(0);
  EXPECT_NE(c, nullptr);
  return p.JudgeRequest(*c, op, V4(client), V4(server), 502).action;
}

GrantRule WriteGrant(const std::string& id, uint64_t expires_ms, const char* server = "198.18.0.200/32") {
  v1::Rule r = VendorWrite().rule();
  r.set_id(id);
  r.set_action(v1::ACTION_ALLOW);
  r.set_to(0, server);
  return GrantRule{"corp-plant", r, expires_ms};
}

std::string Expiry(uint64_t ms) {
  // With milliseconds: the test's expiries are a second or two away.
  const std::string s = policy::FormatRfc3339(ms);
  return s.substr(0, s.size() - 1) + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
}

TEST(PolicyManagerGrants, AGrantWinsOverTheDefaultNotOverAnExplicitDeny) {
  Workers workers;
  PolicyManager pm(PolicyManager::Options{}, workers.Fn());
  EXPECT_EQ(pm.SetGrants({WriteGrant("grant-1", policy::WallClockMs() + 60000)}).code(),
            absl::StatusCode::kFailedPrecondition);  // no policy yet: kept for the push
  ASSERT_TRUE(pm.Push(Policy()).accepted);
  const std::string hash = pm.Status().hash;
  auto p = workers.active();
  EXPECT_EQ(JudgeWrite(*p, "198.18.0.20", "198.18.0.200"), policy::Action::kAllow);
  EXPECT_EQ(p->rule_names().back(), "grant-1");
  // Only what it names: another client, another register, another server.
  EXPECT_EQ(JudgeWrite(*p, "198.18.0.21", "198.18.0.200"), policy::Action::kDeny);
  EXPECT_EQ(JudgeWrite(*p, "198.18.0.20", "198.18.0.200", 300), policy::Action::kDeny);
  EXPECT_EQ(JudgeWrite(*p, "198.18.0.20", "198.18.0.202"), policy::Action::kDeny);

  // The policy's explicit deny comes first: a grant to the safety PLC is moot.
  ASSERT_TRUE(pm.SetGrants({WriteGrant("grant-2", policy::WallClockMs() + 60000, "198.18.0.201/32")}).ok());
  p = workers.active();
  EXPECT_EQ(JudgeWrite(*p, "198.18.0.20", "198.18.0.201"), policy::Action::kDeny);
  EXPECT_EQ(JudgeWrite(*p, "198.18.0.20", "198.18.0.200"), policy::Action::kDeny);  // grant-1 replaced

  // Revoked (an empty set): denied again; status keeps the pushed policy.
  ASSERT_TRUE(pm.SetGrants({}).ok());
  EXPECT_EQ(JudgeWrite(*workers.active(), "198.18.0.20", "198.18.0.201"), policy::Action::kDeny);
  EXPECT_EQ(pm.Status().hash, hash);
  EXPECT_EQ(pm.Status().version, "lab/grants");
}

TEST(PolicyManagerGrants, GrantsOutliveAPushOfTheirConduit) {
  Workers workers;
  PolicyManager pm(PolicyManager::Options{}, workers.Fn());
  ASSERT_TRUE(pm.Push(Policy()).accepted);
  ASSERT_TRUE(pm.SetGrants({WriteGrant("grant-1", policy::WallClockMs() + 60000)}).ok());
  v1::PolicySnapshot next = Policy();
  next.set_version("lab/grants-2");
  ASSERT_TRUE(pm.Push(next).accepted);
  EXPECT_EQ(JudgeWrite(*workers.active(), "198.18.0.20", "198.18.0.200"), policy::Action::kAllow);
  next.set_version("lab/grants-3");
  next.mutable_conduits(0)->set_name("renamed");
  ASSERT_TRUE(pm.Push(next).accepted);  // the grant's conduit is gone: left out
  EXPECT_EQ(JudgeWrite(*workers.active(), "198.18.0.20", "198.18.0.200"), policy::Action::kDeny);
}

TEST(PolicyManagerGrants, ExpiriesRecompileOnTheirOwn) {
  Workers workers;
  PolicyManager pm(PolicyManager::Options{}, workers.Fn());
  std::mutex mu;
  std::vector<ExpiredRule> expired;
  pm.SetExpiryListener([&](const std::vector<ExpiredRule>& e) {
    std::lock_guard<std::mutex> lock(mu);
    expired.insert(expired.end(), e.begin(), e.end());
  });
  const uint64_t now = policy::WallClockMs();
  const v1::PolicySnapshot p = Policy("      - id: vendor-rule\n        protocol: modbus\n"
                                      "        from: [198.18.0.30/32]\n        functions: [6]\n"
                                      "        action: allow\n        expires: \"" + Expiry(now + 1500) + "\"\n"
                                      "      - id: long-gone\n        protocol: modbus\n"
                                      "        from: [198.18.0.31/32]\n        functions: [6]\n"
                                      "        action: allow\n        expires: \"2020-01-01T00:00:00Z\"\n");
  ASSERT_TRUE(pm.Push(p).accepted);
  ASSERT_TRUE(pm.SetGrants({WriteGrant("grant-1", now + 800)}).ok());
  auto active = workers.active();
  EXPECT_EQ(JudgeWrite(*active, "198.18.0.30", "198.18.0.200"), policy::Action::kAllow);
  EXPECT_EQ(JudgeWrite(*active, "198.18.0.31", "198.18.0.200"), policy::Action::kDeny);  // expired before the push
  EXPECT_EQ(JudgeWrite(*active, "198.18.0.20", "198.18.0.200"), policy::Action::kAllow);
  const int before = workers.publishes();
  ASSERT_TRUE(workers.WaitForPublishes(before + 1, std::chrono::milliseconds(3000)));  // the grant ends
  EXPECT_GE(policy::WallClockMs(), now + 800);
  EXPECT_EQ(JudgeWrite(*workers.active(), "198.18.0.20", "198.18.0.200"), policy::Action::kDeny);
  EXPECT_EQ(JudgeWrite(*workers.active(), "198.18.0.30", "198.18.0.200"), policy::Action::kAllow);
  ASSERT_TRUE(workers.WaitForPublishes(before + 2, std::chrono::milliseconds(3000)));  // the rule ends
  EXPECT_GE(policy::WallClockMs(), now + 1500);
  EXPECT_EQ(JudgeWrite(*workers.active(), "198.18.0.30", "198.18.0.200"), policy::Action::kDeny);
  EXPECT_EQ(pm.Status().version, "lab/grants");
  EXPECT_EQ(pm.Status().hash, policy::PolicyHash(p));
  // The pushed snapshot is what GetPolicy returns: the rule is still in it.
  EXPECT_EQ(pm.ActiveSnapshot()->conduits(0).rules_size(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].rule_id, "grant-1");
  EXPECT_TRUE(expired[0].grant);
  EXPECT_EQ(expired[1].rule_id, "vendor-rule");
  EXPECT_FALSE(expired[1].grant);
  EXPECT_EQ(expired[1].conduit, "corp-plant");
}

}  // namespace
}  // namespace conduit
