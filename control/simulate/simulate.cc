#include "simulate/simulate.h"

#include <cstdio>
#include <map>
#include <tuple>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "events/event_json.h"
#include "events/event_record.h"
#include "normalize/packet_checks.h"
#include "events/event_ring.h"
#include "ics/registry.h"
#include "inspect/inspector.h"
#include "parse/parse.h"
#include "policy/compiler.h"
#include "policy/validate.h"
#include "simulate/pcap_reader.h"
#include "verdict/judge.h"

namespace conduit {
namespace {

// The flow table is as large as a worker's; capture time is the clock.
constexpr uint32_t kFlowCapacity = 1 << 16;
constexpr uint64_t kIdleTimeoutMicros = 300ull * 1000000;
// The summary names this many cut sessions, then counts the rest.
constexpr size_t kCutSessionsListed = 100;

// A flow the policy would cut: the frame whose enforced deny dropped it
// (the gateway drops the rest of the flow), and what it asked afterwards.
struct CutSession {
  EventRecord first;            // the packet that was dropped: endpoints
  std::string rule;
  uint64_t later_requests = 0;  // requests reported as denied by the cut
};

std::string Endpoints(const EventRecord& e) {
  return absl::StrCat(AddressText(e.src, e.ip_version), ":", e.sport, " -> ",
                      AddressText(e.dst, e.ip_version), ":", e.dport);
}

EventRecord RecordFor(const CapturedFrame& f, const PacketMeta& meta, const ics::IcsOp& op) {
  EventRecord e = EventForPacket(meta, f.timestamp_micros * 1000, f.number);
  e.op = op;
  return e;
}

std::string HumanLine(const EventRecord& e, const EventNames& names, uint64_t cut_at_frame) {
  const ics::IcsOp& op = e.op;
  std::string line = absl::StrCat("frame ", e.frame, "  ", AddressText(e.src, e.ip_version), ":", e.sport,
                                  " -> ", AddressText(e.dst, e.ip_version), ":", e.dport, "  ");
  if (op.kind != ics::OpKind::kNone) {
    const std::string_view name = ics::FunctionName(op);
    absl::StrAppend(&line, std::string(ics::OpKindLabel(op.kind)), " ",
                    op.direction == ics::Direction::kResponse ? "response" : "request", " ",
                    name.empty() ? "function" : std::string(name), "(", op.function, ")");
    if (op.Has(ics::kOpHasUnit)) absl::StrAppend(&line, " unit ", op.unit);
    if (op.Has(ics::kOpHasAddress)) absl::StrAppend(&line, " address ", op.address_first, "-", op.address_last);
    if (op.Has(ics::kOpException)) absl::StrAppend(&line, " exception ", op.exception_code);
    if (op.Has(ics::kOpTruncated)) absl::StrAppend(&line, " (truncated)");
  } else {
    absl::StrAppend(&line, e.l4_proto == 6 ? "tcp" : e.l4_proto == 17 ? "udp" : "ip", " packet");
  }
  if (e.verdict != EventVerdict::kNone) {
    static constexpr const char* kVerdicts[] = {"", "allow", "deny", "alert"};
    absl::StrAppend(&line, "  => ", kVerdicts[static_cast<int>(e.verdict)],
                    e.verdict == EventVerdict::kDeny && !e.enforced ? " (would block)" : "",
                    " [", names.rule.empty() ? "default" : names.rule);
    if (e.unparsable != UnparsableCause::kNone) absl::StrAppend(&line, ": ", std::string(UnparsableReason(e)));
    line += "]";
    if (e.cut) absl::StrAppend(&line, " (session cut at frame ", cut_at_frame, ")");
  }
  return line;
}

struct Tally {
  uint64_t blocked = 0;       // enforced denies
  uint64_t would_block = 0;   // denies only reported (monitor)
  uint64_t alerted = 0;
  uint64_t allowed = 0;
  void Add(const EventRecord& e) {
    switch (e.verdict) {
      case EventVerdict::kDeny: ++(e.enforced ? blocked : would_block); break;
      case EventVerdict::kAlert: ++alerted; break;
      case EventVerdict::kAllow: ++allowed; break;
      default: break;
    }
  }
};

void PrintTallies(std::ostream& out, const char* title, const std::map<std::string, Tally>& rows) {
  char line[200];
  out << title << "\n";
  std::snprintf(line, sizeof(line), "  %-32s %10s %12s %10s %10s\n", "", "blocked", "would block",
                "alerted", "allowed");
  out << line;
  for (const auto& [name, t] : rows) {
    std::snprintf(line, sizeof(line), "  %-32s %10lu %12lu %10lu %10lu\n", name.c_str(), t.blocked,
                  t.would_block, t.alerted, t.allowed);
    out << line;
  }
}

}  // namespace

absl::Status AddDecodeAs(const std::string& spec, ics::ProtocolPorts& ports) {
  const size_t colon = spec.find(':'), eq = spec.find('=');
  uint32_t port = 0;
  if (colon == std::string::npos || eq == std::string::npos || eq < colon ||
      !absl::SimpleAtoi(spec.substr(colon + 1, eq - colon - 1), &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--decode-as \"", spec, "\": expected tcp:PORT=PROTOCOL"));
  }
  const std::string l4 = spec.substr(0, colon), name = spec.substr(eq + 1);
  for (const ics::ProtocolModule& m : ics::AllModules()) {
    if (m.decode == nullptr || ics::ProtocolName(m.protocol) != name) continue;
    if (l4 == "tcp") ports.SetTcp(static_cast<uint16_t>(port), m.protocol);
    else if (l4 == "udp") ports.SetUdp(static_cast<uint16_t>(port), m.protocol);
    else return absl::InvalidArgumentError(absl::StrCat("--decode-as \"", spec, "\": tcp or udp"));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("--decode-as \"", spec, "\": unknown protocol \"", name,
                                                 "\" (modbus, dnp3, s7comm, enip, iec104, opcua, bacnet)"));
}

