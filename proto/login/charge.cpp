#include "proto/login/charge.hpp"

#include <nlohmann/json.hpp>

#include "proto/pki/es256.hpp"
#include "proto/pki/verify.hpp"
#include "proto/pki/x509.hpp"

namespace oag::login {

std::optional<std::string> verify_charge(const ChargeOrder& o, std::string_view certificate_pem,
                                         std::string_view anchor_pem, std::string_view nai) {
  const auto certs = pki::certs_from_pem(certificate_pem);
  if (certs.empty()) return "certificate: none";
  const auto anchor = pki::cert_from_pem(anchor_pem);
  if (!anchor) return "anchor: not a certificate";
  if (!nai.empty() && pki::subject_nai(certs[0].get()) != nai)
    return "certificate: names " + pki::subject_nai(certs[0].get()) + ", not " + std::string(nai);
  std::vector<const X509*> mids;
  for (std::size_t i = 1; i < certs.size(); ++i) mids.push_back(certs[i].get());
  if (const auto bad =
          pki::verify_chain(certs[0].get(), mids, {anchor.get()}, pki::Purpose::any, o.time))
    return "certificate: " + bad->detail;
  pki::Key key(X509_get_pubkey(certs[0].get()));
  if (!pki::es256_verify(key.get(), canonical_order(o), o.signature))
    return "signature: does not verify";
  return std::nullopt;
}

std::string charge_detail(const ChargeOrder& o, const std::string& certificate_pem) {
  nlohmann::json j{{"certificate", certificate_pem},
                   {"order", nlohmann::json::parse(canonical_order(o))},
                   {"signature", b64url(o.signature)}};
  return j.dump();
}

std::optional<ChargeDetail> parse_charge_detail(std::string_view detail) {
  try {
    const auto j = nlohmann::json::parse(detail);
    auto body = j.at("order");
    body["signature"] = j.at("signature");
    auto o = parse_charge(body.dump());
    if (!std::holds_alternative<ChargeOrder>(o)) return std::nullopt;
    return ChargeDetail{std::get<ChargeOrder>(std::move(o)),
                        j.at("certificate").get<std::string>()};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::int64_t amount_micros(const std::string& amount) {
  const auto dot = amount.find('.');
  std::int64_t v = std::stoll(amount.substr(0, dot)) * 1'000'000;
  if (dot != std::string::npos) {
    std::string frac = amount.substr(dot + 1);
    frac.resize(6, '0');
    v += std::stoll(frac);
  }
  return v;
}

}  // namespace oag::login
