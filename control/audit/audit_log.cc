#include "audit/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/json.h"

namespace conduit {
namespace {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// {"event":"audit", <the record's fields>}: the record line with the event
// name in front, so a SIEM sees exactly what the file holds.
std::string AuditEventLine(const std::string& record) {
  return absl::StrCat("{\"event\":\"audit\",", absl::string_view(record).substr(1));
}

}  // namespace

AuditLog::AuditLog(std::string path, Mirror mirror, size_t max_pending)
    : path_(std::move(path)), mirror_(std::move(mirror)), max_pending_(max_pending),
      head_hash_(kGenesisHash) {}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(std::string path, Mirror mirror,
                                                         size_t max_pending) {
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(path), std::move(mirror), max_pending));
  std::ifstream in(log->path_, std::ios::binary);
  if (in) {
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      const std::optional<AuditLink> link = ParseAuditLink(line);
      if (!link || !link->hash_matches) {
        // Kept as found (verify will name it); the chain goes on from the
        // last good record so new records stay verifiable among themselves.
        log->damaged_ = absl::StrCat(log->path_, ": line ", line_no,
                                   " is not a valid audit record; run conduitctl audit verify");
        continue;
      }
      log->next_seq_ = link->seq + 1;
      log->written_seq_ = link->seq;
      log->head_hash_ = link->hash;
    }
  } else if (errno != ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat(log->path_, ": cannot read: ", std::strerror(errno)));
  }
  return log;
}

void AuditLog::Append(const AuditEntry& entry) {
  std::string event;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RenderedAuditRecord record = RenderAuditRecord(entry, next_seq_, NowUnixMs(), head_hash_);
    // The chain advances whether or not the file takes it now: pending
    // records are written later in this same order.
    head_hash_ = std::move(record.hash);
    const std::string& line = record.line;
    if (pending_.size() >= max_pending_) {
      ++lost_;
    } else {
      pending_.push_back({next_seq_, line});
    }
    event = AuditEventLine(line);
    ++next_seq_;
    FlushLocked();
  }
  if (mirror_) mirror_(event);
}

void AuditLog::Retry() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!pending_.empty()) FlushLocked();
}

bool AuditLog::WriteLineLocked(const std::string& line) {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    error_ = absl::StrCat(path_, ": ", std::strerror(errno));
    return false;
  }
  const off_t start = ::lseek(fd, 0, SEEK_END);
  const std::string data = line + "\n";
  size_t done = 0;
  bool ok = true;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = absl::StrCat(path_, ": ", n < 0 ? std::strerror(errno) : "short write");
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (ok && ::fdatasync(fd) != 0) {
    error_ = absl::StrCat(path_, ": ", std::strerror(errno));
    ok = false;
  }
  // A torn line would break the chain for good: take it back out.
  if (!ok && start >= 0) (void)!::ftruncate(fd, start);
  ::close(fd);
  return ok;
}

void AuditLog::FlushLocked() {
  const bool was_failing = !error_.empty();
  bool failed = false;
  while (!pending_.empty()) {
    if (!WriteLineLocked(pending_.front().line)) {
      failed = true;
      break;
    }
    written_seq_ = pending_.front().seq;
    pending_.pop_front();
  }
  if (!mirror_) {
    if (!failed) error_.clear();
    return;
  }
  if (failed && !was_failing) {
    mirror_(absl::StrCat("{\"event\":\"audit_failed\",\"error\":", JsonQuote(error_),
                         ",\"pending\":", pending_.size(), "}"));
  } else if (!failed && was_failing) {
    mirror_(absl::StrCat("{\"event\":\"audit_recovered\",\"written_seq\":", written_seq_,
                         ",\"lost\":", lost_, "}"));
  }
  if (!failed) error_.clear();
}

AuditHealth AuditLog::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return AuditHealth{written_seq_, pending_.size(), lost_, error_.empty() ? damaged_ : error_,
                     next_seq_ - 1, head_hash_};
}

absl::StatusOr<std::vector<std::string>> AuditLog::Read(uint64_t since_seq, uint32_t limit) const {
  std::vector<std::string> out;
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return out;
    return absl::FailedPreconditionError(absl::StrCat(path_, ": cannot read: ", std::strerror(errno)));
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::optional<AuditLink> link = ParseAuditLink(line);
    if (link && link->seq <= since_seq) continue;
    out.push_back(std::move(line));
  }
  if (limit != 0 && out.size() > limit) out.erase(out.begin(), out.end() - limit);
  return out;
}

}  // namespace conduit
