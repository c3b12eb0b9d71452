// SignatureSet (dataplane/classify/signatures.h): compile errors name the
// signature, each signature is reported once per scan, per-worker scratch
// works from concurrent threads, and everything is freed (run under ASan/LSan).
#include "classify/signatures.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace conduit {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// absl::string_view is not std::string_view in this abseil, and gmock prints
// it byte by byte: compare as std::string.
std::string Msg(const absl::Status& s) { return std::string(s.message()); }

std::vector<uint32_t> Ids(const MatchSet& m) { return {m.matches().begin(), m.matches().end()}; }

std::unique_ptr<SignatureSet> MustCreate(const std::vector<SignatureSpec>& specs,
                                         size_t workers = 1) {
  auto set = SignatureSet::Create(specs, workers);
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? std::move(*set) : nullptr;
}

TEST(SignatureSet, MatchesInsidePayload) {
  auto set = MustCreate({{"evil", "DROP TABLE", 7}});
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->pattern_count(), 1u);
  EXPECT_GT(set->database_bytes(), 0u);
  EXPECT_GT(set->scratch_bytes(), 0u);

  MatchSet m;
  EXPECT_EQ(set->Scan(0, Bytes("xx; DROP TABLE users; --"), m), 1u);
  EXPECT_THAT(Ids(m), UnorderedElementsAre(7u));
  EXPECT_EQ(m.overflow, 0u);
}

TEST(SignatureSet, NoMatchOutsidePattern) {
  auto set = MustCreate({{"evil", "DROP TABLE", 7}});
  ASSERT_NE(set, nullptr);
  MatchSet m;
  EXPECT_EQ(set->Scan(0, Bytes("DROP TABL"), m), 0u);
  EXPECT_EQ(set->Scan(0, Bytes("drop table"), m), 0u);  // case-sensitive by default
  EXPECT_EQ(set->Scan(0, Bytes("DROP  TABLE"), m), 0u);
  EXPECT_TRUE(m.empty());
}

TEST(SignatureSet, SeveralSignaturesEachReportedOnce) {
  auto set = MustCreate({
      {"a", "abc", 1},
      {"b", "b.d", 2},           // DOTALL: '.' matches '\n' too
      {"c", "xyz", 3},           // absent
      {"d", "ab", 4},
  });
  ASSERT_NE(set, nullptr);
  MatchSet m;
  // "abc" three times, "ab" three times, "b\nd" once: SINGLEMATCH gives one
  // report per signature.
  EXPECT_EQ(set->Scan(0, Bytes("abc abc abc b\nd"), m), 3u);
  EXPECT_THAT(Ids(m), UnorderedElementsAre(1u, 2u, 4u));
}

TEST(SignatureSet, ScanAppendsAndClearResets) {
  auto one = MustCreate({{"a", "aaa", 1}});
  auto two = MustCreate({{"b", "bbb", 2}});
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  MatchSet m;
  std::string payload = "aaa bbb";
  EXPECT_EQ(one->Scan(0, Bytes(payload), m), 1u);
  EXPECT_EQ(two->Scan(0, Bytes(payload), m), 1u);
  EXPECT_THAT(Ids(m), UnorderedElementsAre(1u, 2u));
  m.Clear();
  EXPECT_TRUE(m.empty());
}

TEST(SignatureSet, BinaryPatternsWithEscapes) {
  // S7comm "PI service P_PROGRAM" shape (DESIGN.md example) and a NUL-heavy
  // Modbus write-multiple-registers header.
  auto set = MustCreate({
      {"s7-pi-program", R"(\x29\x00\x00\x00\x00\x00\x09P_PROGRAM)", 10},
      {"modbus-fc16-unit-ff", R"(\x00\x00\x00[\x00-\xff]\xff\x10)", 11},
  });
  ASSERT_NE(set, nullptr);

  const uint8_t s7[] = {0x32, 0x01, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
                        'P',  '_',  'P',  'R',  'O',  'G',  'R',  'A',  'M',  0xff};
  MatchSet m;
  EXPECT_EQ(set->Scan(0, s7, m), 1u);
  EXPECT_THAT(Ids(m), UnorderedElementsAre(10u));

  const uint8_t modbus[] = {0x12, 0x34, 0x00, 0x00, 0x00, 0x0b, 0xff, 0x10, 0x00, 0x01};
  m.Clear();
  EXPECT_EQ(set->Scan(0, modbus, m), 1u);
  EXPECT_THAT(Ids(m), UnorderedElementsAre(11u));

  // One byte different (0x08 instead of 0x09 length) does not match.
  uint8_t near[sizeof(s7)];
  std::copy(std::begin(s7), std::end(s7), near);
  near[10] = 0x08;
  m.Clear();
  EXPECT_EQ(set->Scan(0, near, m), 0u);
}

