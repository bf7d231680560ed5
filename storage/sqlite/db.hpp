#pragma once
// Thin RAII over the SQLite C API: a connection and prepared statements that reset themselves.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::storage::sqlite {

/// A failed SQLite call; carries the extended result code.
class SqliteError : public std::runtime_error {
 public:
  /// Message and code.
  SqliteError(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  /// Extended SQLite result code.
  int code() const noexcept { return code_; }
  /// True for UNIQUE / PRIMARY KEY violations.
  bool is_constraint() const noexcept { return (code_ & 0xff) == SQLITE_CONSTRAINT; }

 private:
  int code_;
};

/// One connection.
class Db {
 public:
  /// Opens `path` with `flags` (SQLITE_OPEN_*); throws SqliteError.
  Db(const std::string& path, int flags);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  /// Runs one or more statements without results.
  void exec(const std::string& sql);
  /// The raw handle.
  sqlite3* get() const noexcept { return db_; }
  /// The first column of the first row of `sql` as an integer.
  std::int64_t query_int(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
};

/// A prepared statement, prepared once and reused; `Use` binds, steps and resets.
class Stmt {
 public:
  /// Prepares `sql` on `db` (persistent); throws SqliteError naming the statement.
  Stmt(Db& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  /// One execution: binds parameters by position (from 1), steps, reads columns; resets on exit.
  class Use {
   public:
    explicit Use(Stmt& s) noexcept : s_(s.stmt_), db_(s.db_) {}
    ~Use() {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;

    Use& bind(int i, std::int64_t v);
    Use& bind(int i, std::string_view v);
    Use& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Use& bind(int i, aka::ByteView v);
    Use& bind(int i, double v);
    Use& bind_null(int i);
    /// Steps once: true when a row is available, false when done; throws SqliteError.
    bool step();
    /// Steps to completion (for writes); throws SqliteError.
    void run();

    std::int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
    double real(int col) const { return sqlite3_column_double(s_, col); }
    bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
    std::string text(int col) const;
    std::vector<std::uint8_t> blob(int col) const;

   private:
    sqlite3_stmt* s_;
    sqlite3* db_;
  };

  /// Starts an execution.
  Use use() noexcept { return Use(*this); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_;
};

}  // namespace oag::storage::sqlite
