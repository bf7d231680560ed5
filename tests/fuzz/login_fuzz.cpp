// libFuzzer target for the roaming login's messages (DESIGN §7): M2/M3 bodies come from anyone
// who reaches the visitor listener, M4 from a peer, M5 and proofs from the network a device
// visits, OAG-Session headers and charge orders from visitors. Properties: no crash; what
// parses, written back, parses to the same thing (M2's canonical form and AAD are stable);
// base64url round trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/login/messages.hpp"

using namespace oag;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  for (const bool federation : {false, true}) {
    auto m = login::parse_login_request(in, federation);
    if (auto* r = std::get_if<login::LoginRequest>(&m)) {
      const auto again = login::parse_login_request(login::to_json(*r), federation);
      const auto* r2 = std::get_if<login::LoginRequest>(&again);
      if (r2 == nullptr || login::login_aad(*r2) != login::login_aad(*r) ||
          r2->sealed != r->sealed || r2->request_id != r->request_id)
        std::abort();
    }
  }
  if (auto h = login::parse_home_answer(in); std::holds_alternative<login::HomeAnswer>(h)) {
    const auto text = login::to_json(std::get<login::HomeAnswer>(h));
    if (!std::holds_alternative<login::HomeAnswer>(login::parse_home_answer(text))) std::abort();
  }
  if (auto v = login::parse_visitor_answer(in); std::holds_alternative<login::VisitorAnswer>(v)) {
    const auto text = login::to_json(std::get<login::VisitorAnswer>(v));
    if (login::to_json(std::get<login::VisitorAnswer>(login::parse_visitor_answer(text))) != text)
      std::abort();
  }
  if (auto t = login::parse_ticket(in)) {
    if (!login::parse_ticket(login::to_json(*t))) std::abort();
  }
  (void)login::parse_identity(in);
  if (auto a = login::parse_session_auth(in)) {
    const auto b = login::parse_session_auth(login::to_header(*a));
    if (!b || b->id != a->id || b->ts_ms != a->ts_ms || b->mac != a->mac) std::abort();
  }
  if (auto c = login::parse_charge(in); std::holds_alternative<login::ChargeOrder>(c)) {
    const auto& o = std::get<login::ChargeOrder>(c);
    const auto again = login::parse_charge(login::to_json(o));
    if (!std::holds_alternative<login::ChargeOrder>(again) ||
        login::canonical_order(std::get<login::ChargeOrder>(again)) != login::canonical_order(o))
      std::abort();
  }
  if (auto b = login::unb64url(in)) {
    if (login::b64url(*b) != in) std::abort();
  }
  return 0;
}
