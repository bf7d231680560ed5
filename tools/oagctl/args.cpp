#include "tools/oagctl/args.hpp"

#include <algorithm>
#include <cctype>

#include "proto/aka/hex.hpp"

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

}  // namespace oag::tools
