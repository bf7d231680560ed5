#include "proto/wire/certificates.hpp"

#include <nlohmann/json.hpp>

#include "proto/ident/ident.hpp"
#include "proto/wire/json_object.hpp"

namespace oag::wire {

namespace {

using Json = nlohmann::json;

bool is_pem_cert(const std::string& s) {
  return s.rfind("-----BEGIN CERTIFICATE-----", 0) == 0 &&
         s.find("-----END CERTIFICATE-----") != std::string::npos && s.size() < 16384;
}

bool is_hex_serial(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string certificates_response(const CertificatesAnswer& a) {
  nlohmann::ordered_json j;
  j["subject"] = a.subject;
  auto certs = nlohmann::ordered_json::array();
  for (const auto& c : a.certificates)
    certs.push_back({{"serial", c.serial}, {"pem", c.pem}, {"not_after", c.not_after_s}});
  j["certificates"] = std::move(certs);
  j["chain"] = a.chain;
  if (!a.anchor.empty()) j["anchor"] = a.anchor;
  return j.dump();
}

std::variant<CertificatesAnswer, Problem> parse_certificates_response(const std::string& body,
                                                                      bool need_anchor) {
  auto parsed = parse_object(body);
  if (auto* p = std::get_if<Problem>(&parsed)) return *p;
  const auto j = std::get<Json>(std::move(parsed));
  for (const auto& [k, v] : j.items())
    if (k != "subject" && k != "certificates" && k != "chain" && k != "anchor")
      return invalid_field(k, "unknown field");
  CertificatesAnswer a;
  if (!j.contains("subject") || !j["subject"].is_string() ||
      !ident::valid_nai(j["subject"].get<std::string>()))
    return invalid_field("subject", "a NAI expected");
  a.subject = j["subject"].get<std::string>();
  if (!j.contains("certificates") || !j["certificates"].is_array() || j["certificates"].empty() ||
      j["certificates"].size() > kMaxLookupCertificates)
    return invalid_field("certificates",
                         "1.." + std::to_string(kMaxLookupCertificates) + " certificates expected");
  for (std::size_t i = 0; i < j["certificates"].size(); ++i) {
    const auto& c = j["certificates"][i];
    const std::string at = "certificates[" + std::to_string(i) + "]";
    if (!c.is_object() || c.size() != 3) return invalid_field(at, "serial, pem and not_after");
    CertEntry e;
    if (!c.contains("serial") || !c["serial"].is_string() ||
        !is_hex_serial(c["serial"].get<std::string>()))
      return invalid_field(at + ".serial", "lower-case hex expected");
    e.serial = c["serial"].get<std::string>();
    if (!c.contains("pem") || !c["pem"].is_string() || !is_pem_cert(c["pem"].get<std::string>()))
      return invalid_field(at + ".pem", "a PEM certificate expected");
    e.pem = c["pem"].get<std::string>();
    if (!c.contains("not_after") || !c["not_after"].is_number_integer())
      return invalid_field(at + ".not_after", "Unix seconds expected");
    e.not_after_s = c["not_after"].get<std::int64_t>();
    a.certificates.push_back(std::move(e));
  }
  if (!j.contains("chain") || !j["chain"].is_array() || j["chain"].size() > 4)
    return invalid_field("chain", "0..4 PEM certificates expected");
  for (std::size_t i = 0; i < j["chain"].size(); ++i) {
    const auto& c = j["chain"][i];
    if (!c.is_string() || !is_pem_cert(c.get<std::string>()))
      return invalid_field("chain[" + std::to_string(i) + "]", "a PEM certificate expected");
    a.chain.push_back(c.get<std::string>());
  }
  if (j.contains("anchor")) {
    if (!j["anchor"].is_string() || !is_pem_cert(j["anchor"].get<std::string>()))
      return invalid_field("anchor", "a PEM certificate expected");
    a.anchor = j["anchor"].get<std::string>();
  } else if (need_anchor) {
    return invalid_field("anchor", "required");
  }
  return a;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int h = hex(in[i + 1]), l = hex(in[i + 2]);
    if (h < 0 || l < 0) return false;
    out += static_cast<char>(h * 16 + l);
    i += 2;
  }
  return true;
}

std::string percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '@') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace oag::wire
