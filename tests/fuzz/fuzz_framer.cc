// libFuzzer target for the TCP framer: a flow's two directions fed with a
// sequence of segments, decoded by any TCP module.
//
// Input: [module:1] then segments, each
//   [ctl:1][len:2 LE][seq delta:4 LE, only in mode 1][len bytes of payload]
//   ctl bit 0    from_client (each direction has its own StreamDirection)
//   ctl bit 1    SYN
//   ctl bits 2-3 sequence number: 0 next in order, 1 explicit delta from the
//                next in-order number, 2 skip ahead (gap), 3 step back
//                (retransmission / overlap) by 1 + (ctl >> 4) * 8 bytes
// The length is clamped to what is left of the input. Each payload is copied
// into a buffer of its exact size so ASan sees reads past a segment.
//
// Besides sanitizer reports, the target checks the framer's own invariants
// after every segment: the carry never overflows and a PDU in progress has
// not received more bytes than its length.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "ics/framer.h"
#include "ics/ics_op.h"
#include "ics/registry.h"

namespace conduit::ics {
namespace {

void CheckInvariants(const StreamDirection& s) {
  if (s.carry_len > StreamDirection::kCarryBytes) std::abort();
  if (s.pdu_length != 0 && s.pdu_received >= s.pdu_length) std::abort();
  if (s.pdu_length != 0 && s.sync != StreamSync::kSynced && s.sync != StreamSync::kUnsynced) {
    std::abort();
  }
}

}  // namespace
}  // namespace conduit::ics

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace conduit::ics;
  static const std::vector<const ProtocolModule*> tcp_modules = [] {
    std::vector<const ProtocolModule*> v;
    for (const ProtocolModule& m : AllModules()) {
      if (m.decode != nullptr && m.tcp_port != 0) v.push_back(&m);
    }
    return v;
  }();
  if (size < 1) return 0;
  const ProtocolModule& m = *tcp_modules[data[0] % tcp_modules.size()];
  size_t pos = 1;

  std::array<StreamDirection, 2> dirs{};
  // Sender-side next sequence numbers; one starts near the 2^32 wrap.
  std::array<uint32_t, 2> next_seq{0xFFFFFF00u, 0x00001000u};
  OpList ops;
  std::vector<uint8_t> segment;
  while (pos + 3 <= size) {
    const uint8_t ctl = data[pos];
    size_t len = data[pos + 1] | size_t(data[pos + 2]) << 8;
    pos += 3;
    const int d = ctl & 1;
    const bool syn = ctl & 2;
    const uint32_t step = 1 + uint32_t(ctl >> 4) * 8;
    uint32_t seq = next_seq[d];
    switch ((ctl >> 2) & 3) {
      case 0: break;
      case 1:
        if (pos + 4 > size) return 0;
        seq += uint32_t(data[pos]) | uint32_t(data[pos + 1]) << 8 |
               uint32_t(data[pos + 2]) << 16 | uint32_t(data[pos + 3]) << 24;
        pos += 4;
        break;
      case 2: seq += step; break;
      case 3: seq -= step; break;
    }
    len = std::min(len, size - pos);
    segment.assign(data + pos, data + pos + len);
    pos += len;

    ops.Clear();  // per packet, as the worker does
    FeedTcpSegment(m, dirs[d], seq, syn, std::span<const uint8_t>(segment.data(), len),
                   d == 1, ops);
    CheckInvariants(dirs[d]);
    // Keep the sender's numbering monotone so mode 0 stays "in order".
    const uint32_t end = seq + static_cast<uint32_t>(len) + (syn ? 1 : 0);
    if (static_cast<int32_t>(end - next_seq[d]) > 0) next_seq[d] = end;
  }
  return 0;
}
