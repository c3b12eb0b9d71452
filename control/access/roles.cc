#include "access/roles.h"

#include <algorithm>

namespace conduit {

RoleTable::RoleTable(std::vector<Role> roles) : enabled_(true), roles_(std::move(roles)) {}

bool RoleTable::Matches(const Role& role, const Caller& caller) const {
  for (const std::string& name : caller.names) {
    if (std::find(role.identities.begin(), role.identities.end(), name) != role.identities.end()) {
      return true;
    }
  }
  return false;
}

bool RoleTable::Allows(const Caller& caller, Permission p) const {
  if (!enabled_) return true;
  for (const Role& role : roles_) {
    if (Matches(role, caller) && std::find(role.may.begin(), role.may.end(), p) != role.may.end()) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> RoleTable::RolesOf(const Caller& caller) const {
  std::vector<std::string> out;
  for (const Role& role : roles_) {
    if (Matches(role, caller)) out.push_back(role.name);
  }
  return out;
}

}  // namespace conduit
