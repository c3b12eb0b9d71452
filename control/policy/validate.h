// Semantic checks of a PolicySnapshot, from a file or from a gRPC push.
//
// ValidatePolicy reports every problem, not just the first, so an operator
// fixes a policy in one round trip. Paths use the YAML field names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "conduit/v1/policy.pb.h"
#include "policy/address_range.h"
#include "policy/policy_yaml.h"

namespace conduit::policy {

// Rule ids the gateway gives its grants ("grant-<n>"): a policy may not use
// them, so a grant never collides with a pushed rule.
inline constexpr char kGrantIdPrefix[] = "grant-";

struct ValidateOptions {
  int wire_count = -1;                   // the daemon's wires; -1: unknown, not checked
  const PolicyLineMap* lines = nullptr;  // from the loader: a line for every error
};

std::vector<PolicyError> ValidatePolicy(const conduit::v1::PolicySnapshot& policy,
                                        const ValidateOptions& options = {});

// Loads (text or file) and validates. InvalidArgument carries every error,
// one per line (FormatPolicyErrors); a missing file is NotFound.
absl::StatusOr<conduit::v1::PolicySnapshot> LoadAndValidateText(std::string_view yaml,
                                                                 ValidateOptions options = {});
absl::StatusOr<conduit::v1::PolicySnapshot> LoadAndValidateFile(const std::string& path,
                                                                 ValidateOptions options = {});
// Text when it holds a newline (a policy file is never one line), else a path.
absl::StatusOr<conduit::v1::PolicySnapshot> LoadAndValidate(std::string_view path_or_text,
                                                            ValidateOptions options = {});

// Shared with the policy compiler so both read the file the same way.

// The ethertype an allow_non_ip entry names: "arp", "lldp", ... or hex
// "0x88cc". Fails with the reason for IP and VLAN ethertypes, which are never
// "non-IP" (the gateway inspects IP and looks through VLAN tags).
absl::StatusOr<uint16_t> ParseEtherType(std::string_view entry);

// An "addresses" entry: "first-last" or "n", inclusive, decimal or 0x hex.
absl::StatusOr<AddressRange> ParseAddressRange(std::string_view entry);

// An IPv4 or IPv6 CIDR prefix, host bits clear.
struct IpPrefix {
  bool v6 = false;
  uint8_t bytes[16] = {};
  int length = 0;
};
absl::StatusOr<IpPrefix> ParsePrefix(std::string_view cidr);
std::string FormatPrefix(const IpPrefix& prefix);

}  // namespace conduit::policy
