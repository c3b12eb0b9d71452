// conduitctl's baseline commands (DESIGN.md, "From baseline to policy"):
// the communication map a gateway observed, accepting it, and a policy
// proposed from it by the same engine as `propose --pcap`.
#pragma once

#include <cstdint>
#include <string>

#include "conduitctl/client.h"

namespace conduit::ctl {

// conduitctl baseline [--conduit NAME] [--since 30d] [--json]
int Baseline(const ClientOptions& options, const std::string& conduit, uint64_t since_seconds,
             bool json);
// conduitctl baseline accept [--conduit NAME]
int AcceptBaseline(const ClientOptions& options, const std::string& conduit, bool json);
// conduitctl propose [--conduit NAME] [--since 30d] [--policy BASE.yaml]
// (base_policy: the base file's text, or empty). The policy on stdout.
int ProposeFromGateway(const ClientOptions& options, const std::string& conduit,
                       uint64_t since_seconds, const std::string& base_policy);

// "30d", "12h", "90m", "45s" or plain seconds; false when malformed.
bool ParseSince(const std::string& text, uint64_t* seconds);

}  // namespace conduit::ctl
