// Where rendered event lines go (DESIGN.md, "Event sinks"): the JSON-lines
// file, syslog to a SIEM. gRPC StreamEvents reads EventDrain::Subscribe().
#pragma once

#include <string_view>

#include "events/event_record.h"

namespace conduit {

// Thread safety: the EventDrain calls Write() and Flush() from its one thread
// only; implementations need no locking for that. Anything else a sink offers
// to other threads (counters, Reopen) documents its own safety.
class EventSink {
 public:
  virtual ~EventSink();

  // `json_line` is one JSON object without the trailing newline. `event` is
  // the record it was rendered from (for a repeat summary: the last repeat),
  // so a sink can derive e.g. a syslog severity without parsing JSON.
  // Must not block for long: the drain serves every worker's ring.
  virtual void Write(const EventRecord& event, std::string_view json_line) = 0;

  // Called after each batch of writes and at least once per poll interval:
  // sinks that buffer push their output (or finish a reconnect) here.
  virtual void Flush() {}
};

}  // namespace conduit
