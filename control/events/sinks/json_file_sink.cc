#include "events/sinks/json_file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/log.h"

namespace conduit {

JsonFileSink::JsonFileSink(std::string path) : path_(std::move(path)) {
  buffer_.reserve(64 * 1024);
  OpenFile();
}

JsonFileSink::~JsonFileSink() {
  Flush();
  CloseFile();
}

void JsonFileSink::Error(const char* what, int err) {
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (err != last_errno_) {
    last_errno_ = err;
    LogWarning("events jsonl ", path_, ": ", what, ": ", std::strerror(err));
  }
}

bool JsonFileSink::OpenFile() {
  next_open_attempt_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);  // exists already: no error
    if (ec) {
      Error("create directory", ec.value());
      return false;
    }
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    Error("open", errno);
    return false;
  }
  fd_.store(fd, std::memory_order_relaxed);
  last_errno_ = 0;
  return true;
}

void JsonFileSink::CloseFile() {
  const int fd = fd_.exchange(-1, std::memory_order_relaxed);
  if (fd >= 0) ::close(fd);
}

void JsonFileSink::Write(const EventRecord&, std::string_view json_line) {
  if (fd_.load(std::memory_order_relaxed) < 0 && buffer_.size() >= 2 * kFlushBytes) {
    lines_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  buffer_.append(json_line.data(), json_line.size());
  buffer_ += '\n';
  ++buffered_lines_;
  if (buffer_.size() >= kFlushBytes) Flush();
}

void JsonFileSink::Flush() {
  if (reopen_.exchange(false, std::memory_order_acq_rel)) {
    CloseFile();
    OpenFile();
  }
  if (buffer_.empty()) return;
  if (fd_.load(std::memory_order_relaxed) < 0) {
    if (std::chrono::steady_clock::now() < next_open_attempt_ || !OpenFile()) {
      // Keep the lines for the next attempt, within bounds.
      if (buffer_.size() > 2 * kFlushBytes) {
        lines_dropped_.fetch_add(buffered_lines_, std::memory_order_relaxed);
        buffer_.clear();
        buffered_lines_ = 0;
      }
      return;
    }
  }
  const int fd = fd_.load(std::memory_order_relaxed);
  size_t off = 0;
  while (off < buffer_.size()) {
    const ssize_t n = ::write(fd, buffer_.data() + off, buffer_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Disk full, I/O error: the batch is lost and counted; try again
      // with the next one.
      Error("write", errno);
      lines_dropped_.fetch_add(buffered_lines_, std::memory_order_relaxed);
      buffer_.clear();
      buffered_lines_ = 0;
      return;
    }
    off += static_cast<size_t>(n);
  }
  lines_written_.fetch_add(buffered_lines_, std::memory_order_relaxed);
  buffer_.clear();
  buffered_lines_ = 0;
}

}  // namespace conduit
