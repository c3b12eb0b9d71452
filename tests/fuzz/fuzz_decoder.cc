// libFuzzer target for one ICS decoder (built once per protocol with
// -DCONDUIT_FUZZ_PROTOCOL=kModbus, kDnp3, ...).
//
// Input: [flags:1][payload...]
//   flags bit 0  from_client
//   flags bit 1  UDP: the payload is one datagram (forced for UDP-only
//                modules, ignored for TCP-only ones)
//   flags bit 2  hand every PDU to the decoder as a carry-sized prefix, as
//                the framer does for PDUs that span segments
// Over TCP the payload is cut into PDUs with the module's own Frame(), so
// Decode() sees exactly what framer.cc would give it: bytes.size() <= length,
// and a PDU running past the input becomes a truncated prefix. Every PDU is
// copied into a buffer of its exact size so ASan flags any read past it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ics/framer.h"
#include "ics/ics_op.h"
#include "ics/registry.h"

#ifndef CONDUIT_FUZZ_PROTOCOL
#error "define CONDUIT_FUZZ_PROTOCOL (kModbus, kDnp3, ...)"
#endif

namespace conduit::ics {
namespace {

constexpr uint32_t kCarry = StreamDirection::kCarryBytes;

void DecodeOne(const ProtocolModule& m, std::span<const uint8_t> bytes, uint32_t length,
               bool from_client, bool udp, StreamState& state) {
  // An exact-size heap copy: the fuzzer's buffer is larger than a prefix.
  std::vector<uint8_t> copy(bytes.begin(), bytes.end());
  const PduView pdu{std::span<const uint8_t>(copy.data(), copy.size()), length, from_client,
                    udp};
  OpList ops;
  const DecodeStatus status = m.decode(pdu, state, ops);
  if (static_cast<int>(status) > static_cast<int>(DecodeStatus::kMalformed)) std::abort();
  if (ops.size() > OpList::kCapacity) std::abort();
  // Name lookups run on every decoded op in the control plane and logs.
  for (const IcsOp& op : ops) {
    if (ProtocolOf(op.kind) == Protocol::kUnknown) std::abort();
    const std::string_view name = FunctionName(op);
    if (!name.empty()) (void)m.function_by_name(op.kind, name);
  }
}

}  // namespace
}  // namespace conduit::ics

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conduit::ics;
  static const ProtocolModule& m = *ModuleFor(Protocol::CONDUIT_FUZZ_PROTOCOL);
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const bool from_client = flags & 1;
  bool udp = flags & 2;
  if (m.tcp_port == 0) udp = true;
  if (m.udp_port == 0) udp = false;
  const bool prefix_only = flags & 4;
  std::span<const uint8_t> rest(data + 1, size - 1);

  StreamState state;  // shared by the PDUs of one input, as in one flow
  if (udp) {
    if (!rest.empty()) {
      DecodeOne(m, rest, static_cast<uint32_t>(rest.size()), from_client, true, state);
    }
    return 0;
  }
  // Frame like framer.cc does, at most a bounded number of PDUs.
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const FrameResult f = m.frame(rest, from_client);
    if (f.status != FrameStatus::kPdu || f.length == 0) break;
    if (f.length > rest.size()) {
      // Spans "segments" the input does not have: only the prefix is kept.
      DecodeOne(m, rest.first(std::min<size_t>(kCarry, rest.size())), f.length, from_client,
                false, state);
      break;
    }
    const size_t keep = prefix_only ? std::min<size_t>(kCarry, f.length) : f.length;
    DecodeOne(m, rest.first(keep), f.length, from_client, false, state);
    rest = rest.subspan(f.length);
  }
  return 0;
}
