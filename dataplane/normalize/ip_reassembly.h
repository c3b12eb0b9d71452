// IP reassembly for conduits that say `fragments: reassemble`: a bounded
// per-worker table that collects a datagram's fragments and hands back the
// whole datagram as one unfragmented frame. That frame is what gets judged
// and, when it is allowed, what is forwarded in place of the fragments, so
// the PLC receives exactly the bytes the gateway judged, whatever its own
// reassembly would have preferred (first or last copy of an overlap).
//
// First-seen bytes win; a fragment that overlaps bytes already held with
// different content drops the whole datagram (ip_fragment_overlap). Bounds
// (ip_fragment_limit): kSlots datagrams in progress per worker, kMaxFragments
// fragments each, kMaxFrame bytes of frame once whole (one mbuf), and
// kTimeoutNs to complete. Memory: kSlots * sizeof(Slot), about 70 KiB per
// worker, allocated with the Inspector. IPv4 and IPv6 alike (an IPv6
// datagram keeps the first fragment's unfragmentable headers, RFC 8200 4.5).
#pragma once

#include <array>
#include <cstdint>

#include "parse/packet_meta.h"
#include "parse/parse.h"
#include "stats/counters.h"

namespace conduit::normalize {

class IpReassembler {
 public:
  static constexpr int kSlots = 32;
  static constexpr int kMaxFragments = 16;
  static constexpr uint32_t kMaxFrame = 2048;  // the default mbuf data room
  static constexpr uint32_t kMaxHeader = 128;  // L2 (VLANs included) + IPv4 with options, or
                                               // IPv6 and its unfragmentable extension headers
  static constexpr uint64_t kTimeoutNs = 5'000'000'000;  // 5 s (Linux: 30 s)

  enum class Outcome : uint8_t {
    kNotFragment,  // not an IP fragment: judge it as it is
    kHeld,         // kept; the fragment itself goes no further
    kComplete,     // `frame`/`length` now hold the whole datagram
    kDropped,      // `reason` says why; the datagram so far is dropped too
  };
  struct Result {
    Outcome outcome = Outcome::kNotFragment;
    DropReason reason = DropReason::kCount;
    const uint8_t* frame = nullptr;  // kComplete: valid until the next BeginBurst
    uint32_t length = 0;
  };

  // Releases the datagrams handed out whole during the previous burst.
  void BeginBurst() {
    for (Slot& s : slots_) {
      if (s.emitted) s.used = s.emitted = false;
    }
  }

  // One parsed frame (`parsed` from ParsePacket into `meta`). lcore (hot
  // path): no allocation; fragments are copied into the slot.
  Result Feed(const uint8_t* frame, uint32_t length, ParseResult parsed, const PacketMeta& meta,
              uint64_t now_ns);

  // Feed, and on kComplete replace the fragment with the whole datagram:
  // `frame`, `length`, `parsed` and `meta` then describe the datagram.
  Result Reassemble(const uint8_t*& frame, uint32_t& length, ParseResult& parsed,
                    PacketMeta& meta, uint64_t now_ns) {
    const Result r = Feed(frame, length, parsed, meta, now_ns);
    if (r.outcome == Outcome::kComplete) {
      frame = r.frame;
      length = r.length;
      meta = PacketMeta{};
      parsed = ParsePacket(frame, length, meta);
    }
    return r;
  }

  // Datagrams given up on (table full or timed out) since construction.
  // Safe to read from the control thread.
  uint64_t expired() const { return expired_.Load(); }
  uint64_t completed() const { return completed_.Load(); }

 private:
  struct Piece {
    uint16_t first = 0;  // payload offsets, [first, end)
    uint16_t end = 0;
  };
  struct Slot {
    bool used = false;
    bool emitted = false;      // handed out whole: its bytes live until BeginBurst
    bool have_first = false;   // offset 0 seen: the headers are known
    bool have_last = false;    // MF clear seen: the total is known
    bool ipv6 = false;
    uint8_t pieces = 0;
    uint8_t ip_header_len = 0; // the first fragment's (IPv6: up to its fragment header)
    uint8_t next_header_at = 0;  // IPv6: the next-header byte to name `proto`
    uint16_t header_len = 0;   // L2 + IP header of the first fragment
    uint16_t payload_len = 0;  // known once have_last
    uint32_t id = 0;
    uint16_t vlan = 0;
    uint8_t proto = 0;         // IPv6: the fragment header's next header
    uint64_t created_ns = 0;
    std::array<uint8_t, 16> src{}, dst{};
    std::array<Piece, kMaxFragments> piece{};
    // The headers end at kMaxHeader, where the payload begins: once whole,
    // the datagram is one contiguous frame in place.
    std::array<uint8_t, kMaxHeader + kMaxFrame> bytes{};
  };

  Slot* Find(const PacketMeta& meta, uint32_t id, uint8_t proto, uint64_t now_ns);
  bool Complete(const Slot& s) const;
  Result Emit(Slot& s);

  std::array<Slot, kSlots> slots_{};
  Counter expired_;
  Counter completed_;
};

}  // namespace conduit::normalize
