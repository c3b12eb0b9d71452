// The baseline's side of the control API: GetBaseline and AcceptBaseline
// over the recorder, with conduit names resolved against the active policy
// (a conduit is its wire's traffic). Also the tuple <-> proto translation
// that conduitctl uses to read the reply back.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "baseline/baseline_recorder.h"
#include "conduit/v1/gateway.pb.h"

namespace conduit::baseline {

void ToProto(const ObservedTuple& t, conduit::v1::BaselineTuple* out);
ObservedTuple FromProto(const conduit::v1::BaselineTuple& t);

class BaselineApi {
 public:
  using ActivePolicy = std::function<std::optional<conduit::v1::PolicySnapshot>()>;

  BaselineApi(BaselineRecorder* recorder, ActivePolicy active, uint32_t stable_days)
      : recorder_(recorder), active_(std::move(active)), stable_days_(stable_days) {}

  absl::Status Get(const conduit::v1::GetBaselineRequest& request, conduit::v1::Baseline* reply);
  absl::Status Accept(const conduit::v1::AcceptBaselineRequest& request,
                      conduit::v1::AcceptBaselineResponse* reply);

 private:
  struct Target {
    uint32_t wire = 0;
    std::string conduit;  // "" when no active conduit covers the wire
  };
  // "" names the conduit on wire 0 (or wire 0 itself, with no policy).
  absl::StatusOr<Target> Resolve(const std::string& conduit) const;

  BaselineRecorder* recorder_;
  ActivePolicy active_;
  uint32_t stable_days_;
};

}  // namespace conduit::baseline
