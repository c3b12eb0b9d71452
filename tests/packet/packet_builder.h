// A fluent builder for test frames (Katran's PacketBuilder model):
//
//   auto frame = PacketBuilder().Eth().Vlan(10).Ipv4("198.18.0.10", "198.18.0.200")
//                    .Tcp(50000, 502, /*seq=*/1, kTcpAck | kTcpPsh).Payload({...}).Build();
//
// Lengths, the IPv4 header checksum and the TCP/UDP checksum are filled in by
// Build() (the gateway verifies them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conduit::testing {

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                         kTcpAck = 0x10;

class PacketBuilder {
 public:
  PacketBuilder& Eth(uint16_t ethertype = 0);  // 0: set by the next layer
  PacketBuilder& Vlan(uint16_t vid, uint16_t tpid = 0x8100);
  PacketBuilder& Ipv4(const std::string& src, const std::string& dst, uint8_t proto = 0,
                      std::vector<uint8_t> options = {});
  PacketBuilder& Ipv6(const std::string& src, const std::string& dst, uint8_t next = 0);
  // An IPv6 extension header (hop-by-hop 0, routing 43, destination 60) of
  // 8 bytes; fragment (44) with `fragment_offset`.
  PacketBuilder& Ipv6Ext(uint8_t type, uint16_t fragment_offset = 0);
  PacketBuilder& Tcp(uint16_t sport, uint16_t dport, uint32_t seq = 1, uint8_t flags = kTcpAck | kTcpPsh);
  // The acknowledgment number of the TCP header just added (0 otherwise).
  PacketBuilder& Ack(uint32_t ack);
  PacketBuilder& Udp(uint16_t sport, uint16_t dport);
  PacketBuilder& Icmp(uint8_t type = 8, uint8_t code = 0);
  PacketBuilder& Arp();
  PacketBuilder& Payload(const std::vector<uint8_t>& bytes);
  // Sets IPv4 flags/fragment offset (in 8-byte units) of the IPv4 header.
  PacketBuilder& Fragment(bool more_fragments, uint16_t offset_units);

  std::vector<uint8_t> Build() const;

 private:
  void SetNext(uint8_t proto);
  std::vector<uint8_t> bytes_;
  size_t ethertype_at_ = SIZE_MAX;  // where the last ethertype goes
  size_t ip_at_ = SIZE_MAX;
  bool ipv6_ = false;
  size_t next_header_at_ = SIZE_MAX; // IPv4 protocol / IPv6 next-header byte
  size_t udp_at_ = SIZE_MAX;
  size_t l4_at_ = SIZE_MAX;  // TCP or UDP header: its checksum is filled by Build()
  uint8_t l4_proto_ = 0;
};

// The IPv6 fragment of `whole` (an Ethernet frame without VLAN whose first
// `unfragmentable` bytes of IP headers, the IPv6 header and any extension
// headers, stay in front) carrying bytes [first, end) of the rest, with
// identification `id`: a fragment header after the unfragmentable part, M
// set unless `end` reaches the end (RFC 8200 4.5).
std::vector<uint8_t> Ipv6FragmentOf(const std::vector<uint8_t>& whole, uint32_t unfragmentable,
                                    uint32_t first, uint32_t end, uint32_t id = 0x01020304);

// Modbus/TCP request ADU: MBAP + function + data.
std::vector<uint8_t> ModbusAdu(uint16_t transaction, uint8_t unit, uint8_t function,
                               const std::vector<uint8_t>& data);

// --- PDUs of the other ICS protocols (payloads for PacketBuilder::Payload) ---

// DNP3 link frame with correct header and block CRCs. `user_data` is the
// transport byte followed by application bytes (empty: a link-only frame).
std::vector<uint8_t> Dnp3LinkFrame(uint8_t control, uint16_t destination, uint16_t source,
                                   const std::vector<uint8_t>& user_data = {});
// One single-segment application message (transport FIR|FIN): a request from
// the master (link control 0xC4) or, for function 0x81/0x82, a response from
// the outstation (0x44) with IIN `iin`. `objects` follow the header.
std::vector<uint8_t> Dnp3Message(uint16_t destination, uint16_t source, uint8_t function,
                                 const std::vector<uint8_t>& objects, uint8_t seq = 0,
                                 uint16_t iin = 0);
// An object header with a 2-byte start/stop range (qualifier 0x01).
std::vector<uint8_t> Dnp3Range(uint8_t group, uint8_t variation, uint16_t start, uint16_t stop);

