// The audit trail: the hash chain, verify naming the first altered, removed
// or reordered record, a file that cannot be written, and reopening.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/audit_record.h"
#include "audit/audit_verify.h"

namespace conduit {
namespace {

namespace fs = std::filesystem;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("conduit-audit-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "audit.jsonl").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<AuditLog> Open() {
    auto log = AuditLog::Open(path_, [this](const std::string& line) { mirrored_.push_back(line); });
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }
  void Write(int n) {
    auto log = Open();
    for (int i = 0; i < n; ++i) {
      log->Append({"plant-eng", "ipv4:127.0.0.1:1", "push", "v" + std::to_string(i), "ok", "detail \"quoted\""});
    }
  }
  std::vector<std::string> Lines() {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void Rewrite(const std::vector<std::string>& lines) {
    std::ofstream out(path_, std::ios::trunc);
    for (const std::string& l : lines) out << l << "\n";
  }

  fs::path dir_;
  std::string path_;
  std::vector<std::string> mirrored_;
};

TEST_F(AuditTest, RecordsChainAndVerify) {
  Write(5);
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].rfind("{\"seq\":1,\"ts\":\"", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(std::string("\"prev_hash\":\"") + std::string(kGenesisHash) + "\""), std::string::npos);
  // Each record links to the one before.
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(ParseAuditLink(lines[i])->prev_hash, ParseAuditLink(lines[i - 1])->hash);
  }
  auto v = VerifyAuditFile(path_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 5u);
  EXPECT_EQ(v->head_hash, ParseAuditLink(lines[4])->hash);
  // Every record also went to the mirror (syslog), as an audit event.
  ASSERT_EQ(mirrored_.size(), 5u);
  EXPECT_EQ(mirrored_[2].rfind("{\"event\":\"audit\",\"seq\":3,", 0), 0u) << mirrored_[2];
}

TEST_F(AuditTest, AnAlteredRecordIsNamed) {
  Write(5);
  auto lines = Lines();
  const size_t at = lines[2].find("\"result\":\"ok\"");
  ASSERT_NE(at, std::string::npos);
  lines[2].replace(at, 13, "\"result\":\"no\"");
  Rewrite(lines);
  auto v = VerifyAuditFile(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("line 3 (seq 3): altered"), std::string::npos) << v.status();
}

TEST_F(AuditTest, ARecomputedHashStillBreaksTheNextLink) {
  Write(4);
  auto lines = Lines();
  // Change record 2 and give it a hash that matches its new content.
  std::string body = lines[1].substr(0, lines[1].rfind(",\"hash\":\""));
  const size_t at = body.find("\"target\":\"v1\"");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, 13, "\"target\":\"v9\"");
  lines[1] = body + ",\"hash\":\"" + Sha256Hex(body + "}") + "\"}";
  Rewrite(lines);
  auto v = VerifyAuditFile(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("line 3 (seq 3): altered: its prev_hash"), std::string::npos) << v.status();
}

TEST_F(AuditTest, ARemovedRecordIsNamed) {
  Write(5);
  auto lines = Lines();
  lines.erase(lines.begin() + 1);
  Rewrite(lines);
  auto v = VerifyAuditFile(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("line 2 (seq 3): removed: record seq 2 is missing"), std::string::npos)
      << v.status();
  // The first one too.
  lines = Lines();
  lines.erase(lines.begin());
  Rewrite(lines);
  v = VerifyAuditFile(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("removed: records seq 1-2 are missing"), std::string::npos) << v.status();
}

TEST_F(AuditTest, AReorderedRecordIsNamed) {
  Write(5);
  auto lines = Lines();
  std::swap(lines[2], lines[3]);
  Rewrite(lines);
  auto v = VerifyAuditFile(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("line 3 (seq 4): reordered: seq 3 should come here but is at line 4"),
            std::string::npos)
      << v.status();
}

TEST_F(AuditTest, ATruncatedTailIsCaughtWithTheExpectedHead) {
  Write(3);
  const std::string head = ParseAuditLink(Lines().back())->hash;
  auto lines = Lines();
  lines.pop_back();
  Rewrite(lines);
  EXPECT_TRUE(VerifyAuditFile(path_).ok());  // the chain alone cannot know
  auto v = VerifyAuditFile(path_, head);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("records after it were removed"), std::string::npos) << v.status();
}

TEST_F(AuditTest, ReopeningContinuesTheChain) {
  Write(2);
  Write(3);
  auto v = VerifyAuditFile(path_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 5u);
  EXPECT_EQ(v->last_seq, 5u);
}

TEST_F(AuditTest, AnUnwritableFileKeepsRecordsAndCatchesUp) {
  auto log = Open();
  log->Append({"a", "p", "push", "v1", "ok", ""});
  // The file becomes a directory: every write fails (as root, unlike chmod).
  fs::remove(path_);
  fs::create_directories(path_);
  log->Append({"a", "p", "push", "v2", "ok", ""});
  log->Append({"a", "p", "mode", "gateway", "ok", ""});
  AuditHealth h = log->health();
  EXPECT_NE(h.error.find("audit.jsonl"), std::string::npos) << h.error;
  EXPECT_EQ(h.pending, 2u);
  // The mirror still carried them, and said the file failed.
  bool failed_event = false;
  for (const std::string& m : mirrored_) failed_event |= m.rfind("{\"event\":\"audit_failed\"", 0) == 0;
  EXPECT_TRUE(failed_event);
  EXPECT_EQ(std::count_if(mirrored_.begin(), mirrored_.end(),
                          [](const std::string& m) { return m.rfind("{\"event\":\"audit\"", 0) == 0; }),
            3);
  // The disk is back (a file again, but the first record is gone: a new
  // file, whose chain cannot start at seq 2 -- verify says so).
  fs::remove_all(path_);
  log->Retry();
  h = log->health();
  EXPECT_EQ(h.error, "");
  EXPECT_EQ(h.pending, 0u);
  EXPECT_EQ(h.records, 3u);
  auto v = VerifyAuditFile(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("record seq 1 is missing"), std::string::npos) << v.status();
}

TEST_F(AuditTest, PendingRecordsAreWrittenInOrderWhenTheFileRecovers) {
  auto log = Open();
  log->Append({"a", "p", "push", "v1", "ok", ""});
  // Move the file aside and block the path; then put it back.
  const std::string aside = path_ + ".aside";
  fs::rename(path_, aside);
  fs::create_directories(path_);
  log->Append({"a", "p", "push", "v2", "ok", ""});
  log->Append({"a", "p", "push", "v3", "ok", ""});
  EXPECT_EQ(log->health().pending, 2u);
  fs::remove_all(path_);
  fs::rename(aside, path_);
  log->Append({"a", "p", "push", "v4", "ok", ""});
  EXPECT_EQ(log->health().pending, 0u);
  auto v = VerifyAuditFile(path_);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 4u);
  bool recovered = false;
  for (const std::string& m : mirrored_) recovered |= m.rfind("{\"event\":\"audit_recovered\"", 0) == 0;
  EXPECT_TRUE(recovered);
}

TEST_F(AuditTest, ReadReturnsTheNewestRecords) {
  Write(6);
  auto log = Open();
  auto all = log->Read(0, 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 6u);
  auto since = log->Read(4, 0);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 2u);
  EXPECT_EQ(ParseAuditLink(since->front())->seq, 5u);
  auto newest = log->Read(0, 2);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ(ParseAuditLink(newest->back())->seq, 6u);
}

}  // namespace
}  // namespace conduit
