#include "core/event_codec.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/testing/sample_events.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace phony {
namespace {

using ::phony::testing::EveryKind;
using ::phony::testing::SampleChange;
using ::phony::testing::SampleEvents;
using ::phony::testing::SampleSchema;
using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

TEST(EventCodecTest, EveryValueKindRoundTripsExactly) {
  for (const Value& v : EveryKind()) {
    std::string buf;
    EncodeValue(v, &buf);
    ByteReader r(buf);
    ASSERT_OK_AND_ASSIGN(Value back, DecodeValue(r));
    EXPECT_EQ(back, v) << v.DebugString();
    EXPECT_EQ(back.DebugString(), v.DebugString());
    EXPECT_OK(r.ExpectEnd());
    // Byte-for-byte stable re-encoding.
    std::string again;
    EncodeValue(back, &again);
    EXPECT_EQ(again, buf);
  }
  // NaN payload bits survive.
  std::string buf;
  EncodeValue(Value::Double(std::nan("0x7")), &buf);
  ByteReader r(buf);
  ASSERT_OK_AND_ASSIGN(Value back, DecodeValue(r));
  EXPECT_EQ(back, Value::Double(std::nan("0x7")));
}

TEST(EventCodecTest, EventsRoundTrip) {
  for (const Event& e : SampleEvents()) {
    std::string buf;
    EncodeEvent(e, &buf);
    ASSERT_OK_AND_ASSIGN(Event back, DecodeEvent(buf));
    EXPECT_EQ(back, e) << DescribeEvent(e);
    std::string again;
    EncodeEvent(back, &again);
    EXPECT_EQ(again, buf);
  }
}

// Every strict prefix of every encoded event fails cleanly with kDataLoss.
TEST(EventCodecTest, EveryPrefixIsDataLoss) {
  for (const Event& e : SampleEvents()) {
    std::string buf;
    EncodeEvent(e, &buf);
    for (size_t len = 0; len < buf.size(); ++len) {
      auto r = DecodeEvent(std::string_view(buf.data(), len));
      ASSERT_FALSE(r.ok()) << DescribeEvent(e) << " prefix " << len;
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
      EXPECT_THAT(std::string(r.status().message()), HasSubstr("internal event"));
    }
  }
}

TEST(EventCodecTest, RejectsTrailingBytes) {
  std::string buf;
  EncodeEvent(SampleEvents()[0], &buf);
  buf.push_back('\0');
  EXPECT_THAT(DecodeEvent(buf).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("1 trailing bytes")));
}

TEST(EventCodecTest, RejectsUnknownFormatTypeKindAndOp) {
  std::string buf;
  EncodeEvent(SampleChange(), &buf);
  std::string bad = buf;
  bad[0] = 9;
  EXPECT_THAT(DecodeEvent(bad).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unsupported event format 9")));
  bad = buf;
  bad[1] = 77;
  EXPECT_THAT(DecodeEvent(bad).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown event type 77")));
  bad = buf;
  bad[2] = 9;  // position kind
  EXPECT_THAT(DecodeEvent(bad).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown position kind 9")));

  ChangeEvent c;
  c.after = Row{Value::Int64(1)};
  std::string one;
  EncodeEvent(c, &one);
  // The value kind tag is the second-to-last byte (int64 1 encodes as one byte).
  std::string bad_kind = one;
  bad_kind[bad_kind.size() - 2] = 99;
  EXPECT_THAT(DecodeEvent(bad_kind).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown value kind 99")));
  // op is right after format, type and the 1-byte kNone position.
  std::string bad_op = one;
  bad_op[3] = 0;
  EXPECT_THAT(DecodeEvent(bad_op).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown change op 0")));
}

TEST(EventCodecTest, RejectsHugeCountsBeforeAllocating) {
  // format, change, kNone position, op, flags, empty table id, then a huge
  // truncated-table count.
  std::string buf;
  PutU8(&buf, kEventFormatV1);
  PutU8(&buf, 2);
  PutU8(&buf, 0);
  PutU8(&buf, 1);
  PutU8(&buf, 0);
  for (int i = 0; i < 3; ++i) PutVarint64(&buf, 0);
  PutVarint64(&buf, 1ull << 40);
  EXPECT_THAT(DecodeEvent(buf).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("exceeds the maximum")));
}

}  // namespace
}  // namespace phony
