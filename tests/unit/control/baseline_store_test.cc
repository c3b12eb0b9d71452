// The SQLite baseline store on a temp file: round trip, merge semantics and
// what Merge reports as new, restart survival, prune, load filters,
// acceptance and stability, and refusal of foreign files.
#include "baseline/baseline_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace conduit::baseline {
namespace {

constexpr uint64_t kT0 = 1700000000ull * 1000000000ull;  // 2023-11-14T22:13:20Z
constexpr uint64_t kSec = 1000000000ull;
constexpr uint64_t kDay = 86400 * kSec;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "baseline_store_test.XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::array<uint8_t, 16> V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

ObservedTuple Op(uint8_t wire, uint8_t client, uint16_t function, uint64_t first, uint64_t last,
                 std::vector<observe::AddressRange> ranges = {}, uint64_t count = 3) {
  ObservedTuple t;
  t.key.wire = wire;
  t.key.client = V4(198, 18, 0, client);
  t.key.server = V4(198, 18, 0, 200);
  t.key.ip_version = 4;
  t.key.l4_proto = 6;
  t.key.protocol = ics::ProtocolOf(ics::OpKind::kModbus);
  t.key.kind = ics::OpKind::kModbus;
  t.key.direction = ics::Direction::kRequest;
  t.key.has_unit = 1;
  t.key.unit = 70000;  // wider than 16 bits: the column keeps all of it
  t.key.function = function;
  t.key.server_port = 502;
  t.stats.count = count;
  t.stats.first_seen_ns = first;
  t.stats.last_seen_ns = last;
  for (auto r : ranges) observe::AddRange(t.stats, r);
  return t;
}

void ExpectSame(const ObservedTuple& a, const ObservedTuple& b) {
  EXPECT_TRUE(a.key == b.key);
  EXPECT_EQ(a.stats.count, b.stats.count);
  EXPECT_EQ(a.stats.first_seen_ns, b.stats.first_seen_ns);
  EXPECT_EQ(a.stats.last_seen_ns, b.stats.last_seen_ns);
  ASSERT_EQ(a.stats.range_count, b.stats.range_count);
  for (int i = 0; i < a.stats.range_count; ++i) {
    EXPECT_EQ(a.stats.ranges[i].lo, b.stats.ranges[i].lo);
    EXPECT_EQ(a.stats.ranges[i].hi, b.stats.ranges[i].hi);
  }
}

std::unique_ptr<BaselineStore> MustOpen(const std::string& path) {
  auto store = BaselineStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(BaselineStore, RoundTrip) {
  TempDir dir;
  auto store = MustOpen(dir / "baseline.sqlite");
  ASSERT_NE(store, nullptr);
  std::vector<ObservedTuple> in = {
      Op(1, 10, 3, kT0, kT0 + kSec, {{0, 9}, {1000, 1010}, {60000, 60000}}),
      Op(1, 11, 16, kT0 + 5, kT0 + 7, {}, 1),
  };
  // A non-ICS tuple: kind none, the zero fields too.
  ObservedTuple tcp;
  tcp.key.wire = 1;
  tcp.key.client = V4(10, 0, 0, 1);
  tcp.key.server = V4(10, 0, 0, 2);
  tcp.key.ip_version = 4;
  tcp.key.l4_proto = 6;
  tcp.key.server_port = 22;
  tcp.stats = {.count = 9, .first_seen_ns = kT0, .last_seen_ns = kT0 + 9};
  in.push_back(tcp);

  auto fresh = store->Merge(in);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->size(), 3u);

  auto out = store->Load(std::nullopt);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 3u);
  // Ordered by client: 10.0.0.1 before 198.18.0.10 before 198.18.0.11.
  ExpectSame((*out)[0], tcp);
  ExpectSame((*out)[1], in[0]);
  ExpectSame((*out)[2], in[1]);
  EXPECT_EQ((*out)[1].stats.range_count, 3);
}

