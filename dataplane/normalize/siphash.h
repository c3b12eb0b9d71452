// SipHash (Aumasson & Bernstein): a keyed hash, so that an attacker who
// does not know the key cannot build a retransmission whose bytes differ from
// the judged ones but hash the same (CRCs and unkeyed hashes are forgeable).
// Inline, with the round counts fixed at compile time: the hot path hashes
// every new segment of an ICS flow, most of them a dozen bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace conduit::normalize {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

namespace sip_detail {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct State {
  uint64_t v0, v1, v2, v3;
  void Round() {
    v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
    v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
  }
  template <int kRounds>
  void Compress(uint64_t m) {
    v3 ^= m;
    for (int i = 0; i < kRounds; ++i) Round();
    v0 ^= m;
  }
};

inline uint64_t LoadLittle64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // x86 and the other targets we build for are little-endian
}

}  // namespace sip_detail

// SipHash-C-D of `len` bytes: 1-3 on the hot path; 2-4 is the reference
// SipHash-2-4 (its published test vectors check this code).
template <int C, int D>
inline uint64_t SipHash(const SipKey& key, const uint8_t* data, size_t len) {
  using sip_detail::LoadLittle64;
  sip_detail::State s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
                      key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const size_t whole = len & ~size_t(7);
  for (size_t i = 0; i < whole; i += 8) s.Compress<C>(LoadLittle64(data + i));
  const size_t rest = len & 7;
  uint64_t tail = 0;
  if (rest != 0 && len >= 8) {
    // The last 8 bytes, shifted so only the `rest` new ones remain: one
    // load instead of a byte loop.
    tail = LoadLittle64(data + len - 8) >> (64 - 8 * rest);
  } else {
    for (size_t i = 0; i < rest; ++i) tail |= uint64_t(data[whole + i]) << (8 * i);
  }
  s.Compress<C>(tail | uint64_t(len & 0xFF) << 56);
  s.v2 ^= 0xFF;
  for (int i = 0; i < D; ++i) s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

// A key from the operating system's random source (control side, at start).
SipKey RandomSipKey();

}  // namespace conduit::normalize
