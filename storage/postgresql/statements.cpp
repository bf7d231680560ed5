#include "storage/postgresql/statements.hpp"

#include <string>
#include <vector>

#include "storage/types.hpp"

namespace oag::storage::postgresql::sql {

namespace {

std::string params(int& next, int count) {
  std::string s = "(";
  for (int i = 0; i < count; ++i) s += (i ? ", $" : "$") + std::to_string(next++);
  return s + ")";
}

std::string build(std::size_t n, SqnMode mode) {
  int p = 1;
  std::string s =
      "WITH v AS (INSERT INTO vectors (id, subscriber_id, kind, rand, sqn, requester, request_id, "
      "role, agreement, issued_ms, expires_ms) VALUES ";
  for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + params(p, 11);
  s += " ON CONFLICT DO NOTHING RETURNING 1)";
  if (mode == SqnMode::insert) {
    s += ", s AS (INSERT INTO sqn_slots (subscriber_id, ind, seq) VALUES " + params(p, 3) +
         " ON CONFLICT DO NOTHING RETURNING 1)";
  } else if (mode == SqnMode::step) {
    const std::string a = std::to_string(p), b = std::to_string(p + 1), c = std::to_string(p + 2),
                      d = std::to_string(p + 3);
    p += 4;
    s += ", s AS (UPDATE sqn_slots SET seq = $" + d + " WHERE subscriber_id = $" + a +
         " AND ind = $" + b + " AND seq = $" + c + " RETURNING 1)";
  }
  s += ", b AS (INSERT INTO billing (chain, seq, time_ms, role, event, requester, subject, "
       "requester_realm, subject_realm, agreement, kind, count, unit_price_micros, currency, "
       "request_id, rand_sha256, outcome, prev_hash, hash) VALUES " +
       params(p, 19) + " RETURNING 1)";
  s += " SELECT (SELECT count(*) FROM v), ";
  s += mode == SqnMode::none ? "1" : "(SELECT count(*) FROM s)";
  s += ", (SELECT count(*) FROM b)";
  return s;
}

}  // namespace

const char* issue_statement(std::size_t n, SqnMode mode) {
  // Built once; the texts stay put, so the connection's prepared-statement map may key on them.
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v((kMaxCount + 1) * 3);
    for (std::size_t i = 1; i <= kMaxCount; ++i)
      for (int m = 0; m < 3; ++m) v[i * 3 + static_cast<std::size_t>(m)] = build(i, SqnMode(m));
    return v;
  }();
  if (n < 1 || n > kMaxCount) n = 1;  // (the rules above have checked the count)
  return all[n * 3 + static_cast<std::size_t>(mode)].c_str();
}

}  // namespace oag::storage::postgresql::sql