TEST(SignatureSet, CaseInsensitiveViaInlineFlag) {
  // No flags field: Hyperscan's inline "(?i)" does it, for the whole pattern
  // or a group.
  auto set = MustCreate({
      {"whole", "(?i)p_program", 1},
      {"group", "stop(?i:cpu)", 2},
  });
  ASSERT_NE(set, nullptr);
  MatchSet m;
  EXPECT_EQ(set->Scan(0, Bytes("..P_PROGRAM.."), m), 1u);
  EXPECT_EQ(set->Scan(0, Bytes("stopCpU"), m), 1u);
  EXPECT_THAT(Ids(m), UnorderedElementsAre(1u, 2u));
  m.Clear();
  EXPECT_EQ(set->Scan(0, Bytes("STOPcpu"), m), 0u);  // "stop" stays case-sensitive
}

TEST(SignatureSet, BadRegexNamesSignatureAndMessage) {
  std::vector<SignatureSpec> specs = {
      {"fine", "abc", 1},
      {"unbalanced", "a(b", 2},
  };
  auto set = SignatureSet::Create(specs, 1);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(set.status()), HasSubstr("signatures[1] \"unbalanced\": "));
  EXPECT_THAT(Msg(set.status()), HasSubstr("parenthesis"));
}

TEST(SignatureSet, BackreferenceRejectedWithCallerIndex) {
  // "zzz" sorts after "aaa", so the Hyperscan index (1) differs from the
  // caller's index (0): the error must give the caller's.
  std::vector<SignatureSpec> specs = {
      {"zzz-backref", R"((a)\1)", 1},
      {"aaa", "abc", 2},
  };
  auto set = SignatureSet::Create(specs, 1);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(set.status()), HasSubstr("signatures[0] \"zzz-backref\": "));
  EXPECT_THAT(Msg(set.status()), HasSubstr("Back-references are unsupported"));
}

TEST(SignatureSet, EmptyMatchingPatternRejected) {
  auto set = SignatureSet::Create(std::vector<SignatureSpec>{{"star", "a*", 1}}, 1);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()), HasSubstr("signatures[0] \"star\": "));
}

TEST(SignatureSet, DuplicateAndEmptyIdsRejected) {
  auto dup = SignatureSet::Create(
      std::vector<SignatureSpec>{{"x", "abc", 1}, {"y", "def", 2}, {"x", "ghi", 3}}, 1);
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(Msg(dup.status()), HasSubstr("duplicate id"));
  EXPECT_THAT(Msg(dup.status()), HasSubstr("\"x\""));

  auto empty = SignatureSet::Create(std::vector<SignatureSpec>{{"", "abc", 1}}, 1);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(Msg(empty.status()), HasSubstr("signatures[0]: empty id"));
}

TEST(SignatureSet, EmbeddedNulRejected) {
  std::string pattern("ab\0cd", 5);
  auto set = SignatureSet::Create(std::vector<SignatureSpec>{{"nul", pattern, 1}}, 1);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(Msg(set.status()), HasSubstr("NUL"));
  EXPECT_FALSE(SignatureSet::CheckPattern(pattern).ok());
}

TEST(SignatureSet, ZeroWorkersRejected) {
  auto set = SignatureSet::Create(std::vector<SignatureSpec>{{"a", "abc", 1}}, 0);
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SignatureSet, CheckPattern) {
  EXPECT_TRUE(SignatureSet::CheckPattern(R"(\x29\x00\x00\x00\x00\x00\x09P_PROGRAM)").ok());
  EXPECT_TRUE(SignatureSet::CheckPattern("(?i)stop cpu").ok());
  absl::Status bad = SignatureSet::CheckPattern("a(b");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(bad.message().empty());
  EXPECT_EQ(SignatureSet::CheckPattern(R"((a)\1)").code(), absl::StatusCode::kInvalidArgument);
}

