#include "simulate/simulate.h"

#include <cstdio>
#include <map>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "events/event_json.h"
#include "events/event_record.h"
#include "ics/registry.h"
#include "inspect/inspector.h"
#include "parse/parse.h"
#include "simulate/pcap_reader.h"

namespace conduit {
namespace {

// The flow table is as large as a worker's; capture time is the clock.
constexpr uint32_t kFlowCapacity = 1 << 16;
constexpr uint64_t kIdleTimeoutMicros = 300ull * 1000000;

EventRecord RecordFor(const CapturedFrame& f, const PacketMeta& meta, const ics::IcsOp& op) {
  EventRecord e;
  e.ts_ns = f.timestamp_micros * 1000;
  e.frame = f.number;
  e.src = meta.src_addr;
  e.dst = meta.dst_addr;
  e.sport = meta.src_port;
  e.dport = meta.dst_port;
  e.l4_proto = meta.l4_proto;
  e.ip_version = meta.ip_version;
  e.bytes = meta.payload_len;
  e.op = op;
  return e;
}

std::string HumanLine(const EventRecord& e) {
  const ics::IcsOp& op = e.op;
  const std::string_view name = ics::FunctionName(op);
  std::string line = absl::StrCat(
      "frame ", e.frame, "  ", AddressText(e.src, e.ip_version), ":", e.sport, " -> ",
      AddressText(e.dst, e.ip_version), ":", e.dport, "  ", std::string(ics::OpKindLabel(op.kind)),
      " ", op.direction == ics::Direction::kResponse ? "response" : "request", " ",
      name.empty() ? "function" : std::string(name), "(", op.function, ")");
  if (op.Has(ics::kOpHasUnit)) absl::StrAppend(&line, " unit ", op.unit);
  if (op.Has(ics::kOpHasAddress)) absl::StrAppend(&line, " address ", op.address_first, "-", op.address_last);
  if (op.Has(ics::kOpException)) absl::StrAppend(&line, " exception ", op.exception_code);
  if (op.Has(ics::kOpTruncated)) absl::StrAppend(&line, " (truncated)");
  return line;
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
  Inspector inspector(kFlowCapacity, kIdleTimeoutMicros, &options.ports);
  ics::OpList ops;
  PacketMeta meta;
  CounterSnapshot counters;
  uint64_t frames = 0;
  // (label, function) → (name, requests, responses)
  std::map<std::pair<std::string, uint16_t>, std::tuple<std::string, uint64_t, uint64_t>> table;

  absl::Status status = ForEachFrame(options.pcap, [&](const CapturedFrame& f) {
    ++frames;
    const ParseResult parsed = ParsePacket(f.bytes.data(), static_cast<uint32_t>(f.bytes.size()), meta);
    ++counters.parse[static_cast<int>(parsed)];
    if (parsed != ParseResult::kOk) return;
    ops.Clear();
    inspector.Inspect(f.bytes.data(), meta, f.timestamp_micros, ops);
    for (const ics::IcsOp& op : ops) {
      const EventRecord e = RecordFor(f, meta, op);
      records << (options.jsonl ? RenderEventJson(e, {}) : HumanLine(e)) << "\n";
      auto& row = table[{std::string(ics::OpKindLabel(op.kind)), op.function}];
      std::get<0>(row) = std::string(ics::FunctionName(op));
      ++(op.direction == ics::Direction::kResponse ? std::get<2>(row) : std::get<1>(row));
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
  summary << "flows and decoding:";
  for (int i = 0; i < kInspectCounterCount; ++i) {
    if (counters.inspect[i] == 0) continue;
    summary << " " << InspectCounterName(static_cast<InspectCounter>(i)) << "=" << counters.inspect[i];
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