// S7comm over ISO-on-TCP: TPKT + COTP. CR (or CC when `confirm`) naming
// `called_tsap` (rack * 32 + slot in its low byte).
std::vector<uint8_t> CotpConnect(bool confirm, uint16_t called_tsap);
// TPKT + COTP DT (EOT) + S7 header (ROSCTR job 1 or ack-data 3) + blocks.
std::vector<uint8_t> S7Pdu(uint8_t rosctr, uint16_t pdu_ref, const std::vector<uint8_t>& parameter,
                           const std::vector<uint8_t>& data = {});
// Read/write var parameter with one S7ANY BYTE item of `count` bytes at
// `byte_address` in `area` (0x83 M, 0x84 DB, ...).
std::vector<uint8_t> S7VarParameter(uint8_t function, uint8_t area, uint16_t db,
                                    uint32_t byte_address, uint16_t count);
std::vector<uint8_t> S7ReadVar(uint16_t pdu_ref, uint8_t area, uint16_t db, uint32_t byte_address,
                               uint16_t count);
std::vector<uint8_t> S7WriteVar(uint16_t pdu_ref, uint8_t area, uint16_t db, uint32_t byte_address,
                                const std::vector<uint8_t>& values);
std::vector<uint8_t> S7ReadVarAck(uint16_t pdu_ref, const std::vector<uint8_t>& values);
// PLC stop (function 0x29, PI service "P_PROGRAM"), as snap7 sends it.
std::vector<uint8_t> S7PlcStop(uint16_t pdu_ref);

// EtherNet/IP encapsulation (little-endian header) and CIP.
std::vector<uint8_t> EnipRegisterSession(uint32_t session = 0);
// SendRRData with a null address item and an unconnected data item.
std::vector<uint8_t> EnipSendRRData(uint32_t session, const std::vector<uint8_t>& cip);
// A CIP request with an 8-bit logical path class/instance[/attribute].
std::vector<uint8_t> CipRequest(uint8_t service, uint8_t cls, uint8_t instance,
                                uint8_t attribute = 0, const std::vector<uint8_t>& data = {});
std::vector<uint8_t> CipReply(uint8_t service, uint8_t general_status,
                              const std::vector<uint8_t>& data = {});
// Unconnected Send (0x52 to the Connection Manager) of `embedded`, routed to
// backplane port 1, `slot`.
std::vector<uint8_t> CipUnconnectedSend(const std::vector<uint8_t>& embedded, uint8_t slot);

// IEC 60870-5-104 APDUs. I-frame: one information object (SQ=0), 2-byte
// cause of transmission (originator 0), 2-byte common address, 3-byte IOA.
std::vector<uint8_t> Iec104IFrame(uint16_t send_seq, uint16_t recv_seq, uint8_t type_id,
                                  uint8_t cause, uint16_t common_address, uint32_t ioa,
                                  const std::vector<uint8_t>& element);
// U-frame by tshark's utype: 1 STARTDT act, 2 STARTDT con, 16 TESTFR act, ...
std::vector<uint8_t> Iec104UFrame(uint8_t utype);

// OPC UA binary chunks ('F' final).
std::vector<uint8_t> OpcuaHello(const std::string& endpoint);
std::vector<uint8_t> OpcuaAcknowledge();
// OPN with SecurityPolicy#None carrying the OpenSecureChannel request (446)
// or, from the server, response (449).
std::vector<uint8_t> OpcuaOpenNone(uint32_t request_id, bool response);
// MSG on channel 1 token 1: the service's four-byte encoding NodeId (631
// ReadRequest, 673 WriteRequest, 634 ReadResponse, ...) then `body`.
std::vector<uint8_t> OpcuaMsg(uint32_t request_id, uint16_t service,
                              const std::vector<uint8_t>& body = {});

// BACnet/IP: BVLC original-unicast + NPDU (+ DNET/DADR when `dnet` != 0)
// + APDU. Confirmed request naming object (type, instance) and property.
std::vector<uint8_t> BacnetConfirmed(uint8_t invoke_id, uint8_t service, uint16_t object_type,
                                     uint32_t instance, uint8_t property, uint16_t dnet = 0,
                                     const std::vector<uint8_t>& value = {});
std::vector<uint8_t> BacnetComplexAck(uint8_t invoke_id, uint8_t service, uint16_t object_type,
                                      uint32_t instance, uint8_t property);
// Simple-ack (e.g. of write property 15).
std::vector<uint8_t> BacnetSimpleAck(uint8_t invoke_id, uint8_t service);
// A BVLC-only message (e.g. 0x05 register foreign device).
std::vector<uint8_t> BacnetBvlc(uint8_t function, const std::vector<uint8_t>& body);

}  // namespace conduit::testing
