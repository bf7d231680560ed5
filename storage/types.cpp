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

const char* to_string(BillingKind k) noexcept {
  switch (k) {
    case BillingKind::sim:
      return "sim";
    case BillingKind::aka:
      return "aka";
    case BillingKind::enroll:
      return "enroll";
    case BillingKind::login:
      return "login";
    case BillingKind::charge:
      return "charge";
    case BillingKind::certificates:
      return "certificates";
  }
  return "?";
}

std::optional<BillingKind> parse_billing_kind(std::string_view s) noexcept {
  for (const auto k : {BillingKind::sim, BillingKind::aka, BillingKind::enroll, BillingKind::login,
                       BillingKind::charge, BillingKind::certificates})
    if (s == to_string(k)) return k;
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

std::optional<Role> parse_role(std::string_view s) noexcept {
  if (s == "local") return Role::local;
  if (s == "sold") return Role::sold;
  if (s == "bought") return Role::bought;
  return std::nullopt;
}

std::string join_realms(const std::vector<std::string>& realms) {
  std::string s = ",";
  for (const auto& r : realms) s += r + ",";
  return s;
}

std::vector<std::string> split_realms(const std::string& column) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < column.size()) {
    const auto end = column.find(',', start);
    const auto piece =
        column.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!piece.empty()) out.push_back(piece);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace oag::storage

namespace oag::storage {

std::string kinds_to_string(unsigned kinds) {
  static constexpr std::pair<unsigned, const char*> kNames[] = {
      {kSim, "sim"}, {kAka, "aka"}, {kLogin, "login"}, {kCertificates, "certificates"}};
  std::string out;
  for (const auto& [bit, name] : kNames)
    if (kinds & bit) out += (out.empty() ? "" : ",") + std::string(name);
  return out;
}

std::optional<unsigned> parse_kinds(std::string_view s) {
  unsigned out = 0;
  while (true) {
    const auto comma = s.find(',');
    const auto part = s.substr(0, comma);
    if (part == "sim")
      out |= kSim;
    else if (part == "aka")
      out |= kAka;
    else if (part == "both")
      out |= kBoth;
    else if (part == "login")
      out |= kLogin;
    else if (part == "certificates")
      out |= kCertificates;
    else
      return std::nullopt;
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace oag::storage
