#include "corpus/corpus_compare.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ics/enip.h"
#include "ics/opcua.h"
#include "ics/registry.h"
#include "inspect/inspector.h"
#include "parse/parse.h"
#include "simulate/pcap_reader.h"

namespace conduit::corpus {
namespace fs = std::filesystem;

std::string FindCorpus(const std::string& source_root) {
  if (const char* env = std::getenv("CONDUIT_CORPUS"); env && fs::is_directory(env)) return env;
  const fs::path shared = fs::path(source_root) / ".." / "shared" / "corpus";
  if (fs::is_directory(shared)) return fs::canonical(shared).string();
  return "";
}

std::vector<std::string> ListCaptures(const std::string& root) {
  std::vector<std::string> out;
  for (const char* dir : {"pcap", "suricata-verify"}) {
    if (!fs::is_directory(fs::path(root) / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(fs::path(root) / dir)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng")) {
        out.push_back(fs::relative(e.path(), root).string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

ics::ProtocolPorts PortsFor(const std::string& root, const std::string& pcap) {
  ics::ProtocolPorts ports = ics::ProtocolPorts::Defaults();
  std::ifstream args(fs::path(root) / "oracle-args.tsv");
  std::string line;
  while (std::getline(args, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 2 || cols[0] != pcap) continue;
    // "-d tcp.port==20001,dnp3": tshark's decode-as, the same override here.
    const std::vector<std::string> toks = absl::StrSplit(cols[1], ' ');
    for (const std::string& tok_s : toks) {
      const std::string_view tok = tok_s;
      const size_t eq = tok.find("=="), comma = tok.find(',');
      if (eq == std::string_view::npos || comma == std::string_view::npos) continue;
      const std::string l4(tok.substr(0, tok.find('.')));
      const int port = std::stoi(std::string(tok.substr(eq + 2, comma - eq - 2)));
      const std::string_view name = tok.substr(comma + 1);
      for (int p = 1; p < static_cast<int>(ics::Protocol::kCount); ++p) {
        if (ics::ProtocolName(static_cast<ics::Protocol>(p)) != name) continue;
        if (l4 == "tcp") ports.SetTcp(port, static_cast<ics::Protocol>(p));
        if (l4 == "udp") ports.SetUdp(port, static_cast<ics::Protocol>(p));
      }
    }
  }
  return ports;
}

absl::StatusOr<FrameRows> LoadOracle(const std::string& tsv_path) {
  std::ifstream in(tsv_path);
  if (!in) return absl::NotFoundError(absl::StrCat("no oracle ", tsv_path));
  FrameRows rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 3) continue;
    if (cols[1] == "tcp.segment") continue;  // its PDU belongs to a later frame
    rows[std::stoull(cols[0])].push_back(Row{cols[1], cols[2]});
  }
  return rows;
}

std::string OracleCode(const ics::IcsOp& op) {
  using ics::OpKind;
  switch (op.kind) {
    case OpKind::kS7comm:
      return op.function >= 0x100 ? "-" : absl::StrCat(op.function);
    case OpKind::kS7commPlus:
      return "-";
    case OpKind::kIec104Apci:
      return op.function == 0 ? "S" : absl::StrCat(op.function);
    case OpKind::kOpcua:
      if (std::string_view tag = ics::opcua::MessageTypeTag(op.function); !tag.empty()) {
        return std::string(tag);
      }
      return absl::StrCat(op.function);
    case OpKind::kBacnetApdu:
      return absl::StrCat("pdu", op.function);
    default:
      return absl::StrCat(op.function);
  }
}

absl::StatusOr<FrameRows> DecodeCapture(const std::string& pcap_path,
                                        const ics::ProtocolPorts& ports) {
  FrameRows rows;
  Inspector inspector(1 << 16, ~0ull, &ports);
  // A capture misses segments the gateway would see on the wire (and holds
  // no retransmissions of them): the TCP normalizer reports, never drops.
  inspector.set_enforce(false);
  ics::OpList ops;
  PacketMeta meta;
  absl::Status status = ForEachFrame(pcap_path, [&](const CapturedFrame& f) {
    if (ParsePacket(f.bytes.data(), static_cast<uint32_t>(f.bytes.size()), meta) !=
        ParseResult::kOk) {
      return;
    }
    ops.Clear();
    inspector.Inspect(f.bytes.data(), meta, f.timestamp_micros, ops);
    // The oracle's presentation rules (oracle.sh, via tshark's field
    // output): a bare COTP DT beside S7 PDUs and S/U APCIs beside I-format
    // ASDUs are not shown; several S-frames show as one "S", and none
    // beside a U-frame.
    bool has_s7 = false, has_iec104 = false, has_u = false;
    for (const ics::IcsOp& op : ops) {
      has_s7 |= op.kind == ics::OpKind::kS7comm || op.kind == ics::OpKind::kS7commPlus;
      has_iec104 |= op.kind == ics::OpKind::kIec104;
      has_u |= op.kind == ics::OpKind::kIec104Apci && op.function != 0;
    }
    bool shown_s = false;
    std::vector<Row> frame_rows;
    for (const ics::IcsOp& op : ops) {
      if (op.kind == ics::OpKind::kCotp && has_s7) continue;
      if (op.kind == ics::OpKind::kIec104Apci) {
        if (has_iec104) continue;
        if (op.function == 0 && (has_u || shown_s)) continue;
        shown_s |= op.function == 0;
      }
      // CIP I/O data (UDP 2222) is an op of ours so policy can see I/O
      // connections; the oracle does not list it.
      if (op.kind == ics::OpKind::kEnip && op.function == ics::enip::kIoData) continue;
      const std::string label(ics::OpKindLabel(op.kind));
      const std::string code = OracleCode(op);
      // The ops of one layer make one row, in order, as the oracle joins them.
      auto row = std::find_if(frame_rows.begin(), frame_rows.end(),
                              [&](const Row& r) { return r.label == label; });
      if (row != frame_rows.end()) {
        absl::StrAppend(&row->codes, ",", code);
      } else {
        frame_rows.push_back(Row{label, code});
      }
    }
    if (!frame_rows.empty()) rows[f.number] = std::move(frame_rows);
  });
  if (!status.ok()) return status;
  return rows;
}

absl::StatusOr<CaptureResult> CompareCapture(const std::string& root, const std::string& pcap) {
  CaptureResult result;
  result.pcap = pcap;
  auto expected = LoadOracle((fs::path(root) / "oracle" / (pcap + ".tsv")).string());
  if (!expected.ok()) return expected.status();
  auto actual = DecodeCapture((fs::path(root) / pcap).string(), PortsFor(root, pcap));
  if (!actual.ok()) return actual.status();
  uint64_t frames = 0;
  (void)ForEachFrame((fs::path(root) / pcap).string(), [&](const CapturedFrame&) { ++frames; });
  result.frames = frames;
  result.oracle_frames = expected->size();
  for (uint64_t f = 1; f <= frames; ++f) {
    std::vector<Row> e, a;
    if (auto it = expected->find(f); it != expected->end()) e = it->second;
    if (auto it = actual->find(f); it != actual->end()) a = it->second;
    std::sort(e.begin(), e.end());
    std::sort(a.begin(), a.end());
    if (e == a) {
      ++result.agreeing;
    } else {
      result.mismatches.push_back(Mismatch{f, e, a});
    }
  }
  return result;
}

std::string FormatRows(const std::vector<Row>& rows) {
  if (rows.empty()) return "(nothing)";
  std::string out;
  for (const Row& r : rows) absl::StrAppend(&out, out.empty() ? "" : " ", r.label, "=", r.codes);
  return out;
}

}  // namespace conduit::corpus
