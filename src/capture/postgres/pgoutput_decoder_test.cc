#include "src/capture/postgres/pgoutput_decoder.h"

#include <string>
#include <vector>

#include "core/byte_reader.h"
#include "core/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "src/capture/postgres/testing/pgoutput_builder.h"

namespace phony::pg {
namespace {

using ::phony::testing::StatusIs;
using ::testing::HasSubstr;

using ::phony::pg::testing::Msg;

constexpr int64_t kPgTs = 754833600000000;  // 2023-12-01 12:00:00 UTC in PG epoch µs
constexpr int64_t kUnixTs = kPgTs + kPgEpochOffsetMicros;

DecodeContext V1() { return {.protocol_version = 1}; }
DecodeContext V4() { return {.protocol_version = 4}; }
DecodeContext InStream() { return {.protocol_version = 4, .in_stream = true}; }

template <typename T>
T DecodeAs(const std::string& bytes, const DecodeContext& ctx) {
  auto m = DecodePgoutputMessage(bytes, ctx);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok() || !std::holds_alternative<T>(*m)) {
    ADD_FAILURE() << "wrong message type";
    return T{};
  }
  return std::get<T>(*m);
}

Msg Begin() { return std::move(Msg('B').U64(0x16B374D848ull).U64(kPgTs).U32(747)); }
Msg Commit() { return std::move(Msg('C').U8(0).U64(0x16B374D848ull).U64(0x16B374D878ull).U64(kPgTs)); }
Msg Relation() {
  return std::move(Msg('R').U32(16385).Str("public").Str("users").U8('d').U16(3)
      .U8(1).Str("id").U32(20).U32(0xFFFFFFFF)
      .U8(0).Str("email").U32(1043).U32(68)
      .U8(0).Str("bio").U32(25).U32(0xFFFFFFFF));
}
Msg Insert() {
  return std::move(Msg('I').U32(16385).U8('N').U16(4).Col('t', "42").Col('n').Col('u').Col('b', std::string("\x00\x01", 2)));
}

std::vector<std::pair<std::string, DecodeContext>> AllSamples() {
  return {
      {Begin().str(), V1()},
      {Commit().str(), V1()},
      {Msg('O').U64(0x100).Str("node_a").str(), V1()},
      {Relation().str(), V1()},
      {Msg('Y').U32(16400).Str("public").Str("mood").str(), V1()},
      {Insert().str(), V1()},
      {Msg('U').U32(16385).U8('K').U16(1).Col('t', "1").U8('N').U16(2).Col('t', "2").Col('u').str(), V1()},
      {Msg('U').U32(16385).U8('N').U16(1).Col('t', "1").str(), V1()},
      {Msg('D').U32(16385).U8('O').U16(2).Col('t', "1").Col('n').str(), V1()},
      {Msg('T').U32(2).U8(3).U32(16385).U32(16390).str(), V1()},
      {Msg('M').U8(1).U64(0x200).Str("phony").U32(5).Bytes("hello").str(), V1()},
      {Msg('S').U32(900).U8(1).str(), V4()},
      {Msg('I').U32(900).U32(16385).U8('N').U16(1).Col('t', "x").str(), InStream()},
      {Msg('E').str(), InStream()},
      {Msg('c').U32(900).U8(0).U64(0x300).U64(0x330).U64(kPgTs).str(), V4()},
      {Msg('A').U32(900).U32(901).str(), V4()},
      {Msg('A').U32(900).U32(900).U64(0x400).U64(kPgTs).str(),
       DecodeContext{.protocol_version = 4, .parallel_streaming = true}},
      {Msg('b').U64(0x500).U64(0x530).U64(kPgTs).U32(77).Str("gid-1").str(), V4()},
      {Msg('P').U8(0).U64(0x500).U64(0x530).U64(kPgTs).U32(77).Str("gid-1").str(), V4()},
      {Msg('K').U8(0).U64(0x600).U64(0x630).U64(kPgTs).U32(77).Str("gid-1").str(), V4()},
      {Msg('r').U8(0).U64(0x530).U64(0x700).U64(kPgTs).U64(kPgTs + 1).U32(77).Str("gid-1").str(), V4()},
      {Msg('p').U8(0).U64(0x500).U64(0x530).U64(kPgTs).U32(77).Str("gid-2").str(), V4()},
  };
}

TEST(PgoutputDecoderTest, BeginAndCommit) {
  auto b = DecodeAs<PgBegin>(Begin().str(), V1());
  EXPECT_EQ(b.final_lsn.ToString(), "16/B374D848");
  EXPECT_EQ(b.commit_ts_us, kUnixTs);
  EXPECT_EQ(b.xid, 747u);
  auto c = DecodeAs<PgCommit>(Commit().str(), V1());
  EXPECT_EQ(c.commit_lsn.ToString(), "16/B374D848");
  EXPECT_EQ(c.end_lsn.ToString(), "16/B374D878");
  EXPECT_EQ(c.commit_ts_us, kUnixTs);
}

TEST(PgoutputDecoderTest, RelationWithKeyFlagsAndTypmods) {
  // Decoded messages point into their input: keep it alive.
  const std::string bytes = Relation().str();
  auto r = DecodeAs<PgRelation>(bytes, V1());
  EXPECT_FALSE(r.xid.has_value());
  EXPECT_EQ(r.oid, 16385u);
  EXPECT_EQ(r.nspname, "public");
  EXPECT_EQ(r.relname, "users");
  EXPECT_EQ(r.replica_identity, 'd');
  ASSERT_EQ(r.columns.size(), 3u);
  EXPECT_TRUE(r.columns[0].is_key);
  EXPECT_EQ(r.columns[0].name, "id");
  EXPECT_EQ(r.columns[0].type_oid, 20u);
  EXPECT_EQ(r.columns[0].type_modifier, -1);
  EXPECT_FALSE(r.columns[1].is_key);
  EXPECT_EQ(r.columns[1].type_modifier, 68);
  // pg_catalog types are sent with an empty namespace.
  const std::string type_bytes = Msg('Y').U32(16400).Str("").Str("mood").str();
  auto t = DecodeAs<PgType>(type_bytes, V1());
  EXPECT_EQ(t.nspname, "");
  EXPECT_EQ(t.name, "mood");
}

TEST(PgoutputDecoderTest, InsertTupleKinds) {
  const std::string bytes = Insert().str();
  auto i = DecodeAs<PgInsert>(bytes, V1());
  EXPECT_EQ(i.relation_oid, 16385u);
  ASSERT_EQ(i.new_tuple.size(), 4u);
  EXPECT_EQ(i.new_tuple[0].kind, TupleColumnKind::kText);
  EXPECT_EQ(i.new_tuple[0].data, "42");
  EXPECT_EQ(i.new_tuple[1].kind, TupleColumnKind::kNull);
  EXPECT_EQ(i.new_tuple[2].kind, TupleColumnKind::kUnchanged);
  EXPECT_EQ(i.new_tuple[3].kind, TupleColumnKind::kBinary);
  EXPECT_EQ(i.new_tuple[3].data, std::string("\x00\x01", 2));
}

TEST(PgoutputDecoderTest, UpdateWithAndWithoutOldTuple) {
  auto samples = AllSamples();
  auto with_key = DecodeAs<PgUpdate>(samples[6].first, V1());
  EXPECT_EQ(with_key.old_kind, 'K');
  ASSERT_EQ(with_key.old_tuple.size(), 1u);
  EXPECT_EQ(with_key.old_tuple[0].data, "1");
  ASSERT_EQ(with_key.new_tuple.size(), 2u);
  EXPECT_EQ(with_key.new_tuple[1].kind, TupleColumnKind::kUnchanged);
  auto plain = DecodeAs<PgUpdate>(samples[7].first, V1());
  EXPECT_EQ(plain.old_kind, 0);
  EXPECT_TRUE(plain.old_tuple.empty());
  const std::string full_bytes =
      Msg('U').U32(1).U8('O').U16(1).Col('t', "a").U8('N').U16(1).Col('t', "b").str();
  auto full = DecodeAs<PgUpdate>(full_bytes, V1());
  EXPECT_EQ(full.old_kind, 'O');
}

TEST(PgoutputDecoderTest, DeleteTruncateMessage) {
  auto samples = AllSamples();
  auto d = DecodeAs<PgDelete>(samples[8].first, V1());
  EXPECT_EQ(d.old_kind, 'O');
  EXPECT_EQ(d.old_tuple.size(), 2u);
  auto t = DecodeAs<PgTruncate>(samples[9].first, V1());
  EXPECT_EQ(t.options, kTruncateCascade | kTruncateRestartIdentity);
  EXPECT_EQ(t.relation_oids, (std::vector<uint32_t>{16385, 16390}));
  auto m = DecodeAs<PgLogicalMessage>(samples[10].first, V1());
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.prefix, "phony");
  EXPECT_EQ(m.content, "hello");
}

