#include "storage/billing_chain.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdio>
#include <stdexcept>

#include "proto/aka/hex.hpp"

namespace oag::storage {

namespace {

// JSON string escaping of RFC 8259 (the fields are NAIs, ids and names: no need for \uXXXX of
// non-ASCII, which passes through as UTF-8).
void put_string(std::string& out, std::string_view v) {
  out += '"';
  for (const char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void put(std::string& out, const char* key, std::string_view v) {
  out += out.size() == 1 ? "" : ",";
  put_string(out, key);
  out += ':';
  put_string(out, v);
}

void put(std::string& out, const char* key, std::int64_t v) {
  out += out.size() == 1 ? "" : ",";
  put_string(out, key);
  out += ':';
  out += std::to_string(v);
}

const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

}  // namespace

std::string canonical(const BillingRecord& r) {
  // Compact JSON with the keys in byte order, written by hand: it runs once per issue on the
  // writer thread. Same bytes as nlohmann::json(...).dump() of the same object.
  std::string out = "{";
  out.reserve(512);
  put(out, "agreement", r.agreement);
  put(out, "count", static_cast<std::int64_t>(r.count));
  put(out, "currency", r.currency);
  if (!r.detail.empty()) put(out, "detail", r.detail);
  put(out, "event", r.event);
  put(out, "kind", to_string(r.kind));
  put(out, "outcome", r.outcome);
  put(out, "rand_sha256", r.rand_sha256);
  put(out, "request_id", r.request_id);
  put(out, "requester", r.requester);
  put(out, "requester_realm", r.requester_realm);
  put(out, "role", to_string(r.role));
  put(out, "seq", static_cast<std::int64_t>(r.seq));
  put(out, "subject", r.subject);
  put(out, "subject_realm", r.subject_realm);
  put(out, "time_ms", r.time_ms);
  put(out, "unit_price_micros", r.unit_price_micros);
  out += '}';
  return out;
}

std::string chain_hash(const std::string& prev_hash_hex, const BillingRecord& r) {
  const auto prev = aka::from_hex(prev_hash_hex).value_or(std::vector<std::uint8_t>(32, 0));
  const std::string c = canonical(r);
  std::uint8_t md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  const bool ok = m != nullptr && EVP_DigestInit_ex(m, sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(m, prev.data(), prev.size()) == 1 &&
                  EVP_DigestUpdate(m, c.data(), c.size()) == 1 &&
                  EVP_DigestFinal_ex(m, md, &len) == 1;
  EVP_MD_CTX_free(m);
  if (!ok) throw std::runtime_error("OpenSSL: SHA-256 failed");
  return aka::to_hex(aka::ByteView(md, len));
}

std::string rand_digest(const std::vector<aka::Bytes<16>>& rands) {
  std::vector<std::uint8_t> all;
  all.reserve(16 * rands.size());
  for (const auto& r : rands) all.insert(all.end(), r.begin(), r.end());
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(all.data(), all.size(), md);
  return aka::to_hex(aka::ByteView(md, sizeof md));
}

}  // namespace oag::storage
