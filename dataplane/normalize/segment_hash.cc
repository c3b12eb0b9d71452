#include "normalize/segment_hash.h"

#include <random>

namespace conduit::normalize {

SegmentHashKey RandomSegmentHashKey() {
  std::random_device rd;
  SegmentHashKey key;
  for (uint64_t& m : key.words) m = uint64_t(rd()) << 32 | rd();
  key.sip = RandomSipKey();
  return key;
}

}  // namespace conduit::normalize
