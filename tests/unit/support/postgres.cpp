#include "tests/unit/support/postgres.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

namespace oag::test {

namespace {

void run(const std::string& conninfo, const std::string& sql, long long* out = nullptr) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("test PostgreSQL: " + msg);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  const std::string msg = PQresultErrorMessage(r);
  if (out && st == PGRES_TUPLES_OK && PQntuples(r) > 0) *out = std::atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    throw std::runtime_error("test PostgreSQL: " + sql + ": " + msg);
}

}  // namespace

std::string pg_conninfo(const std::string& db) {
  std::ifstream in(std::string(OAG_TEST_PG_DIR) + "/conninfo");
  std::string line;
  if (!std::getline(in, line))
    throw std::runtime_error("no test PostgreSQL at " + std::string(OAG_TEST_PG_DIR) +
                             " (ctest starts it: fixture \"postgresql\")");
  const auto at = line.find("dbname=");
  return line.substr(0, at) + "dbname=" + db;
}

PgDatabase::PgDatabase() {
  static std::atomic<int> n{0};
  name_ = "oag_test_" + std::to_string(getpid()) + "_" + std::to_string(++n);
  run(pg_conninfo(), "CREATE DATABASE " + name_);
  conninfo_ = pg_conninfo(name_);
}

PgDatabase::~PgDatabase() {
  try {
    run(pg_conninfo(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // The server is stopped by the fixture's cleanup with everything in it.
  }
}

void PgDatabase::exec(const std::string& sql) const {
  run(conninfo_, sql);
}

long long PgDatabase::scalar(const std::string& sql) const {
  long long v = -1;
  run(conninfo_, sql, &v);
  return v;
}

}  // namespace oag::test
