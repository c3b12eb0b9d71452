// Renders worker counters for people (conduitd on exit / SIGUSR1).
#pragma once

#include <string>
#include <vector>

#include "stats/counters.h"

namespace conduit {

// Totals summed over workers, then non-zero drop reasons and parse results,
// then one line per worker.
std::string FormatCounters(const std::vector<CounterSnapshot>& per_worker,
                           const std::vector<unsigned>& lcores);

}  // namespace conduit
