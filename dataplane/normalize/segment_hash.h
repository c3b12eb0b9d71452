// The keyed 32-bit hash the TCP normalizer keeps of each judged segment, so
// that a retransmission with different bytes is caught without keeping the
// bytes. An attacker who does not know the key must not be able to build
// such a retransmission that hashes the same (CRCs and unkeyed hashes are
// forgeable).
//
// Segments up to kMultilinearBytes use MULTILINEAR (Lemire & Kaser,
// "Strongly universal string hashing is fast", 2014): the bytes as 32-bit
// words s_i, zero-padded, and 64-bit random keys m_i,
//     h = ((m_0 + sum m_{i+1} * s_i) mod 2^64) >> 32,
// which is strongly universal: for any two different byte strings of the
// same length, Pr[h(a) = h(b)] = 2^-32 over the key. The normalizer only
// ever compares a segment with a record of the same length, so that bound
// is all it needs, and the attacker only learns "dropped" or "passed" from
// each try, never a hash. One multiply a word: a Modbus request (a dozen
// bytes) costs three, where SipHash-1-3 ran five dependent rounds.
// Longer segments (jumbo frames, reassembled datagrams) use SipHash-1-3:
// the key table stays 4 KiB, and at that size the hash is a small part of
// the segment's cost.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "normalize/siphash.h"

namespace conduit::normalize {

struct SegmentHashKey {
  static constexpr uint32_t kMultilinearBytes = 2048;
  // m_0 and one key per 32-bit word.
  std::array<uint64_t, kMultilinearBytes / 4 + 1> words;
  SipKey sip;  // beyond kMultilinearBytes
};

// A key from the operating system's random source (control side, at start).
SegmentHashKey RandomSegmentHashKey();

namespace segment_hash_detail {

inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little-endian targets; any fixed byte order keeps the bound
}

// MULTILINEAR over `len` <= kMultilinearBytes bytes.
inline uint32_t Multilinear(const uint64_t* m, const uint8_t* p, uint32_t len) {
  const bool has_word = len >= 4;
  // Two sums, so that consecutive multiply-adds do not wait on each other.
  uint64_t even = m[0], odd = 0;
  ++m;
  for (; len >= 8; p += 8, len -= 8, m += 2) {
    even += m[0] * Load32(p);
    odd += m[1] * Load32(p + 4);
  }
  if (len >= 4) {
    even += m[0] * Load32(p);
    p += 4;
    len -= 4;
    ++m;
  }
  if (len != 0) {
    // The last 1-3 bytes as a zero-padded word: one load ending at the
    // segment's last byte where there are bytes before them to read.
    uint32_t tail = 0;
    if (has_word) {
      tail = Load32(p + len - 4) >> (32 - 8 * len);
    } else {
      for (uint32_t i = 0; i < len; ++i) tail |= uint32_t(p[i]) << (8 * i);
    }
    odd += m[0] * tail;
  }
  return static_cast<uint32_t>((even + odd) >> 32);
}

}  // namespace segment_hash_detail

// The hash of `len` bytes at `p` (hot path: no allocation, no branch on
// the bytes).
inline uint32_t HashSegment(const SegmentHashKey& key, const uint8_t* p, uint32_t len) {
  if (len <= SegmentHashKey::kMultilinearBytes) {
    return segment_hash_detail::Multilinear(key.words.data(), p, len);
  }
  return static_cast<uint32_t>(SipHash<1, 3>(key.sip, p, len));
}

}  // namespace conduit::normalize
