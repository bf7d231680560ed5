#include "tools/oagctl/billing_io.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "tools/oagctl/args.hpp"

namespace oag::tools::billing {

namespace {

const char* const kColumns[] = {
    "seq",           "time",      "role",      "event", "requester",  "subject",  "requester_realm",
    "subject_realm", "agreement", "kind",      "count", "unit_price", "currency", "request_id",
    "rand_sha256",   "outcome",   "prev_hash", "hash",  "chain",      "detail"};
// Exports of schema 4 had no chain column (their records are the chain "main"), those of
// schema 5 no detail (empty).
constexpr std::size_t kLegacyColumns = std::size(kColumns) - 2;

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::vector<std::string> values(const storage::BillingRecord& r) {
  return {std::to_string(r.seq),
          format_time(r.time_ms),
          storage::to_string(r.role),
          r.event,
          r.requester,
          r.subject,
          r.requester_realm,
          r.subject_realm,
          r.agreement,
          storage::to_string(r.kind),
          std::to_string(r.count),
          format_price(r.unit_price_micros),
          r.currency,
          r.request_id,
          r.rand_sha256,
          r.outcome,
          r.prev_hash,
          r.hash,
          r.chain,
          r.detail};
}

storage::Role parse_role(const std::string& s) {
  if (const auto r = storage::parse_role(s)) return *r;
  throw std::runtime_error("role: \"" + s + "\"");
}

storage::BillingRecord from_values(const std::vector<std::string>& v) {
  if (v.size() < kLegacyColumns || v.size() > std::size(kColumns))
    throw std::runtime_error("expected " + std::to_string(std::size(kColumns)) + " fields");
  storage::BillingRecord r;
  r.seq = std::stoull(v[0]);
  r.time_ms = parse_time_arg("time", v[1]);
  r.role = parse_role(v[2]);
  r.event = v[3];
  r.requester = v[4];
  r.subject = v[5];
  r.requester_realm = v[6];
  r.subject_realm = v[7];
  r.agreement = v[8];
  const auto kind = storage::parse_billing_kind(v[9]);
  if (!kind) throw std::runtime_error("kind: unknown \"" + v[9] + "\"");
  r.kind = *kind;
  r.count = static_cast<unsigned>(std::stoul(v[10]));
  r.unit_price_micros = parse_price_arg("unit_price", v[11]);
  r.currency = v[12];
  r.request_id = v[13];
  r.rand_sha256 = v[14];
  r.outcome = v[15];
  r.prev_hash = v[16];
  r.hash = v[17];
  r.chain = v.size() > kLegacyColumns ? v[18] : "main";
  if (r.chain.empty()) throw std::runtime_error("chain: empty");
  r.detail = v.size() > kLegacyColumns + 1 ? v[19] : "";
  return r;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

Writer::Writer(std::ostream& out, Format f) : out_(out), format_(f) {
  if (format_ == Format::csv) {
    std::string h;
    for (const char* c : kColumns) h += (h.empty() ? "" : ",") + std::string(c);
    out_ << h << '\n';
  }
}

void Writer::write(const storage::BillingRecord& r) {
  const auto v = values(r);
  if (format_ == Format::csv) {
    std::string line;
    for (std::size_t i = 0; i < v.size(); ++i) line += (i ? "," : "") + csv_field(v[i]);
    out_ << line << '\n';
  } else {
    nlohmann::ordered_json j;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i == 0)
        j[kColumns[i]] = r.seq;
      else if (i == 10)
        j[kColumns[i]] = r.count;
      else
        j[kColumns[i]] = v[i];
    }
    out_ << j.dump() << '\n';
  }
  ++sum_.records;
  auto& c = sum_.chains[r.chain];
  if (c.records++ == 0) c.first_seq = r.seq;
  c.last_seq = r.seq;
  c.head_hash = r.hash;
  sum_.totals[r.currency] += static_cast<std::int64_t>(r.count) * r.unit_price_micros;
}

void Writer::finish() {
  if (format_ == Format::csv) {
    out_ << "#summary,records=" << sum_.records;
    for (const auto& [name, c] : sum_.chains)
      out_ << ",chain_" << name << "=" << c.first_seq << "-" << c.last_seq << ":" << c.head_hash;
    for (const auto& [cur, micros] : sum_.totals)
      if (!cur.empty()) out_ << ",total_" << cur << "=" << format_price(micros);
    out_ << '\n';
  } else {
    nlohmann::ordered_json s{{"records", sum_.records}};
    s["chains"] = nlohmann::ordered_json::array();
    for (const auto& [name, c] : sum_.chains)
      s["chains"].push_back({{"chain", name},
                             {"records", c.records},
                             {"first_seq", c.first_seq},
                             {"last_seq", c.last_seq},
                             {"head_hash", c.head_hash}});
    s["totals"] = nlohmann::ordered_json::object();
    for (const auto& [cur, micros] : sum_.totals)
      if (!cur.empty()) s["totals"][cur] = format_price(micros);
    out_ << nlohmann::ordered_json{{"summary", s}}.dump() << '\n';
  }
  out_.flush();
}

namespace {

// Another operator's export is input we check: every field valid UTF-8 without control
// characters, so that what we print or re-export of it (JSON needs valid UTF-8) cannot fail.
void check_text(const std::vector<std::string>& fields) {
  for (std::size_t f = 0; f < fields.size(); ++f) {
    const auto& s = fields[f];
    for (std::size_t i = 0; i < s.size();) {
      const auto c = static_cast<unsigned char>(s[i]);
      std::size_t len = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xe  ? 3
                        : (c >> 3) == 0x1e ? 4
                                           : 0;
      bool ok =
          len != 0 && i + len <= s.size() && !(c < 0x20 || c == 0x7f) && c != 0xc0 && c != 0xc1;
      for (std::size_t k = 1; ok && k < len; ++k)
        ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (!ok)
        throw std::runtime_error(std::string(f < std::size(kColumns) ? kColumns[f] : "field") +
                                 ": not UTF-8 text");
      i += len;
    }
  }
}

}  // namespace

std::vector<storage::BillingRecord> read(std::istream& in, const std::string& name) {
  std::vector<storage::BillingRecord> out;
  std::string line;
  std::size_t n = 0;
  bool csv_header_seen = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    try {
      if (line[0] == '{') {
        const auto j = nlohmann::json::parse(line);
        if (j.contains("summary")) continue;
        std::vector<std::string> v;
        for (const char* c : kColumns) {
          if ((std::string_view(c) == "chain" || std::string_view(c) == "detail") && !j.contains(c))
            break;  // an export of schema 4 (or 5)
          const auto& f = j.at(c);
          v.push_back(f.is_string() ? f.get<std::string>() : f.dump());
        }
        check_text(v);
        out.push_back(from_values(v));
      } else if (!csv_header_seen) {
        if (line.rfind("seq,", 0) != 0)
          throw std::runtime_error("expected the CSV header or JSON lines");
        csv_header_seen = true;
      } else {
        const auto v = split_csv_line(line);
        check_text(v);
        out.push_back(from_values(v));
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(name + ": line " + std::to_string(n) + ": " + e.what());
    }
  }
  return out;
}

}  // namespace oag::tools::billing
