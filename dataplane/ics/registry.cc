#include "ics/registry.h"

#include <array>

#include "ics/bacnet.h"
#include "ics/dnp3.h"
#include "ics/enip.h"
#include "ics/iec104.h"
#include "ics/modbus.h"
#include "ics/opcua.h"
#include "ics/s7comm.h"

namespace conduit::ics {
namespace {

#define CONDUIT_MODULE(proto, ns)                                                   \
  ProtocolModule {                                                                  \
    Protocol::proto, ns::kTcpPort, ns::kUdpPort, &ns::Frame, &ns::Decode, nullptr,  \
        nullptr, &ns::FunctionName, &ns::FunctionByName                             \
  }

// Indexed by Protocol; kUnknown and kS7commPlus stay empty.
constexpr std::array<ProtocolModule, static_cast<size_t>(Protocol::kCount)> kModules = [] {
  std::array<ProtocolModule, static_cast<size_t>(Protocol::kCount)> m{};
  for (const ProtocolModule& pm : {
           CONDUIT_MODULE(kModbus, modbus), CONDUIT_MODULE(kDnp3, dnp3),
           CONDUIT_MODULE(kS7comm, s7comm), CONDUIT_MODULE(kEnip, enip),
           CONDUIT_MODULE(kIec104, iec104), CONDUIT_MODULE(kOpcua, opcua),
           CONDUIT_MODULE(kBacnet, bacnet)}) {
    m[static_cast<size_t>(pm.protocol)] = pm;
  }
  m[static_cast<size_t>(Protocol::kModbus)].frame_by_function = &modbus::FrameByFunction;
  m[static_cast<size_t>(Protocol::kModbus)].frame_by_length = &modbus::FrameByLength;
  // What each strict Frame checks first (framer_test holds them to it):
  // the MBAP protocol id's high byte; DNP3's 05 64; the TPKT version; the
  // IEC 104 start byte; the high byte of an EtherNet/IP command (all below
  // 0x100); the first letter of an OPC UA message type; BACnet/IP's BVLC
  // type.
  auto start = [&m](Protocol p) -> StartByte& { return m[static_cast<size_t>(p)].start_byte; };
  start(Protocol::kModbus) = StartByte::At(2, {0x00});
  start(Protocol::kDnp3) = StartByte::At(0, {0x05});
  start(Protocol::kS7comm) = StartByte::At(0, {0x03});
  start(Protocol::kIec104) = StartByte::At(0, {0x68});
  start(Protocol::kEnip) = StartByte::At(1, {0x00});
  start(Protocol::kOpcua) = StartByte::At(0, {'H', 'A', 'E', 'R', 'O', 'M', 'C'});
  start(Protocol::kBacnet) = StartByte::At(0, {0x81});
  return m;
}();

}  // namespace

std::span<const ProtocolModule> AllModules() { return kModules; }

const ProtocolModule* ModuleFor(Protocol p) {
  const auto i = static_cast<size_t>(p);
  if (i >= kModules.size() || kModules[i].decode == nullptr) return nullptr;
  return &kModules[i];
}

std::string_view FunctionName(const IcsOp& op) {
  Protocol p = ProtocolOf(op.kind);
  if (p == Protocol::kS7commPlus) p = Protocol::kS7comm;
  const ProtocolModule* m = ModuleFor(p);
  if (m == nullptr) return {};
  // A UMAS request is named by its UMAS function; an unnamed one (or a
  // response's status byte) by the Modbus function ("umas").
  const uint16_t named = PolicyFunction(op);
  if (named != op.function) {
    const std::string_view name = m->function_name(op.kind, named);
    if (!name.empty()) return name;
  }
  return m->function_name(op.kind, op.function);
}

}  // namespace conduit::ics
