// Roles: mTLS client identities bound to permissions, from the daemon
// config's control.roles. Without roles (lab, plaintext) every caller may do
// everything, and status says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "access/permissions.h"

namespace conduit {

struct Role {
  std::string name;
  std::vector<std::string> identities;  // certificate subject CN or SAN
  std::vector<Permission> may;
};

// Who is calling: the names its verified client certificate carries.
struct Caller {
  std::string identity;             // the subject CN (else the first SAN); "" without a certificate
  std::vector<std::string> names;   // CN and every SAN: any of them may match a role
  std::string peer;                 // "ipv4:127.0.0.1:40312"
};

class RoleTable {
 public:
  RoleTable() = default;  // no roles: everything allowed
  explicit RoleTable(std::vector<Role> roles);

  bool enabled() const { return enabled_; }
  bool Allows(const Caller& caller, Permission p) const;
  // The names of the caller's roles, for status and audit ("" roles off).
  std::vector<std::string> RolesOf(const Caller& caller) const;
  const std::vector<Role>& roles() const { return roles_; }

 private:
  bool Matches(const Role& role, const Caller& caller) const;

  bool enabled_ = false;
  std::vector<Role> roles_;
};

}  // namespace conduit
