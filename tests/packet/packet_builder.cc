#include "packet/packet_builder.h"

#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

namespace conduit::testing {
namespace {

void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = uint8_t(v >> 8);
  b[at + 1] = uint8_t(v);
}
void Append16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void Append32(std::vector<uint8_t>& b, uint32_t v) {
  Append16(b, uint16_t(v >> 16));
  Append16(b, uint16_t(v));
}

}  // namespace

PacketBuilder& PacketBuilder::Eth(uint16_t ethertype) {
  const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
  bytes_.insert(bytes_.end(), dst, dst + 6);
  bytes_.insert(bytes_.end(), src, src + 6);
  ethertype_at_ = bytes_.size();
  Append16(bytes_, ethertype);
  return *this;
}

PacketBuilder& PacketBuilder::Vlan(uint16_t vid, uint16_t tpid) {
  Put16(bytes_, ethertype_at_, tpid);
  Append16(bytes_, vid & 0x0FFF);
  ethertype_at_ = bytes_.size();
  Append16(bytes_, 0);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv4(const std::string& src, const std::string& dst, uint8_t proto,
                                   std::vector<uint8_t> options) {
  Put16(bytes_, ethertype_at_, 0x0800);
  while (options.size() % 4) options.push_back(0);
  ip_at_ = bytes_.size();
  ipv6_ = false;
  bytes_.push_back(uint8_t(0x40 | (5 + options.size() / 4)));
  bytes_.push_back(0);
  Append16(bytes_, 0);       // total length, in Build()
  Append16(bytes_, 0x1234);  // id
  Append16(bytes_, 0x4000);  // DF
  bytes_.push_back(64);
  next_header_at_ = bytes_.size();
  bytes_.push_back(proto);
  Append16(bytes_, 0);       // checksum, in Build()
  uint8_t a[4];
  if (inet_pton(AF_INET, src.c_str(), a) != 1) throw std::invalid_argument(src);
  bytes_.insert(bytes_.end(), a, a + 4);
  if (inet_pton(AF_INET, dst.c_str(), a) != 1) throw std::invalid_argument(dst);
  bytes_.insert(bytes_.end(), a, a + 4);
  bytes_.insert(bytes_.end(), options.begin(), options.end());
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6(const std::string& src, const std::string& dst, uint8_t next) {
  Put16(bytes_, ethertype_at_, 0x86DD);
  ip_at_ = bytes_.size();
  ipv6_ = true;
  Append32(bytes_, 0x60000000);
  Append16(bytes_, 0);  // payload length, in Build()
  next_header_at_ = bytes_.size();
  bytes_.push_back(next);
  bytes_.push_back(64);
  uint8_t a[16];
  if (inet_pton(AF_INET6, src.c_str(), a) != 1) throw std::invalid_argument(src);
  bytes_.insert(bytes_.end(), a, a + 16);
  if (inet_pton(AF_INET6, dst.c_str(), a) != 1) throw std::invalid_argument(dst);
  bytes_.insert(bytes_.end(), a, a + 16);
  return *this;
}

PacketBuilder& PacketBuilder::Ipv6Ext(uint8_t type, uint16_t fragment_offset) {
  SetNext(type);
  next_header_at_ = bytes_.size();
  bytes_.push_back(0);  // next header
  bytes_.push_back(0);  // length (8 bytes) / reserved for fragments
  if (type == 44) {
    Append16(bytes_, uint16_t(fragment_offset << 3));
    Append32(bytes_, 0xABCD);
  } else {
    bytes_.insert(bytes_.end(), 6, 0);
  }
  return *this;
}

void PacketBuilder::SetNext(uint8_t proto) {
  if (next_header_at_ != SIZE_MAX) bytes_[next_header_at_] = proto;
}

PacketBuilder& PacketBuilder::Tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags) {
  SetNext(6);
  l4_at_ = bytes_.size();
  l4_proto_ = 6;
  Append16(bytes_, sport);
  Append16(bytes_, dport);
  Append32(bytes_, seq);
  Append32(bytes_, 0);       // ack
  bytes_.push_back(5 << 4);  // data offset
  bytes_.push_back(flags);
  Append16(bytes_, 65535);
  Append16(bytes_, 0);       // checksum, in Build()
  Append16(bytes_, 0);
  return *this;
}

PacketBuilder& PacketBuilder::Ack(uint32_t ack) {
  Put16(bytes_, l4_at_ + 8, uint16_t(ack >> 16));
  Put16(bytes_, l4_at_ + 10, uint16_t(ack));
  return *this;
}

PacketBuilder& PacketBuilder::Udp(uint16_t sport, uint16_t dport) {
  SetNext(17);
  udp_at_ = bytes_.size();
  l4_at_ = bytes_.size();
  l4_proto_ = 17;
  Append16(bytes_, sport);
  Append16(bytes_, dport);
  Append16(bytes_, 0);  // length, in Build()
  Append16(bytes_, 0);
  return *this;
}

PacketBuilder& PacketBuilder::Icmp(uint8_t type, uint8_t code) {
  SetNext(ipv6_ ? 58 : 1);
  bytes_.push_back(type);
  bytes_.push_back(code);
  Append16(bytes_, 0);
  Append32(bytes_, 0x00010001);
  return *this;
}

PacketBuilder& PacketBuilder::Arp() {
  Put16(bytes_, ethertype_at_, 0x0806);
  const uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 198, 18, 0, 10,
                           0, 0, 0, 0, 0, 0, 198, 18, 0, 200};
  bytes_.insert(bytes_.end(), arp, arp + 28);
  return *this;
}

