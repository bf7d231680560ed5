#include "proto/login/messages.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "proto/aka/hex.hpp"
#include "proto/ident/ident.hpp"

namespace oag::login {

namespace {

using Json = nlohmann::json;
using wire::invalid_field;
using wire::Problem;

constexpr const char* kReasons[] = {"bad-request",  "stale",        "replay",  "bad-credentials",
                                    "locked",       "revoked-user", "bad-csr", "no-agreement",
                                    "rate-limited", "unavailable"};

std::optional<Json> parse(std::string_view text) {
  try {
    Json j = Json::parse(text);
    return j;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

// Every key must be known, and each of `required` present.
std::optional<Problem> keys(const Json& j, std::initializer_list<const char*> known,
                            std::initializer_list<const char*> required) {
  for (const auto& [k, v] : j.items()) {
    bool ok = false;
    for (const char* want : known) ok |= k == want;
    if (!ok) return invalid_field(k, "unknown field");
  }
  for (const char* want : required)
    if (!j.contains(want)) return invalid_field(want, "required");
  return std::nullopt;
}

std::optional<std::string> str(const Json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

template <std::size_t N>
std::optional<aka::Bytes<N>> hex(const Json& j, const char* name) {
  const auto s = str(j, name);
  if (!s) return std::nullopt;
  return aka::from_hex_fixed<N>(*s);
}

std::optional<aka::Secret<32>> secret(const Json& j, const char* name) {
  auto b = hex<32>(j, name);
  if (!b) return std::nullopt;
  aka::Secret<32> s(*b);
  OPENSSL_cleanse(b->data(), b->size());
  return s;
}

std::string hex_of(aka::ByteView b) {
  return aka::to_hex(b);
}

bool is_pem_cert(const std::string& s) {
  return s.rfind("-----BEGIN CERTIFICATE-----", 0) == 0 && s.size() < 16384;
}

std::optional<std::vector<std::string>> pem_list(const Json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_array() || it->size() > 8) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : *it) {
    if (!e.is_string() || !is_pem_cert(e.get_ref<const std::string&>())) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

Json m2_object(const LoginRequest& m) {
  Json j = Json::object();
  j["home_realm"] = m.home_realm;
  j["visited_realm"] = m.visited_realm;
  j["n1"] = hex_of(m.n1);
  j["time"] = m.time;
  j["device_profile"] = Json::parse(m.device_profile);
  j["csr"] = m.csr;
  return j;
}

Json nack_object(const Nack& n) {
  Json j{{"result", "nack"}, {"reason", to_string(n.reason)}};
  if (n.n2) j["n2"] = hex_of(*n.n2);
  if (!n.proof.empty()) j["proof"] = b64url(n.proof);
  return j;
}

std::variant<Nack, Problem> parse_nack(const Json& j) {
  if (auto p = keys(j, {"result", "reason", "n2", "proof"}, {"reason"})) return *p;
  Nack n;
  const auto reason = str(j, "reason");
  const auto r = reason ? parse_reason(*reason) : std::nullopt;
  if (!r) return invalid_field("reason", "unknown reason");
  n.reason = *r;
  if (j.contains("n2")) {
    n.n2 = hex<16>(j, "n2");
    if (!n.n2) return invalid_field("n2", "expected 32 hex digits");
  }
  if (j.contains("proof")) {
    const auto s = str(j, "proof");
    auto b = s ? unb64url(*s) : std::nullopt;
    if (!b || b->size() > 512) return invalid_field("proof", "expected base64url");
    n.proof = std::move(*b);
  }
  return n;
}

std::optional<Json> object_of(std::string_view body, Problem& why) {
  auto j = parse(body);
  if (!j) {
    why = Problem{400, "malformed-json", "The body is not valid JSON", "body: not JSON"};
    return std::nullopt;
  }
  if (!j->is_object()) {
    why = invalid_field("body", "expected a JSON object");
    return std::nullopt;
  }
  return j;
}

}  // namespace

const char* to_string(Reason r) noexcept {
  return kReasons[static_cast<int>(r)];
}

std::optional<Reason> parse_reason(std::string_view s) noexcept {
  for (std::size_t i = 0; i < std::size(kReasons); ++i)
    if (s == kReasons[i]) return static_cast<Reason>(i);
  return std::nullopt;
}

std::optional<std::string> canonical_json(std::string_view text) {
  const auto j = parse(text);
  if (!j) return std::nullopt;
  try {
    return j->dump();  // objects are key-sorted maps; dump() writes no whitespace
  } catch (const Json::exception&) {
    return std::nullopt;  // invalid UTF-8
  }
}

std::variant<LoginRequest, Problem> parse_login_request(std::string_view body, bool federation) {
  Problem why;
  const auto j = object_of(body, why);
  if (!j) return why;
  if (federation) {
    if (auto p = keys(*j,
                      {"home_realm", "visited_realm", "n1", "time", "device_profile", "csr",
                       "sealed", "request_id"},
                      {"home_realm", "visited_realm", "n1", "time", "device_profile", "csr",
                       "sealed", "request_id"}))
      return *p;
  } else if (auto p = keys(
                 *j,
                 {"home_realm", "visited_realm", "n1", "time", "device_profile", "csr", "sealed"},
                 {"home_realm", "visited_realm", "n1", "time", "device_profile", "csr",
                  "sealed"})) {
    return *p;
  }
  LoginRequest m;
  for (auto [name, out] :
       {std::pair{"home_realm", &m.home_realm}, std::pair{"visited_realm", &m.visited_realm}}) {
    const auto s = str(*j, name);
    if (!s || !ident::valid_realm(*s)) return invalid_field(name, "expected a realm");
    *out = ident::lower(*s);
  }
  const auto n1 = hex<16>(*j, "n1");
  if (!n1) return invalid_field("n1", "expected 32 hex digits");
  m.n1 = *n1;
  const auto& t = j->at("time");
  if (!t.is_number_integer() || t.get<std::int64_t>() <= 0)
    return invalid_field("time", "expected Unix seconds");
  m.time = t.get<std::int64_t>();
  const auto& dp = j->at("device_profile");
  if (!dp.is_object()) return invalid_field("device_profile", "expected a JSON object");
  try {
    m.device_profile = dp.dump();
  } catch (const Json::exception&) {
    return invalid_field("device_profile", "invalid UTF-8");
  }
  if (m.device_profile.size() > kMaxDeviceProfile)
    return invalid_field("device_profile",
                         "at most " + std::to_string(kMaxDeviceProfile) + " bytes");
  const auto csr = str(*j, "csr");
  if (!csr || csr->size() > kMaxCsr || csr->rfind("-----BEGIN CERTIFICATE REQUEST-----", 0) != 0)
    return invalid_field("csr", "expected a PKCS#10 PEM request");
  m.csr = *csr;
  const auto sealed_text = str(*j, "sealed");
  auto sealed = sealed_text ? unb64url(*sealed_text) : std::nullopt;
  if (!sealed || sealed->size() < 48 || sealed->size() > 1024)
    return invalid_field("sealed", "expected base64url of E and the sealed identity");
  m.sealed = std::move(*sealed);
  if (federation) {
    const auto id = str(*j, "request_id");
    if (!id || !ident::valid_request_id(*id)) return invalid_field("request_id", "expected a UUID");
    m.request_id = *id;
  }
  return m;
}

std::string to_json(const LoginRequest& m) {
  Json j = m2_object(m);
  j["sealed"] = b64url(m.sealed);
  if (!m.request_id.empty()) j["request_id"] = m.request_id;
  return j.dump();
}

aka::Bytes<32> login_aad(const LoginRequest& m) {
  return sha256(m2_object(m).dump());
}

aka::Bytes<32> device_profile_hash(const LoginRequest& m) {
  return sha256(m.device_profile);
}

std::string to_json(const Identity& id) {
  Json j{{"id", id.nai}, {"hv", hex_of(id.hv.expose())}};
  return j.dump();
}

std::optional<Identity> parse_identity(std::string_view plaintext) {
  const auto j = parse(plaintext);
  if (!j || !j->is_object() || j->size() != 2) return std::nullopt;
  const auto nai = str(*j, "id");
  auto hv = secret(*j, "hv");
  if (!nai || !ident::valid_nai(*nai) || !hv) return std::nullopt;
  return Identity{*nai, *hv};
}

std::string to_json(const HomeAnswer& a) {
  if (const auto* n = std::get_if<Nack>(&a)) return nack_object(*n).dump();
  const auto& k = std::get<HomeAck>(a);
  Json j{{"result", "ack"},
         {"id", k.nai},
         {"confirm", hex_of(k.confirm.expose())},
         {"ks2", hex_of(k.ks2.expose())},
         {"n2", hex_of(k.n2)},
         {"n3", hex_of(k.n3)},
         {"certificate", k.certificate},
         {"chain", k.chain},
         {"expires", k.expires},
         {"ha_session", k.ha_session}};
  return j.dump();
}

std::variant<HomeAnswer, Problem> parse_home_answer(std::string_view body) {
  Problem why;
  const auto j = object_of(body, why);
  if (!j) return why;
  const auto result = str(*j, "result");
  if (result == "nack") {
    auto n = parse_nack(*j);
    if (auto* p = std::get_if<Problem>(&n)) return *p;
    return HomeAnswer(std::get<Nack>(std::move(n)));
  }
  if (result != "ack") return invalid_field("result", "expected ack or nack");
  if (auto p = keys(
          *j,
          {"result", "id", "confirm", "ks2", "n2", "n3", "certificate", "chain", "expires",
           "ha_session"},
          {"id", "confirm", "ks2", "n2", "n3", "certificate", "chain", "expires", "ha_session"}))
    return *p;
  HomeAck k;
  const auto nai = str(*j, "id");
  if (!nai || !ident::valid_nai(*nai)) return invalid_field("id", "expected a NAI");
  k.nai = *nai;
  auto confirm = secret(*j, "confirm");
  if (!confirm) return invalid_field("confirm", "expected 64 hex digits");
  k.confirm = *confirm;
  auto ks2 = secret(*j, "ks2");
  if (!ks2) return invalid_field("ks2", "expected 64 hex digits");
  k.ks2 = *ks2;
  const auto n2 = hex<16>(*j, "n2");
  if (!n2) return invalid_field("n2", "expected 32 hex digits");
  k.n2 = *n2;
  const auto n3 = hex<16>(*j, "n3");
  if (!n3) return invalid_field("n3", "expected 32 hex digits");
  k.n3 = *n3;
  const auto cert = str(*j, "certificate");
  if (!cert || !is_pem_cert(*cert))
    return invalid_field("certificate", "expected a PEM certificate");
  k.certificate = *cert;
  auto chain = pem_list(*j, "chain");
  if (!chain) return invalid_field("chain", "expected PEM certificates");
  k.chain = std::move(*chain);
  const auto expires = str(*j, "expires");
  if (!expires || expires->size() > 40) return invalid_field("expires", "expected RFC 3339");
  k.expires = *expires;
  const auto ha = str(*j, "ha_session");
  if (!ha || ha->empty() || ha->size() > 64) return invalid_field("ha_session", "expected an id");
  k.ha_session = *ha;
  return HomeAnswer(std::move(k));
}

std::string to_json(const Ticket& t) {
  Json j{{"id", t.nai},          {"confirm", hex_of(t.confirm.expose())},
         {"n3", hex_of(t.n3)},   {"certificate", t.certificate},
         {"chain", t.chain},     {"session", t.session},
         {"expires", t.expires}, {"ha_session", t.ha_session}};
  return j.dump();
}

std::optional<Ticket> parse_ticket(std::string_view plaintext) {
  const auto j = parse(plaintext);
  if (!j || !j->is_object() ||
      keys(*j, {"id", "confirm", "n3", "certificate", "chain", "session", "expires", "ha_session"},
           {"id", "confirm", "n3", "certificate", "chain", "session", "expires", "ha_session"}))
    return std::nullopt;
  Ticket t;
  const auto nai = str(*j, "id");
  auto confirm = secret(*j, "confirm");
  const auto n3 = hex<16>(*j, "n3");
  const auto cert = str(*j, "certificate");
  auto chain = pem_list(*j, "chain");
  const auto session = str(*j, "session");
  const auto expires = str(*j, "expires");
  if (!nai || !confirm || !n3 || !cert || !is_pem_cert(*cert) || !chain || !session ||
      session->empty() || session->size() > 64 || !expires)
    return std::nullopt;
  t.nai = *nai;
  t.confirm = *confirm;
  t.n3 = *n3;
  t.certificate = *cert;
  t.chain = std::move(*chain);
  t.session = *session;
  t.expires = *expires;
  const auto ha = str(*j, "ha_session");
  if (!ha || ha->empty() || ha->size() > 64) return std::nullopt;
  t.ha_session = *ha;
  return t;
}

std::string to_json(const VisitorAnswer& a) {
  if (const auto* n = std::get_if<Nack>(&a)) return nack_object(*n).dump();
  const auto& k = std::get<VisitorAck>(a);
  Json j{{"result", "ack"}, {"n2", hex_of(k.n2)}, {"sealed", b64url(k.sealed)}};
  return j.dump();
}

std::variant<VisitorAnswer, Problem> parse_visitor_answer(std::string_view body) {
  Problem why;
  const auto j = object_of(body, why);
  if (!j) return why;
  const auto result = str(*j, "result");
  if (result == "nack") {
    auto n = parse_nack(*j);
    if (auto* p = std::get_if<Problem>(&n)) return *p;
    return VisitorAnswer(std::get<Nack>(std::move(n)));
  }
  if (result != "ack") return invalid_field("result", "expected ack or nack");
  if (auto p = keys(*j, {"result", "n2", "sealed"}, {"n2", "sealed"})) return *p;
  VisitorAck k;
  const auto n2 = hex<16>(*j, "n2");
  if (!n2) return invalid_field("n2", "expected 32 hex digits");
  k.n2 = *n2;
  const auto s = str(*j, "sealed");
  auto b = s ? unb64url(*s) : std::nullopt;
  if (!b || b->size() < 16) return invalid_field("sealed", "expected base64url");
  k.sealed = std::move(*b);
  return VisitorAnswer(std::move(k));
}

std::vector<std::uint8_t> seal_proof(const aka::Secret<32>& z, const Proof& p) {
  Json j{{"reason", to_string(p.reason)}};
  if (p.hv2) j["hv2"] = hex_of(p.hv2->expose());
  std::string text = j.dump();
  auto out = aead_seal(nack_key(z), text, {});
  OPENSSL_cleanse(text.data(), text.size());
  return out;
}

std::optional<Proof> open_proof(const aka::Secret<32>& z, aka::ByteView blob) {
  auto text = aead_open(nack_key(z), blob, {});
  if (!text) return std::nullopt;
  const auto j = parse(*text);
  OPENSSL_cleanse(text->data(), text->size());
  if (!j || !j->is_object() || keys(*j, {"reason", "hv2"}, {"reason"})) return std::nullopt;
  Proof p;
  const auto reason = str(*j, "reason");
  const auto r = reason ? parse_reason(*reason) : std::nullopt;
  if (!r) return std::nullopt;
  p.reason = *r;
  if (j->contains("hv2")) {
    p.hv2 = secret(*j, "hv2");
    if (!p.hv2) return std::nullopt;
  }
  return p;
}

std::optional<SessionAuth> parse_session_auth(std::string_view h) {
  constexpr std::string_view kScheme = "OAG-Session ";
  if (h.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  h.remove_prefix(kScheme.size());
  SessionAuth a;
  bool have_id = false, have_ts = false, have_mac = false;
  while (!h.empty()) {
    while (!h.empty() && (h.front() == ' ' || h.front() == ',')) h.remove_prefix(1);
    if (h.empty()) break;
    const auto eq = h.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const auto name = h.substr(0, eq);
    h.remove_prefix(eq + 1);
    const auto end = h.find(',');
    auto value = h.substr(0, end);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    h.remove_prefix(end == std::string_view::npos ? h.size() : end);
    if (name == "id" && !have_id) {
      if (value.empty() || value.size() > 64) return std::nullopt;
      for (const char c : value)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return std::nullopt;
      a.id = std::string(value);
      have_id = true;
    } else if (name == "ts" && !have_ts) {
      if (value.empty() || value.size() > 16) return std::nullopt;
      std::int64_t t = 0;
      for (const char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        t = t * 10 + (c - '0');
      }
      a.ts_ms = t;
      have_ts = true;
    } else if (name == "mac" && !have_mac) {
      const auto m = aka::from_hex_fixed<32>(value);
      if (!m) return std::nullopt;
      a.mac = *m;
      have_mac = true;
    } else {
      return std::nullopt;
    }
  }
  if (!have_id || !have_ts || !have_mac) return std::nullopt;
  return a;
}

std::string to_header(const SessionAuth& a) {
  return "OAG-Session id=" + a.id + ", ts=" + std::to_string(a.ts_ms) + ", mac=" + hex_of(a.mac);
}

namespace {

Json order_object(const ChargeOrder& o) {
  return Json{{"order_id", o.order_id},
              {"item", o.item},
              {"amount", o.amount},
              {"currency", o.currency},
              {"time", o.time}};
}

bool decimal(const std::string& s) {
  const auto dot = s.find('.');
  const std::string whole = s.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  const auto digits = [](const std::string& d) {
    return d.find_first_not_of("0123456789") == std::string::npos;
  };
  return !whole.empty() && whole.size() <= 12 && digits(whole) &&
         (dot == std::string::npos || (!frac.empty() && frac.size() <= 6 && digits(frac)));
}

}  // namespace

std::variant<ChargeOrder, Problem> parse_charge(std::string_view body) {
  Problem why;
  const auto j = object_of(body, why);
  if (!j) return why;
  if (auto p = keys(*j, {"order_id", "item", "amount", "currency", "time", "signature"},
                    {"order_id", "item", "amount", "currency", "time", "signature"}))
    return *p;
  ChargeOrder o;
  const auto id = str(*j, "order_id");
  if (!id || id->empty() || id->size() > 64 ||
      id->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
          std::string::npos)
    return invalid_field("order_id", "1 to 64 of letters, digits, '.', '_', '-'");
  o.order_id = *id;
  const auto item = str(*j, "item");
  if (!item || item->empty() || item->size() > 200) return invalid_field("item", "1 to 200 bytes");
  o.item = *item;
  const auto amount = str(*j, "amount");
  if (!amount || !decimal(*amount))
    return invalid_field("amount", "a decimal string, up to 6 places (\"2.50\")");
  o.amount = *amount;
  const auto cur = str(*j, "currency");
  if (!cur || cur->size() != 3 ||
      cur->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return invalid_field("currency", "three upper-case letters (ISO 4217)");
  o.currency = *cur;
  const auto& t = j->at("time");
  if (!t.is_number_integer() || t.get<std::int64_t>() <= 0)
    return invalid_field("time", "expected Unix seconds");
  o.time = t.get<std::int64_t>();
  const auto sig = str(*j, "signature");
  const auto raw = sig ? unb64url(*sig) : std::nullopt;
  if (!raw || raw->size() != 64)
    return invalid_field("signature", "expected base64url of the 64-byte ES256 signature");
  std::copy(raw->begin(), raw->end(), o.signature.begin());
  return o;
}

std::string canonical_order(const ChargeOrder& o) {
  return order_object(o).dump();
}

std::string to_json(const ChargeOrder& o) {
  Json j = order_object(o);
  j["signature"] = b64url(o.signature);
  return j.dump();
}


}  // namespace oag::login
