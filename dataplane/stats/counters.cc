#include "stats/counters.h"

namespace conduit {

std::string_view WorkerCounterName(WorkerCounter c) {
  static constexpr std::string_view kNames[] = {
#define X(name) #name,
      CONDUIT_WORKER_COUNTERS(X)
#undef X
  };
  return kNames[static_cast<int>(c)];
}

std::string_view DropReasonName(DropReason r) {
  static constexpr std::string_view kNames[] = {
#define X(name, why) #name,
      CONDUIT_DROP_REASONS(X)
#undef X
  };
  return kNames[static_cast<int>(r)];
}

std::string_view InspectCounterName(InspectCounter c) {
  static constexpr std::string_view kNames[] = {
#define X(name) #name,
      CONDUIT_INSPECT_COUNTERS(X)
#undef X
  };
  return kNames[static_cast<int>(c)];
}

void CounterSnapshot::Accumulate(const WorkerCounters& c) {
  for (int i = 0; i < kWorkerCounterCount; ++i) totals[i] += c.totals[i].Load();
  for (int i = 0; i < kDropReasonCount; ++i) drops[i] += c.drops[i].Load();
  for (int i = 0; i < kParseResultCount; ++i) parse[i] += c.parse[i].Load();
}

void CounterSnapshot::Accumulate(const CounterSnapshot& s) {
  for (int i = 0; i < kWorkerCounterCount; ++i) totals[i] += s.totals[i];
  for (int i = 0; i < kDropReasonCount; ++i) drops[i] += s.drops[i];
  for (int i = 0; i < kParseResultCount; ++i) parse[i] += s.parse[i];
  for (int i = 0; i < kInspectCounterCount; ++i) inspect[i] += s.inspect[i];
  for (int i = 0; i < ics::kMalformedReasonCount; ++i) malformed[i] += s.malformed[i];
}

}  // namespace conduit
