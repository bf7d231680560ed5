#pragma once
// Thin RAII over libpq: a connection whose statements are prepared once (on first use, again
// after a reconnect), parameters bound by position, results read as text (bytea as hex).

#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::storage::postgresql {

/// One parameter of a statement: text, binary bytes, or NULL.
struct Param {
  /// NULL.
  Param() = default;
  /// Text.
  Param(std::string v) : value(std::move(v)), null(false) {}  // NOLINT
  /// Text.
  Param(const char* v) : value(v), null(false) {}  // NOLINT
  /// An integer.
  Param(std::int64_t v) : value(std::to_string(v)), null(false) {}  // NOLINT
  /// A real, printed with full precision.
  Param(double v);  // NOLINT
  /// Binary bytes (bytea).
  Param(aka::ByteView v)  // NOLINT
      : value(reinterpret_cast<const char*>(v.data()), v.size()), null(false), binary(true) {}
  std::string value;    ///< the text or the bytes
  bool null = true;     ///< SQL NULL
  bool binary = false;  ///< sent in binary format (bytea)
};

/// A result: rows of text columns.
class PgResult {
 public:
  /// Takes `r`.
  explicit PgResult(PGresult* r) noexcept : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PgResult& operator=(PgResult&&) = delete;
  /// Rows returned.
  int rows() const { return PQntuples(r_); }
  /// Rows a command changed.
  std::uint64_t affected() const;
  /// True when the value is NULL.
  bool is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  /// A text value.
  std::string text(int row, int col) const { return PQgetvalue(r_, row, col); }
  /// An integer value.
  std::int64_t int64(int row, int col) const;
  /// A real value.
  double real(int row, int col) const;
  /// A boolean value.
  bool boolean(int row, int col) const { return PQgetvalue(r_, row, col)[0] == 't'; }
  /// A bytea value.
  std::vector<std::uint8_t> bytes(int row, int col) const;

 private:
  PGresult* r_;
};

/// One connection. Throws StoreError (unavailable) on failure, writer::RetryBatch for a
/// deadlock or serialization failure.
class PgConn {
 public:
  /// Connects to `conninfo` (a libpq connection string or URI).
  explicit PgConn(const std::string& conninfo);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  /// True while the connection is up.
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  /// Reconnects (statements are prepared again on their next use); false when it failed.
  bool reset() noexcept;
  /// Runs SQL without parameters (several statements allowed).
  void exec(const std::string& sql);
  /// Runs `sql` (prepared on this connection at its first use) with `params`.
  PgResult run(const char* sql, const std::vector<Param>& params = {});
  /// Runs `sql` once, unprepared (a statement whose text changes with its row count).
  PgResult run_once(const std::string& sql, const std::vector<Param>& params);

 private:
  [[noreturn]] void fail(PGresult* r, const char* what);
  PGconn* conn_ = nullptr;
  std::map<const char*, std::string> prepared_;  // statement text -> its name here
};

}  // namespace oag::storage::postgresql