TEST(PgoutputDecoderTest, StreamedChangesCarryTheXid) {
  auto s = DecodeAs<PgStreamStart>(Msg('S').U32(900).U8(1).str(), V4());
  EXPECT_EQ(s.xid, 900u);
  EXPECT_TRUE(s.first_segment);
  const auto samples = AllSamples();
  auto i = DecodeAs<PgInsert>(samples[12].first, InStream());
  EXPECT_EQ(i.xid, 900u);
  EXPECT_EQ(i.relation_oid, 16385u);
  // The same bytes outside a stream block mean something else: the xid is
  // read as the relation OID and the tuple marker is wrong.
  EXPECT_THAT(DecodePgoutputMessage(AllSamples()[12].first, V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("expected new tuple")));
  const std::string msg_bytes = Msg('M').U32(900).U8(0).U64(0x10).Str("p").U32(0).str();
  auto m = DecodeAs<PgLogicalMessage>(msg_bytes, InStream());
  EXPECT_EQ(m.xid, 900u);
  EXPECT_FALSE(m.transactional);
  auto c = DecodeAs<PgStreamCommit>(samples[14].first, V4());
  EXPECT_EQ(c.xid, 900u);
  EXPECT_EQ(c.end_lsn, Lsn(0x330));
}

TEST(PgoutputDecoderTest, StreamAbortParallelFields) {
  auto plain = DecodeAs<PgStreamAbort>(AllSamples()[15].first, V4());
  EXPECT_EQ(plain.subxid, 901u);
  EXPECT_FALSE(plain.abort_lsn.has_value());
  auto parallel = DecodeAs<PgStreamAbort>(AllSamples()[16].first, AllSamples()[16].second);
  EXPECT_EQ(parallel.abort_lsn, Lsn(0x400));
  EXPECT_EQ(parallel.abort_ts_us, kUnixTs);
  // Without parallel streaming negotiated, the extra fields are trailing bytes.
  EXPECT_THAT(DecodePgoutputMessage(AllSamples()[16].first, V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("16 trailing bytes")));
}

