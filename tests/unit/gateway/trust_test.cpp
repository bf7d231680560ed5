// Trust of a peer's certificate chain against an agreement, and the per-connection verdict cache.
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include "gateway/trust.hpp"
#include "proto/pki/x509.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"

using namespace oag;

namespace {

// Two operators made by oagctl init: each has a federation CA and a federation certificate.
gateway::CertChain chain_of(const std::string& pem_file) {
  gateway::CertChain chain;
  FILE* f = std::fopen(pem_file.c_str(), "r");
  REQUIRE(f != nullptr);
  while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    unsigned char* der = nullptr;
    const int n = i2d_X509(x, &der);
    chain.emplace_back(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    X509_free(x);
  }
  std::fclose(f);
  return chain;
}

void init(const test::TempDir& d, const std::string& realm) {
  const auto r = test::run_command(std::string(OAGCTL_PATH) + " init --realm " + realm + " --dir " +
                                   test::shell_quote(d.file(realm)));
  INFO(r.err);
  REQUIRE(r.status == 0);
}

}  // namespace

TEST_CASE("a connection's trust verdicts are cached per trust anchor, not per request",
          "[gateway][trust]") {
  test::TempDir d;
  init(d, "op-a.example");
  init(d, "op-b.example");
  const auto a_chain = chain_of(d.file("op-a.example/federation.pem"));
  REQUIRE(!a_chain.empty());
  storage::Agreement ag;
  ag.id = "b-a";
  ag.trust_ca_file = d.file("ca.pem");
  std::filesystem::copy_file(d.file("op-a.example/federation-ca.pem"), ag.trust_ca_file);

  CHECK(gateway::peer_trusted(ag, a_chain, false));
  gateway::TrustCache cache;
  CHECK(cache.trusted(ag, a_chain, false));
  CHECK(cache.trusted(ag, a_chain, false));  // from the cache
  // Another agreement (other id, other anchor) is its own entry.
  storage::Agreement other = ag;
  other.id = "b-x";
  other.trust_ca_file = d.file("op-b.example/federation-ca.pem");
  CHECK_FALSE(cache.trusted(other, a_chain, false));
  // The CA file replaced by another CA: verified again, no longer trusted.
  std::filesystem::copy_file(d.file("op-b.example/federation-ca.pem"), ag.trust_ca_file,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::last_write_time(
      ag.trust_ca_file,
      std::filesystem::last_write_time(ag.trust_ca_file) + std::chrono::seconds(1));
  CHECK_FALSE(cache.trusted(ag, a_chain, false));
  // A pin: the leaf's SPKI hash.
  storage::Agreement pinned;
  pinned.id = "b-a-pin";
  pinned.trust_spki_sha256 = pki::spki_sha256(pki::cert_from_der(a_chain.front()).get());
  CHECK(cache.trusted(pinned, a_chain, false));
  pinned.trust_spki_sha256 = std::string(64, 'a');
  pinned.id = "b-a-pin-2";
  CHECK_FALSE(cache.trusted(pinned, a_chain, false));
}
