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
  std::string policy_file;             // empty: decode only, no verdicts
  uint32_t wire = 0;                   // the wire the capture was taken on
  bool jsonl = false;                  // records as JSON lines (DESIGN.md's event shape)
  ics::ProtocolPorts ports = ics::ProtocolPorts::Defaults();
  std::vector<std::string> decode_as;  // applied on top of the policy's ports too
  // Verify IPv4/TCP/UDP checksums as the gateway does. Off by default: a
  // capture taken on the sending host holds checksums left to its NIC.
  bool verify_checksums = false;
};

// Writes records to `records` and the summary table to `summary`. With a
// policy, every operation's record carries its verdict and rule, and the
// summary says what the policy would have blocked or only reported, by rule
// and by conduit. An invalid policy is InvalidArgument with every error.
absl::Status RunSimulate(const SimulateOptions& options, std::ostream& records,
                         std::ostream& summary);

// Parses "tcp:20001=dnp3" (a decode-as override) into `ports`.
absl::Status AddDecodeAs(const std::string& spec, ics::ProtocolPorts& ports);

}  // namespace conduit