TEST(PgoutputDecoderTest, TwoPhaseMessages) {
  auto samples = AllSamples();
  auto bp = DecodeAs<PgBeginPrepare>(samples[17].first, V4());
  EXPECT_EQ(bp.gid, "gid-1");
  EXPECT_EQ(bp.xid, 77u);
  auto p = DecodeAs<PgPrepare>(samples[18].first, V4());
  EXPECT_FALSE(p.streamed);
  EXPECT_EQ(p.end_lsn, Lsn(0x530));
  auto cp = DecodeAs<PgCommitPrepared>(samples[19].first, V4());
  EXPECT_EQ(cp.commit_lsn, Lsn(0x600));
  auto rp = DecodeAs<PgRollbackPrepared>(samples[20].first, V4());
  EXPECT_EQ(rp.rollback_ts_us, kUnixTs + 1);
  auto sp = DecodeAs<PgPrepare>(samples[21].first, V4());
  EXPECT_TRUE(sp.streamed);
  EXPECT_EQ(sp.gid, "gid-2");
}

// Every strict prefix of every message is a clean kDataLoss naming the message.
TEST(PgoutputDecoderTest, EveryPrefixIsDataLoss) {
  for (const auto& [bytes, ctx] : AllSamples()) {
    ASSERT_OK(DecodePgoutputMessage(bytes, ctx).status()) << PgMessageName(bytes[0]);
    for (size_t len = 0; len < bytes.size(); ++len) {
      auto m = DecodePgoutputMessage(std::string_view(bytes.data(), len), ctx);
      ASSERT_FALSE(m.ok()) << PgMessageName(bytes[0]) << " prefix " << len;
      EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << m.status();
      if (len > 0 && bytes[0] != 'E') {
        EXPECT_THAT(std::string(m.status().message()), HasSubstr(PgMessageName(bytes[0])));
      }
    }
  }
}

