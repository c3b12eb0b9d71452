// The audit trail: every control action and every refused one, appended to
// state_dir/audit.jsonl as a hash chain (audit_record.h) and mirrored to the
// event sinks (syslog, JSON lines, StreamEvents) as {"event":"audit",...}.
//
// A failing file (full disk, read-only, removed directory) never stops the
// gateway or its traffic: the record still goes to the mirror, is kept in a
// bounded queue and written, in order, once the file takes writes again; the
// error is in health() and evented once as "audit_failed".
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit_record.h"

namespace conduit {

struct AuditHealth {
  uint64_t records = 0;  // the last seq written to the file
  uint64_t pending = 0;  // rendered, not yet in the file
  uint64_t lost = 0;     // dropped: the pending queue was full
  std::string error;     // the last write error; "" when healthy
  // The newest record (written or waiting): kept elsewhere, its hash lets
  // `conduitctl audit verify --head` prove nothing up to it was altered,
  // removed or rewritten, which the chain alone cannot.
  uint64_t head_seq = 0;
  std::string head_hash;
};

class AuditLog {
 public:
  // `mirror` gets each record's event line ({"event":"audit",...}) and
  // state changes ("audit_failed", "audit_recovered"); may be empty.
  using Mirror = std::function<void(const std::string& json_line)>;

  // Continues the chain of an existing file from its last valid record. A
  // file that cannot be read at all is an error (the caller decides whether
  // that stops the start); a damaged tail is reported in health() and the
  // chain continues after the last good record.
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(std::string path, Mirror mirror,
                                                        size_t max_pending = 10000);

  // Thread-safe. Never blocks on anything but the file write.
  void Append(const AuditEntry& entry);
  // Retries pending records (also done by Append); cheap when none wait.
  void Retry();

  AuditHealth health() const;
  const std::string& path() const { return path_; }
  // Records with seq > since_seq from the file, the newest `limit` (0: all).
  absl::StatusOr<std::vector<std::string>> Read(uint64_t since_seq, uint32_t limit) const;

 private:
  AuditLog(std::string path, Mirror mirror, size_t max_pending);
  // With mu_ held: writes pending records in order; stops at the first error.
  void FlushLocked();
  bool WriteLineLocked(const std::string& line);

  const std::string path_;
  const Mirror mirror_;
  const size_t max_pending_;
  mutable std::mutex mu_;
  uint64_t next_seq_ = 1;           // guarded by mu_
  std::string head_hash_;           // guarded by mu_
  uint64_t written_seq_ = 0;        // guarded by mu_
  struct Pending {
    uint64_t seq;
    std::string line;
  };
  std::deque<Pending> pending_;     // guarded by mu_
  uint64_t lost_ = 0;               // guarded by mu_
  std::string error_;               // guarded by mu_: the last write failed
  std::string damaged_;             // a bad line found at Open (until restart)
};

}  // namespace conduit