absl::Status RunSimulate(const SimulateOptions& options, std::ostream& records,
                         std::ostream& summary) {
  std::unique_ptr<const policy::CompiledPolicy> compiled;
  const policy::ConduitPolicy* conduit = nullptr;
  ics::ProtocolPorts ports = options.ports;
  if (!options.policy_file.empty()) {
    auto snapshot = policy::LoadAndValidateFile(options.policy_file);
    if (!snapshot.ok()) {
      return absl::Status(snapshot.status().code(),
                          absl::StrCat(options.policy_file, ": ", snapshot.status().message()));
    }
    auto c = policy::CompilePolicy(*snapshot, {1, 1});
    if (!c.ok()) return absl::InvalidArgumentError(absl::StrCat(options.policy_file, ": ", c.status().message()));
    compiled = *std::move(c);
    conduit = compiled->ConduitForWire(options.wire);
    if (conduit == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(options.policy_file, ": no conduit on wire ", options.wire));
    }
    ports = compiled->ports();
  }
  for (const std::string& spec : options.decode_as) {
    if (absl::Status s = AddDecodeAs(spec, ports); !s.ok()) return s;
  }

  Inspector inspector(kFlowCapacity, kIdleTimeoutMicros, &ports);
  ics::OpList ops;
  PacketMeta meta;
  normalize::PacketCheckConfig checks;
  checks.verify_checksums = options.verify_checksums;
  CounterSnapshot counters;
  EventRing ring(1 << 12);
  MatchSet matches;
  std::vector<EventRecord> batch(ring.capacity());
  uint64_t frames = 0;
  // (label, function) → (name, requests, responses)
  std::map<std::pair<std::string, uint16_t>, std::tuple<std::string, uint64_t, uint64_t>> table;
  std::map<std::string, Tally> by_rule, by_conduit;
  std::vector<CutSession> cuts;
  std::unordered_map<const FlowEntry*, size_t> cut_of_flow;  // the flow's entry in `cuts`

  auto names_for = [&](const EventRecord& e) {
    EventNames n;
    if (compiled == nullptr) return n;
    n.policy_version = compiled->version();
    if (e.conduit < compiled->conduits().size()) n.conduit = compiled->conduits()[e.conduit].name;
    if (e.rule < compiled->rule_names().size()) n.rule = compiled->rule_names()[e.rule];
    return n;
  };
  auto emit = [&](const EventRecord& e, uint64_t cut_at_frame = 0) {
    const EventNames names = names_for(e);
    if (!options.jsonl) {
      records << HumanLine(e, names, cut_at_frame) << "\n";
    } else if (e.cut) {
      std::string line = RenderEventJson(e, names);
      line.pop_back();  // the same shape, one field more: the frame that cut the flow
      records << line << ",\"cut_at_frame\":" << cut_at_frame << "}\n";
    } else {
      records << RenderEventJson(e, names) << "\n";
    }
    if (e.op.kind != ics::OpKind::kNone) {
      auto& row = table[{std::string(ics::OpKindLabel(e.op.kind)), e.op.function}];
      std::get<0>(row) = std::string(ics::FunctionName(e.op));
      ++(e.op.direction == ics::Direction::kResponse ? std::get<2>(row) : std::get<1>(row));
    }
    if (e.verdict != EventVerdict::kNone) {
      by_rule[names.rule.empty() ? "default" : names.rule].Add(e);
      by_conduit[names.conduit].Add(e);
    }
  };

  absl::Status status = ForEachFrame(options.pcap, [&](const CapturedFrame& f) {
    ++frames;
    const uint8_t* bytes = f.bytes.data();
    uint32_t length = static_cast<uint32_t>(f.bytes.size());
    ParseResult parsed = ParsePacket(bytes, length, meta);
    ++counters.parse[static_cast<int>(parsed)];
    ops.Clear();
    Inspection inspection;
    // `fragments: reassemble`, as JudgeBurst does it: a held fragment has no
    // verdict of its own; the one that completes its datagram is judged as
    // the whole datagram.
    DropReason refused = DropReason::kCount;
    if (conduit != nullptr && conduit->reassemble_fragments && meta.Has(kPktFragment)) {
      inspector.reassembler().BeginBurst();
      const auto r = inspector.reassembler().Reassemble(bytes, length, parsed, meta,
                                                        f.timestamp_micros * 1000);
      if (r.outcome == normalize::IpReassembler::Outcome::kHeld) return;
      refused = r.reason;
    }
    // The normalizer's packet checks, as JudgeBurst runs them: a packet the
    // gateway would drop unread is not inspected.
    const bool enforce = conduit != nullptr && conduit->mode == policy::Mode::kEnforce;
    // A capture misses segments the gateway would see on the wire and has
    // no retransmissions of them: the TCP normalizer's stream checks (order,
    // retransmitted bytes, window) would cut sessions the gateway would not.
    // Simulate judges the bytes; the packet checks below still apply.
    inspector.set_enforce(false);
    if (refused == DropReason::kCount) {
      refused = normalize::CheckPacket(bytes, parsed, meta, 0, checks, inspector.ports());
    }
    if (refused != DropReason::kCount && enforce) {
      inspection.drop = refused;
      inspection.evasion = normalize::IsEvasion(refused);
    } else if (parsed == ParseResult::kOk) {
      inspection = inspector.Inspect(bytes, meta, f.timestamp_micros, ops);
      inspection.drop = DropReason::kCount;
    }
    if (compiled == nullptr) {
      for (const ics::IcsOp& op : ops) emit(RecordFor(f, meta, op));
      return;
    }
    // Exactly the worker's judgement, with an event for every decision, and
    // one for every request a cut flow goes on sending (the gateway drops
    // them; the capture, taken without it, still has them).
    const JudgeContext judge{*compiled, *conduit, 0, f.timestamp_micros * 1000, f.number, &ring,
                             &matches, /*report_all=*/true, /*report_cut_requests=*/true, checks};
    const FlowEntry* flow = inspection.flow;
    const bool was_blocked = flow != nullptr && flow->blocked;
    const PacketVerdict verdict = JudgePacket(judge, parsed, meta, bytes, inspection, ops);
    const size_t n = ring.PopBatch(batch.data(), batch.size());
    CutSession* cut = nullptr;
    if (was_blocked) {
      if (auto it = cut_of_flow.find(flow); it != cut_of_flow.end()) cut = &cuts[it->second];
    } else if (flow != nullptr && flow->blocked && verdict.drop) {
      CutSession c;
      c.first = RecordFor(f, meta, {});
      c.first.rule = verdict.decision.rule;
      c.rule = names_for(c.first).rule;
      if (c.rule.empty()) c.rule = "default";
      cut_of_flow[flow] = cuts.size();
      cuts.push_back(std::move(c));
    }
    for (size_t i = 0; i < n; ++i) {
      if (batch[i].cut && cut != nullptr) {
        ++cut->later_requests;
        emit(batch[i], cut->first.frame);
      } else {
        emit(batch[i]);
      }
    }
  });
  if (!status.ok()) return status;
  inspector.AccumulateInto(counters);

  summary << "\n" << frames << " frames; operations by protocol and function:\n";
  char line[160];
  std::snprintf(line, sizeof(line), "  %-20s %8s  %-36s %10s %10s\n", "protocol", "function", "name",
                "requests", "responses");
  summary << line;
  for (const auto& [key, row] : table) {
    std::snprintf(line, sizeof(line), "  %-20s %8u  %-36s %10lu %10lu\n", key.first.c_str(), key.second,
                  std::get<0>(row).empty() ? "-" : std::get<0>(row).c_str(), std::get<1>(row),
                  std::get<2>(row));
    summary << line;
  }
  if (compiled != nullptr) {
    summary << "policy " << compiled->version() << " (" << compiled->hash() << ")\n";
    PrintTallies(summary, "by rule:", by_rule);
    PrintTallies(summary, "by conduit:", by_conduit);
    // Monitor never cuts; an enforced deny drops the rest of its flow.
    summary << cuts.size() << (cuts.size() == 1 ? " session" : " sessions")
            << " cut (an enforced deny drops the rest of its flow)" << (cuts.empty() ? "\n" : ":\n");
    for (size_t i = 0; i < cuts.size() && i < kCutSessionsListed; ++i) {
      const CutSession& c = cuts[i];
      summary << "  session " << Endpoints(c.first) << " cut at frame " << c.first.frame << " by rule "
              << c.rule << "; " << c.later_requests << " later request"
              << (c.later_requests == 1 ? "" : "s") << " denied by the cut\n";
    }
    if (cuts.size() > kCutSessionsListed) {
      summary << "  ... and " << cuts.size() - kCutSessionsListed << " more\n";
    }
  }
  summary << "flows and decoding:";
  for (int i = 0; i < kInspectCounterCount; ++i) {
    if (counters.inspect[i] == 0) continue;
    summary << " " << InspectCounterName(static_cast<InspectCounter>(i)) << "=" << counters.inspect[i];
  }
  bool any_malformed = false;
  for (int i = 1; i < ics::kMalformedReasonCount; ++i) {
    if (counters.malformed[i] == 0) continue;
    summary << (any_malformed ? " " : "\nmalformed PDUs by reason: ")
            << ics::MalformedReasonName(static_cast<ics::MalformedReason>(i)) << "=" << counters.malformed[i];
    any_malformed = true;
  }
  summary << "\nparse results:";
  for (int i = 0; i < kParseResultCount; ++i) {
    if (counters.parse[i] == 0) continue;
    summary << " " << ParseResultName(static_cast<ParseResult>(i)) << "=" << counters.parse[i];
  }
  summary << "\n";
  return absl::OkStatus();
}

}  // namespace conduit
