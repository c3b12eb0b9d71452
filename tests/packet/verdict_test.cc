// Runs the verdict table (verdict_cases.h): each case's policy goes through
// the real control path (LoadPolicyYaml → ValidatePolicy → CompilePolicy),
// each packet through the real dataplane path (ParsePacket → Inspector →
// JudgePacket), and the verdict and the events it emitted are compared with
// the table.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "classify/signatures.h"
#include "events/event_ring.h"
#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "packet/compile_policy.h"
#include "packet/verdict_cases.h"
#include "parse/parse.h"
#include "verdict/judge.h"

namespace conduit::testing {

// gtest prints a parameter when a test fails: the name, not its bytes.
void PrintTo(const VerdictCase& c, std::ostream* os) { *os << c.name; }

namespace {

const char* OutName(Out o) {
  switch (o) {
    case Out::kPass: return "pass";
    case Out::kDrop: return "drop";
    case Out::kReset: return "reset";
  }
  return "?";
}

class VerdictTest : public ::testing::TestWithParam<VerdictCase> {};

TEST_P(VerdictTest, Judges) {
  const VerdictCase& c = GetParam();
  SCOPED_TRACE(c.description);
  std::vector<std::unique_ptr<const policy::CompiledPolicy>> policies;
  for (size_t i = 0; i < c.policies.size(); ++i) {
    policies.push_back(CompileYamlPolicy(c.policies[i], uint32_t(i + 1)));
    ASSERT_NE(policies.back(), nullptr) << "policy " << i;
  }
  // Port overrides come from the first policy (the cases use the defaults).
  auto ports = std::make_unique<ics::ProtocolPorts>(policies[0]->ports());
  Inspector inspector(1024, /*idle_timeout=*/uint64_t(60) * 1000000, ports.get());
  EventRing ring(256);
  MatchSet matches;
  ics::OpList ops;
  std::vector<EventRecord> events(ring.capacity());
  uint64_t now = 1000;

  for (size_t i = 0; i < c.steps.size(); ++i) {
    const Step& s = c.steps[i];
    SCOPED_TRACE("packet " + std::to_string(i + 1) + ": " + s.what);
    ASSERT_LT(s.policy, policies.size());
    const policy::CompiledPolicy& p = *policies[s.policy];
    const policy::ConduitPolicy* conduit = p.ConduitForWire(s.wire);
    ASSERT_NE(conduit, nullptr) << "no conduit on wire " << s.wire;

    PacketMeta meta;
    const ParseResult parsed = ParsePacket(s.frame.data(), uint32_t(s.frame.size()), meta);
    ops.Clear();
    Inspection inspection;
    now += 1000;
    if (parsed == ParseResult::kOk) inspection = inspector.Inspect(s.frame.data(), meta, now, ops);
    const JudgeContext ctx{p, *conduit, 0, now, i + 1, &ring, &matches, c.report_all};
    const PacketVerdict v = JudgePacket(ctx, parsed, meta, s.frame.data(), inspection, ops);

    const Out out = v.reset ? Out::kReset : v.drop ? Out::kDrop : Out::kPass;
    EXPECT_EQ(OutName(out), std::string(OutName(s.out)));
    EXPECT_EQ(int(v.decision.action), int(s.action)) << "1 allow, 2 deny, 3 alert";
    EXPECT_EQ(int(v.decision.mode), int(s.mode)) << "1 enforce, 2 monitor";
    ASSERT_LT(v.decision.rule, p.rule_names().size());
    if (!s.rule.empty()) {
      EXPECT_EQ(p.rule_names()[v.decision.rule], s.rule);
    }

    const size_t n = ring.PopBatch(events.data(), events.size());
    std::string emitted;
    for (size_t k = 0; k < n; ++k) {
      emitted += " [" + p.rule_names()[std::min<size_t>(events[k].rule, p.rule_names().size() - 1)] +
                 " verdict " + std::to_string(int(events[k].verdict)) + " function " +
                 std::to_string(events[k].op.function) + "]";
    }
    ASSERT_EQ(n, s.events.size()) << "events emitted:" << emitted;
    for (size_t k = 0; k < n; ++k) {
      SCOPED_TRACE("event " + std::to_string(k + 1));
      const EventRecord& e = events[k];
      const ExpectedEvent& want = s.events[k];
      EXPECT_EQ(int(e.verdict), int(want.verdict)) << "1 allow, 2 deny, 3 alert";
      EXPECT_EQ(e.enforced, want.enforced);
      ASSERT_LT(e.rule, p.rule_names().size());
      EXPECT_EQ(p.rule_names()[e.rule], want.rule);
      EXPECT_EQ(UnparsableReason(e), want.reason);  // "" for every other rule
      if (want.function == kNoOp) {
        EXPECT_EQ(e.op.kind, ics::OpKind::kNone);
      } else {
        EXPECT_NE(e.op.kind, ics::OpKind::kNone);
        EXPECT_EQ(int(e.op.function), want.function) << ics::OpKindLabel(e.op.kind);
      }
      EXPECT_EQ(e.policy_epoch, s.policy + 1);
      EXPECT_EQ(e.conduit, p.ConduitIndex(conduit));
      EXPECT_EQ(e.frame, i + 1);
    }
  }
  EXPECT_EQ(ring.dropped(), 0u);
  for (const auto& [counter, value] : c.counters) {
    EXPECT_EQ(inspector.counter(counter), value) << InspectCounterName(counter);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, VerdictTest, ::testing::ValuesIn(AllVerdictCases()),
                         [](const ::testing::TestParamInfo<VerdictCase>& info) { return info.param.name; });

// The table covers every protocol the gateway decodes, each with the same
// questions (read passes, dangerous function denied, monitor, response,
// unsolicited, housekeeping).
TEST(VerdictTable, CoversEveryProtocol) {
  std::map<std::string, int> per_protocol;
  for (const VerdictCase& c : AllVerdictCases()) ++per_protocol[c.protocol];
  for (const char* p : {"modbus", "dnp3", "s7comm", "enip", "iec104", "opcua", "bacnet"}) {
    EXPECT_GE(per_protocol[p], 5) << p;
  }
  for (const auto& [p, n] : per_protocol) std::cout << p << ": " << n << " cases\n";
}

}  // namespace
}  // namespace conduit::testing
