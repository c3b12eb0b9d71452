// The grants in force, persisted in state_dir/grants.json so that they
// survive a restart and still end on time (the gateway's wall clock: a grant
// that ended while the gateway was down is gone when it comes back).
//
// The file: {"next_id": N, "grants": [GrantInfo as proto JSON, ...]}. Ids
// ("grant-<n>") are never reused, also across restarts, so an audit trail
// or an event names one grant only.
//
// Not thread-safe: GrantApi serialises access.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "conduit/v1/gateway.pb.h"

namespace conduit::grants {

class GrantStore {
 public:
  // `path` empty: kept in memory only (a gateway without state_dir).
  explicit GrantStore(std::string path) : path_(std::move(path)) {}

  // Reads the file; a missing file is an empty store. A corrupt one is an
  // error and leaves the store empty: losing grants only takes access away.
  absl::Status Load();
  // Writes the file atomically (temp, fsync, rename).
  absl::Status Save() const;

  // The next id, "grant-<n>", counted up.
  std::string NextId();
  void Add(conduit::v1::GrantInfo grant);
  // Removes the grant with `id` into `out`; false when there is none.
  bool Remove(const std::string& id, conduit::v1::GrantInfo* out);
  // Removes and returns the grants whose expiry is at or before `now_ms`.
  std::vector<conduit::v1::GrantInfo> TakeExpired(uint64_t now_ms);

  const std::vector<conduit::v1::GrantInfo>& grants() const { return grants_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uint64_t next_id_ = 1;
  std::vector<conduit::v1::GrantInfo> grants_;
};

}  // namespace conduit::grants
