#include "normalize/siphash.h"

#include <cstring>
#include <random>

namespace conduit::normalize {
namespace {

inline uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct State {
  uint64_t v0, v1, v2, v3;
  void Round() {
    v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
    v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
  }
  void Compress(uint64_t m, int rounds) {
    v3 ^= m;
    for (int i = 0; i < rounds; ++i) Round();
    v0 ^= m;
  }
};

inline uint64_t LoadLittle64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // x86 and the other targets we build for are little-endian
}

}  // namespace

uint64_t SipHash(const SipKey& key, const uint8_t* data, size_t len, int c_rounds, int d_rounds) {
  State s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
          key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  const size_t whole = len & ~size_t(7);
  for (size_t i = 0; i < whole; i += 8) s.Compress(LoadLittle64(data + i), c_rounds);
  uint64_t last = uint64_t(len & 0xFF) << 56;
  for (size_t i = 0; i < (len & 7); ++i) last |= uint64_t(data[whole + i]) << (8 * i);
  s.Compress(last, c_rounds);
  s.v2 ^= 0xFF;
  for (int i = 0; i < d_rounds; ++i) s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

SipKey RandomSipKey() {
  std::random_device rd;
  SipKey k;
  k.k0 = uint64_t(rd()) << 32 | rd();
  k.k1 = uint64_t(rd()) << 32 | rd();
  return k;
}

}  // namespace conduit::normalize
