// JudgeBurst (the worker's burst: parse, prefetch, inspect, judge a packet
// behind) must decide exactly what one-packet-at-a-time Inspect +
// JudgePacket decides: the same verdicts, the same events in the same order,
// the same flow-table and inspector counts. Checked over every case of the
// verdict table (each case's packets as one burst) and over an interleaved
// stream of many flows through a flow table small enough that new flows
// evict others inside a burst, with denied writes, responses and reused
// client ports (SYNs) landing next to each other.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "classify/signatures.h"
#include "events/event_ring.h"
#include "inspect/inspector.h"
#include "packet/compile_policy.h"
#include "packet/packet_builder.h"
#include "packet/verdict_cases.h"
#include "parse/parse.h"
#include "verdict/judge.h"
#include "verdict/judge_burst.h"

namespace conduit::testing {
namespace {

// What one way of judging made of a stream of frames.
struct Outcome {
  std::vector<PacketVerdict> verdicts;
  std::vector<EventRecord> events;
  FlowTableStats table;
  std::vector<uint64_t> inspect_counters;
};

Outcome Finish(Outcome out, EventRing& ring, const Inspector& inspector) {
  std::vector<EventRecord> batch(ring.capacity());
  for (size_t n; (n = ring.PopBatch(batch.data(), batch.size())) != 0;) {
    out.events.insert(out.events.end(), batch.begin(), batch.begin() + n);
  }
  EXPECT_EQ(ring.dropped(), 0u);
  out.table = inspector.flows().stats();
  for (int c = 0; c < kInspectCounterCount; ++c) {
    out.inspect_counters.push_back(inspector.counter(static_cast<InspectCounter>(c)));
  }
  return out;
}

struct Judging {
  const policy::CompiledPolicy& policy;
  uint32_t flow_capacity;
  bool report_all;
};

// One packet at a time (conduitctl simulate's way). Every packet of a burst
// shares the burst's clock, as in the worker.
Outcome OneAtATime(const Judging& s, const std::vector<Bytes>& frames, size_t burst) {
  Inspector inspector(s.flow_capacity, /*idle_timeout=*/1000000, &s.policy.ports());
  EventRing ring(1 << 14);
  MatchSet matches;
  ics::OpList ops;
  Outcome out;
  for (size_t i = 0; i < frames.size(); ++i) {
    const uint64_t now = 1000 + i / burst;
    const JudgeContext ctx{s.policy, *s.policy.ConduitForWire(0), 0, now, 0, &ring, &matches,
                           s.report_all};
    PacketMeta meta;
    const ParseResult parsed = ParsePacket(frames[i].data(), uint32_t(frames[i].size()), meta);
    ops.Clear();
    Inspection inspection;
    if (parsed == ParseResult::kOk) inspection = inspector.Inspect(frames[i].data(), meta, now, ops);
    out.verdicts.push_back(JudgePacket(ctx, parsed, meta, frames[i].data(), inspection, ops));
  }
  return Finish(std::move(out), ring, inspector);
}

Outcome InBursts(const Judging& s, const std::vector<Bytes>& frames, size_t burst) {
  Inspector inspector(s.flow_capacity, /*idle_timeout=*/1000000, &s.policy.ports());
  EventRing ring(1 << 14);
  MatchSet matches;
  auto scratch = std::make_unique<BurstScratch>();
  Outcome out;
  for (size_t first = 0; first < frames.size(); first += burst) {
    const uint16_t n = uint16_t(std::min(burst, frames.size() - first));
    const uint64_t now = 1000 + first / burst;
    const JudgeContext ctx{s.policy, *s.policy.ConduitForWire(0), 0, now, 0, &ring, &matches,
                           s.report_all};
    const uint8_t* data[kMaxBurst];
    uint16_t lengths[kMaxBurst];
    for (uint16_t i = 0; i < n; ++i) {
      data[i] = frames[first + i].data();
      lengths[i] = uint16_t(frames[first + i].size());
    }
    JudgeBurst(ctx, inspector, data, lengths, n, now, *scratch);
    out.verdicts.insert(out.verdicts.end(), scratch->verdicts.begin(), scratch->verdicts.begin() + n);
  }
  return Finish(std::move(out), ring, inspector);
}

void ExpectSame(const Outcome& one, const Outcome& burst) {
  ASSERT_EQ(one.verdicts.size(), burst.verdicts.size());
  for (size_t i = 0; i < one.verdicts.size(); ++i) {
    SCOPED_TRACE("packet " + std::to_string(i + 1));
    EXPECT_EQ(int(one.verdicts[i].decision.action), int(burst.verdicts[i].decision.action));
    EXPECT_EQ(int(one.verdicts[i].decision.mode), int(burst.verdicts[i].decision.mode));
    EXPECT_EQ(one.verdicts[i].decision.rule, burst.verdicts[i].decision.rule);
    EXPECT_EQ(one.verdicts[i].drop, burst.verdicts[i].drop);
    EXPECT_EQ(one.verdicts[i].reset, burst.verdicts[i].reset);
  }
  ASSERT_EQ(one.events.size(), burst.events.size());
  for (size_t i = 0; i < one.events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i + 1));
    const EventRecord& a = one.events[i];
    const EventRecord& b = burst.events[i];
    EXPECT_EQ(int(a.verdict), int(b.verdict));
    EXPECT_EQ(a.rule, b.rule);
    EXPECT_EQ(a.enforced, b.enforced);
    EXPECT_EQ(int(a.op.kind), int(b.op.kind));
    EXPECT_EQ(a.op.function, b.op.function);
    EXPECT_EQ(a.sport, b.sport);
    EXPECT_EQ(a.dport, b.dport);
  }
  EXPECT_EQ(one.table.inserts, burst.table.inserts);
  EXPECT_EQ(one.table.evictions, burst.table.evictions);
  EXPECT_EQ(one.table.expirations, burst.table.expirations);
  EXPECT_EQ(one.inspect_counters, burst.inspect_counters);
}

