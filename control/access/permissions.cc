#include "access/permissions.h"

#include <array>

namespace conduit {
namespace {

constexpr std::array<std::string_view, kPermissionCount> kNames = {
    "read", "events", "push", "confirm", "mode", "grant", "audit"};

}  // namespace

std::string_view PermissionName(Permission p) { return kNames[static_cast<size_t>(p)]; }

std::optional<Permission> PermissionFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Permission>(i);
  }
  return std::nullopt;
}

std::string_view PermissionNames() { return "read, events, push, confirm, mode, grant, audit"; }

}  // namespace conduit
