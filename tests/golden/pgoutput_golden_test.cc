// Replays the pgoutput streams recorded from real servers (see
// tests/golden/pgoutput/README.md): the assembled events must match the
// committed rendering, and every prefix of every recorded message must be a
// clean kDataLoss, never a crash.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/capture/postgres/pgoutput_assembler.h"
#include "tests/golden/golden_render.h"

namespace phony::pg {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing golden file " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Messages(const std::string& bin) {
  std::vector<std::string> out;
  ByteReader r(bin, "golden file");
  while (!r.empty()) {
    auto len = r.ReadU32BE();
    EXPECT_TRUE(len.ok());
    auto bytes = r.ReadBytes(*len);
    EXPECT_TRUE(bytes.ok());
    out.emplace_back(*bytes);
  }
  return out;
}

class PgoutputGoldenTest : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(PgoutputGoldenTest, MatchesExpectedRendering) {
  const std::string base = std::string(PHONY_GOLDEN_DIR) + "/" + GetParam().first;
  const int proto = GetParam().second;
  const auto messages = Messages(Read(base + ".bin"));
  ASSERT_FALSE(messages.empty());
  PgoutputAssembler assembler({.database = "golden", .protocol_version = proto});
  std::vector<Event> events;
  for (const auto& m : messages) ASSERT_OK(assembler.Feed(m, &events).status());
  EXPECT_EQ(phony::testing::RenderGolden(events), Read(base + ".expected"));
}

TEST_P(PgoutputGoldenTest, EveryPrefixOfEveryRecordedMessageIsDataLoss) {
  const std::string base = std::string(PHONY_GOLDEN_DIR) + "/" + GetParam().first;
  const int proto = GetParam().second;
  DecodeContext ctx{.protocol_version = proto};
  size_t checked = 0;
  for (const auto& m : Messages(Read(base + ".bin"))) {
    ASSERT_OK(DecodePgoutputMessage(m, ctx).status());
    // Long runs of identical row messages add nothing: check the first 200
    // prefixes of each and the message's tail end.
    for (size_t len = 0; len < m.size(); ++len) {
      if (len > 200 && len + 16 < m.size()) continue;
      auto r = DecodePgoutputMessage(std::string_view(m.data(), len), ctx);
      ASSERT_FALSE(r.ok()) << "prefix " << len << " of a " << m.size() << "-byte message";
      ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
      ++checked;
    }
    if (m[0] == 'S') ctx.in_stream = true;
    if (m[0] == 'E') ctx.in_stream = false;
  }
  EXPECT_GT(checked, 1000u);
}

INSTANTIATE_TEST_SUITE_P(Recorded, PgoutputGoldenTest,
                         ::testing::Values(std::pair{"basic_pg15_v1", 1}, std::pair{"basic_pg15_v3", 3},
                                           std::pair{"basic_pg17_v4", 4}, std::pair{"streamed_pg15_v2", 2},
                                           std::pair{"streamed_pg17_v4", 4}),
                         [](const auto& param_info) { return std::string(param_info.param.first); });

}  // namespace
}  // namespace phony::pg
