#include "proto/ident/ident.hpp"

namespace oag::ident {

const char* to_string(Kind k) noexcept {
  return k == Kind::sim ? "sim" : "aka";
}

std::optional<Kind> parse_kind(std::string_view s) noexcept {
  if (s == "sim") return Kind::sim;
  if (s == "aka") return Kind::aka;
  return std::nullopt;
}

bool valid_realm(std::string_view r) noexcept {
  if (r.empty() || r.size() > 253) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  for (;;) {
    const auto dot = r.find('.', start);
    const auto label = r.substr(start, dot == std::string_view::npos ? r.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (const unsigned char c : label)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
        return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 1;
}

bool valid_nai(std::string_view s) noexcept {
  const auto at = s.find('@');
  if (s.size() > 253 || at == std::string_view::npos || at == 0 ||
      s.find('@', at + 1) != std::string_view::npos)
    return false;
  for (const unsigned char c : s.substr(0, at))
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',' || c == ';' || c == '<' ||
        c == '>')
      return false;
  return valid_realm(s.substr(at + 1));
}

std::string_view realm_of(std::string_view nai) noexcept {
  const auto at = nai.rfind('@');
  return at == std::string_view::npos ? std::string_view() : nai.substr(at + 1);
}

bool valid_imsi(std::string_view imsi) noexcept {
  if (imsi.size() < 6 || imsi.size() > 15) return false;
  for (const char c : imsi)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool valid_request_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdefABCDEF-") == std::string_view::npos;
}

}  // namespace oag::ident
