// libFuzzer target for the L2-L4 parser: the input is one Ethernet frame.
//
// ParsePacket must never read outside the frame (libFuzzer's buffer has the
// input's exact size, so ASan catches it) and the payload it reports must lie
// inside the frame. A parsed frame then goes through the Inspector, the
// worker's next stage, so parse offsets are checked against the code that
// consumes them (flow lookup, framer, decoders). A fragment goes through the
// reassembler first (`fragments: reassemble`): it reads the fragment's own
// headers (IPv6: the extension chain up to the fragment header), and an
// atomic fragment comes out whole and is parsed again.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ics/ics_op.h"
#include "ics/ports.h"
#include "inspect/inspector.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conduit;
  static const ics::ProtocolPorts* ports = new ics::ProtocolPorts(ics::ProtocolPorts::Defaults());
  const uint32_t len = static_cast<uint32_t>(size);
  PacketMeta meta;
  const ParseResult r = ParsePacket(data, len, meta);
  if (static_cast<int>(r) >= kParseResultCount) std::abort();
  if (meta.vlan_count > 2) std::abort();
  if (meta.payload_len != 0) {
    // The reported payload must be inside the frame (and after the headers).
    if (uint32_t(meta.payload_offset) + meta.payload_len > len) std::abort();
    if (meta.payload_offset < meta.l3_offset) std::abort();
  }
  if (!ParsedIp(r)) return 0;
  if (meta.l3_offset > len || meta.l4_offset > len || meta.payload_offset > len) std::abort();
  if (meta.ip_version != 4 && meta.ip_version != 6) std::abort();

  // Touch every payload byte so an out-of-frame payload is an ASan report.
  volatile uint8_t sink = 0;
  for (uint32_t i = 0; i < meta.payload_len; ++i) sink = sink ^ data[meta.payload_offset + i];

  Inspector inspector(16, 1000, ports);
  ics::OpList ops;
  inspector.Inspect(data, meta, 1, ops);

  if (meta.Has(kPktFragment)) {
    const uint8_t* frame = data;
    uint32_t length = len;
    ParseResult parsed = r;
    PacketMeta whole = meta;
    const auto fed = inspector.reassembler().Reassemble(frame, length, parsed, whole, 1);
    if (fed.outcome == normalize::IpReassembler::Outcome::kComplete) {
      if (parsed == ParseResult::kOk && uint32_t(whole.payload_offset) + whole.payload_len > length) {
        std::abort();
      }
      for (uint32_t i = 0; i < length; ++i) sink = sink ^ frame[i];
    }
  }
  return 0;
}
