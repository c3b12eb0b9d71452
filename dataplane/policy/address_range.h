// An inclusive range of protocol addresses (registers, points, objects).
#pragma once

#include <cstdint>

namespace conduit::policy {

struct AddressRange {
  uint32_t first = 0;
  uint32_t last = 0;
};

}  // namespace conduit::policy