TEST(BaselineStore, MergeSameKeyAddsAndIsNotNew) {
  TempDir dir;
  auto store = MustOpen(dir / "baseline.sqlite");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Merge({Op(1, 10, 3, kT0 + 10, kT0 + 20, {{0, 9}}, 3)}).ok());

  auto again = store->Merge({Op(1, 10, 3, kT0, kT0 + 15, {{12, 30}, {5000, 5001}}, 4)});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->empty());

  auto out = store->Load(1);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  const observe::TupleStats& s = (*out)[0].stats;
  EXPECT_EQ(s.count, 7u);
  EXPECT_EQ(s.first_seen_ns, kT0);       // widened back
  EXPECT_EQ(s.last_seen_ns, kT0 + 20);   // kept the later
  ASSERT_EQ(s.range_count, 2);
  EXPECT_EQ(s.ranges[0].lo, 0u);         // 0-9 and 12-30 coalesce
  EXPECT_EQ(s.ranges[0].hi, 30u);
  EXPECT_EQ(s.ranges[1].lo, 5000u);
  EXPECT_EQ(s.ranges[1].hi, 5001u);
}

TEST(BaselineStore, NewKeysAreReportedOnceInInputOrder) {
  TempDir dir;
  auto store = MustOpen(dir / "baseline.sqlite");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Merge({Op(1, 10, 3, kT0, kT0)}).ok());

  // 16 is new; 3 is known; the second 16 was inserted by the first.
  auto fresh = store->Merge({Op(1, 10, 16, kT0, kT0, {}, 1), Op(1, 10, 3, kT0, kT0),
                             Op(1, 10, 16, kT0, kT0 + 1, {}, 2), Op(2, 10, 3, kT0, kT0)});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_EQ(fresh->size(), 2u);
  EXPECT_EQ((*fresh)[0].key.function, 16);
  EXPECT_EQ((*fresh)[0].key.wire, 1);
  EXPECT_EQ((*fresh)[1].key.wire, 2);  // another wire: another tuple

  auto out = store->Load(1);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[1].key.function, 16);
  EXPECT_EQ((*out)[1].stats.count, 3u);  // both copies folded
}

TEST(BaselineStore, SurvivesReopen) {
  TempDir dir;
  const std::string path = dir / "baseline.sqlite";
  ObservedTuple t = Op(3, 10, 3, kT0, kT0 + kSec, {{100, 120}});
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Merge({t}).ok());
    ASSERT_TRUE(store->Accept(3, kT0 + 2 * kSec).ok());
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto out = store->Load(3);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  ExpectSame((*out)[0], t);
  auto sum = store->Summary(3);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->accepted_at_ns, kT0 + 2 * kSec);
  // Known after the restart: not new again.
  auto fresh = store->Merge({t});
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->empty());
}

TEST(BaselineStore, PruneRemovesOnlyOld) {
  TempDir dir;
  auto store = MustOpen(dir / "baseline.sqlite");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Merge({Op(1, 10, 3, kT0, kT0 + 10), Op(1, 11, 3, kT0, kT0 + 20),
                            Op(1, 12, 3, kT0, kT0 + 30)})
                  .ok());
  auto pruned = store->Prune(kT0 + 20);  // strictly before the cutoff goes
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1u);
  auto out = store->Load(std::nullopt);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].stats.last_seen_ns, kT0 + 20);
  EXPECT_EQ((*out)[1].stats.last_seen_ns, kT0 + 30);
  pruned = store->Prune(kT0);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 0u);
}

