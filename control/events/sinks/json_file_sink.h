// JSON-lines file sink: one event object per line, appended (DESIGN.md,
// "Event sinks"). Built for logrotate: Reopen() after the file was moved.
// Errors are counted and logged once per kind of failure, never fatal: an
// unwritable log must not take the gateway down.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "events/event_sink.h"

namespace conduit {

// Thread safety: Write()/Flush() on the drain thread (EventSink contract).
// Reopen() and the counters from any thread; Reopen() only sets a lock-free
// flag, so it is also safe to call from a SIGHUP handler.
class JsonFileSink : public EventSink {
 public:
  // Opens (O_WRONLY|O_APPEND|O_CREAT, mode 0640) `path`, creating missing
  // parent directories. A failure is counted; opening is retried at most once
  // a second while lines arrive, so a late mount heals on its own.
  explicit JsonFileSink(std::string path);
  ~JsonFileSink() override;

  void Write(const EventRecord& event, std::string_view json_line) override;
  // Writes the buffered lines (one write(2) in the common case).
  void Flush() override;

  // Reopen the path at the next Flush (logrotate's postrotate / SIGHUP).
  void Reopen() { reopen_.store(true, std::memory_order_release); }

  const std::string& path() const { return path_; }
  bool is_open() const { return fd_.load(std::memory_order_relaxed) >= 0; }
  uint64_t lines_written() const { return lines_written_.load(std::memory_order_relaxed); }
  uint64_t lines_dropped() const { return lines_dropped_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  // A buffer past this is flushed early, and lines past twice it are dropped
  // while the file cannot be written.
  static constexpr size_t kFlushBytes = 1 << 20;

  bool OpenFile();
  void CloseFile();
  void Error(const char* what, int err);

  const std::string path_;
  std::atomic<int> fd_{-1};  // written on the drain thread only
  std::atomic<bool> reopen_{false};
  std::chrono::steady_clock::time_point next_open_attempt_{};
  std::string buffer_;
  uint64_t buffered_lines_ = 0;
  int last_errno_ = 0;  // log a failure once, not per line

  std::atomic<uint64_t> lines_written_{0};
  std::atomic<uint64_t> lines_dropped_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace conduit
