#pragma once
// The PostgreSQL server the test command starts (tests/pg/pg_server.sh, the CTest fixture
// "postgresql"): a fresh database per test, dropped afterwards.

#include <string>

namespace oag::test {

/// The conninfo of the test server for database `db`; fails the test (throws) when the server
/// was not started.
std::string pg_conninfo(const std::string& db = "postgres");

/// A new, empty database on the test server; dropped (with its connections) on destruction.
class PgDatabase {
 public:
  /// Creates it.
  PgDatabase();
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;
  /// Its conninfo.
  const std::string& conninfo() const { return conninfo_; }
  /// Runs SQL in it; throws with the server's message on failure.
  void exec(const std::string& sql) const;
  /// The first column of the first row of `sql` as an integer.
  long long scalar(const std::string& sql) const;

 private:
  std::string name_;
  std::string conninfo_;
};

}  // namespace oag::test
