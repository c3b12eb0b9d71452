#include "stats/counters_report.h"

#include "absl/strings/str_cat.h"

namespace conduit {

std::string FormatCounters(const std::vector<CounterSnapshot>& per_worker,
                           const std::vector<unsigned>& lcores) {
  CounterSnapshot total;
  for (const CounterSnapshot& w : per_worker) total.Accumulate(w);
  std::string out = "counters (all workers):\n";
  for (int i = 0; i < kWorkerCounterCount; ++i) {
    absl::StrAppend(&out, "  ", std::string(WorkerCounterName(static_cast<WorkerCounter>(i))), " ",
                    total.totals[i], "\n");
  }
  absl::StrAppend(&out, "dropped_by_reason:\n");
  for (int i = 0; i < kDropReasonCount; ++i) {
    absl::StrAppend(&out, "  ", std::string(DropReasonName(static_cast<DropReason>(i))), " ",
                    total.drops[i], "\n");
  }
  absl::StrAppend(&out, "parse results:\n");
  for (int i = 0; i < kParseResultCount; ++i) {
    if (total.parse[i] == 0) continue;
    absl::StrAppend(&out, "  ", std::string(ParseResultName(static_cast<ParseResult>(i))), " ",
                    total.parse[i], "\n");
  }
  absl::StrAppend(&out, "flows and ICS decoding:\n");
  for (int i = 0; i < kInspectCounterCount; ++i) {
    absl::StrAppend(&out, "  ", std::string(InspectCounterName(static_cast<InspectCounter>(i))), " ",
                    total.inspect[i], "\n");
  }
  absl::StrAppend(&out, "malformed PDUs by reason:\n");
  for (int i = 1; i < ics::kMalformedReasonCount; ++i) {
    if (total.malformed[i] == 0) continue;
    absl::StrAppend(&out, "  ", std::string(ics::MalformedReasonName(static_cast<ics::MalformedReason>(i))),
                    " ", total.malformed[i], "\n");
  }
  for (size_t w = 0; w < per_worker.size(); ++w) {
    absl::StrAppend(&out, "worker ", w, " (lcore ", w < lcores.size() ? lcores[w] : 0,
                    "): rx ", per_worker[w][WorkerCounter::rx_packets], " tx ",
                    per_worker[w][WorkerCounter::tx_packets], " dropped ",
                    per_worker[w][WorkerCounter::dropped_packets], "\n");
  }
  return out;
}

}  // namespace conduit
