// The proposal engine on synthetic tuples: grouping of identical clients,
// reads and writes apart, ranges as seen, evidence comments, determinism,
// housekeeping-only sessions, non-ICS traffic.
#include "baseline/propose.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "baseline/tuple_collector.h"
#include "policy/validate.h"

namespace conduit::baseline {
namespace {

using ics::OpKind;

std::array<uint8_t, 16> V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

constexpr uint64_t kT0 = 1700000000ull * 1000000000ull;  // 2023-11-14T22:13:20Z

ObservedTuple Op(uint8_t client, uint8_t server, OpKind kind, uint16_t function, uint32_t unit,
                 std::vector<observe::AddressRange> ranges, uint64_t count = 3, uint16_t port = 502) {
  ObservedTuple t;
  t.key.client = V4(198, 18, 0, client);
  t.key.server = V4(198, 18, 0, server);
  t.key.ip_version = 4;
  t.key.l4_proto = 6;
  t.key.protocol = ics::ProtocolOf(kind);
  t.key.kind = kind;
  t.key.direction = ics::Direction::kRequest;
  t.key.function = function;
  t.key.has_unit = 1;
  t.key.unit = unit;
  t.key.server_port = port;
  t.stats.count = count;
  t.stats.first_seen_ns = kT0;
  t.stats.last_seen_ns = kT0 + 60ull * 1000000000ull;
  for (const auto& r : ranges) observe::AddRange(t.stats, r);
  return t;
}

std::string Propose(const Observation& obs, ProposeOptions options = {}) {
  options.source = "test";
  auto text = ProposePolicy(obs, options);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// The rule block (from its evidence comment to the next rule) holding `id`.
std::string RuleBlock(const std::string& text, const std::string& id) {
  const size_t at = text.find("- id: " + id + "\n");
  if (at == std::string::npos) return "";
  const size_t begin = text.rfind("# evidence", at);
  const size_t end = text.find("# evidence", at);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

TEST(Propose, GroupsIdenticalClientsAndSplitsReadsFromWrites) {
  Observation obs;
  for (uint8_t c : {10, 11}) {
    obs.tuples.push_back(Op(c, 200, OpKind::kModbus, 3, 1, {{0, 9}}));
    obs.tuples.push_back(Op(c, 200, OpKind::kModbus, 4, 1, {{0, 9}}));
  }
  obs.tuples.push_back(Op(30, 200, OpKind::kModbus, 3, 1, {{0, 9}}));
  obs.tuples.push_back(Op(30, 200, OpKind::kModbus, 16, 1, {{100, 103}}, 1));
  const std::string text = Propose(obs);
  const std::string readers = RuleBlock(text, "modbus-read-198-18-0-10");
  EXPECT_NE(readers.find("from: [198.18.0.10/32, 198.18.0.11/32]"), std::string::npos) << text;
  EXPECT_NE(readers.find("functions: [read_holding_registers, read_input_registers]"), std::string::npos);
  EXPECT_NE(readers.find("addresses: [\"0-9\"]"), std::string::npos);
  EXPECT_NE(readers.find("units: [1]"), std::string::npos);
  EXPECT_NE(readers.find("# evidence: 12 operations, first seen 2023-11-14T22:13:20Z, last seen 2023-11-14T22:14:20Z"),
            std::string::npos) << readers;
  // The writer's read is not grouped with the readers (it also writes a
  // different function set: its reads are a rule of their own).
  EXPECT_NE(RuleBlock(text, "modbus-read-198-18-0-30").find("functions: [read_holding_registers]\n"),
            std::string::npos) << text;
  const std::string writes = RuleBlock(text, "modbus-write-198-18-0-30");
  EXPECT_NE(writes.find("functions: [write_multiple_registers]"), std::string::npos) << text;
  EXPECT_NE(writes.find("addresses: [\"100-103\"]"), std::string::npos);
  EXPECT_EQ(writes.find("read_"), std::string::npos);
  EXPECT_EQ(readers.find("write_"), std::string::npos);
}

TEST(Propose, RangesAsSeenNeverWidened) {
  Observation obs;
  obs.tuples.push_back(Op(10, 200, OpKind::kModbus, 3, 1, {{0, 9}, {12, 20}, {60000, 60001}}));
  const std::string text = Propose(obs);
  EXPECT_NE(text.find("addresses: [\"0-20\", \"60000-60001\"]"), std::string::npos) << text;
  EXPECT_EQ(text.find("0-65535"), std::string::npos);
}

TEST(Propose, AddresslessOpsDropTheRestriction) {
  Observation obs;
  ObservedTuple t = Op(10, 200, OpKind::kModbus, 3, 1, {{0, 9}});
  observe::AddRange(t.stats, kAnyAddress);  // an op whose range was unknown
  obs.tuples.push_back(t);
  const std::string text = Propose(obs);
  EXPECT_EQ(text.find("addresses:"), std::string::npos) << text;
}

TEST(Propose, UnitsWithDifferentRangesAreDifferentRules) {
  Observation obs;
  obs.tuples.push_back(Op(10, 200, OpKind::kModbus, 3, 1, {{0, 9}}));
  obs.tuples.push_back(Op(10, 200, OpKind::kModbus, 3, 2, {{500, 509}}));
  const std::string text = Propose(obs);
  EXPECT_NE(text.find("units: [1]\n        addresses: [\"0-9\"]"), std::string::npos) << text;
  EXPECT_NE(text.find("units: [2]\n        addresses: [\"500-509\"]"), std::string::npos) << text;
}

TEST(Propose, DeterministicWhateverTheTupleOrder) {
  Observation obs;
  for (uint8_t c = 10; c < 20; ++c) {
    obs.tuples.push_back(Op(c, 200 + c % 3, OpKind::kModbus, uint16_t(1 + c % 4), c % 2, {{c, uint32_t(c + 5)}}));
    obs.tuples.push_back(Op(c, 201, OpKind::kDnp3, 1, 10, {}, 2, 20000));
  }
  const std::string a = Propose(obs);
  std::mt19937 rng(7);
  std::shuffle(obs.tuples.begin(), obs.tuples.end(), rng);
  EXPECT_EQ(a, Propose(obs));
}

TEST(Propose, HousekeepingOnlySessionGetsASessionRule) {
  Observation obs;
  // DNP3 link status only between .10 and .200; a read plus link frames
  // between .11 and .200 (the read's rule covers the link frames).
  obs.tuples.push_back(Op(10, 200, OpKind::kDnp3Link, 9, 1, {}, 4, 20000));
  obs.tuples.push_back(Op(11, 200, OpKind::kDnp3Link, 9, 1, {}, 4, 20000));
  obs.tuples.push_back(Op(11, 200, OpKind::kDnp3, 1, 1, {}, 4, 20000));
  const std::string text = Propose(obs);
  const std::string session = RuleBlock(text, "dnp3-session-198-18-0-10");
  EXPECT_NE(session.find("functions: [255]"), std::string::npos) << text;
  EXPECT_NE(session.find("from: [198.18.0.10/32]"), std::string::npos);
  EXPECT_EQ(text.find("dnp3-session-198-18-0-11"), std::string::npos) << text;
}

TEST(Propose, NonIcsTrafficBecomesPortRules) {
  Observation obs;
  ObservedTuple t;
  t.key.client = V4(198, 18, 0, 10);
  t.key.server = V4(198, 18, 0, 201);
  t.key.ip_version = 4;
  t.key.l4_proto = 6;
  t.key.server_port = 443;
  t.stats.count = 5;
  t.stats.first_seen_ns = kT0;
  t.stats.last_seen_ns = kT0;
  obs.tuples.push_back(t);
  const std::string text = Propose(obs);
  const std::string rule = RuleBlock(text, "tcp-443-198-18-0-10");
  EXPECT_NE(rule.find("protocol: tcp"), std::string::npos) << text;
  EXPECT_NE(rule.find("port: 443"), std::string::npos);
  EXPECT_NE(rule.find("# evidence: 5 packets"), std::string::npos);
  EXPECT_NE(text.find("non_ics: deny"), std::string::npos);
}

TEST(Propose, NothingObservedIsAValidDenyAllPolicy) {
  const std::string text = Propose(Observation{});
  EXPECT_NE(text.find("rules: []"), std::string::npos) << text;
  EXPECT_TRUE(policy::LoadAndValidateText(text).ok());
}

TEST(Propose, BaseWithoutTheWireFails) {
  ProposeOptions options;
  options.base_policy =
      "version: b\nmode: enforce\nzones:\n  a: [10.0.0.0/8]\n  b: [192.168.0.0/16]\n"
      "conduits:\n  - name: c\n    wire: 1\n    sides: {a: a, b: b}\n    default: deny\n"
      "    non_ics: deny\n    rules: []\n";
  options.wire = 0;
  EXPECT_FALSE(ProposePolicy(Observation{}, options).ok());
  ProposeOptions broken = options;
  broken.base_policy = "version: b\n";
  EXPECT_EQ(ProposePolicy(Observation{}, broken).status().code(), absl::StatusCode::kInvalidArgument);
  options.wire = 1;
  auto text = ProposePolicy(Observation{}, options);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("version: b+proposed"), std::string::npos) << *text;
}

TEST(Classify, ReadsAndWrites) {
  EXPECT_TRUE(IsReadFunction(OpKind::kModbus, 3));
  EXPECT_FALSE(IsReadFunction(OpKind::kModbus, 6));
  EXPECT_FALSE(IsReadFunction(OpKind::kModbus, 23));   // read/write multiple: writes
  EXPECT_FALSE(IsReadFunction(OpKind::kModbus, 0x5A41));  // umas_stop_plc
  EXPECT_TRUE(IsReadFunction(OpKind::kModbus, 0x5A02));   // umas_read_id
  EXPECT_TRUE(IsReadFunction(OpKind::kDnp3, 1));
  EXPECT_FALSE(IsReadFunction(OpKind::kDnp3, 5));
  EXPECT_TRUE(IsReadFunction(OpKind::kS7comm, 0x04));
  EXPECT_FALSE(IsReadFunction(OpKind::kS7comm, 0x05));
  EXPECT_FALSE(IsReadFunction(OpKind::kS7comm, 0x29));  // plc_stop
  EXPECT_TRUE(IsReadFunction(OpKind::kIec104, 100));    // c_ic_na_1
  EXPECT_FALSE(IsReadFunction(OpKind::kIec104, 45));    // c_sc_na_1
  EXPECT_TRUE(IsReadFunction(OpKind::kBacnetConfirmed, 12));
  EXPECT_FALSE(IsReadFunction(OpKind::kBacnetConfirmed, 15));
  EXPECT_FALSE(IsReadFunction(OpKind::kModbus, 200));  // unknown: a write
}

TEST(TupleSet, MergesCountsTimesAndRanges) {
  TupleSet set;
  observe::TupleKey k;
  k.protocol = ics::Protocol::kModbus;
  const observe::AddressRange a{0, 9}, b{12, 20};
  set.Add(k, 200, &a);
  set.Add(k, 100, &b);
  set.Add(k, 300, nullptr);
  const auto tuples = set.Sorted();
  ASSERT_EQ(tuples.size(), 1u);
  EXPECT_EQ(tuples[0].stats.count, 3u);
  EXPECT_EQ(tuples[0].stats.first_seen_ns, 100u);
  EXPECT_EQ(tuples[0].stats.last_seen_ns, 300u);
  ASSERT_EQ(tuples[0].stats.range_count, 1);
  EXPECT_EQ(tuples[0].stats.ranges[0].hi, 20u);
}

}  // namespace
}  // namespace conduit::baseline
