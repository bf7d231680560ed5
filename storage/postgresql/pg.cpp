#include "storage/postgresql/pg.hpp"

#include <cstdio>
#include <cstdlib>

#include "storage/result.hpp"
#include "storage/writer/group_commit.hpp"

namespace oag::storage::postgresql {

namespace {

// Waits at most this long for a server that does not answer (the conninfo may say otherwise).
constexpr const char* kConnectTimeout = "5";

PGconn* connect(const std::string& conninfo) {
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {kConnectTimeout, conninfo.c_str(), nullptr};
  return PQconnectdbParams(keys, values, 1);
}

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Param::Param(double v) : null(false) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  value = buf;
}

std::uint64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_);
  return n && *n ? std::strtoull(n, nullptr, 10) : 0;
}

std::int64_t PgResult::int64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}

double PgResult::real(int row, int col) const {
  return std::strtod(PQgetvalue(r_, row, col), nullptr);
}

std::vector<std::uint8_t> PgResult::bytes(int row, int col) const {
  const char* v = PQgetvalue(r_, row, col);
  const int n = PQgetlength(r_, row, col);
  std::vector<std::uint8_t> out;
  if (n < 2 || v[0] != '\\' || v[1] != 'x')
    throw StoreError({Errc::unavailable, "database: bytea not in hex output format"});
  out.reserve(static_cast<std::size_t>(n - 2) / 2);
  for (int i = 2; i + 1 < n; i += 2) {
    const int hi = hexval(v[i]), lo = hexval(v[i + 1]);
    if (hi < 0 || lo < 0) throw StoreError({Errc::unavailable, "database: bad bytea"});
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

PgConn::PgConn(const std::string& conninfo) : conn_(connect(conninfo)) {
  if (!ok()) {
    const auto msg = trimmed(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw StoreError({Errc::unavailable, "PostgreSQL: cannot connect: " + msg});
  }
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);  // NOTICEs (IF NOT EXISTS) are not errors
}

PgConn::~PgConn() {
  if (conn_) PQfinish(conn_);
}

bool PgConn::reset() noexcept {
  prepared_.clear();
  PQreset(conn_);
  return ok();
}

void PgConn::fail(PGresult* r, const char* what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  const std::string msg = trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  PQclear(r);
  const Error e{Errc::unavailable, std::string("database: ") + what + ": " +
                                       (msg.empty() ? trimmed(PQerrorMessage(conn_)) : msg)};
  // 40001 serialization failure, 40P01 deadlock: nothing committed, the batch may run again.
  if (code == "40001" || code == "40P01") throw writer::RetryBatch(e);
  throw StoreError(e);
}

void PgConn::exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(r, "statement");
  PQclear(r);
}

PgResult PgConn::run(const char* sql, const std::vector<Param>& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const std::string name = "oag" + std::to_string(prepared_.size());
    PGresult* r = PQprepare(conn_, name.c_str(), sql, 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(r, "prepare");
    PQclear(r);
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                               values.data(), lengths.data(), formats.data(), 0);
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(r, "query");
  return PgResult(r);
}

PgResult PgConn::run_once(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), lengths.data(), formats.data(), 0);
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(r, "query");
  return PgResult(r);
}

}  // namespace oag::storage::postgresql
