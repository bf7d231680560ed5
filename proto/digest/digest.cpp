#include "proto/digest/digest.hpp"

#include "proto/ident/ident.hpp"

#include <openssl/evp.h>

#include <cctype>

namespace oag::digest {

namespace {

bool is_token_char(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

void skip_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::optional<Params> parse_list(std::string_view s, std::string& why) {
  Params out;
  std::size_t i = 0;
  skip_ws(s, i);
  if (i == s.size()) return why = "authorization: no parameters", std::nullopt;
  for (;;) {
    skip_ws(s, i);
    const std::size_t start = i;
    while (i < s.size() && is_token_char(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return why = "authorization: expected a parameter name", std::nullopt;
    const std::string name = ident::lower(s.substr(start, i - start));
    skip_ws(s, i);
    if (i == s.size() || s[i] != '=')
      return why = "authorization." + name + ": expected '='", std::nullopt;
    ++i;
    skip_ws(s, i);
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i == s.size()) break;
          const auto e = static_cast<unsigned char>(s[i]);
          if ((e < 0x20 && e != '\t') || e == 0x7f)  // quoted-pair: HTAB, SP, VCHAR, obs-text
            return why = "authorization." + name + ": control character", std::nullopt;
          value += s[i++];
        } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          return why = "authorization." + name + ": control character", std::nullopt;
        } else {
          value += c;
        }
      }
      if (!closed) return why = "authorization." + name + ": unterminated quote", std::nullopt;
    } else {
      const std::size_t vs = i;
      while (i < s.size() && is_token_char(static_cast<unsigned char>(s[i]))) ++i;
      if (i == vs) return why = "authorization." + name + ": empty value", std::nullopt;
      value = std::string(s.substr(vs, i - vs));
    }
    if (!out.emplace(name, std::move(value)).second)
      return why = "authorization." + name + ": given twice", std::nullopt;
    skip_ws(s, i);
    if (i == s.size()) break;
    if (s[i] != ',') return why = "authorization." + name + ": expected ','", std::nullopt;
    ++i;
  }
  return out;
}

// Fetched once: OpenSSL 3 otherwise looks the algorithm up in its provider tables (under a
// lock) on every digest, and an enrollment computes about ten.
const EVP_MD* md5() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return md;
}

std::string md5_hex(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, md5(), nullptr);
  for (const auto p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned k = 0; k < len; ++k) {
    out += d[md[k] >> 4];
    out += d[md[k] & 15];
  }
  return out;
}

std::string quote(std::string_view v) {
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string digest_of(const Exchange& x, aka::ByteView password, std::string_view method,
                      std::string_view body) {
  const std::string_view pw(reinterpret_cast<const char*>(password.data()), password.size());
  const std::string ha1 = md5_hex({x.username, ":", x.realm, ":", pw});
  const std::string ha2 = md5_hex({method, ":", x.uri, ":", md5_hex({body})});
  return md5_hex({ha1, ":", x.nonce, ":", x.nc, ":", x.cnonce, ":", kQop, ":", ha2});
}

}  // namespace

std::optional<Params> parse(std::string_view header, std::string& why) {
  std::size_t i = 0;
  skip_ws(header, i);
  if (header.size() < i + 7 || ident::lower(header.substr(i, 6)) != "digest" ||
      (header[i + 6] != ' ' && header[i + 6] != '\t'))
    return why = "authorization: expected the Digest scheme", std::nullopt;
  return parse_list(header.substr(i + 7), why);
}

std::optional<Params> parse_info(std::string_view value, std::string& why) {
  return parse_list(value, why);
}

std::string challenge(std::string_view realm, std::string_view nonce, std::string_view opaque) {
  return "Digest realm=" + quote(realm) + ", nonce=" + quote(nonce) +
         ", algorithm=" + std::string(kAlgorithm) + ", qop=" + quote(kQop) +
         ", opaque=" + quote(opaque);
}


std::string aka_nonce(const aka::Bytes<16>& rand, const aka::Bytes<16>& autn) {
  std::uint8_t b[32];
  std::copy(rand.begin(), rand.end(), b);
  std::copy(autn.begin(), autn.end(), b + 16);
  return base64(aka::ByteView(b, sizeof b));
}

std::optional<std::pair<aka::Bytes<16>, aka::Bytes<16>>> parse_aka_nonce(std::string_view nonce) {
  const auto b = unbase64(nonce);
  if (!b || b->size() != 32) return std::nullopt;
  std::pair<aka::Bytes<16>, aka::Bytes<16>> out;
  std::copy(b->begin(), b->begin() + 16, out.first.begin());
  std::copy(b->begin() + 16, b->end(), out.second.begin());
  return out;
}

std::string response(const Exchange& x, aka::ByteView password, std::string_view method,
                     std::string_view body) {
  return digest_of(x, password, method, body);
}

std::string rspauth(const Exchange& x, aka::ByteView password, std::string_view response_body) {
  return digest_of(x, password, "", response_body);
}

std::string authorization(const Exchange& x, std::string_view response, std::string_view opaque,
                          std::string_view auts_b64) {
  std::string out = "Digest username=" + quote(x.username) + ", realm=" + quote(x.realm) +
                    ", nonce=" + quote(x.nonce) + ", uri=" + quote(x.uri) +
                    ", response=" + quote(response) + ", algorithm=" + std::string(kAlgorithm);
  if (!x.cnonce.empty() && !x.nc.empty())  // the first request has neither (found by fuzzing)
    out += ", qop=" + std::string(kQop) + ", nc=" + x.nc + ", cnonce=" + quote(x.cnonce);
  if (!opaque.empty()) out += ", opaque=" + quote(opaque);
  if (!auts_b64.empty()) out += ", auts=" + quote(auts_b64);
  return out;
}

std::string authentication_info(std::string_view rsp, const Exchange& x) {
  return "rspauth=" + quote(rsp) + ", qop=" + std::string(kQop) + ", nc=" + x.nc +
         ", cnonce=" + quote(x.cnonce);
}

}  // namespace oag::digest
