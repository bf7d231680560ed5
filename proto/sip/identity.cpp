#include "proto/sip/identity.hpp"

#include <cctype>

namespace oag::sip {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool jws_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

}  // namespace

std::string identity_value(std::string_view passport, std::string_view x5u) {
  return std::string(passport) + ";info=<" + std::string(x5u) + ">;alg=ES256";
}

std::optional<IdentityHeader> parse_identity(std::string_view value, std::string* why) {
  const auto no = [&](const char* w) -> std::optional<IdentityHeader> {
    if (why) *why = w;
    return std::nullopt;
  };
  IdentityHeader h;
  const auto semi = value.find(';');
  h.passport = trim(value.substr(0, semi));
  if (h.passport.empty()) return no("no PASSporT");
  for (const char c : h.passport)
    if (!jws_char(c)) return no("the PASSporT is not a compact JWS");
  std::string_view rest = semi == std::string_view::npos ? "" : value.substr(semi + 1);
  while (!rest.empty()) {
    // `info=<...>` may hold ';' inside its brackets.
    std::size_t end = rest.find(';');
    const auto lt = rest.find('<');
    if (lt != std::string_view::npos && (end == std::string_view::npos || lt < end)) {
      const auto gt = rest.find('>', lt);
      if (gt == std::string_view::npos) return no("info: no closing '>'");
      end = rest.find(';', gt);
    }
    const auto param = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
    const auto eq = param.find('=');
    if (eq == std::string::npos) return no("a parameter without a value");
    const auto name = trim(std::string_view(param).substr(0, eq));
    auto val = trim(std::string_view(param).substr(eq + 1));
    if (name == "info") {
      if (val.size() < 3 || val.front() != '<' || val.back() != '>')
        return no("info: <URL> expected");
      h.info = val.substr(1, val.size() - 2);
    } else if (name == "alg") {
      h.alg = val;
    } else if (name == "ppt") {
      if (val.size() >= 2 && val.front() == '"' && val.back() == '"')
        val = val.substr(1, val.size() - 2);
      h.ppt = val;
    }
  }
  if (h.info.empty()) return no("no info parameter");
  return h;
}

}  // namespace oag::sip
