// Reads Ethernet frames from a capture file (pcap or pcapng, via libpcap).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "absl/status/status.h"

namespace conduit {

struct CapturedFrame {
  uint64_t number = 0;                // 1-based, as Wireshark counts
  uint64_t timestamp_micros = 0;
  std::span<const uint8_t> bytes;     // as captured (may be cut at the snaplen)
  uint32_t original_length = 0;
};

// Calls `on_frame` for every frame. Fails on an unreadable file or a link
// type other than Ethernet; a capture cut short ends the walk without error.
absl::Status ForEachFrame(const std::string& path,
                          const std::function<void(const CapturedFrame&)>& on_frame);

}  // namespace conduit