TEST(BaselineStore, LoadFiltersByWireAndSince) {
  TempDir dir;
  auto store = MustOpen(dir / "baseline.sqlite");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Merge({Op(1, 10, 3, kT0, kT0 + 10), Op(1, 11, 3, kT0, kT0 + 30),
                            Op(2, 12, 3, kT0, kT0 + 30)})
                  .ok());
  auto all = store->Load(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto wire1 = store->Load(1);
  ASSERT_TRUE(wire1.ok());
  ASSERT_EQ(wire1->size(), 2u);
  for (const auto& t : *wire1) EXPECT_EQ(t.key.wire, 1);
  auto recent1 = store->Load(1, kT0 + 30);  // at the bound is included
  ASSERT_TRUE(recent1.ok());
  ASSERT_EQ(recent1->size(), 1u);
  EXPECT_EQ((*recent1)[0].key.client, V4(198, 18, 0, 11));
  auto recent_all = store->Load(std::nullopt, kT0 + 11);
  ASSERT_TRUE(recent_all.ok());
  EXPECT_EQ(recent_all->size(), 2u);
  auto none = store->Load(7);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(BaselineStore, AcceptAndSummary) {
  TempDir dir;
  auto store = MustOpen(dir / "baseline.sqlite");
  ASSERT_NE(store, nullptr);
  auto empty = store->Summary(1);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->tuples, 0u);
  EXPECT_EQ(empty->first_seen_ns, 0u);
  EXPECT_EQ(empty->newest_tuple_ns, 0u);
  EXPECT_EQ(empty->accepted_at_ns, 0u);

  ASSERT_TRUE(store->Merge({Op(1, 10, 3, kT0 + 5, kT0 + 100), Op(1, 11, 3, kT0 + 50, kT0 + 60),
                            Op(2, 12, 3, kT0, kT0 + 70)})
                  .ok());
  ASSERT_TRUE(store->Accept(1, kT0 + 1000).ok());
  ASSERT_TRUE(store->Accept(1, kT0 + 2000).ok());  // moves the mark
  auto sum = store->Summary(1);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(sum->wire, 1u);
  EXPECT_EQ(sum->tuples, 2u);
  EXPECT_EQ(sum->first_seen_ns, kT0 + 5);
  EXPECT_EQ(sum->newest_tuple_ns, kT0 + 50);
  EXPECT_EQ(sum->accepted_at_ns, kT0 + 2000);
  auto other = store->Summary(2);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->tuples, 1u);
  EXPECT_EQ(other->accepted_at_ns, 0u);
}

TEST(BaselineStore, StabilityBoundaries) {
  const uint64_t week = 7 * kDay;
  WireSummary s{.wire = 1, .tuples = 4, .first_seen_ns = kT0, .newest_tuple_ns = kT0};
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0, week), Stability::kLearning);
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 + kDay - 1, week), Stability::kLearning);
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 + kDay, week), Stability::kStabilizing);
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 + week - 1, week), Stability::kStabilizing);
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 + week, week), Stability::kStable);
  // A clock behind the newest tuple is not "long ago".
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 - kDay, week), Stability::kLearning);
  // stable_after under a day: stable wins once reached.
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 + kSec - 1, kSec), Stability::kLearning);
  EXPECT_EQ(BaselineStore::StabilityOf(s, kT0 + kSec, kSec), Stability::kStable);
  // No tuple: learning however long.
  WireSummary none{.wire = 1};
  EXPECT_EQ(BaselineStore::StabilityOf(none, kT0 + 100 * week, week), Stability::kLearning);

  EXPECT_EQ(StabilityName(Stability::kLearning), "learning");
  EXPECT_EQ(StabilityName(Stability::kStabilizing), "stabilizing");
  EXPECT_EQ(StabilityName(Stability::kStable), "stable");
}

TEST(BaselineStore, RefusesNonDatabase) {
  TempDir dir;
  const std::string path = dir / "garbage.sqlite";
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 512; ++i) f << "this is not a database, just text. ";
  }
  auto store = BaselineStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status();
  EXPECT_NE(store.status().message().find("not a baseline store"), std::string::npos)
      << store.status();
}

TEST(BaselineStore, RefusesForeignDatabase) {
  TempDir dir;
  const std::string path = dir / "other.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE stuff (x INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = BaselineStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status();
}

TEST(BaselineStore, RefusesOtherSchemaVersion) {
  TempDir dir;
  const std::string path = dir / "baseline.sqlite";
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Merge({Op(1, 10, 3, kT0, kT0)}).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto store = BaselineStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status();
  EXPECT_NE(store.status().message().find("version 99"), std::string::npos) << store.status();
}

}  // namespace
}  // namespace conduit::baseline
