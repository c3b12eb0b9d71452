// What a control-plane caller may do (DESIGN.md, "Ownership and change
// control"). Each RPC needs exactly one permission.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace conduit {

enum class Permission : uint8_t {
  kRead,     // status, counters, get-policy, rules, baseline, shadow report
  kEvents,   // StreamEvents
  kPush,     // push, shadow, promote, clear shadow, accept baseline
  kConfirm,  // confirm a policy pushed with a deadline
  kMode,     // set the gateway's or a conduit's mode
  kGrant,    // grant, revoke
  kAudit,    // read the audit trail
};
inline constexpr int kPermissionCount = 7;

std::string_view PermissionName(Permission p);
std::optional<Permission> PermissionFromName(std::string_view name);
// "read, events, push, confirm, mode, grant, audit": for error messages.
std::string_view PermissionNames();

}  // namespace conduit
