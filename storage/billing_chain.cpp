#include "storage/billing_chain.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "proto/aka/hex.hpp"

namespace oag::storage {

std::string canonical(const BillingRecord& r) {
  nlohmann::json j;  // std::map-backed: keys come out sorted
  j["seq"] = r.seq;
  j["time_ms"] = r.time_ms;
  j["role"] = to_string(r.role);
  j["event"] = r.event;
  j["requester"] = r.requester;
  j["subject"] = r.subject;
  j["requester_realm"] = r.requester_realm;
  j["subject_realm"] = r.subject_realm;
  j["agreement"] = r.agreement;
  j["kind"] = to_string(r.kind);
  j["count"] = r.count;
  j["unit_price_micros"] = r.unit_price_micros;
  j["currency"] = r.currency;
  j["request_id"] = r.request_id;
  j["rand_sha256"] = r.rand_sha256;
  j["outcome"] = r.outcome;
  return j.dump();
}

std::string chain_hash(const std::string& prev_hash_hex, const BillingRecord& r) {
  const auto prev = aka::from_hex(prev_hash_hex).value_or(std::vector<std::uint8_t>(32, 0));
  const std::string c = canonical(r);
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  EVP_MD_CTX* m = EVP_MD_CTX_new();
  EVP_DigestInit_ex(m, EVP_sha256(), nullptr);
  EVP_DigestUpdate(m, prev.data(), prev.size());
  EVP_DigestUpdate(m, c.data(), c.size());
  unsigned len = 0;
  EVP_DigestFinal_ex(m, md, &len);
  EVP_MD_CTX_free(m);
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
