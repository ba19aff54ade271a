#include "core/logging.h"

#include <string>

#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace phony {
namespace {

TEST(LoggingTest, JsonEscape) {
  EXPECT_EQ(JsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
}

TEST(LoggingTest, FormatAndLevelValidation) {
  LogFormat f;
  EXPECT_OK(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml", &f).ok());
  EXPECT_FALSE(InitLogging(LogFormat::kText, "loud").ok());
}

TEST(LoggingTest, JsonLinesAreValidJson) {
  ASSERT_OK(InitLogging(LogFormat::kJson, "info"));
  ::testing::internal::CaptureStderr();
  spdlog::info("table {} has \"quotes\"\nand a newline", "public.users");
  spdlog::debug("hidden at info");
  spdlog::default_logger()->flush();
  const std::string out = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.empty());
  ASSERT_EQ(out.back(), '\n');
  const auto line = nlohmann::json::parse(out.substr(0, out.size() - 1));
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["msg"], "table public.users has \"quotes\"\nand a newline");
  EXPECT_TRUE(line.contains("ts"));
  EXPECT_EQ(out.find("hidden"), std::string::npos);
}

}  // namespace
}  // namespace phony