// A policy's sets share one scratch per worker: it grows to fit each set
// fitted into it, each set still scans with it, from concurrent workers,
// and it outlives whichever set is freed first.
TEST(SignatureSet, SetsOfOnePolicyShareScratch) {
  auto pool = std::make_shared<ScratchPool>(2);
  auto small = SignatureSet::Create(std::vector<SignatureSpec>{{"stop", "PLC_STOP", 1}}, pool);
  ASSERT_TRUE(small.ok()) << small.status();
  const size_t after_small = pool->bytes();
  std::vector<SignatureSpec> many;
  for (int i = 0; i < 200; ++i) {
    many.push_back({absl::StrCat("sig", i), absl::StrCat("tag", i, ":[0-9]{3,6}x\\s+end"), uint32_t(100 + i)});
  }
  auto big = SignatureSet::Create(many, pool);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_GE(pool->bytes(), after_small);
  EXPECT_EQ((*small)->scratch_bytes(), (*big)->scratch_bytes());
  auto alone = MustCreate(many, 1);
  ASSERT_NE(alone, nullptr);
  EXPECT_GE(pool->bytes(), alone->scratch_bytes());

  auto scan_both = [&](size_t worker, int rounds) {
    for (int r = 0; r < rounds; ++r) {
      MatchSet m;
      if ((*small)->Scan(worker, Bytes("..PLC_STOP.."), m) != 1u) return false;
      if ((*big)->Scan(worker, Bytes("tag17:4711x  end"), m) != 1u) return false;
      if (Ids(m) != std::vector<uint32_t>{1u, 117u}) return false;
    }
    return true;
  };
  bool ok0 = false, ok1 = false;
  std::thread t0([&] { ok0 = scan_both(0, 2000); });
  std::thread t1([&] { ok1 = scan_both(1, 2000); });
  t0.join();
  t1.join();
  EXPECT_TRUE(ok0);
  EXPECT_TRUE(ok1);
  EXPECT_EQ((*small)->scan_errors() + (*big)->scan_errors(), 0u);

  small->reset();  // the pool stays while `big` uses it
  MatchSet m;
  EXPECT_EQ((*big)->Scan(1, Bytes("tag3:123x end"), m), 1u);
}

TEST(SignatureSet, EmptySetMatchesNothing) {
  auto set = SignatureSet::Create(std::span<const SignatureSpec>(), 2);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ((*set)->pattern_count(), 0u);
  EXPECT_EQ((*set)->worker_count(), 2u);
  EXPECT_EQ((*set)->database_bytes(), 0u);
  MatchSet m;
  EXPECT_EQ((*set)->Scan(1, Bytes("anything"), m), 0u);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ((*set)->scan_errors(), 0u);
}

TEST(SignatureSet, EmptyPayloadNotScanned) {
  auto set = MustCreate({{"a", "abc", 1}});
  ASSERT_NE(set, nullptr);
  MatchSet m;
  EXPECT_EQ(set->Scan(0, {}, m), 0u);
  EXPECT_EQ(set->scan_errors(), 0u);
}

// Payloads shorter than the shortest possible match skip Hyperscan; the
// bound must be the least over all patterns, or a short match would be
// missed.
TEST(SignatureSet, MinWidthIsTheShortestPossibleMatch) {
  auto set = MustCreate({{"long", "abcdefghij", 1}, {"short", "x[0-9]{2,5}y", 2}});
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->min_width(), 4u);  // "x00y"
  MatchSet m;
  EXPECT_EQ(set->Scan(0, Bytes("x12y"), m), 1u);  // exactly min_width: scanned
  EXPECT_THAT(Ids(m), UnorderedElementsAre(2u));
  m.Clear();
  EXPECT_EQ(set->Scan(0, Bytes("x1y"), m), 0u);  // shorter: not scanned (and no match)
  EXPECT_EQ(set->scan_errors(), 0u);

  // A pattern that can match one byte keeps every non-empty payload scanned.
  auto one = MustCreate({{"long", "abcdefghij", 1}, {"any-digit", "[0-9]", 2}});
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->min_width(), 1u);
  EXPECT_EQ(one->Scan(0, Bytes("7"), m), 1u);
}

TEST(SignatureSet, BadWorkerIndexCountedNotCrashed) {
  auto set = MustCreate({{"a", "abc", 1}}, 2);
  ASSERT_NE(set, nullptr);
  MatchSet m;
  EXPECT_EQ(set->Scan(2, Bytes("abc"), m), 0u);
  EXPECT_EQ(set->scan_errors(), 1u);
  EXPECT_TRUE(m.empty());
}

