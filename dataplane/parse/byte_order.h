// Network (big-endian) loads from unaligned bytes, for headers and
// addresses. memcpy + byte swap compiles to one move and one bswap; a byte
// loop for 64 bits was vectorised by GCC into store-forwarding stalls (8 %
// of the pipeline in AddressFrom).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace conduit {

inline uint16_t LoadBigEndian16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

inline uint32_t LoadBigEndian32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

inline uint64_t LoadBigEndian64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

}  // namespace conduit
