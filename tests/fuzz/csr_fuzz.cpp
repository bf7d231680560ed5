// libFuzzer target for PKCS#10 parsing: an enrollment's body comes from anyone who reaches the
// visitor listener. Properties: no crash, no leak; a CSR that is accepted has a P-256 key whose
// SPKI hash is 64 hex digits, and its DER form is accepted again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/pki/csr.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto parsed = oag::pki::parse_csr(in);
  if (auto* csr = std::get_if<oag::pki::Csr>(&parsed)) {
    if (csr->spki_sha256.size() != 64) std::abort();
    unsigned char* der = nullptr;
    const int n = i2d_X509_REQ(csr->req.get(), &der);
    if (n <= 0) std::abort();
    const std::string d(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    if (!std::holds_alternative<oag::pki::Csr>(oag::pki::parse_csr(d))) std::abort();
  } else if (std::get<oag::pki::PkiError>(parsed).detail.empty()) {
    std::abort();
  }
  return 0;
}
