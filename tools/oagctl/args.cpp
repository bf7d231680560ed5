#include "tools/oagctl/args.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "proto/aka/hex.hpp"
#include "proto/wire/messages.hpp"
#include "storage/types.hpp"

namespace oag::tools {

std::vector<std::uint8_t> parse_hex_arg(const std::string& arg, const std::string& value,
                                        std::initializer_list<std::size_t> lengths) {
  auto v = aka::from_hex(value);
  if (!v) throw UsageError(arg + ": not hex (expected an even number of 0-9a-f digits)");
  if (std::find(lengths.begin(), lengths.end(), v->size()) == lengths.end()) {
    std::string want;
    for (auto n : lengths) want += (want.empty() ? "" : " or ") + std::to_string(2 * n);
    throw UsageError(arg + ": expected " + want + " hex digits, got " +
                     std::to_string(value.size()));
  }
  return *v;
}

aka::Sqn parse_sqn_arg(const std::string& arg, const std::string& value) {
  const auto all = [&](std::string_view s, int (*pred)(int)) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [&](char c) { return pred(static_cast<unsigned char>(c)); });
  };
  std::uint64_t v = 0;
  std::string_view s = value;
  if (s.starts_with("0x") || s.starts_with("0X") || (s.size() == 12 && all(s, isxdigit))) {
    if (s.size() > 2 && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    if (!all(s, isxdigit) || s.size() > 12)
      throw UsageError(arg + ": expected at most 12 hex digits");
    v = std::stoull(std::string(s), nullptr, 16);
  } else {
    if (!all(s, isdigit) || s.size() > 15)
      throw UsageError(arg + ": expected 12 hex digits, 0x-prefixed hex, or a decimal number");
    v = std::stoull(std::string(s), nullptr, 10);
  }
  if (v > aka::Sqn::kMax) throw UsageError(arg + ": above 48 bits");
  return aka::Sqn{v};
}

std::int64_t parse_time_arg(const std::string& arg, const std::string& value) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, consumed = 0;
  const char* v = value.c_str();
  if (std::sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 || consumed != 10)
    throw UsageError(arg + ": expected YYYY-MM-DD or an RFC 3339 time, got \"" + value + "\"");
  std::int64_t offset_s = 0, frac_ms = 0;
  std::string rest = value.substr(10);
  if (!rest.empty()) {
    int n = 0;
    if ((rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') ||
        std::sscanf(rest.c_str() + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || n != 8)
      throw UsageError(arg + ": expected YYYY-MM-DDTHH:MM:SS[.mmm](Z|+HH:MM), got \"" + value +
                       "\"");
    rest = rest.substr(9);
    if (!rest.empty() && rest[0] == '.') {
      std::size_t i = 1;
      std::int64_t scale = 100;
      while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
        frac_ms += (rest[i] - '0') * scale;
        scale /= 10;
        ++i;
      }
      rest = rest.substr(i);
    }
    if (rest == "Z" || rest == "z") {
      offset_s = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
      const int oh = std::atoi(rest.substr(1, 2).c_str()),
                om = std::atoi(rest.substr(4, 2).c_str());
      offset_s = (rest[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
      throw UsageError(arg + ": time zone must be Z or +HH:MM, got \"" + value + "\"");
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 60)
    throw UsageError(arg + ": not a valid date/time: \"" + value + "\"");
  // Every time here (billing records, validity, --from/--to) is since the epoch; an earlier one
  // would be written back wrongly (a negative millisecond part), so it is refused.
  if (y < 1970) throw UsageError(arg + ": before 1970: \"" + value + "\"");
  struct tm t {};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = sec;
  const std::int64_t ms = (static_cast<std::int64_t>(timegm(&t)) - offset_s) * 1000 + frac_ms;
  if (ms < 0) throw UsageError(arg + ": before 1970: \"" + value + "\"");
  return ms;
}

std::string format_time(std::int64_t ms) {
  return wire::rfc3339(ms);
}

std::int64_t parse_price_arg(const std::string& arg, const std::string& value) {
  const auto dot = value.find('.');
  const std::string whole = value.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : value.substr(dot + 1);
  const auto digits = [](const std::string& x) {
    return std::all_of(x.begin(), x.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  if (whole.empty() || !digits(whole) || !digits(frac) || frac.size() > 6 || whole.size() > 12)
    throw UsageError(arg + ": expected a decimal like 0.015 (at most 6 decimals), got \"" + value +
                     "\"");
  std::int64_t micros = std::stoll(whole) * 1'000'000;
  std::string f = frac;
  f.resize(6, '0');
  return micros + std::stoll(f);
}

std::string format_price(std::int64_t micros) {
  std::string s = std::to_string(micros / 1'000'000);
  std::int64_t frac = micros % 1'000'000;
  if (frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(frac < 0 ? -frac : frac));
    std::string f = buf;
    while (!f.empty() && f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s;
}

unsigned parse_kinds_arg(const std::string& arg, const std::string& value) {
  const auto k = storage::parse_kinds(value);
  if (!k || *k == 0)
    throw UsageError(arg +
                     ": expected a comma-separated list of sim, aka, login, certificates, got \"" +
                     value + "\"");
  return *k;
}

std::string format_kinds(unsigned kinds) {
  return kinds == 0 ? "none" : storage::kinds_to_string(kinds);
}

}  // namespace oag::tools
