// GoogleTest matchers for absl::Status and absl::StatusOr, which Debian 12's
// Abseil does not ship. Test-only; header-only.
//
//   EXPECT_THAT(s, IsOk());
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("offset 4")));
//   ASSERT_OK_AND_ASSIGN(auto v, ParseThing());
#pragma once

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace phony::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::phony::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has code ") + absl::StatusCodeToString(code)) {
  const absl::Status& s = ::phony::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  if (s.code() != code) return false;
  return ::testing::Matches(message_matcher)(std::string(s.message()));
}

// StatusIs(code): any message.
inline auto StatusIs(absl::StatusCode code) { return StatusIs(code, ::testing::_); }

}  // namespace phony::testing

#define PHONY_TEST_CONCAT_INNER(a, b) a##b
#define PHONY_TEST_CONCAT(a, b) PHONY_TEST_CONCAT_INNER(a, b)

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::phony::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::phony::testing::IsOk())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL(PHONY_TEST_CONCAT(phony_test_so_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL(so, lhs, rexpr)             \
  auto so = (rexpr);                                          \
  ASSERT_TRUE(so.ok()) << "status is " << so.status().ToString(); \
  lhs = std::move(so).value()
