#include "storage/types.hpp"

#include "storage/result.hpp"

namespace oag::storage {

const char* to_string(Errc e) noexcept {
  switch (e) {
    case Errc::not_found:
      return "not-found";
    case Errc::disabled:
      return "disabled";
    case Errc::not_allowed:
      return "not-allowed";
    case Errc::conflict:
      return "conflict";
    case Errc::invalid:
      return "invalid";
    case Errc::bad_auts:
      return "bad-auts";
    case Errc::exhausted:
      return "sqn-exhausted";
    case Errc::quota_exhausted:
      return "quota-exhausted";
    case Errc::unavailable:
      return "store-unavailable";
  }
  return "?";
}

const char* to_string(Kind k) noexcept {
  return k == Kind::sim ? "sim" : "aka";
}

std::optional<Kind> parse_kind(std::string_view s) noexcept {
  if (s == "sim") return Kind::sim;
  if (s == "aka") return Kind::aka;
  return std::nullopt;
}

const char* to_string(Role r) noexcept {
  switch (r) {
    case Role::local:
      return "local";
    case Role::sold:
      return "sold";
    case Role::bought:
      return "bought";
  }
  return "?";
}

const char* to_string(State s) noexcept {
  switch (s) {
    case State::active:
      return "active";
    case State::suspended:
      return "suspended";
    case State::revoked:
      return "revoked";
  }
  return "?";
}

std::optional<State> parse_state(std::string_view s) noexcept {
  if (s == "active") return State::active;
  if (s == "suspended") return State::suspended;
  if (s == "revoked") return State::revoked;
  return std::nullopt;
}

bool valid_nai(std::string_view s) {
  const auto at = s.find('@');
  if (s.empty() || s.size() > 253 || at == std::string_view::npos || at == 0 ||
      at + 1 == s.size() || s.find('@', at + 1) != std::string_view::npos)
    return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',' || c == ';' || c == '<' ||
        c == '>')
      return false;
  return true;
}

std::string realm_of(std::string_view nai) {
  const auto at = nai.rfind('@');
  return at == std::string_view::npos ? std::string() : std::string(nai.substr(at + 1));
}

}  // namespace oag::storage
