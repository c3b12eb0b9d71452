// conduitctl audit: the gateway's audit trail over gRPC, and an offline
// check of a copy of the file (DESIGN.md, "Ownership and change control").
#pragma once

#include <string>

#include "conduitctl/client.h"

namespace conduit::ctl {

// The records (JSON lines with --json; else one readable line each).
int Audit(const ClientOptions& options, bool json, uint64_t since_seq, uint32_t limit);

// Exit 0: "N records, chain intact, head HASH". Exit 1 naming the first
// altered, removed or reordered record. `expect_head`: the hash the last
// record must have (from syslog or status), catching a rewritten tail.
int VerifyAudit(const std::string& file, const std::string& expect_head, bool json);

}  // namespace conduit::ctl
