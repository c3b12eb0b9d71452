#include "baseline/baseline_store.h"

#include <sqlite3.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace conduit::baseline {
namespace {

// absl::string_view throughout: this abseil build's is not std::string_view,
// and StrCat/StrSplit/SimpleAtoi take only its own.

constexpr absl::string_view kSchemaVersion = "1";
constexpr uint64_t kDayNs = 86400ull * 1000000000ull;

// The whole schema; idempotent, so opening an existing store re-runs it.
// The key is columns, not the raw struct, so a rebuilt binary reads an old
// file; the UNIQUE constraint is also the index Merge's lookup uses.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS tuples (
  wire INTEGER NOT NULL, client BLOB NOT NULL, server BLOB NOT NULL,
  ip_version INTEGER NOT NULL, l4_proto INTEGER NOT NULL, protocol INTEGER NOT NULL,
  kind INTEGER NOT NULL, direction INTEGER NOT NULL, has_unit INTEGER NOT NULL,
  function INTEGER NOT NULL, server_port INTEGER NOT NULL, unit INTEGER NOT NULL,
  count INTEGER NOT NULL, first_seen_ns INTEGER NOT NULL, last_seen_ns INTEGER NOT NULL,
  ranges TEXT NOT NULL,
  UNIQUE (wire, client, server, ip_version, l4_proto, protocol, kind, direction, has_unit,
          function, server_port, unit));
CREATE INDEX IF NOT EXISTS tuples_last_seen ON tuples (last_seen_ns);
CREATE INDEX IF NOT EXISTS tuples_wire ON tuples (wire);
CREATE TABLE IF NOT EXISTS accepted (wire INTEGER PRIMARY KEY, accepted_at_ns INTEGER NOT NULL);
)sql";

// Key columns bind to ?1..?12 and stats to ?13..?16 in every statement, so
// one BindKey/BindStats serves lookup, insert and update.
constexpr const char* kKeyMatch =
    "wire = ?1 AND client = ?2 AND server = ?3 AND ip_version = ?4 AND l4_proto = ?5 AND "
    "protocol = ?6 AND kind = ?7 AND direction = ?8 AND has_unit = ?9 AND function = ?10 AND "
    "server_port = ?11 AND unit = ?12";
constexpr const char* kColumns =
    "wire, client, server, ip_version, l4_proto, protocol, kind, direction, has_unit, "
    "function, server_port, unit, count, first_seen_ns, last_seen_ns, ranges";

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

std::string FileOf(sqlite3* db) {
  const char* f = sqlite3_db_filename(db, "main");
  return f != nullptr && *f != '\0' ? f : "baseline store";
}

absl::Status SqlError(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat(FileOf(db), ": ", what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    return SqlError(db, "prepare");
  }
  return Stmt(s);
}

// SQLite integers are signed 64-bit; wall-clock ns fit until 2262.
int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }
uint64_t U64(sqlite3_stmt* s, int col) { return static_cast<uint64_t>(sqlite3_column_int64(s, col)); }

void BindKey(sqlite3_stmt* s, const observe::TupleKey& k) {
  // SQLITE_STATIC: the key outlives the step that reads it.
  sqlite3_bind_int64(s, 1, k.wire);
  sqlite3_bind_blob(s, 2, k.client.data(), int(k.client.size()), SQLITE_STATIC);
  sqlite3_bind_blob(s, 3, k.server.data(), int(k.server.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, k.ip_version);
  sqlite3_bind_int64(s, 5, k.l4_proto);
  sqlite3_bind_int64(s, 6, static_cast<uint8_t>(k.protocol));
  sqlite3_bind_int64(s, 7, static_cast<uint8_t>(k.kind));
  sqlite3_bind_int64(s, 8, static_cast<uint8_t>(k.direction));
  sqlite3_bind_int64(s, 9, k.has_unit);
  sqlite3_bind_int64(s, 10, k.function);
  sqlite3_bind_int64(s, 11, k.server_port);
  sqlite3_bind_int64(s, 12, k.unit);
}

std::string FormatRanges(const observe::TupleStats& st) {
  std::string out;
  for (int i = 0; i < st.range_count; ++i) {
    absl::StrAppend(&out, i ? "," : "", st.ranges[i].lo, "-", st.ranges[i].hi);
  }
  return out;
}

// The ranges as stored (already coalesced), not re-added via AddRange.
bool ParseRanges(absl::string_view text, observe::TupleStats& st) {
  st.range_count = 0;
  if (text.empty()) return true;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::pair<absl::string_view, absl::string_view> lohi = absl::StrSplit(part, absl::MaxSplits('-', 1));
    observe::AddressRange r;
    if (st.range_count == observe::kMaxRanges || !absl::SimpleAtoi(lohi.first, &r.lo) ||
        !absl::SimpleAtoi(lohi.second, &r.hi) || r.lo > r.hi) {
      return false;
    }
    st.ranges[st.range_count++] = r;
  }
  return true;
}

