#include "tools/oagctl/subscriber_csv.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "proto/aka/vector.hpp"
#include "proto/ident/ident.hpp"
#include "tools/oagctl/args.hpp"

namespace oag::tools {

namespace {

std::vector<std::uint8_t> hex_field(const std::string& field, const std::string& v,
                                    std::initializer_list<std::size_t> n) {
  try {
    return parse_hex_arg(field, v, n);
  } catch (const UsageError& e) {
    throw FieldError{field, std::string(e.what()).substr(field.size() + 2)};
  }
}

// One line's fields, trimmed; a field in double quotes may hold commas, and "" is a quote in it
// (RFC 4180, as spreadsheets write `"sim,aka"`). Nothing when a quote is not closed.
std::optional<std::vector<std::string>> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  const auto finish = [&] {
    if (!was_quoted) {
      const auto b = cur.find_first_not_of(" \t");
      const auto e = cur.find_last_not_of(" \t");
      cur = b == std::string::npos ? "" : cur.substr(b, e - b + 1);
    }
    out.push_back(std::move(cur));
    cur.clear();
    was_quoted = false;
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"')
        cur += c;
      else if (i + 1 < line.size() && line[i + 1] == '"')
        cur += line[++i];
      else
        quoted = false;
    } else if (c == '"' && cur.find_first_not_of(" \t") == std::string::npos && !was_quoted) {
      cur.clear();
      quoted = was_quoted = true;
    } else if (c == ',') {
      finish();
    } else if (c != '\r' && !(was_quoted && (c == ' ' || c == '\t'))) {
      if (was_quoted) return std::nullopt;  // text after the closing quote
      cur += c;
    }
  }
  if (quoted) return std::nullopt;
  finish();
  return out;
}

}  // namespace

storage::SubscriberInput build_subscriber(const RawSubscriber& r) {
  storage::SubscriberInput in;
  in.nai = r.nai;
  in.imsi = r.imsi;
  if (!ident::valid_nai(r.nai)) throw FieldError{"nai", "expected user@realm"};
  if (r.no_sim) {
    for (const auto& [name, v] : {std::pair{"imsi", &r.imsi}, std::pair{"k", &r.k},
                                  std::pair{"op", &r.op}, std::pair{"opc", &r.opc}})
      if (!v->empty()) throw FieldError{name, "not used with --no-sim"};
    in.kinds = 0;
    return in;
  }
  if (r.imsi.empty()) throw FieldError{"imsi", "required (or --no-sim for a password user)"};
  if (r.k.empty()) throw FieldError{"k", "required (or --no-sim for a password user)"};
  if (!ident::valid_imsi(r.imsi)) throw FieldError{"imsi", "expected 6 to 15 digits"};
  const auto algo = aka::parse_algorithm(r.algo);
  if (!algo) throw FieldError{"algo", "expected milenage, xor or tuak"};
  if (!r.op.empty() && !r.opc.empty()) throw FieldError{"op", "give op or opc, not both"};
  try {
    if (*algo == aka::Algorithm::xor_test) {
      if (!r.op.empty() || !r.opc.empty())
        throw FieldError{r.op.empty() ? "opc" : "op", "not used by xor"};
      in.keys = aka::SubscriberKeys::from_opc(*algo, hex_field("k", r.k, {16}), {});
    } else {
      const std::size_t op_len = *algo == aka::Algorithm::tuak ? 32 : 16;
      const auto k =
          hex_field("k", r.k,
                    *algo == aka::Algorithm::tuak ? std::initializer_list<std::size_t>{16, 32}
                                                  : std::initializer_list<std::size_t>{16});
      if (r.op.empty() && r.opc.empty()) throw FieldError{"opc", "op or opc is required"};
      in.keys = r.op.empty()
                    ? aka::SubscriberKeys::from_opc(*algo, k, hex_field("opc", r.opc, {op_len}))
                    : aka::SubscriberKeys::from_op(*algo, k, hex_field("op", r.op, {op_len}));
    }
  } catch (const std::invalid_argument& e) {
    throw FieldError{"k", e.what()};
  }
  const auto amf = hex_field("amf", r.amf, {2});
  in.amf = {amf[0], amf[1]};
  try {
    in.ind_len = static_cast<unsigned>(std::stoul(r.ind_len));
  } catch (...) {
    throw FieldError{"ind_len", "expected a number"};
  }
  if (in.ind_len > aka::kMaxIndLen ||
      r.ind_len.find_first_not_of("0123456789") != std::string::npos)
    throw FieldError{"ind_len", "expected 0.." + std::to_string(aka::kMaxIndLen)};
  try {
    // The stored value is SEQ_HE, the SEQ of the last vector issued; sqn is given as SEQ.
    in.seq_he = parse_sqn_arg("sqn", r.sqn).value;
  } catch (const UsageError& e) {
    throw FieldError{"sqn", std::string(e.what()).substr(5)};
  }
  if (in.seq_he > (aka::Sqn::kMax >> in.ind_len))
    throw FieldError{"sqn", "SEQ does not fit 48 bits with this IND length"};
  try {
    in.kinds = parse_kinds_arg("kinds", r.kinds);
  } catch (const UsageError& e) {
    throw FieldError{"kinds", std::string(e.what()).substr(7)};
  }
  return in;
}

