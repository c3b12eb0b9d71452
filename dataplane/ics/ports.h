// Which ICS protocol a server port speaks: the detection table.
//
// Defaults are the well-known ports; a policy may add or move ports (a
// DNP3 outstation on 20001, OPC UA on 48010). O(1) lookup on the hot path.
#pragma once

#include <array>
#include <cstdint>

#include "ics/ics_op.h"

namespace conduit::ics {

class ProtocolPorts {
 public:
  // The well-known ports of every module.
  static ProtocolPorts Defaults();

  void SetTcp(uint16_t port, Protocol p) { tcp_[port] = p; }
  void SetUdp(uint16_t port, Protocol p) { udp_[port] = p; }
  Protocol Tcp(uint16_t port) const { return tcp_[port]; }
  Protocol Udp(uint16_t port) const { return udp_[port]; }

 private:
  std::array<Protocol, 65536> tcp_{};
  std::array<Protocol, 65536> udp_{};
};

}  // namespace conduit::ics
