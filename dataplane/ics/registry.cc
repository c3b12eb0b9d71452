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
