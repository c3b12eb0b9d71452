// Early-return helpers for absl::Status / absl::StatusOr (control path only).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CONDUIT_CONCAT_INNER(a, b) a##b
#define CONDUIT_CONCAT(a, b) CONDUIT_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                         \
  do {                                                \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

#define CONDUIT_ASSIGN_OR_RETURN_IMPL(lhs, expr, tmp) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = *std::move(tmp)

// ASSIGN_OR_RETURN(auto x, MaybeX()); or ASSIGN_OR_RETURN(existing, MaybeX());
#define ASSIGN_OR_RETURN(lhs, expr) \
  CONDUIT_ASSIGN_OR_RETURN_IMPL(lhs, expr, CONDUIT_CONCAT(_status_or_, __LINE__))
