#include "ics/ics_op.h"

namespace conduit::ics {

std::string_view ProtocolName(Protocol p) {
  switch (p) {
#define X(e, s) \
  case Protocol::e: return s;
    CONDUIT_ICS_PROTOCOLS(X)
#undef X
    default: return "unknown";
  }
}

std::string_view OpKindLabel(OpKind k) {
  switch (k) {
#define X(e, p, s) \
  case OpKind::e: return s;
    CONDUIT_ICS_OP_KINDS(X)
#undef X
    default: return "none";
  }
}

Protocol ProtocolOf(OpKind k) {
  switch (k) {
#define X(e, p, s) \
  case OpKind::e: return Protocol::p;
    CONDUIT_ICS_OP_KINDS(X)
#undef X
    default: return Protocol::kUnknown;
  }
}

}  // namespace conduit::ics
