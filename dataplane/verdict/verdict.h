// The verdict hook: what happens to one parsed packet.
//
// Today every packet is forwarded (no policy exists yet). The classify stage
// (allowlist, signatures) plugs in here; the worker loop around it does not
// change.
#pragma once

#include <cstdint>

#include "ics/ics_op.h"
#include "inspect/inspector.h"
#include "parse/packet_meta.h"
#include "parse/parse.h"

namespace conduit {

enum class Verdict : uint8_t {
  kForward,  // send to the peer port
  kDrop,     // free and count by reason
};

// Safe default first (VPP's next[0] = 0): anything not judged is forwarded,
// because the gateway fails open.
inline Verdict Judge(ParseResult parsed, const PacketMeta& meta, const Inspection& inspection,
                     const ics::OpList& ops) {
  (void)parsed;
  (void)meta;
  (void)inspection;
  (void)ops;
  return Verdict::kForward;
}

}  // namespace conduit