// Every verdict-table case whose packets share one policy and wire, as one
// burst: most cases are one flow, so nearly every packet follows one of its
// own flow (the burst must judge the previous packet first).
TEST(JudgeBurst, AgreesWithOneAtATimeOnTheVerdictTable) {
  int checked = 0;
  for (const VerdictCase& c : AllVerdictCases()) {
    const bool one_policy = std::all_of(c.steps.begin(), c.steps.end(), [](const Step& s) {
      return s.policy == 0 && s.wire == 0;
    });
    if (!one_policy || c.steps.size() > kMaxBurst) continue;
    SCOPED_TRACE(c.name);
    auto policy = CompileYamlPolicy(c.policies[0]);
    ASSERT_NE(policy, nullptr);
    std::vector<Bytes> frames;
    for (const Step& s : c.steps) frames.push_back(s.frame);
    const Judging setup{*policy, 1024, c.report_all};
    ExpectSame(OneAtATime(setup, frames, kMaxBurst), InBursts(setup, frames, kMaxBurst));
    ++checked;
  }
  EXPECT_GE(checked, 60);  // the table has 76 cases; a few swap policies
}

// Many Modbus flows interleaved, through a 16-slot flow table: new
// flows evict live ones inside a burst while earlier packets of the burst
// still wait for their verdicts.
TEST(JudgeBurst, AgreesWithOneAtATimeUnderEvictionAndPortReuse) {
  const std::string yaml = PolicyYaml(
      Rule("id: hist-read, protocol: modbus, from: [" + From(kHistorian) + "], to: [plant], "
           "functions: [read_holding_registers], action: allow") +
      Rule("id: eng-all, protocol: modbus, from: [" + From(kEngineer) + "], to: [plant], "
           "action: allow"));
  auto policy = CompileYamlPolicy(yaml);
  ASSERT_NE(policy, nullptr);

  // Per flow: SYN, SYN-ACK, then requests (reads, and writes that the
  // historian may not send) with responses; every fourth flow reuses an
  // earlier flow's client port with a new SYN.
  struct Flow {
    std::vector<Bytes> frames;
    size_t next = 0;
  };
  std::mt19937 rng(7);
  std::vector<Flow> flows;
  const char* clients[] = {kHistorian, kEngineer, kOther};
  for (int f = 0; f < 120; ++f) {
    const std::string client = clients[f % 3];
    const std::string plc = "198.18.0." + std::to_string(130 + f % 40);
    const uint16_t port = uint16_t(40000 + (f % 4 == 3 ? f - 3 : f));  // reuse
    const uint32_t base = 1000u * uint32_t(f + 1);
    Flow flow;
    flow.frames.push_back(PacketBuilder().Eth().Ipv4(client, plc).Tcp(port, 502, base, kTcpSyn).Build());
    flow.frames.push_back(
        PacketBuilder().Eth().Ipv4(plc, client).Tcp(502, port, 9, kTcpSyn | kTcpAck).Build());
    uint32_t cseq = base + 1, sseq = 10;
    for (uint16_t t = 1; t <= 6; ++t) {
      const bool write = rng() % 4 == 0;
      const uint8_t fc = write ? 6 : 3;
      const Bytes req = ModbusAdu(t, 1, fc, {0x00, 0x10, 0x00, 0x02});
      const Bytes resp = write ? ModbusAdu(t, 1, 6, {0x00, 0x10, 0x00, 0x02})
                               : ModbusAdu(t, 1, 3, {0x04, 0, 1, 0, 2});
      flow.frames.push_back(PacketBuilder().Eth().Ipv4(client, plc).Tcp(port, 502, cseq).Payload(req).Build());
      flow.frames.push_back(PacketBuilder().Eth().Ipv4(plc, client).Tcp(502, port, sseq).Payload(resp).Build());
      cseq += uint32_t(req.size());
      sseq += uint32_t(resp.size());
    }
    flows.push_back(std::move(flow));
  }
  // Interleave: pick a random unfinished flow among a window of 24, keeping
  // each flow's own order (so most neighbours are other flows, some not).
  std::vector<Bytes> stream;
  for (size_t low = 0; low < flows.size();) {
    const size_t high = std::min(flows.size(), low + 24);
    Flow& f = flows[low + rng() % (high - low)];
    if (f.next < f.frames.size()) stream.push_back(f.frames[f.next++]);
    while (low < flows.size() && flows[low].next == flows[low].frames.size()) ++low;
  }
  ASSERT_EQ(stream.size(), 120u * 14);

  for (const uint32_t capacity : {16u, 1024u}) {
    SCOPED_TRACE("flow table capacity " + std::to_string(capacity));
    const Judging setup{*policy, capacity, /*report_all=*/true};
    const Outcome one = OneAtATime(setup, stream, 32);
    const Outcome burst = InBursts(setup, stream, 32);
    ExpectSame(one, burst);
    if (capacity == 16) EXPECT_GT(one.table.evictions, 100u);  // the pressure is real
    const size_t drops = std::count_if(one.verdicts.begin(), one.verdicts.end(),
                                       [](const PacketVerdict& v) { return v.drop; });
    EXPECT_GT(drops, 50u);  // historian writes and the other host's requests are denied
  }
}

