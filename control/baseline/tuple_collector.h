// Offline observation: a capture run through the worker's parse, flow and
// decode code (as `conduitctl simulate` runs it), each judged packet turned
// into the tuple the judge would look up, merged per tuple. The control
// plane's stand-in for the per-worker observation table.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "baseline/propose.h"
#include "ics/ports.h"

namespace conduit::baseline {

struct CollectOptions {
  std::string pcap;
  uint32_t wire = 0;  // stamped on every tuple
  ics::ProtocolPorts ports = ics::ProtocolPorts::Defaults();  // a base policy's ports
};

absl::StatusOr<Observation> CollectPcap(const CollectOptions& options);

// The merge used by the collector, exposed for tests and other sources:
// adds one observation of `key` at `now_ns` (count 1) with an optional range.
class TupleSet {
 public:
  void Add(const observe::TupleKey& key, uint64_t now_ns, const observe::AddressRange* range);
  // An op of the tuple had no provable address range: any address.
  void WidenToAnyAddress(const observe::TupleKey& key);
  // Sorted by key bytes.
  std::vector<ObservedTuple> Sorted() const;

 private:
  struct Hash {
    size_t operator()(const observe::TupleKey& k) const;
  };
  std::unordered_map<observe::TupleKey, observe::TupleStats, Hash> tuples_;
};

}  // namespace conduit::baseline
