// conduitctl grant | grants | revoke: time-limited, function-level
// exceptions on one gateway or many (DESIGN.md, "Ownership and change
// control").
#pragma once

namespace conduit::ctl {

// argv[1] is "grant", "grants" or "revoke"; parses its own options (and the
// common --target/--targets/--ca/--cert/--key/--timeout/--json) and returns
// the exit code: 0 fine, 1 a gateway refused or failed, 2 bad usage.
int GrantMain(int argc, char** argv);

}  // namespace conduit::ctl
