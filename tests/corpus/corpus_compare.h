// Decodes a capture with Conduit's pipeline and compares it, frame by frame,
// with the tshark oracle in shared/corpus/oracle/ (see oracle.sh).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ics/ics_op.h"
#include "ics/ports.h"

namespace conduit::corpus {

// One oracle row: protocol label and its function codes ("3" or "10,14").
struct Row {
  std::string label;
  std::string codes;
  bool operator<(const Row& o) const { return label != o.label ? label < o.label : codes < o.codes; }
  bool operator==(const Row& o) const { return label == o.label && codes == o.codes; }
};
using FrameRows = std::map<uint64_t, std::vector<Row>>;

struct Mismatch {
  uint64_t frame = 0;
  std::vector<Row> expected;
  std::vector<Row> actual;
};

struct CaptureResult {
  std::string pcap;        // path relative to the corpus root
  uint64_t frames = 0;     // frames in the capture
  uint64_t oracle_frames = 0;   // frames the oracle decoded
  uint64_t agreeing = 0;   // frames where both say the same (including "nothing")
  std::vector<Mismatch> mismatches;
};

// The corpus root: $CONDUIT_CORPUS, else ../shared/corpus from the source
// tree. Empty when neither exists.
std::string FindCorpus(const std::string& source_root);

// Every capture under pcap/ and suricata-verify/, relative to the root, sorted.
std::vector<std::string> ListCaptures(const std::string& corpus_root);

// Default ports plus the capture's overrides from oracle-args.tsv.
ics::ProtocolPorts PortsFor(const std::string& corpus_root, const std::string& pcap);

absl::StatusOr<FrameRows> LoadOracle(const std::string& tsv_path);
absl::StatusOr<FrameRows> DecodeCapture(const std::string& pcap_path,
                                        const ics::ProtocolPorts& ports);
absl::StatusOr<CaptureResult> CompareCapture(const std::string& corpus_root,
                                             const std::string& pcap);

// The oracle's rendering of an op's function code.
std::string OracleCode(const ics::IcsOp& op);

std::string FormatRows(const std::vector<Row>& rows);

}  // namespace conduit::corpus
