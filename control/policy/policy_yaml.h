// The policy file (DESIGN.md, "The policy file") → conduit.v1.PolicySnapshot.
//
// The loader checks shape only: types, known field names, enum words. Whether
// the policy makes sense (zones exist, functions are known, ids are unique)
// is validate.h's job, so a policy pushed over gRPC is judged the same way.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "conduit/v1/policy.pb.h"

namespace conduit::policy {

// One problem in a policy. `path` uses the YAML file's field names
// ("conduits[0].rules[3].functions[1]", "zones.plant[0]"); `line` is 1-based,
// 0 when unknown (a policy that did not come from a file).
struct PolicyError {
  std::string path;
  std::string reason;
  int line = 0;
};

// "path: reason (line N)", one line per error, no trailing newline.
std::string FormatPolicyErrors(const std::vector<PolicyError>& errors);

// Field path → the 1-based line of its YAML node, for every node the loader
// read: lets the validator give a line to errors found after loading.
using PolicyLineMap = std::map<std::string, int>;

// Parses the YAML text. On failure the status is InvalidArgument and its
// message is FormatPolicyErrors() of every shape error found (the loader goes
// on past a bad field, so one run shows them all). Function numbers are
// normalised to decimal strings ("0x10" → "16"); names are kept as written.
// Every rule and signature gets its line in `line`.
absl::StatusOr<conduit::v1::PolicySnapshot> LoadPolicyYaml(std::string_view yaml,
                                                           PolicyLineMap* lines = nullptr);
absl::StatusOr<conduit::v1::PolicySnapshot> LoadPolicyFile(const std::string& path,
                                                           PolicyLineMap* lines = nullptr);

// The same, returning the shape errors as a list (empty: loaded).
std::vector<PolicyError> LoadPolicyYamlErrors(std::string_view yaml,
                                              conduit::v1::PolicySnapshot& out,
                                              PolicyLineMap* lines = nullptr);

}  // namespace conduit::policy
