// libFuzzer target for what a certificate-signed call parses from others (DESIGN §8): the
// Identity header and its PASSporT (from any caller, through any proxy), the SDP's `a=crypto`
// line, the S/MIME body (multipart/signed CMS) and a gateway's certificate lookup answer. The
// first byte picks the parser. Properties: no crash, no leak; a refusal says why; a PASSporT
// that decodes re-signs to one that decodes to the same claims; a lookup answer that parses
// serialises to one that parses to the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/pki/passport.hpp"
#include "proto/pki/smime.hpp"
#include "proto/sip/identity.hpp"
#include "proto/sip/sdp.hpp"
#include "proto/wire/certificates.hpp"

namespace {

EVP_PKEY* key() {
  static oag::pki::Key k = oag::pki::generate_key();
  return k.get();
}

bool same(const oag::pki::PassportClaims& a, const oag::pki::PassportClaims& b) {
  return a.x5u == b.x5u && a.iat == b.iat && a.orig_uri == b.orig_uri && a.dest_uris == b.dest_uris;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      std::string why;
      const auto h = oag::sip::parse_identity(in, &why);
      if (!h && why.empty()) std::abort();
      if (h && (h->passport.empty() || h->info.empty())) std::abort();
      break;
    }
    case 1: {
      auto d = oag::pki::passport_decode(in);
      if (auto* e = std::get_if<oag::pki::PkiError>(&d)) {
        if (e->detail.empty()) std::abort();
        break;
      }
      const auto& p = std::get<oag::pki::Passport>(d);
      if (p.claims.orig_uri.empty() || p.claims.dest_uris.empty()) break;  // tn claims: decode only
      auto again = oag::pki::passport_decode(oag::pki::passport_sign(p.claims, key()));
      auto* q = std::get_if<oag::pki::Passport>(&again);
      if (q == nullptr || !same(q->claims, p.claims)) std::abort();
      break;
    }
    case 2: {
      std::string why;
      if (!oag::sip::sdes_key(in, &why) && why.empty()) std::abort();
      break;
    }
    case 3: {
      // Content-Type up to the first newline, the body after it.
      const auto nl = in.find('\n');
      if (nl == std::string::npos) break;
      auto o = oag::pki::smime_open(in.substr(0, nl), in.substr(nl + 1), nullptr, nullptr);
      if (auto* e = std::get_if<oag::pki::PkiError>(&o); e && e->detail.empty()) std::abort();
      break;
    }
    case 4: {
      auto a = oag::wire::parse_certificates_response(in, false);
      if (auto* p = std::get_if<oag::wire::Problem>(&a)) {
        if (p->detail.empty()) std::abort();
        break;
      }
      const auto& ans = std::get<oag::wire::CertificatesAnswer>(a);
      auto b = oag::wire::parse_certificates_response(oag::wire::certificates_response(ans), false);
      auto* c = std::get_if<oag::wire::CertificatesAnswer>(&b);
      if (c == nullptr || c->subject != ans.subject ||
          c->certificates.size() != ans.certificates.size() || c->chain != ans.chain ||
          c->anchor != ans.anchor)
        std::abort();
      break;
    }
  }
  return 0;
}
