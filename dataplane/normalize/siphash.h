// SipHash-1-3 (Aumasson & Bernstein): a keyed hash, so that an attacker who
// does not know the key cannot build a retransmission whose bytes differ from
// the judged ones but hash the same (CRCs and unkeyed hashes are forgeable).
#pragma once

#include <cstddef>
#include <cstdint>

namespace conduit::normalize {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// `c_rounds`/`d_rounds`: 1/3 on the hot path; 2/4 is the reference
// SipHash-2-4 (its published test vectors check this code).
uint64_t SipHash(const SipKey& key, const uint8_t* data, size_t len, int c_rounds = 1,
                 int d_rounds = 3);

// A key from the operating system's random source (control side, at start).
SipKey RandomSipKey();

}  // namespace conduit::normalize
