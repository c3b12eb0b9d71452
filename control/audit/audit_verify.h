// Checks an audit file's hash chain and names the first record that breaks
// it: altered (its hash no longer matches its content, or its link to the
// one before does not), removed (a gap in seq), reordered (seq goes back).
//
// A chain can be recomputed by whoever can write the file; compare the
// last hash with a copy kept elsewhere (the syslog stream carries every
// record) to catch a rewritten tail. `expect_head`, when set, is that hash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace conduit {

struct AuditVerdict {
  uint64_t records = 0;
  uint64_t last_seq = 0;
  std::string head_hash;  // the last record's hash
};

// Error (FAILED_PRECONDITION) text: "line L (seq S): <what is wrong>".
absl::StatusOr<AuditVerdict> VerifyAuditText(std::string_view text, std::string_view expect_head = "");
absl::StatusOr<AuditVerdict> VerifyAuditFile(const std::string& path, std::string_view expect_head = "");

}  // namespace conduit