PacketBuilder& PacketBuilder::Payload(const std::vector<uint8_t>& bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return *this;
}

PacketBuilder& PacketBuilder::Fragment(bool more_fragments, uint16_t offset_units) {
  Put16(bytes_, ip_at_ + 6, uint16_t((more_fragments ? 0x2000 : 0) | (offset_units & 0x1FFF)));
  return *this;
}

std::vector<uint8_t> PacketBuilder::Build() const {
  std::vector<uint8_t> b = bytes_;
  if (ip_at_ != SIZE_MAX) {
    if (ipv6_) {
      Put16(b, ip_at_ + 4, uint16_t(b.size() - ip_at_ - 40));
    } else {
      Put16(b, ip_at_ + 2, uint16_t(b.size() - ip_at_));
      const size_t header_len = (b[ip_at_] & 0x0F) * 4;
      uint32_t sum = 0;
      for (size_t i = 0; i < header_len; i += 2) sum += uint32_t(b[ip_at_ + i] << 8 | b[ip_at_ + i + 1]);
      while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
      Put16(b, ip_at_ + 10, uint16_t(~sum));
    }
  }
  if (udp_at_ != SIZE_MAX) Put16(b, udp_at_ + 4, uint16_t(b.size() - udp_at_));
  if (l4_at_ != SIZE_MAX && ip_at_ != SIZE_MAX) {
    // Pseudo-header (addresses, protocol, length), then header and payload.
    const size_t l4_len = b.size() - l4_at_;
    uint32_t sum = l4_proto_ + uint32_t(l4_len);
    const size_t addr_at = ip_at_ + (ipv6_ ? 8 : 12), addr_len = ipv6_ ? 32 : 8;
    for (size_t i = 0; i < addr_len; i += 2) sum += uint32_t(b[addr_at + i] << 8 | b[addr_at + i + 1]);
    const size_t cksum_at = l4_at_ + (l4_proto_ == 6 ? 16 : 6);
    Put16(b, cksum_at, 0);
    for (size_t i = 0; i < l4_len; i += 2) {
      sum += uint32_t(b[l4_at_ + i] << 8 | (i + 1 < l4_len ? b[l4_at_ + i + 1] : 0));
    }
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    uint16_t cksum = uint16_t(~sum);
    if (cksum == 0 && l4_proto_ == 17) cksum = 0xFFFF;  // 0 means "none" for UDP
    Put16(b, cksum_at, cksum);
  }
  return b;
}

std::vector<uint8_t> Ipv6FragmentOf(const std::vector<uint8_t>& whole, uint32_t unfragmentable,
                                    uint32_t first, uint32_t end, uint32_t id) {
  constexpr size_t kIp = 14;
  const uint32_t rest = uint32_t(whole.size() - kIp - unfragmentable);
  end = std::min(end, rest);
  std::vector<uint8_t> f(whole.begin(), whole.begin() + kIp + unfragmentable);
  // The last unfragmentable header now names the fragment header, which
  // names what it named.
  size_t next_at = kIp + 6;
  for (size_t at = kIp + 40; at < kIp + unfragmentable; at += (size_t(f[at + 1]) + 1) * 8) next_at = at;
  const uint8_t payload_type = f[next_at];
  f[next_at] = 44;
  const uint16_t field = uint16_t(first | (end < rest ? 1 : 0));
  const uint8_t header[8] = {payload_type, 0, uint8_t(field >> 8), uint8_t(field),
                             uint8_t(id >> 24), uint8_t(id >> 16), uint8_t(id >> 8), uint8_t(id)};
  f.insert(f.end(), header, header + 8);
  f.insert(f.end(), whole.begin() + kIp + unfragmentable + first,
           whole.begin() + kIp + unfragmentable + end);
  Put16(f, kIp + 4, uint16_t(f.size() - kIp - 40));
  return f;
}

