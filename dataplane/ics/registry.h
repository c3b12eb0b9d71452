// The table of protocol modules: how the flow layer finds a decoder.
//
// Each protocol lives in its own file (modbus.h, dnp3.h, ...) in a namespace
// named after it, and provides:
//
//   namespace conduit::ics::<proto> {
//   inline constexpr uint16_t kTcpPort = ...;   // 0 when not over TCP
//   inline constexpr uint16_t kUdpPort = ...;   // 0 when not over UDP
//   FrameResult Frame(std::span<const uint8_t> head, bool from_client);  // strict TCP framing
//   DecodeStatus Decode(const PduView& pdu, StreamState& state, OpList& ops);
//   std::string_view FunctionName(OpKind kind, uint16_t function);  // "" if unknown
//   std::optional<uint16_t> FunctionByName(OpKind kind, std::string_view name);
//   }
#pragma once

#include <array>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics {

// A byte strict framing requires at a fixed offset of every header (see
// each module's Frame). Where framing is lost the client's bytes are tried
// as a PDU start at every offset (framer.h); an offset whose byte is not
// allowed here is one Frame would refuse, so the scan skips it without the
// call: unframed bytes cost about as much as reading them, and a flood of
// them no longer pushes a worker into overload (and so into bypass).
struct StartByte {
  bool active = false;  // false: no such byte, every offset is tried
  uint8_t offset = 0;
  std::array<uint64_t, 4> allowed{};  // a bit per byte value

  static constexpr StartByte At(uint8_t offset, std::initializer_list<uint8_t> values) {
    StartByte s{true, offset, {}};
    for (const uint8_t v : values) s.allowed[v >> 6] |= uint64_t{1} << (v & 63);
    return s;
  }
  // Frame refuses a PDU that would begin at bytes[0]. An offset not yet
  // seen is never excluded: Frame waits for it.
  bool Excludes(std::span<const uint8_t> bytes) const {
    if (!active || bytes.size() <= offset) return false;
    const uint8_t b = bytes[offset];
    return ((allowed[b >> 6] >> (b & 63)) & 1) == 0;
  }
};

struct ProtocolModule {
  Protocol protocol = Protocol::kUnknown;
  uint16_t tcp_port = 0;  // well-known server port over TCP (0: none)
  uint16_t udp_port = 0;  // well-known server port over UDP (0: none)
  FrameFn frame = nullptr;
  DecodeFn decode = nullptr;
  PeerFrameFn frame_by_function = nullptr;  // see PeerFrameFn (Modbus only)
  PeerFrameFn frame_by_length = nullptr;    // the declared-length server's view (Modbus)
  std::string_view (*function_name)(OpKind, uint16_t) = nullptr;
  std::optional<uint16_t> (*function_by_name)(OpKind, std::string_view) = nullptr;
  StartByte start_byte;  // for the lost-framing scan (framer.cc)
};

// Every module, indexed by Protocol (kUnknown and kS7commPlus have no module
// of their own: S7comm-plus is recognised by the s7comm module on port 102).
std::span<const ProtocolModule> AllModules();
const ProtocolModule* ModuleFor(Protocol p);

// Name of the op's function in its layer ("" if unknown); a UMAS request's
// UMAS function name (PolicyFunction) where it has one.
std::string_view FunctionName(const IcsOp& op);

}  // namespace conduit::ics