SubscriberCsv parse_subscriber_csv(std::istream& in) {
  SubscriberCsv out;
  std::string line;
  std::size_t line_no = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto h = split_csv(line);
    if (!h) {
      out.header_error = "line " + std::to_string(line_no) + ": a quoted field is not closed";
      return out;
    }
    header = *h;
  }
  static const std::set<std::string> known = {"nai", "imsi", "algo", "k",       "op",
                                              "opc", "amf",  "sqn",  "ind_len", "kinds"};
  std::set<std::string> seen;
  for (const auto& h : header) {
    if (!known.count(h)) {
      out.header_error = "line " + std::to_string(line_no) + ": unknown column \"" + h + "\"";
      return out;
    }
    if (!seen.insert(h).second) {
      out.header_error = "line " + std::to_string(line_no) + ": column \"" + h + "\" twice";
      return out;
    }
  }
  for (const char* need : {"nai", "imsi", "k"})
    if (!seen.count(need)) {
      out.header_error = "header: missing column \"" + std::string(need) + "\"";
      return out;
    }

  std::set<std::string> nais, imsis;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r" || line[0] == '#') continue;
    const auto split = split_csv(line);
    const std::string where = "line " + std::to_string(line_no);
    if (!split) {
      out.errors.push_back(where + ": a quoted field is not closed");
      continue;
    }
    const auto& fields = *split;
    if (fields.size() != header.size()) {
      out.errors.push_back(where + ": expected " + std::to_string(header.size()) + " fields, got " +
                           std::to_string(fields.size()));
      continue;
    }
    RawSubscriber r;
    std::map<std::string, std::string*> slot = {
        {"nai", &r.nai},         {"imsi", &r.imsi},  {"algo", &r.algo}, {"k", &r.k},
        {"op", &r.op},           {"opc", &r.opc},    {"amf", &r.amf},   {"sqn", &r.sqn},
        {"ind_len", &r.ind_len}, {"kinds", &r.kinds}};
    for (std::size_t i = 0; i < header.size(); ++i)
      if (!fields[i].empty()) *slot[header[i]] = fields[i];
    try {
      auto s = build_subscriber(r);
      if (!nais.insert(s.nai).second) throw FieldError{"nai", s.nai + " appears twice in the file"};
      if (!imsis.insert(s.imsi).second)
        throw FieldError{"imsi", s.imsi + " appears twice in the file"};
      out.rows.push_back(std::move(s));
      out.row_lines.push_back(line_no);
    } catch (const FieldError& e) {
      out.errors.push_back(where + ", field " + e.field + ": " + e.message);
    }
  }
  return out;
}

}  // namespace oag::tools
