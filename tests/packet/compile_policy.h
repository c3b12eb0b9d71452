// A policy YAML through the real control path (LoadPolicyYaml →
// ValidatePolicy → CompilePolicy), for tests that judge packets with it.
// Any refusal is a test failure that shows the stage, the error and the YAML.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "policy/compiler.h"
#include "policy/policy_yaml.h"
#include "policy/validate.h"

namespace conduit::testing {

inline std::unique_ptr<const policy::CompiledPolicy> CompileYamlPolicy(const std::string& yaml,
                                                                      uint32_t epoch = 1) {
  policy::PolicyLineMap lines;
  absl::StatusOr<v1::PolicySnapshot> snapshot = policy::LoadPolicyYaml(yaml, &lines);
  if (!snapshot.ok()) {
    ADD_FAILURE() << "load: " << snapshot.status() << "\n" << yaml;
    return nullptr;
  }
  const std::vector<policy::PolicyError> errors = policy::ValidatePolicy(*snapshot, {.lines = &lines});
  if (!errors.empty()) {
    ADD_FAILURE() << "validate: " << policy::FormatPolicyErrors(errors) << "\n" << yaml;
    return nullptr;
  }
  auto compiled = policy::CompilePolicy(*snapshot, {.worker_count = 1, .epoch = epoch});
  if (!compiled.ok()) {
    ADD_FAILURE() << "compile: " << compiled.status() << "\n" << yaml;
    return nullptr;
  }
  return *std::move(compiled);
}

}  // namespace conduit::testing
