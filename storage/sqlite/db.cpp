#include "storage/sqlite/db.hpp"

namespace oag::storage::sqlite {

namespace {
[[noreturn]] void fail(sqlite3* db, const std::string& what, int rc) {
  throw SqliteError(what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
                    db ? sqlite3_extended_errcode(db) : rc);
}
}  // namespace

Db::Db(const std::string& path, int flags) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg =
        "cannot open database " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteError(msg, rc);
  }
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw SqliteError("SQL failed: " + msg, sqlite3_extended_errcode(db_));
  }
}

std::int64_t Db::query_int(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
    fail(db_, "prepare " + sql, 0);
  const int rc = sqlite3_step(s);
  const std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail(db_, sql, rc);
  return v;
}

Stmt::Stmt(Db& db, const char* sql) : db_(db.get()) {
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
    fail(db_, std::string("prepare ") + sql, 0);
}

Stmt::~Stmt() {
  sqlite3_finalize(stmt_);
}

Stmt::Use& Stmt::Use::bind(int i, std::int64_t v) {
  if (sqlite3_bind_int64(s_, i, v) != SQLITE_OK) fail(db_, "bind", 0);
  return *this;
}

Stmt::Use& Stmt::Use::bind(int i, std::string_view v) {
  if (sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, "bind", 0);
  return *this;
}

Stmt::Use& Stmt::Use::bind(int i, aka::ByteView v) {
  // A zero-length blob must still be a blob, not NULL.
  static const std::uint8_t empty = 0;
  if (sqlite3_bind_blob(s_, i, v.empty() ? &empty : v.data(), static_cast<int>(v.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, "bind", 0);
  return *this;
}

Stmt::Use& Stmt::Use::bind(int i, double v) {
  if (sqlite3_bind_double(s_, i, v) != SQLITE_OK) fail(db_, "bind", 0);
  return *this;
}

Stmt::Use& Stmt::Use::bind_null(int i) {
  if (sqlite3_bind_null(s_, i) != SQLITE_OK) fail(db_, "bind", 0);
  return *this;
}

bool Stmt::Use::step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, "step", rc);
}

void Stmt::Use::run() {
  while (step()) {
  }
}

std::string Stmt::Use::text(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}

std::vector<std::uint8_t> Stmt::Use::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, col));
  const int n = sqlite3_column_bytes(s_, col);
  return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>();
}

}  // namespace oag::storage::sqlite
