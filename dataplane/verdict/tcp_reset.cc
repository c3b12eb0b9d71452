#include "verdict/tcp_reset.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <cstring>

namespace conduit {

rte_mbuf* BuildTcpReset(rte_mempool* pool, const uint8_t* frame, const PacketMeta& meta,
                        bool to_sender) {
  const bool v4 = meta.ip_version == 4;
  // IPv4 keeps its options; IPv6 drops extension headers (a RST needs none).
  const uint16_t ip_len = v4 ? static_cast<uint16_t>(meta.l4_offset - meta.l3_offset) : 40;
  const uint16_t total = static_cast<uint16_t>(meta.l3_offset + ip_len + sizeof(rte_tcp_hdr));
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) [[unlikely]] return nullptr;
  uint8_t* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, total));
  if (out == nullptr) [[unlikely]] {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  // L2 (with VLAN tags) and the IP header as they were.
  std::memcpy(out, frame, meta.l3_offset + ip_len);
  if (to_sender) {
    uint8_t mac[6];
    std::memcpy(mac, out, 6);
    std::memcpy(out, out + 6, 6);
    std::memcpy(out + 6, mac, 6);
  }
  const rte_tcp_hdr* in_tcp = reinterpret_cast<const rte_tcp_hdr*>(frame + meta.l4_offset);
  rte_tcp_hdr* tcp = reinterpret_cast<rte_tcp_hdr*>(out + meta.l3_offset + ip_len);
  std::memset(tcp, 0, sizeof(*tcp));
  if (to_sender) {
    tcp->src_port = in_tcp->dst_port;
    tcp->dst_port = in_tcp->src_port;
    tcp->sent_seq = in_tcp->recv_ack;
    tcp->recv_ack = rte_cpu_to_be_32(meta.tcp_seq + meta.payload_len);
  } else {
    tcp->src_port = in_tcp->src_port;
    tcp->dst_port = in_tcp->dst_port;
    tcp->sent_seq = in_tcp->sent_seq;
    tcp->recv_ack = in_tcp->recv_ack;
  }
  tcp->data_off = 5 << 4;
  tcp->tcp_flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
  if (v4) {
    rte_ipv4_hdr* ip = reinterpret_cast<rte_ipv4_hdr*>(out + meta.l3_offset);
    if (to_sender) {
      const rte_be32_t src = ip->src_addr;
      ip->src_addr = ip->dst_addr;
      ip->dst_addr = src;
    }
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len + sizeof(rte_tcp_hdr)));
    ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    ip->time_to_live = 64;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
  } else {
    rte_ipv6_hdr* ip = reinterpret_cast<rte_ipv6_hdr*>(out + meta.l3_offset);
    if (to_sender) {
      uint8_t tmp[16];
      std::memcpy(tmp, ip->src_addr, 16);
      std::memcpy(ip->src_addr, ip->dst_addr, 16);
      std::memcpy(ip->dst_addr, tmp, 16);
    }
    ip->payload_len = rte_cpu_to_be_16(sizeof(rte_tcp_hdr));
    ip->proto = IPPROTO_TCP;
    ip->hop_limits = 64;
    tcp->cksum = rte_ipv6_udptcp_cksum(ip, tcp);
  }
  return m;
}

}  // namespace conduit