void BindStats(sqlite3_stmt* s, const observe::TupleStats& st) {
  sqlite3_bind_int64(s, 13, I64(st.count));
  sqlite3_bind_int64(s, 14, I64(st.first_seen_ns));
  sqlite3_bind_int64(s, 15, I64(st.last_seen_ns));
  sqlite3_bind_text(s, 16, FormatRanges(st).c_str(), -1, SQLITE_TRANSIENT);
}

// Reads count, first, last, ranges from columns `col`..`col + 3`.
absl::Status ReadStats(sqlite3* db, sqlite3_stmt* s, int col, observe::TupleStats& st) {
  st.count = U64(s, col);
  st.first_seen_ns = U64(s, col + 1);
  st.last_seen_ns = U64(s, col + 2);
  const char* text = reinterpret_cast<const char*>(sqlite3_column_text(s, col + 3));
  if (!ParseRanges(text != nullptr ? text : "", st)) {
    return absl::DataLossError(absl::StrCat(FileOf(db), ": corrupt ranges \"", text, "\""));
  }
  return absl::OkStatus();
}

absl::Status ReadKey(sqlite3* db, sqlite3_stmt* s, observe::TupleKey& k) {
  if (sqlite3_column_bytes(s, 1) != 16 || sqlite3_column_bytes(s, 2) != 16) {
    return absl::DataLossError(absl::StrCat(FileOf(db), ": corrupt tuple address"));
  }
  k.wire = uint8_t(sqlite3_column_int64(s, 0));
  std::memcpy(k.client.data(), sqlite3_column_blob(s, 1), 16);
  std::memcpy(k.server.data(), sqlite3_column_blob(s, 2), 16);
  k.ip_version = uint8_t(sqlite3_column_int64(s, 3));
  k.l4_proto = uint8_t(sqlite3_column_int64(s, 4));
  k.protocol = static_cast<ics::Protocol>(sqlite3_column_int64(s, 5));
  k.kind = static_cast<ics::OpKind>(sqlite3_column_int64(s, 6));
  k.direction = static_cast<ics::Direction>(sqlite3_column_int64(s, 7));
  k.has_unit = uint8_t(sqlite3_column_int64(s, 8));
  k.function = uint16_t(sqlite3_column_int64(s, 9));
  k.server_port = uint16_t(sqlite3_column_int64(s, 10));
  k.unit = uint32_t(sqlite3_column_int64(s, 11));
  return absl::OkStatus();
}

// Rolls back unless committed, so an early error return leaves nothing half
// merged. Declared before the statements it covers: they finalize first.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void Committed() { done_ = true; }

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace

