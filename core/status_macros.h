// Status propagation macros. Debian 12's Abseil (20220623) has neither
// ABSL_RETURN_IF_ERROR nor ASSIGN_OR_RETURN, so the project carries its own.
// Header-only, no state, usable from any thread.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PHONY_STATUS_CONCAT_INNER(a, b) a##b
#define PHONY_STATUS_CONCAT(a, b) PHONY_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define PHONY_RETURN_IF_ERROR(expr)                       \
  do {                                                    \
    ::absl::Status phony_status_ = (expr);                \
    if (!phony_status_.ok()) return phony_status_;        \
  } while (0)

// `PHONY_ASSIGN_OR_RETURN(auto x, Foo());` declares (or assigns) `x` from the
// value of a StatusOr, or returns its status from the enclosing function.
#define PHONY_ASSIGN_OR_RETURN(lhs, rexpr) \
  PHONY_ASSIGN_OR_RETURN_IMPL(PHONY_STATUS_CONCAT(phony_statusor_, __LINE__), lhs, rexpr)

#define PHONY_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
