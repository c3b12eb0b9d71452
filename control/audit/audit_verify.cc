#include "audit/audit_verify.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit/audit_record.h"

namespace conduit {
namespace {

absl::Status Broken(size_t line, uint64_t seq, absl::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat("line ", line, " (seq ", seq, "): ", what));
}

}  // namespace

absl::StatusOr<AuditVerdict> VerifyAuditText(std::string_view text, std::string_view expect_head) {
  struct Line {
    size_t number;
    AuditLink link;
  };
  std::vector<Line> lines;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    if (line.empty()) continue;
    std::optional<AuditLink> link = ParseAuditLink(std::string_view(line.data(), line.size()));
    if (!link) {
      return absl::FailedPreconditionError(
          absl::StrCat("line ", line_no, ": not an audit record (altered or truncated)"));
    }
    lines.push_back({line_no, std::move(*link)});
  }
  // Where a seq sits, to tell a record moved from one removed.
  auto line_of = [&lines](uint64_t seq) -> size_t {
    for (const Line& l : lines) {
      if (l.link.seq == seq) return l.number;
    }
    return 0;
  };

  AuditVerdict v;
  std::string prev(kGenesisHash);
  uint64_t expected_seq = 1;
  for (const Line& l : lines) {
    const AuditLink& link = l.link;
    if (!link.hash_matches) {
      return Broken(l.number, link.seq, "altered: its hash does not match its content");
    }
    if (link.seq != expected_seq) {
      if (const size_t at = line_of(expected_seq); at != 0) {
        return Broken(l.number, link.seq,
                      absl::StrCat("reordered: seq ", expected_seq, " should come here but is at line ", at));
      }
      if (link.seq > expected_seq) {
        return Broken(l.number, link.seq,
                      link.seq == expected_seq + 1
                          ? absl::StrCat("removed: record seq ", expected_seq, " is missing before it")
                          : absl::StrCat("removed: records seq ", expected_seq, "-", link.seq - 1,
                                         " are missing before it"));
      }
      return Broken(l.number, link.seq,
                    absl::StrCat("reordered: seq ", link.seq, " follows seq ", expected_seq - 1));
    }
    if (link.prev_hash != prev) {
      return Broken(l.number, link.seq,
                    "altered: its prev_hash does not match the record before it (the chain was "
                    "rewritten from here)");
    }
    prev = link.hash;
    v.last_seq = link.seq;
    ++v.records;
    ++expected_seq;
  }
  v.head_hash = prev;
  if (!expect_head.empty() && expect_head != v.head_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the last record (seq ", v.last_seq, ") has hash ", v.head_hash, ", expected ",
        absl::string_view(expect_head.data(), expect_head.size()),
        ": records after it were removed, or the chain was rewritten"));
  }
  return v;
}

absl::StatusOr<AuditVerdict> VerifyAuditFile(const std::string& path, std::string_view expect_head) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  auto v = VerifyAuditText(text.str(), expect_head);
  if (!v.ok()) return absl::Status(v.status().code(), absl::StrCat(path, ": ", v.status().message()));
  return v;
}

}  // namespace conduit