std::string_view StabilityName(Stability s) {
  switch (s) {
    case Stability::kLearning: return "learning";
    case Stability::kStabilizing: return "stabilizing";
    case Stability::kStable: return "stable";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<BaselineStore>> BaselineStore::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // Owned from here: even a failed open returns a handle to close.
  std::unique_ptr<BaselineStore> store(new BaselineStore(raw));
  if (raw == nullptr) return absl::ResourceExhaustedError(absl::StrCat(path, ": out of memory"));
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot open: ", sqlite3_errmsg(raw)));
  }
  sqlite3_busy_timeout(raw, 2000);

  // Look before writing anything: SQLite reads the file lazily, so this is
  // where a file that is not a database fails, and a foreign or newer store
  // must be refused before the schema or journal mode touches it.
  auto tables = Prepare(raw, "SELECT name FROM sqlite_master WHERE type = 'table'");
  if (!tables.ok()) {
    if (sqlite3_errcode(raw) == SQLITE_NOTADB) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": not a baseline store (", sqlite3_errmsg(raw), ")"));
    }
    return tables.status();
  }
  bool has_meta = false, has_tables = false;
  while ((rc = sqlite3_step(tables->get())) == SQLITE_ROW) {
    has_tables = true;
    if (absl::string_view(reinterpret_cast<const char*>(sqlite3_column_text(tables->get(), 0))) ==
        "meta") {
      has_meta = true;
    }
  }
  if (rc != SQLITE_DONE) {
    if (sqlite3_errcode(raw) == SQLITE_NOTADB) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": not a baseline store (", sqlite3_errmsg(raw), ")"));
    }
    return SqlError(raw, "reading schema");
  }
  tables->reset();  // finalized: a journal mode change wants no open statements
  if (has_tables && !has_meta) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a baseline store (no meta table)"));
  }
  if (has_meta) {
    auto version = Prepare(raw, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (!version.ok()) return version.status();
    if (sqlite3_step(version->get()) != SQLITE_ROW) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": not a baseline store (no schema_version)"));
    }
    const char* v = reinterpret_cast<const char*>(sqlite3_column_text(version->get(), 0));
    absl::string_view got = v != nullptr ? v : "";
    if (got != kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": baseline schema version ", got, ", this conduitd reads ", kSchemaVersion));
    }
  }

  // WAL: the recorder's writes do not block readers; NORMAL is durable
  // across a process crash, which is what a baseline needs.
  if (absl::Status s = store->Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
  if (absl::Status s = store->Exec("PRAGMA synchronous=NORMAL"); !s.ok()) return s;
  // One transaction, so two first opens do not interleave table creation.
  if (absl::Status s = store->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Transaction txn(raw);
  if (absl::Status s = store->Exec(kSchema); !s.ok()) return s;
  if (absl::Status s = store->Exec("COMMIT"); !s.ok()) return s;
  txn.Committed();
  return store;
}

BaselineStore::~BaselineStore() {
  // Every statement is scoped to its call, so none is left to finalize.
  sqlite3_close_v2(db_);
}

absl::Status BaselineStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return absl::InternalError(absl::StrCat(FileOf(db_), ": ", msg));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ObservedTuple>> BaselineStore::Merge(
    const std::vector<ObservedTuple>& tuples) {
  if (absl::Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  Transaction txn(db_);
  auto find = Prepare(db_, absl::StrCat("SELECT count, first_seen_ns, last_seen_ns, ranges "
                                        "FROM tuples WHERE ", kKeyMatch));
  if (!find.ok()) return find.status();
  auto insert = Prepare(db_, absl::StrCat("INSERT INTO tuples (", kColumns, ") VALUES "
                                          "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                          "?13, ?14, ?15, ?16)"));
  if (!insert.ok()) return insert.status();
  auto update = Prepare(db_, absl::StrCat("UPDATE tuples SET count = ?13, first_seen_ns = ?14, "
                                          "last_seen_ns = ?15, ranges = ?16 WHERE ", kKeyMatch));
  if (!update.ok()) return update.status();

  std::vector<ObservedTuple> fresh;
  for (const ObservedTuple& t : tuples) {
    sqlite3_stmt* f = find->get();
    sqlite3_reset(f);
    BindKey(f, t.key);
    int rc = sqlite3_step(f);
    // Looked up in the store, not in `tuples`: a key twice in one batch is
    // new only the first time.
    sqlite3_stmt* write = nullptr;
    observe::TupleStats stats;
    if (rc == SQLITE_ROW) {
      if (absl::Status s = ReadStats(db_, f, 0, stats); !s.ok()) return s;
      observe::MergeStats(stats, t.stats);
      write = update->get();
    } else if (rc == SQLITE_DONE) {
      stats = t.stats;
      write = insert->get();
      fresh.push_back(t);
    } else {
      return SqlError(db_, "looking up a tuple");
    }
    sqlite3_reset(f);
    sqlite3_reset(write);
    BindKey(write, t.key);
    BindStats(write, stats);
    if (sqlite3_step(write) != SQLITE_DONE) return SqlError(db_, "writing a tuple");
    sqlite3_reset(write);
  }
  if (absl::Status s = Exec("COMMIT"); !s.ok()) return s;
  txn.Committed();
  return fresh;
}

absl::StatusOr<uint64_t> BaselineStore::Prune(uint64_t cutoff_ns) {
  auto del = Prepare(db_, "DELETE FROM tuples WHERE last_seen_ns < ?1");
  if (!del.ok()) return del.status();
  sqlite3_bind_int64(del->get(), 1, I64(cutoff_ns));
  if (sqlite3_step(del->get()) != SQLITE_DONE) return SqlError(db_, "pruning");
  return uint64_t(sqlite3_changes(db_));
}

absl::StatusOr<std::vector<ObservedTuple>> BaselineStore::Load(std::optional<uint32_t> wire,
                                                                uint64_t since_ns) const {
  // Every key column in the ORDER BY: the same store loads in the same
  // order, so a proposal from it is byte-for-byte reproducible.
  auto sel = Prepare(db_, absl::StrCat("SELECT ", kColumns, " FROM tuples "
                                       "WHERE last_seen_ns >= ?1 AND (?2 IS NULL OR wire = ?2) "
                                       "ORDER BY wire, client, server, protocol, kind, function, "
                                       "unit, direction, l4_proto, server_port, ip_version, "
                                       "has_unit"));
  if (!sel.ok()) return sel.status();
  sqlite3_stmt* s = sel->get();
  sqlite3_bind_int64(s, 1, I64(since_ns));
  if (wire) sqlite3_bind_int64(s, 2, *wire);  // unbound: NULL, every wire
  std::vector<ObservedTuple> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    ObservedTuple t;
    if (absl::Status st = ReadKey(db_, s, t.key); !st.ok()) return st;
    if (absl::Status st = ReadStats(db_, s, 12, t.stats); !st.ok()) return st;
    out.push_back(t);
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "loading tuples");
  return out;
}

absl::Status BaselineStore::Accept(uint32_t wire, uint64_t now_ns) {
  auto ins = Prepare(db_, "INSERT OR REPLACE INTO accepted (wire, accepted_at_ns) VALUES (?1, ?2)");
  if (!ins.ok()) return ins.status();
  sqlite3_bind_int64(ins->get(), 1, wire);
  sqlite3_bind_int64(ins->get(), 2, I64(now_ns));
  if (sqlite3_step(ins->get()) != SQLITE_DONE) return SqlError(db_, "accepting");
  return absl::OkStatus();
}

absl::StatusOr<WireSummary> BaselineStore::Summary(uint32_t wire) const {
  WireSummary out;
  out.wire = wire;
  auto agg = Prepare(db_, "SELECT COUNT(*), COALESCE(MIN(first_seen_ns), 0), "
                          "COALESCE(MAX(first_seen_ns), 0) FROM tuples WHERE wire = ?1");
  if (!agg.ok()) return agg.status();
  sqlite3_bind_int64(agg->get(), 1, wire);
  if (sqlite3_step(agg->get()) != SQLITE_ROW) return SqlError(db_, "summarizing");
  out.tuples = U64(agg->get(), 0);
  out.first_seen_ns = U64(agg->get(), 1);
  out.newest_tuple_ns = U64(agg->get(), 2);

  auto acc = Prepare(db_, "SELECT accepted_at_ns FROM accepted WHERE wire = ?1");
  if (!acc.ok()) return acc.status();
  sqlite3_bind_int64(acc->get(), 1, wire);
  int rc = sqlite3_step(acc->get());
  if (rc == SQLITE_ROW) {
    out.accepted_at_ns = U64(acc->get(), 0);
  } else if (rc != SQLITE_DONE) {
    return SqlError(db_, "reading acceptance");
  }
  return out;
}

Stability BaselineStore::StabilityOf(const WireSummary& s, uint64_t now_ns,
                                     uint64_t stable_after_ns) {
  if (s.tuples == 0) return Stability::kLearning;
  // A clock stepped back reads as "just now", never as a huge age.
  uint64_t age = now_ns > s.newest_tuple_ns ? now_ns - s.newest_tuple_ns : 0;
  // Stable first, so a stable_after_ns under a day still orders the states.
  if (age >= stable_after_ns) return Stability::kStable;
  if (age >= kDayNs) return Stability::kStabilizing;
  return Stability::kLearning;
}

}  // namespace conduit::baseline
