#include "proto/pki/passport.hpp"

#include <nlohmann/json.hpp>

#include "proto/aka/base64.hpp"
#include "proto/pki/es256.hpp"

namespace oag::pki {

namespace {

using Json = nlohmann::json;  // std::map keys: lexicographic order, as RFC 8225 §9 wants

PkiError bad(std::string why) {
  return {PkiErrc::malformed, "passport: " + std::move(why)};
}

std::optional<Json> decode_part(std::string_view b64) {
  const auto raw = aka::unb64url(b64);
  if (!raw) return std::nullopt;
  try {
    auto j = Json::parse(raw->begin(), raw->end());
    if (!j.is_object()) return std::nullopt;
    return j;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::string b64(const std::string& s) {
  return aka::b64url(aka::ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

}  // namespace

std::string passport_sign(const PassportClaims& c, EVP_PKEY* key) {
  Json header{{"alg", "ES256"}, {"typ", "passport"}, {"x5u", c.x5u}};
  if (!c.ppt.empty()) header["ppt"] = c.ppt;
  Json payload{{"dest", {{"uri", c.dest_uris}}}, {"iat", c.iat}, {"orig", {{"uri", c.orig_uri}}}};
  const std::string input = b64(header.dump()) + "." + b64(payload.dump());
  const auto sig = es256_sign(key, input);
  return input + "." + aka::b64url(sig);
}

std::variant<Passport, PkiError> passport_decode(std::string_view jws) {
  if (jws.size() > 8192) return bad("longer than 8192 bytes");
  const auto d1 = jws.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : jws.find('.', d1 + 1);
  if (d2 == std::string_view::npos || jws.find('.', d2 + 1) != std::string_view::npos)
    return bad("not a compact JWS (three parts)");
  Passport p;
  p.signing_input = std::string(jws.substr(0, d2));
  const auto header = decode_part(jws.substr(0, d1));
  if (!header) return bad("header: not base64url JSON");
  const auto payload = decode_part(jws.substr(d1 + 1, d2 - d1 - 1));
  if (!payload) return bad("payload: not base64url JSON");
  const auto sig = aka::unb64url(jws.substr(d2 + 1));
  if (!sig || sig->size() != 64) return bad("signature: 64 bytes of R ‖ S expected");
  std::copy(sig->begin(), sig->end(), p.signature.begin());
  const auto& h = *header;
  if (!h.contains("alg") || h["alg"] != "ES256") return bad("header.alg: ES256 expected");
  if (h.contains("typ") && h["typ"] != "passport") return bad("header.typ: passport expected");
  if (!h.contains("x5u") || !h["x5u"].is_string() || h["x5u"].get<std::string>().empty())
    return bad("header.x5u: a URL expected");
  p.claims.x5u = h["x5u"].get<std::string>();
  if (h.contains("ppt")) {
    if (!h["ppt"].is_string()) return bad("header.ppt: a string expected");
    p.claims.ppt = h["ppt"].get<std::string>();
  }
  const auto& c = *payload;
  if (!c.contains("iat") || !c["iat"].is_number_integer()) return bad("iat: an integer expected");
  p.claims.iat = c["iat"].get<std::int64_t>();
  if (!c.contains("orig") || !c["orig"].is_object()) return bad("orig: an object expected");
  const auto& o = c["orig"];
  if (o.contains("uri") && o["uri"].is_string())
    p.claims.orig_uri = o["uri"].get<std::string>();
  else if (o.contains("tn") && o["tn"].is_string())
    p.claims.orig_tn = o["tn"].get<std::string>();
  else
    return bad("orig: uri or tn expected");
  if (!c.contains("dest") || !c["dest"].is_object()) return bad("dest: an object expected");
  const auto& d = c["dest"];
  for (const char* k : {"uri", "tn"}) {
    if (!d.contains(k)) continue;
    if (!d[k].is_array()) return bad(std::string("dest.") + k + ": an array expected");
    for (const auto& v : d[k]) {
      if (!v.is_string()) return bad(std::string("dest.") + k + ": strings expected");
      (std::string(k) == "uri" ? p.claims.dest_uris : p.claims.dest_tns)
          .push_back(v.get<std::string>());
    }
  }
  if (p.claims.dest_uris.empty() && p.claims.dest_tns.empty())
    return bad("dest: uri or tn expected");
  return p;
}

std::optional<PkiError> passport_verify(const Passport& p, EVP_PKEY* key, std::int64_t now_s,
                                        std::int64_t window_s) {
  if (key == nullptr || !es256_verify(key, p.signing_input, p.signature))
    return PkiError{PkiErrc::bad_signature, "passport: the signature does not verify"};
  if (p.claims.iat < now_s - window_s || p.claims.iat > now_s + window_s)
    return PkiError{PkiErrc::expired, "passport: iat " + std::to_string(p.claims.iat) +
                                          " is more than " + std::to_string(window_s) +
                                          " s from now (" + std::to_string(now_s) + ")"};
  return std::nullopt;
}

}  // namespace oag::pki
