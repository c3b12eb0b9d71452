// conduitctl simulate: the worker's parse, flow and decode code run offline
// over a capture. One record per decoded operation, then a summary.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ics/ports.h"

namespace conduit {

struct SimulateOptions {
  std::string pcap;
  bool jsonl = false;                  // records as JSON lines (DESIGN.md's event shape)
  ics::ProtocolPorts ports = ics::ProtocolPorts::Defaults();
};

// Writes records to `records` and the summary table to `summary`.
absl::Status RunSimulate(const SimulateOptions& options, std::ostream& records,
                         std::ostream& summary);

// Parses "tcp:20001=dnp3" (a decode-as override) into `ports`.
absl::Status AddDecodeAs(const std::string& spec, ics::ProtocolPorts& ports);

}  // namespace conduit
