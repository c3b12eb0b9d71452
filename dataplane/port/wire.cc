#include "port/wire.h"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"

namespace conduit {
namespace {

// A Toeplitz key of one repeated 16-bit pattern hashes (src, dst) and
// (dst, src) alike, so both directions of a flow land on one queue
// (Woo & Park, "Scalable TCP Session Monitoring with Symmetric RSS").
constexpr std::array<uint8_t, 40> kSymmetricRssKey = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

std::string_view DeviceName(std::string_view device) {
  return device.substr(0, device.find(','));
}

std::optional<uint16_t> FindPort(std::string_view name) {
  uint16_t port_id;
  const std::string n(name);
  if (rte_eth_dev_get_port_by_name(n.c_str(), &port_id) == 0) return port_id;
  // PCI devices may be named in another form (0000:01:00.0 vs 01:00.0).
  RTE_ETH_FOREACH_DEV(port_id) {
    rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port_id, &info) != 0 || info.device == nullptr) continue;
    const std::string_view dev_name = rte_dev_name(info.device);
    if (dev_name == name || dev_name.ends_with(n)) return port_id;
  }
  return std::nullopt;
}

std::string DpdkError(int rc) {
  return rte_strerror(rc < 0 ? -rc : rc);
}

}  // namespace

absl::StatusOr<uint16_t> AttachPort(std::string_view device) {
  const std::string_view name = DeviceName(device);
  if (name.empty()) return absl::InvalidArgumentError("empty device string");
  if (auto port = FindPort(name)) return *port;
  const std::string devargs(device);
  const int rc = rte_dev_probe(devargs.c_str());
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat("cannot attach device \"", std::string(device),
                                            "\": ", DpdkError(rc)));
  }
  if (auto port = FindPort(name)) return *port;
  return absl::NotFoundError(
      absl::StrCat("device \"", std::string(device), "\" attached but is not an Ethernet port"));
}

absl::Status StartPort(uint16_t port_id, const PortSettings& settings,
                       rte_mempool* pool) {
  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) return absl::InternalError(absl::StrCat("dev_info: ", DpdkError(rc)));
  if (settings.queues > info.max_rx_queues || settings.queues > info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port ", port_id, " (", info.driver_name, ") supports ",
        std::min(info.max_rx_queues, info.max_tx_queues), " queue pairs, ",
        settings.queues, " workers need one each"));
  }

  rte_eth_conf conf;
  std::memset(&conf, 0, sizeof(conf));
  static std::array<uint8_t, 40> rss_key = kSymmetricRssKey;
  const uint64_t rss_hf = info.flow_type_rss_offloads &
                          (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
  if (settings.queues > 1 && rss_hf != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = rss_key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len =
        info.hash_key_size ? std::min<uint8_t>(info.hash_key_size, 40) : 40;
    conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
  }
  // The gateway forwards frames untouched: no offloads are requested.
  rc = rte_eth_dev_configure(port_id, settings.queues, settings.queues, &conf);
  if (rc != 0) return absl::InternalError(absl::StrCat("configure: ", DpdkError(rc)));

  uint16_t rx_desc = settings.rx_desc;
  uint16_t tx_desc = settings.tx_desc;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc);
  if (rc != 0) return absl::InternalError(absl::StrCat("descriptors: ", DpdkError(rc)));
  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < settings.queues; ++q) {
    rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, nullptr, pool);
    if (rc != 0) return absl::InternalError(absl::StrCat("rx queue ", q, ": ", DpdkError(rc)));
    rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, nullptr);
    if (rc != 0) return absl::InternalError(absl::StrCat("tx queue ", q, ": ", DpdkError(rc)));
  }
  rc = rte_eth_dev_start(port_id);
  if (rc != 0) return absl::InternalError(absl::StrCat("start: ", DpdkError(rc)));
  // Not every PMD has a promiscuous switch (net_ring, net_null): that is fine.
  rte_eth_promiscuous_enable(port_id);
  return absl::OkStatus();
}

void StopPort(uint16_t port_id) {
  rte_eth_dev_stop(port_id);
  rte_eth_dev_close(port_id);
}

absl::StatusOr<rte_mempool*> PoolForPort(uint16_t port_id, uint32_t mbufs,
                                         uint32_t cache) {
  int socket = rte_eth_dev_socket_id(port_id);
  if (socket < 0) socket = 0;
  const std::string name = absl::StrCat("conduit_mbuf_s", socket);
  if (rte_mempool* pool = rte_mempool_lookup(name.c_str())) return pool;
  rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs, cache, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (pool == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create a pool of ", mbufs, " mbufs on socket ", socket, ": ",
        rte_strerror(rte_errno), " (raise the EAL memory, -m, or lower mempool.mbufs)"));
  }
  return pool;
}

}  // namespace conduit
