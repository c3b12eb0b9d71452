// Ports and wires: a wire is a pair of DPDK ports; what enters one leaves by
// the other. Setup runs on the control thread at start-up only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct rte_mempool;

namespace conduit {

struct PortSettings {
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint16_t queues = 1;  // one RX/TX queue pair per worker
};

struct WireSpec {
  std::string name;
  std::string a;  // DPDK device string: a vdev ("net_af_packet0,iface=x") or a PCI address
  std::string b;
};

struct Wire {
  std::string name;
  uint16_t port_a = 0;
  uint16_t port_b = 0;
};

// Probes `device` (hot-plugging a vdev or a PCI device if EAL has not yet)
// and returns its port id. NotFound names the device when no port matches.
absl::StatusOr<uint16_t> AttachPort(std::string_view device);

// Configures `settings.queues` RX/TX queue pairs (symmetric RSS when there are
// several and the port supports it, so both directions of a flow reach one
// worker), enables promiscuous mode (a bump in the wire sees every MAC) and
// starts the port.
absl::Status StartPort(uint16_t port_id, const PortSettings& settings,
                       rte_mempool* pool);

void StopPort(uint16_t port_id);

// The mbuf pool for the NUMA socket of `port_id`, created on first use.
absl::StatusOr<rte_mempool*> PoolForPort(uint16_t port_id, uint32_t mbufs,
                                         uint32_t cache);

}  // namespace conduit