TEST(PgoutputDecoderTest, TrailingBytesAreDataLoss) {
  for (const auto& [bytes, ctx] : AllSamples()) {
    const std::string longer = bytes + "x";
    EXPECT_THAT(DecodePgoutputMessage(longer, ctx).status(),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("1 trailing bytes")))
        << PgMessageName(bytes[0]);
  }
}

TEST(PgoutputDecoderTest, UnknownMessageType) {
  EXPECT_THAT(DecodePgoutputMessage("Zabc", V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown message type 'Z'")));
  EXPECT_THAT(DecodePgoutputMessage("", V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("empty message")));
}

TEST(PgoutputDecoderTest, BadFlagsAndMarkers) {
  EXPECT_THAT(DecodePgoutputMessage(Msg('C').U8(1).U64(1).U64(2).U64(0).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Commit: unrecognized flags 1 at offset 2")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('I').U32(1).U8('X').str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("expected new tuple")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('U').U32(1).U8('K').U16(0).U8('K').str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("expected action 'N', got 75")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('D').U32(1).U8('N').U16(0).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("expected action 'O' or 'K'")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('I').U32(1).U8('N').U16(1).U8('x').str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unrecognized data representation type 'x'")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('T').U32(1).U8(4).U32(1).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unrecognized truncate flags 4")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('R').U32(1).Str("s").Str("t").U8('x').U16(0).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown replica identity 'x'")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('R').U32(1).Str("s").Str("t").U8('d').U16(1).U8(2).Str("c").U32(1).U32(0).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unrecognized column flags 2")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('M').U8(2).U64(1).Str("p").U32(0).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unrecognized message flags 2")));
}

TEST(PgoutputDecoderTest, InvalidLsnsAndXids) {
  EXPECT_THAT(DecodePgoutputMessage(Msg('B').U64(0).U64(0).U32(1).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("final_lsn is not set")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('C').U8(0).U64(0x20).U64(0x10).U64(0).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("end_lsn before commit_lsn")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('S').U32(0).U8(1).str(), V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("invalid transaction ID 0")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('I').U32(0).U32(1).U8('N').U16(0).str(), InStream()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("invalid transaction ID 0")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('K').U8(0).U64(0).U64(1).U64(0).U32(1).Str("g").str(), V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("commit_lsn is not set")));
}

TEST(PgoutputDecoderTest, StreamMessagesRespectProtocolAndNesting) {
  EXPECT_THAT(DecodePgoutputMessage(Msg('S').U32(5).U8(1).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("protocol version 1")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('S').U32(5).U8(1).str(), InStream()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("inside a streamed block")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('E').str(), V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("outside a streamed block")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('S').U32(5).U8(2).str(), V4()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad first-segment flag 2")));
}

TEST(PgoutputDecoderTest, HugeCountsAreRejectedBeforeAllocating) {
  EXPECT_THAT(DecodePgoutputMessage(Msg('I').U32(1).U8('N').U16(60000).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tuple column count 60000 exceeds the maximum 1664")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('R').U32(1).Str("s").Str("t").U8('d').U16(2000).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("relation column count 2000")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('T').U32(1000000).U8(0).U32(1).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lists 1000000 relations but only 4 bytes remain")));
  EXPECT_THAT(DecodePgoutputMessage(Msg('I').U32(1).U8('N').U16(1).U8('t').U32(0xFFFFFFFF).str(), V1()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("wanted 4294967295 bytes, 0 left")));
}

}  // namespace
}  // namespace phony::pg
