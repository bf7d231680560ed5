#include "client/enroll.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "proto/aka/hex.hpp"
#include "proto/digest/digest.hpp"
#include "proto/ident/ident.hpp"
#include "proto/pki/csr.hpp"
#include "proto/pki/x509.hpp"

namespace oag::client {

namespace {

const std::string kCsrType = "application/pkcs10";

Error fail(int status, std::string code, std::string detail) {
  return Error{status, std::move(code), std::move(detail)};
}

}  // namespace

Expected<Enrolled> Enroll::run() {
  const auto key = pki::generate_key();
  const std::string csr = pki::make_csr(key.get(), nai_);
  digest::Exchange x;
  x.username = nai_;
  x.realm = std::string(ident::realm_of(nai_));
  x.uri = path_;
  // The first request names us, with an empty nonce: the gateway answers with a challenge.
  std::string authorization = digest::authorization(x, "", "");
  for (int round = 0; round < 3; ++round) {
    const auto r =
        transport_.request("POST", path_, csr, kCsrType, {{"Authorization", authorization}});
    if (r.status == 200) return fail(r.status, "malformed-answer", "a certificate unasked for");
    if (r.status != 401) return error_of(r);
    const auto www = r.headers.find("www-authenticate");
    std::string why;
    const auto ch = www == r.headers.end() ? std::nullopt : digest::parse(www->second, why);
    if (!ch || !ch->count("nonce") || !ch->count("opaque") || !ch->count("realm"))
      return fail(r.status, "malformed-challenge", why.empty() ? "no Digest challenge" : why);
    const auto nonce = digest::parse_aka_nonce(ch->at("nonce"));
    if (!nonce) return fail(r.status, "malformed-challenge", "nonce: not base64(RAND ‖ AUTN)");
    x.realm = ch->at("realm");
    x.nonce = ch->at("nonce");
    x.nc = "00000001";
    std::uint8_t cn[8];
    RAND_bytes(cn, sizeof cn);
    x.cnonce = aka::to_hex(aka::ByteView(cn, sizeof cn));
    const auto outcome = sim_.run_aka(nonce->first, nonce->second);
    if (const auto* sync = std::get_if<aka::AkaSyncFailure>(&outcome)) {
      // Our SIM is ahead of the gateway: AUTS (and the empty password), then a fresh challenge.
      const std::string auts = digest::base64(aka::ByteView(sync->auts));
      authorization =
          digest::authorization(x, digest::response(x, {}, "POST", csr), ch->at("opaque"), auts);
      continue;
    }
    const auto* ok = std::get_if<aka::AkaSuccess>(&outcome);
    if (ok == nullptr)
      return fail(r.status, "network-not-authentic", "the SIM refused the challenge's AUTN");
    const auto res = ok->res.expose();
    const std::string response = digest::response(x, res, "POST", csr);
    const auto answer = transport_.request(
        "POST", path_, csr, kCsrType,
        {{"Authorization", digest::authorization(x, response, ch->at("opaque"))}});
    if (answer.status != 200) return error_of(answer);
    // rspauth: only who knew XRES (= our RES) can compute it over this very answer.
    const auto info_h = answer.headers.find("authentication-info");
    const auto info =
        info_h == answer.headers.end() ? std::nullopt : digest::parse_info(info_h->second, why);
    const std::string want = digest::rspauth(x, res, answer.body);
    if (!info || !info->count("rspauth") || info->at("rspauth").size() != want.size() ||
        CRYPTO_memcmp(info->at("rspauth").data(), want.data(), want.size()) != 0)
      return fail(200, "network-not-authentic", "rspauth does not prove the gateway knew XRES");
    // The leaf is checked (our key, our NAI); the chain is handed on as it came, the endpoint
    // listener's handshake is what checks it (decoding it here costs ~280 us a certificate).
    constexpr std::string_view kEnd = "-----END CERTIFICATE-----\n";
    const auto end = answer.body.find(kEnd);
    const auto leaf = pki::cert_from_pem(answer.body);
    if (!leaf || end == std::string::npos ||
        answer.body.find("-----BEGIN CERTIFICATE-----", end) == std::string::npos)
      return fail(200, "malformed-answer", "expected a leaf and its chain");
    if (pki::spki_sha256(leaf.get()) != pki::spki_sha256(key.get()) ||
        pki::subject_nai(leaf.get()) != nai_)
      return fail(200, "malformed-answer", "the certificate is not for our key and NAI");
    Enrolled e;
    e.key_pem = pki::private_key_pem(key.get());
    e.cert_pem = answer.body.substr(0, end + kEnd.size());
    e.chain_pem = answer.body.substr(end + kEnd.size());
    e.serial = pki::serial_hex(leaf.get());
    return e;
  }
  return fail(401, "unauthorized", "no challenge could be answered");
}

}  // namespace oag::client