// `fragments: reassemble` over IPv6: a held fragment has no verdict of its
// own, the one that completes the datagram carries the whole datagram's
// (an allowed read passes, a denied write is dropped), and fragments of
// the same requests are dropped as `ip_fragment` where the conduit says
// `fragments: drop`.
TEST(JudgeBurst, ReassemblesIpv6FragmentsWhereTheConduitSaysSo) {
  const std::string policy_yaml = [](const char* fragments) {
    return std::string(
               "version: \"v6-fragments\"\nmode: enforce\nzones:\n"
               "  corporate: [2001:db8::/64]\n  plant: [2001:db8:1::/64]\n"
               "conduits:\n  - name: corp-plant\n    wire: 0\n    sides: {a: corporate, b: plant}\n"
               "    default: deny\n    non_ics: deny\n    on_deny: drop\n    fragments: ") +
           fragments +
           "\n    rules:\n" +
           Rule("id: read, protocol: modbus, from: [corporate], to: [plant], "
                "functions: [read_holding_registers], action: allow");
  }("reassemble");
  auto policy = CompileYamlPolicy(policy_yaml);
  ASSERT_NE(policy, nullptr);
  auto dropping = CompileYamlPolicy(
      std::string(policy_yaml).replace(policy_yaml.find("reassemble"), 10, "drop"));
  ASSERT_NE(dropping, nullptr);

  auto request = [](uint32_t seq, uint8_t function, uint16_t tid) {
    return PacketBuilder()
        .Eth()
        .Ipv6("2001:db8::10", "2001:db8:1::200")
        .Tcp(50000, 502, seq)
        .Ack(5000)
        .Payload(ModbusAdu(tid, 1, function, {0x00, 0xA0, 0x00, 0x01}))
        .Build();
  };
  const Bytes read = request(1000, 3, 1), write = request(1012, 6, 2);
  // TCP header and ADU: 32 bytes, cut at 16.
  const std::vector<Bytes> frames = {
      Ipv6FragmentOf(read, 40, 0, 16, 1), Ipv6FragmentOf(read, 40, 16, 64, 1),
      Ipv6FragmentOf(write, 40, 16, 64, 2), Ipv6FragmentOf(write, 40, 0, 16, 2)};

  Inspector inspector(1024, /*idle_timeout=*/1000000, &policy->ports());
  EventRing ring(1 << 10);
  MatchSet matches;
  auto scratch = std::make_unique<BurstScratch>();
  const JudgeContext ctx{*policy, *policy->ConduitForWire(0), 0, 1000, 0, &ring, &matches, false};
  const uint8_t* data[4];
  uint16_t lengths[4];
  for (int i = 0; i < 4; ++i) {
    data[i] = frames[i].data();
    lengths[i] = uint16_t(frames[i].size());
  }
  JudgeBurst(ctx, inspector, data, lengths, 4, 1000, *scratch);
  EXPECT_TRUE(scratch->verdicts[0].held);
  EXPECT_FALSE(scratch->verdicts[1].drop);  // the read, whole
  EXPECT_EQ(scratch->verdicts[1].decision.action, policy::Action::kAllow);
  EXPECT_EQ(lengths[1], uint16_t(read.size()));  // the datagram replaced the fragment
  EXPECT_TRUE(scratch->verdicts[2].held);
  EXPECT_TRUE(scratch->verdicts[3].drop);   // the write, whole: denied
  EXPECT_EQ(scratch->verdicts[3].normalized, DropReason::kCount);
  EXPECT_EQ(scratch->verdicts[3].decision.action, policy::Action::kDeny);
  EXPECT_EQ(inspector.reassembler().completed(), 2u);

  Inspector plain(1024, /*idle_timeout=*/1000000, &dropping->ports());
  const JudgeContext drop_ctx{*dropping, *dropping->ConduitForWire(0), 0, 1000, 0, &ring, &matches,
                              false};
  for (int i = 0; i < 4; ++i) {
    data[i] = frames[i].data();
    lengths[i] = uint16_t(frames[i].size());
  }
  JudgeBurst(drop_ctx, plain, data, lengths, 4, 1000, *scratch);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(scratch->verdicts[i].drop) << i;
    EXPECT_EQ(scratch->verdicts[i].normalized, DropReason::ip_fragment) << i;
  }
}

}  // namespace
}  // namespace conduit::testing
