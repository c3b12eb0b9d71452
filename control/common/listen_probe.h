// Why an address cannot be listened on, in the operating system's words:
// gRPC and cpp-httplib only say that binding failed, and "port in use" and
// "not an address of this host" call for different fixes.
#pragma once

#include <string>
#include <string_view>

namespace conduit {

// Binds a TCP socket of its own to `address` ("HOST:PORT", "[V6]:PORT")
// and returns bind(2)'s reason ("Address already in use", "Cannot assign
// requested address") or the resolver's; "" when the address does not
// parse or can be bound now (the failure lay elsewhere). Start-up only.
std::string WhyCannotListen(std::string_view address);

// "<field>: cannot listen on <address> (<why>)": a start-up error naming
// the config field, the address and, where it can be learnt, the reason.
std::string CannotListenMessage(std::string_view field, std::string_view address);

}  // namespace conduit
