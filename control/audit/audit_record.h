// One line of the audit trail (DESIGN.md, "Ownership and change control"):
//
//   {"seq":7,"ts":"2026-12-05T10:00:00.123Z","identity":"plant-eng",
//    "peer":"ipv4:127.0.0.1:40312","action":"push","target":"lab-3",
//    "result":"ok","detail":"...","prev_hash":"<64 hex>","hash":"<64 hex>"}
//
// Fields in this order, always. `hash` is the SHA-256 (hex) of the line up to
// and including prev_hash, closed with "}": it covers the record and, through
// prev_hash, every record before it. The first record's prev_hash is 64 zeros.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conduit {

struct AuditEntry {
  std::string identity;  // certificate CN; "" over plaintext or for the gateway itself
  std::string peer;      // gRPC peer; "gateway" for what the gateway does on its own clock
  std::string action;    // push, shadow, promote, confirm, mode, grant, revoke, ...
  std::string target;    // what it acted on: a policy version, a conduit, a grant id
  std::string result;    // ok | refused | denied | failed
  std::string detail;
};

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string Sha256Hex(std::string_view data);

// The line for `entry` at `seq` after `prev_hash` (without a newline), and
// its hash: the next record's prev_hash.
struct RenderedAuditRecord {
  std::string line;
  std::string hash;
};
RenderedAuditRecord RenderAuditRecord(const AuditEntry& entry, uint64_t seq, int64_t unix_ms,
                                      std::string_view prev_hash);

// What the chain needs from a line: where it sits, what it links to, and
// whether its hash matches its content.
struct AuditLink {
  uint64_t seq = 0;
  std::string prev_hash;
  std::string hash;
  bool hash_matches = false;
};
// nullopt: not an audit record at all (no seq, no hash field).
std::optional<AuditLink> ParseAuditLink(std::string_view line);

}  // namespace conduit