std::vector<uint8_t> ModbusAdu(uint16_t transaction, uint8_t unit, uint8_t function,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> adu;
  Append16(adu, transaction);
  Append16(adu, 0);
  Append16(adu, uint16_t(data.size() + 2));
  adu.push_back(unit);
  adu.push_back(function);
  adu.insert(adu.end(), data.begin(), data.end());
  return adu;
}

}  // namespace conduit::testing

namespace conduit::testing {
namespace {

using Bytes = std::vector<uint8_t>;

void AppendLe16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}
void AppendLe32(Bytes& b, uint32_t v) {
  AppendLe16(b, uint16_t(v));
  AppendLe16(b, uint16_t(v >> 16));
}
// (reserve first: GCC 12's -Warray-bounds misfires on insert into a small vector)
void Append(Bytes& b, const Bytes& more) {
  b.reserve(b.size() + more.size());
  b.insert(b.end(), more.begin(), more.end());
}

// DNP3 CRC-16: polynomial 0x3D65 reflected (0xA6BC), complemented, stored LE.
void AppendDnp3Crc(Bytes& b, size_t from) {
  uint16_t crc = 0;
  for (size_t i = from; i < b.size(); ++i) {
    crc ^= b[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? uint16_t((crc >> 1) ^ 0xA6BC) : uint16_t(crc >> 1);
  }
  AppendLe16(b, uint16_t(~crc));
}

}  // namespace

Bytes Dnp3LinkFrame(uint8_t control, uint16_t destination, uint16_t source,
                    const Bytes& user_data) {
  Bytes b = {0x05, 0x64, uint8_t(user_data.size() + 5), control};
  AppendLe16(b, destination);
  AppendLe16(b, source);
  AppendDnp3Crc(b, 0);
  for (size_t i = 0; i < user_data.size(); i += 16) {
    const size_t start = b.size();
    for (size_t j = i; j < user_data.size() && j < i + 16; ++j) b.push_back(user_data[j]);
    AppendDnp3Crc(b, start);
  }
  return b;
}

Bytes Dnp3Message(uint16_t destination, uint16_t source, uint8_t function, const Bytes& objects,
                  uint8_t seq, uint16_t iin) {
  const bool response = function >= 0x81 && function <= 0x83;
  Bytes user = {uint8_t(0xC0 | (seq & 0x3F)),                                // transport FIR|FIN
                uint8_t(0xC0 | (function == 0x82 ? 0x10 : 0) | (seq & 0x0F)),  // app FIR|FIN [UNS]
                function};
  if (response) Append16(user, iin);
  Append(user, objects);
  return Dnp3LinkFrame(response ? 0x44 : 0xC4, destination, source, user);
}

Bytes Dnp3Range(uint8_t group, uint8_t variation, uint16_t start, uint16_t stop) {
  Bytes b = {group, variation, 0x01};
  AppendLe16(b, start);
  AppendLe16(b, stop);
  return b;
}

Bytes CotpConnect(bool confirm, uint16_t called_tsap) {
  Bytes b = {0x03, 0x00, 0x00, 0x16, 0x11, uint8_t(confirm ? 0xD0 : 0xE0), 0x00, 0x00, 0x00, 0x01,
             0x00, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02};
  Append16(b, called_tsap);
  Append(b, {0xC0, 0x01, 0x0A});
  return b;
}

Bytes S7Pdu(uint8_t rosctr, uint16_t pdu_ref, const Bytes& parameter, const Bytes& data) {
  Bytes b = {0x03, 0x00, 0x00, 0x00, 0x02, 0xF0, 0x80, 0x32, rosctr, 0x00, 0x00};
  Append16(b, pdu_ref);
  Append16(b, uint16_t(parameter.size()));
  Append16(b, uint16_t(data.size()));
  if (rosctr == 2 || rosctr == 3) Append16(b, 0);  // error class, code
  Append(b, parameter);
  Append(b, data);
  Put16(b, 2, uint16_t(b.size()));
  return b;
}

Bytes S7VarParameter(uint8_t function, uint8_t area, uint16_t db, uint32_t byte_address,
                     uint16_t count) {
  Bytes b = {function, 0x01, 0x12, 0x0A, 0x10, 0x02};  // one S7ANY item of BYTEs
  Append16(b, count);
  Append16(b, db);
  b.push_back(area);
  const uint32_t bits = byte_address << 3;
  Append(b, {uint8_t(bits >> 16), uint8_t(bits >> 8), uint8_t(bits)});
  return b;
}

Bytes S7ReadVar(uint16_t pdu_ref, uint8_t area, uint16_t db, uint32_t byte_address,
                uint16_t count) {
  return S7Pdu(1, pdu_ref, S7VarParameter(0x04, area, db, byte_address, count));
}

Bytes S7WriteVar(uint16_t pdu_ref, uint8_t area, uint16_t db, uint32_t byte_address,
                 const Bytes& values) {
  Bytes data = {0x00, 0x04};  // reserved, transport size: bits
  Append16(data, uint16_t(values.size() * 8));
  Append(data, values);
  return S7Pdu(1, pdu_ref, S7VarParameter(0x05, area, db, byte_address, uint16_t(values.size())),
               data);
}

Bytes S7ReadVarAck(uint16_t pdu_ref, const Bytes& values) {
  Bytes data = {0xFF, 0x04};  // success, bits
  Append16(data, uint16_t(values.size() * 8));
  Append(data, values);
  return S7Pdu(3, pdu_ref, {0x04, 0x01}, data);
}

Bytes S7PlcStop(uint16_t pdu_ref) {
  Bytes parameter = {0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09};
  for (char c : std::string("P_PROGRAM")) parameter.push_back(uint8_t(c));
  return S7Pdu(1, pdu_ref, parameter);
}

namespace {
Bytes EnipHeader(uint16_t command, uint32_t session, size_t length) {
  Bytes b;
  AppendLe16(b, command);
  AppendLe16(b, uint16_t(length));
  AppendLe32(b, session);
  b.resize(24, 0);  // status, sender context, options
  return b;
}
}  // namespace

Bytes EnipRegisterSession(uint32_t session) {
  Bytes b = EnipHeader(0x65, session, 4);
  Append(b, {0x01, 0x00, 0x00, 0x00});
  return b;
}

Bytes EnipSendRRData(uint32_t session, const Bytes& cip) {
  Bytes cpf = {0, 0, 0, 0, 0, 0, 0x02, 0x00, 0, 0, 0, 0, 0xB2, 0x00};
  AppendLe16(cpf, uint16_t(cip.size()));
  Append(cpf, cip);
  Bytes b = EnipHeader(0x6F, session, cpf.size());
  Append(b, cpf);
  return b;
}

Bytes CipRequest(uint8_t service, uint8_t cls, uint8_t instance, uint8_t attribute,
                 const Bytes& data) {
  Bytes path = {0x20, cls, 0x24, instance};
  if (attribute != 0) Append(path, {0x30, attribute});
  Bytes b = {service, uint8_t(path.size() / 2)};
  Append(b, path);
  Append(b, data);
  return b;
}

Bytes CipReply(uint8_t service, uint8_t general_status, const Bytes& data) {
  Bytes b = {uint8_t(service | 0x80), 0x00, general_status, 0x00};
  Append(b, data);
  return b;
}

Bytes CipUnconnectedSend(const Bytes& embedded, uint8_t slot) {
  Bytes b = {0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x06, 0x9A};
  AppendLe16(b, uint16_t(embedded.size()));
  Append(b, embedded);
  if (embedded.size() % 2) b.push_back(0);
  Append(b, {0x01, 0x00, 0x01, slot});  // route path: 1 word, port 1 (backplane), slot
  return b;
}

Bytes Iec104IFrame(uint16_t send_seq, uint16_t recv_seq, uint8_t type_id, uint8_t cause,
                   uint16_t common_address, uint32_t ioa, const Bytes& element) {
  Bytes b = {0x68, 0x00};
  AppendLe16(b, uint16_t(send_seq << 1));
  AppendLe16(b, uint16_t(recv_seq << 1));
  Append(b, {type_id, 0x01, cause, 0x00});
  AppendLe16(b, common_address);
  Append(b, {uint8_t(ioa), uint8_t(ioa >> 8), uint8_t(ioa >> 16)});
  Append(b, element);
  b[1] = uint8_t(b.size() - 2);
  return b;
}

Bytes Iec104UFrame(uint8_t utype) { return {0x68, 0x04, uint8_t(utype << 2 | 0x03), 0, 0, 0}; }

namespace {
Bytes OpcuaHeader(const char* type) {
  return {uint8_t(type[0]), uint8_t(type[1]), uint8_t(type[2]), 'F', 0, 0, 0, 0};
}
void OpcuaString(Bytes& b, const std::string& s) {
  AppendLe32(b, uint32_t(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}
Bytes OpcuaSized(Bytes b) {
  const uint32_t n = uint32_t(b.size());
  for (int i = 0; i < 4; ++i) b[4 + i] = uint8_t(n >> (8 * i));
  return b;
}
}  // namespace

Bytes OpcuaHello(const std::string& endpoint) {
  Bytes b = OpcuaHeader("HEL");
  for (uint32_t v : {0u, 65536u, 65536u, 0u, 0u}) AppendLe32(b, v);
  OpcuaString(b, endpoint);
  return OpcuaSized(b);
}

Bytes OpcuaAcknowledge() {
  Bytes b = OpcuaHeader("ACK");
  for (uint32_t v : {0u, 65536u, 65536u, 0u, 0u}) AppendLe32(b, v);
  return OpcuaSized(b);
}

Bytes OpcuaOpenNone(uint32_t request_id, bool response) {
  Bytes b = OpcuaHeader("OPN");
  AppendLe32(b, response ? 1 : 0);  // secure channel id
  OpcuaString(b, "http://opcfoundation.org/UA/SecurityPolicy#None");
  AppendLe32(b, 0xFFFFFFFF);  // no sender certificate
  AppendLe32(b, 0xFFFFFFFF);  // no receiver thumbprint
  AppendLe32(b, 1);           // sequence number
  AppendLe32(b, request_id);
  const uint16_t type = response ? 449 : 446;
  Append(b, {0x01, 0x00, uint8_t(type), uint8_t(type >> 8)});
  b.resize(b.size() + 24, 0);  // a zeroed request/response header
  return OpcuaSized(b);
}

Bytes OpcuaMsg(uint32_t request_id, uint16_t service, const Bytes& body) {
  Bytes b = OpcuaHeader("MSG");
  AppendLe32(b, 1);  // secure channel id
  AppendLe32(b, 1);  // token id
  AppendLe32(b, request_id);  // sequence number
  AppendLe32(b, request_id);
  Append(b, {0x01, 0x00, uint8_t(service), uint8_t(service >> 8)});
  Append(b, body);
  return OpcuaSized(b);
}

namespace {
Bytes BacnetIp(uint8_t npdu_control, uint16_t dnet, const Bytes& apdu) {
  Bytes b = {0x81, 0x0A, 0x00, 0x00, 0x01, uint8_t(npdu_control | (dnet != 0 ? 0x20 : 0))};
  if (dnet != 0) {
    Append16(b, dnet);
    Append(b, {0x01, 0x05, 0xFF});  // DLEN 1, DADR, hop count
  }
  Append(b, apdu);
  Put16(b, 2, uint16_t(b.size()));
  return b;
}
void BacnetObject(Bytes& b, uint16_t object_type, uint32_t instance, uint8_t property) {
  b.push_back(0x0C);  // context tag 0, 4 bytes: object identifier
  Append32(b, uint32_t(object_type) << 22 | (instance & 0x3FFFFF));
  Append(b, {0x19, property});  // context tag 1: property identifier
}
}  // namespace

Bytes BacnetConfirmed(uint8_t invoke_id, uint8_t service, uint16_t object_type, uint32_t instance,
                      uint8_t property, uint16_t dnet, const Bytes& value) {
  Bytes apdu = {0x00, 0x05, invoke_id, service};
  BacnetObject(apdu, object_type, instance, property);
  if (!value.empty()) {
    apdu.push_back(0x3E);
    Append(apdu, value);
    apdu.push_back(0x3F);
  }
  return BacnetIp(0x04, dnet, apdu);
}

Bytes BacnetComplexAck(uint8_t invoke_id, uint8_t service, uint16_t object_type,
                       uint32_t instance, uint8_t property) {
  Bytes apdu = {0x30, invoke_id, service};
  BacnetObject(apdu, object_type, instance, property);
  Append(apdu, {0x3E, 0x44, 0x00, 0x00, 0x00, 0x00, 0x3F});
  return BacnetIp(0x00, 0, apdu);
}

Bytes BacnetSimpleAck(uint8_t invoke_id, uint8_t service) {
  return BacnetIp(0x00, 0, {0x20, invoke_id, service});
}

Bytes BacnetBvlc(uint8_t function, const Bytes& body) {
  Bytes b = {0x81, function, 0x00, 0x00};
  Append(b, body);
  Put16(b, 2, uint16_t(b.size()));
  return b;
}

}  // namespace conduit::testing
