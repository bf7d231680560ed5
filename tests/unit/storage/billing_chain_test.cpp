#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "storage/billing_chain.hpp"

using namespace oag::storage;

namespace {
BillingRecord sample() {
  BillingRecord r;
  r.seq = 7;
  r.time_ms = 1'800'000'000'123;
  r.role = Role::sold;
  r.event = "issue";
  r.requester = "alice@op-a.example";
  r.subject = "bob \"the\" \\ builder\n@op-b.example";
  r.requester_realm = "op-a.example";
  r.subject_realm = "op-b.example";
  r.agreement = "a-b";
  r.kind = BillingKind::sim;
  r.count = 3;
  r.unit_price_micros = -5;
  r.currency = "EUR";
  r.request_id = "r1\x01";
  r.rand_sha256 = std::string(64, 'a');
  r.outcome = "issued";
  return r;
}
}  // namespace

TEST_CASE("canonical billing form is the sorted compact JSON of the record", "[billing]") {
  const auto r = sample();
  nlohmann::json j;
  j["seq"] = r.seq;
  j["time_ms"] = r.time_ms;
  j["role"] = "sold";
  j["event"] = r.event;
  j["requester"] = r.requester;
  j["subject"] = r.subject;
  j["requester_realm"] = r.requester_realm;
  j["subject_realm"] = r.subject_realm;
  j["agreement"] = r.agreement;
  j["kind"] = "sim";
  j["count"] = r.count;
  j["unit_price_micros"] = r.unit_price_micros;
  j["currency"] = r.currency;
  j["request_id"] = r.request_id;
  j["rand_sha256"] = r.rand_sha256;
  j["outcome"] = r.outcome;
  CHECK(canonical(r) == j.dump());
}

TEST_CASE("chain hash covers every field and the previous hash", "[billing]") {
  const auto r = sample();
  const auto h = chain_hash(kGenesisHash, r);
  CHECK(h.size() == 64);
  CHECK(chain_hash(kGenesisHash, r) == h);
  CHECK(chain_hash(std::string(63, '0') + "1", r) != h);
  auto changed = r;
  changed.count = 4;
  CHECK(chain_hash(kGenesisHash, changed) != h);
  changed = r;
  changed.currency = "USD";
  CHECK(chain_hash(kGenesisHash, changed) != h);
  // prev_hash and hash themselves are not part of the canonical form.
  changed = r;
  changed.hash = "x";
  changed.prev_hash = "y";
  CHECK(chain_hash(kGenesisHash, changed) == h);
}