TEST(SignatureSet, OverflowCounted) {
  std::vector<SignatureSpec> specs;
  for (uint32_t i = 0; i < MatchSet::kCapacity + 4; ++i) {
    specs.push_back({absl::StrCat("s", i), absl::StrCat("k", i, "!"), i});
  }
  auto set = MustCreate(specs);
  ASSERT_NE(set, nullptr);
  std::string payload;
  for (uint32_t i = 0; i < MatchSet::kCapacity + 4; ++i) absl::StrAppend(&payload, "k", i, "! ");
  MatchSet m;
  EXPECT_EQ(set->Scan(0, Bytes(payload), m), MatchSet::kCapacity + 4);
  EXPECT_EQ(m.count, MatchSet::kCapacity);
  EXPECT_EQ(m.overflow, 4u);
}

TEST(SignatureSet, OrderOfSpecsDoesNotChangeResults) {
  std::vector<SignatureSpec> specs = {{"b", "two", 2}, {"a", "one", 1}, {"c", "three", 3}};
  auto forward = MustCreate(specs);
  std::reverse(specs.begin(), specs.end());
  auto backward = MustCreate(specs);
  ASSERT_NE(forward, nullptr);
  ASSERT_NE(backward, nullptr);
  EXPECT_EQ(forward->database_bytes(), backward->database_bytes());
  MatchSet m1, m2;
  forward->Scan(0, Bytes("one three"), m1);
  backward->Scan(0, Bytes("one three"), m2);
  EXPECT_THAT(Ids(m1), UnorderedElementsAre(1u, 3u));
  EXPECT_THAT(Ids(m2), UnorderedElementsAre(1u, 3u));
}

TEST(SignatureSet, ConcurrentScansOnDistinctWorkers) {
  auto set = MustCreate({{"hit", R"(\x01\x02MAGIC)", 42}, {"other", "nothere", 43}}, 2);
  ASSERT_NE(set, nullptr);
  constexpr int kIterations = 20000;
  std::string hit = std::string("xxxxxxxx\x01\x02MAGICyyyyyy", 21);
  std::string miss(256, 'z');
  int matched[2] = {0, 0};
  int wrong[2] = {0, 0};
  auto body = [&](size_t worker) {
    for (int i = 0; i < kIterations; ++i) {
      MatchSet m;
      bool want = (i + worker) % 2 == 0;
      uint32_t n = set->Scan(worker, Bytes(want ? hit : miss), m);
      if (n == 1 && m.count == 1 && m.ids[0] == 42u) {
        ++matched[worker];
      } else if (n != 0 || want) {
        ++wrong[worker];
      }
    }
  };
  std::thread t0(body, 0);
  std::thread t1(body, 1);
  t0.join();
  t1.join();
  EXPECT_EQ(matched[0], kIterations / 2);
  EXPECT_EQ(matched[1], kIterations / 2);
  EXPECT_EQ(wrong[0], 0);
  EXPECT_EQ(wrong[1], 0);
  EXPECT_EQ(set->scan_errors(), 0u);
}

TEST(SignatureSet, ThousandSignaturesCompile) {
  // A mix like a real ICS rule pack: mostly binary literals, a third small
  // regexes. (Bounded digit repeats such as [0-9]{2,6} compile far slower,
  // ~9 ms each; see the benchmark.)
  std::vector<SignatureSpec> specs;
  for (uint32_t i = 0; i < 1000; ++i) {
    char hex[32];
    std::snprintf(hex, sizeof(hex), R"(\x%02x\x%02x)", i & 0xff, (i >> 8) & 0xff);
    std::string pattern = i % 3 == 2 ? absl::StrCat("(?i)op", i, "=.{0,8}end")
                                     : absl::StrCat(hex, "\\x00\\x09CMD_", i, ";");
    specs.push_back({absl::StrCat("sig-", i), pattern, i});
  }
  auto start = std::chrono::steady_clock::now();
  auto set = MustCreate(specs, 4);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->pattern_count(), 1000u);
  std::printf("1000 signatures: compile + 4 scratch %lld ms, database %zu bytes, scratch %zu "
              "bytes\n",
              static_cast<long long>(ms), set->database_bytes(), set->scratch_bytes());

  MatchSet m;
  using std::string_literals::operator""s;
  const std::string payload =
      "..\xe7\x03\x00\x09" "CMD_999; .. \x01\x02\x00\x09" "CMD_1; .. OP500=xxend"s;
  EXPECT_EQ(set->Scan(3, Bytes(payload), m), 2u);
  // Sig 999 (0x3e7) is \xe7\x03\x00\x09CMD_999; "OP500=" is sig 500
  // (500 % 3 == 2, case-insensitive regex). CMD_1 needs \x01\x00 before it.
  EXPECT_THAT(Ids(m), UnorderedElementsAreArray({999u, 500u}));
}

}  // namespace
}  // namespace conduit
