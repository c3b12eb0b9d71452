#include "ics/ports.h"

#include "ics/registry.h"

namespace conduit::ics {

ProtocolPorts ProtocolPorts::Defaults() {
  ProtocolPorts ports;
  for (const ProtocolModule& m : AllModules()) {
    if (m.decode == nullptr) continue;
    if (m.tcp_port != 0) ports.SetTcp(m.tcp_port, m.protocol);
    if (m.udp_port != 0) ports.SetUdp(m.udp_port, m.protocol);
  }
  // EtherNet/IP also answers encapsulation requests (ListIdentity) on UDP 44818.
  ports.SetUdp(44818, Protocol::kEnip);
  return ports;
}

}  // namespace conduit::ics
