#include "normalize/siphash.h"

#include <random>

namespace conduit::normalize {

SipKey RandomSipKey() {
  std::random_device rd;
  SipKey k;
  k.k0 = uint64_t(rd()) << 32 | rd();
  k.k1 = uint64_t(rd()) << 32 | rd();
  return k;
}

}  // namespace conduit::normalize
