#include "normalize/segment_hash.h"

#include <sys/random.h>

#include <cstddef>
#include <random>

namespace conduit::normalize {
namespace {

// Fills `size` bytes from the kernel's random source: one getrandom call
// for the whole 4 KiB key (std::random_device would make a thousand), which
// matters to everything that builds an Inspector per use (simulate, tests,
// the fuzz targets).
bool FillRandom(void* out, size_t size) {
  auto* p = static_cast<unsigned char*>(out);
  while (size != 0) {
    const ssize_t got = getrandom(p, size, 0);
    if (got <= 0) return false;
    p += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

SegmentHashKey RandomSegmentHashKey() {
  SegmentHashKey key;
  if (!FillRandom(key.words.data(), sizeof(key.words))) {
    std::random_device rd;  // no getrandom (old kernel, seccomp): slower, as good
    for (uint64_t& m : key.words) m = uint64_t(rd()) << 32 | rd();
  }
  key.sip = RandomSipKey();
  return key;
}

}  // namespace conduit::normalize
