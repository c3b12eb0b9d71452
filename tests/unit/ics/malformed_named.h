// Every decoder names the flaw behind a kMalformed (PduView::malformed,
// RefusePdu) in its own protocol's vocabulary (ics/malformed.h), never the
// generic invalid_field. The decode helpers of the tests check it on every
// call, so each table row that expects kMalformed checks it too.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string_view>

#include "ics/ics_op.h"

namespace conduit::ics {

inline ::testing::AssertionResult NamesItsFlaw(DecodeStatus status, const PduView& pdu,
                                               std::initializer_list<std::string_view> prefixes) {
  if (status != DecodeStatus::kMalformed) return ::testing::AssertionSuccess();
  const std::string_view name = MalformedReasonName(pdu.malformed);
  for (std::string_view prefix : prefixes) {
    if (name.substr(0, prefix.size()) == prefix) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "kMalformed named \"" << name << "\"";
}

}  // namespace conduit::ics
