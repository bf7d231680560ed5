#include "client/cert_auth.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "proto/ident/ident.hpp"
#include "proto/pki/passport.hpp"
#include "proto/pki/verify.hpp"
#include "proto/sip/identity.hpp"
#include "proto/sip/message.hpp"

namespace oag::client {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Why `leaf` does not speak for `nai` by the directory's answer `a` (its anchor, with its chain
// and `more` as intermediates), or nullopt when it does.
std::optional<std::string> refusal(const X509* leaf, const wire::CertificatesAnswer& a,
                                   const std::string& nai, std::int64_t now_s,
                                   const std::vector<pki::Cert>& more) {
  if (leaf == nullptr || ident::lower(pki::subject_nai(leaf)) != ident::lower(nai))
    return "the certificate does not name " + nai;
  const auto anchors = pki::certs_from_pem(a.anchor);
  std::vector<pki::Cert> chain;
  for (const auto& c : a.chain)
    if (auto x = pki::cert_from_pem(c)) chain.push_back(std::move(x));
  std::vector<const X509*> inter, roots;
  for (const auto& c : chain) inter.push_back(c.get());
  for (const auto& c : more) inter.push_back(c.get());
  for (const auto& c : anchors) roots.push_back(c.get());
  if (const auto bad = pki::verify_chain(leaf, inter, roots, pki::Purpose::any, now_s))
    return "it does not chain to the anchor for " + std::string(ident::realm_of(nai)) + ": " +
           bad->detail;
  return std::nullopt;
}

// The directory's certificates of `nai` that speak for it; `why` tells about the first refused.
std::vector<pki::Cert> vouched(const wire::CertificatesAnswer& a, const std::string& nai,
                               std::int64_t now_s, std::string& why) {
  std::vector<pki::Cert> out;
  for (const auto& e : a.certificates) {
    auto leaf = pki::cert_from_pem(e.pem);
    if (const auto bad = refusal(leaf.get(), a, nai, now_s, {})) {
      if (why.empty()) why = "certificate " + e.serial + ": " + *bad;
      continue;
    }
    out.push_back(std::move(leaf));
  }
  return out;
}

bool same(const X509* a, const X509* b) {
  return a != nullptr && b != nullptr && X509_cmp(a, b) == 0;
}

}  // namespace

CertIdentity CertIdentity::load(const std::string& cert_file, const std::string& key_file,
                                const std::string& chain_file, const std::string& home_url) {
  CertIdentity id;
  auto certs = pki::certs_from_pem(read_file(cert_file));
  if (certs.empty()) throw std::runtime_error(cert_file + ": no PEM certificate");
  id.cert = std::move(certs.front());
  for (std::size_t i = 1; i < certs.size(); ++i) id.chain.push_back(std::move(certs[i]));
  if (!chain_file.empty())
    for (auto& c : pki::certs_from_pem(read_file(chain_file))) id.chain.push_back(std::move(c));
  id.key = pki::key_from_pem(read_file(key_file));
  if (!id.key) throw std::runtime_error(key_file + ": not a PEM private key");
  if (X509_check_private_key(id.cert.get(), id.key.get()) != 1)
    throw std::runtime_error(key_file + ": does not match " + cert_file);
  id.nai = pki::subject_nai(id.cert.get());
  std::string base = home_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  id.x5u = base + "/v1/public/certificates/" + pki::serial_hex(id.cert.get()) + ".pem";
  return id;
}

void CertIdentity::sign_with(const std::string& cert_file, const std::string& key_file,
                             const std::string& home_url) {
  auto other = load(cert_file, key_file, "", home_url);
  signing_cert = std::move(other.cert);
  signing_key = std::move(other.key);
  x5u = other.x5u;
}

pki::Signer CertIdentity::signer() const {
  if (signing_cert) return {signing_cert.get(), signing_key.get(), {}};
  pki::Signer s{cert.get(), key.get(), {}};
  for (const auto& c : chain) s.chain.push_back(c.get());
  return s;
}

std::string ack_sipfrag(std::string_view call_id, std::string_view from_uri,
                        std::string_view from_tag, std::string_view to_uri,
                        std::string_view to_tag) {
  return "Call-ID: " + std::string(call_id) + "\r\nFrom: <" + std::string(from_uri) +
         ">;tag=" + std::string(from_tag) + "\r\nTo: <" + std::string(to_uri) +
         ">;tag=" + std::string(to_tag) + "\r\n";
}

// ------------------------------------------------------------------ caller

CertCallerAuth::CertCallerAuth(CertDirectory& ag, const CertIdentity& me, std::string peer_nai,
                               std::function<std::int64_t()> clock)
    : ag_(ag), me_(me), peer_nai_(std::move(peer_nai)), clock_(std::move(clock)) {}

bool CertCallerAuth::fail(std::string why) {
  state_ = CertState::failed;
  reason_ = std::move(why);
  return false;
}

std::optional<CertCallerAuth::Offer> CertCallerAuth::start(const std::string& from_uri,
                                                           const std::string& to_uri,
                                                           const std::string& media_host,
                                                           unsigned short media_port) {
  auto found = ag_.certificates(peer_nai_);
  if (auto* e = std::get_if<Error>(&found)) {
    fail("no certificate of " + peer_nai_ + " from our gateway: " + e->to_string());
    return std::nullopt;
  }
  std::string why;
  peer_ = vouched(std::get<wire::CertificatesAnswer>(found), peer_nai_, clock_(), why);
  if (peer_.empty()) {
    fail("no certificate of " + peer_nai_ + " chains to the anchor our gateway gave: " + why);
    return std::nullopt;
  }
  own_key_ = sip::new_srtp_key();
  const auto sdp = sip::sdp_with_key(media_host, media_port, std::to_string(clock_()), own_key_);
  Offer o;
  o.body = pki::smime_seal("application/sdp", sdp, peer_.front().get(), me_.signer());
  pki::PassportClaims c;
  c.x5u = me_.x5u;
  c.iat = clock_();
  c.orig_uri = from_uri;
  c.dest_uris = {to_uri};
  o.identity = sip::identity_value(pki::passport_sign(c, me_.passport_key()), me_.x5u);
  state_ = CertState::offered;
  return o;
}

std::optional<SignedBody> CertCallerAuth::on_answer(std::string_view content_type,
                                                    std::string_view body,
                                                    const std::string& sipfrag) {
  if (state_ != CertState::offered) {
    fail("an answer without an offer");
    return std::nullopt;
  }
  auto opened = pki::smime_open(content_type, body, me_.cert.get(), me_.key.get());
  if (auto* e = std::get_if<pki::PkiError>(&opened)) {
    fail("bad S/MIME answer: " + e->detail);
    return std::nullopt;
  }
  auto& o = std::get<pki::SmimeOpened>(opened);
  bool known = false;
  for (const auto& c : peer_) known |= same(c.get(), o.signer.get());
  if (!known) {
    fail("the answer is not signed by a certificate of " + peer_nai_);
    return std::nullopt;
  }
  if (!o.encrypted || !pki::media_type_is(o.type, "application/sdp")) {
    fail("the answer is not an encrypted SDP");
    return std::nullopt;
  }
  std::string why;
  const auto key = sip::sdes_key(o.content, &why);
  if (!key) {
    fail("the answer's SDP: " + why);
    return std::nullopt;
  }
  fingerprint_ = sip::media_fingerprint(own_key_, *key);
  state_ = CertState::authenticated;
  return pki::smime_sign("message/sipfrag", sipfrag, me_.signer());
}

void CertCallerAuth::on_rejected(int status, std::string_view warning) {
  fail("the callee refused: " + std::to_string(status) +
       (warning.empty() ? "" : " (" + std::string(warning) + ")"));
}

// ------------------------------------------------------------------ callee

CertCalleeAuth::CertCalleeAuth(CertDirectory& ag, const CertIdentity& me,
                               std::function<std::int64_t()> clock)
    : ag_(ag), me_(me), clock_(std::move(clock)) {}

CertCalleeAuth::Reject CertCalleeAuth::reject(int status, std::string phrase, std::string why) {
  state_ = CertState::failed;
  reason_ = why;
  return {status, std::move(phrase), "oag1 " + std::move(why)};
}

std::variant<SignedBody, CertCalleeAuth::Reject> CertCalleeAuth::on_invite(
    const std::optional<std::string>& identity, const std::string& from_uri,
    const std::string& to_uri, std::string_view content_type, std::string_view body,
    const std::string& media_host, unsigned short media_port) {
  // RFC 8224 §6.2.2: no Identity → 428; one we cannot use → 438 (437 for its credential).
  if (!identity) return reject(428, "Use Identity Header", "no Identity header");
  std::string why;
  const auto header = sip::parse_identity(*identity, &why);
  if (!header) return reject(438, "Invalid Identity Header", "Identity: " + why);
  if (!header->alg.empty() && header->alg != "ES256")
    return reject(438, "Invalid Identity Header", "Identity: alg " + header->alg);
  auto decoded = pki::passport_decode(header->passport);
  if (auto* e = std::get_if<pki::PkiError>(&decoded))
    return reject(438, "Invalid Identity Header", e->detail);
  const auto& pp = std::get<pki::Passport>(decoded);
  if (pp.claims.x5u != header->info)
    return reject(438, "Invalid Identity Header", "Identity: x5u and info differ");
  // The body first: it names the signer's certificate, which must be the PASSporT's.
  auto opened = pki::smime_open(content_type, body, me_.cert.get(), me_.key.get());
  if (auto* e = std::get_if<pki::PkiError>(&opened))
    return reject(403, "Forbidden", "bad S/MIME body: " + e->detail);
  auto& o = std::get<pki::SmimeOpened>(opened);
  const std::string caller = sip::aor_of(from_uri);
  if (ident::lower(pki::subject_nai(o.signer.get())) != ident::lower(caller))
    return reject(437, "Unsupported Credential",
                  "the body is signed by " + pki::subject_nai(o.signer.get()) + ", not " + caller);
  // The certificates our AG gives for the caller, with the anchor it vouches for that realm.
  auto found = ag_.certificates(caller);
  if (auto* e = std::get_if<Error>(&found))
    return reject(437, "Unsupported Credential",
                  "no certificate of " + caller + " from our gateway: " + e->to_string());
  const auto& ans = std::get<wire::CertificatesAnswer>(found);
  if (const auto bad = refusal(o.signer.get(), ans, caller, clock_(), o.certs))
    return reject(437, "Unsupported Credential", "the signer's certificate: " + *bad);
  // Chaining is not enough: it must be one its home still lists (not revoked, not expired).
  const auto serial = pki::serial_hex(o.signer.get());
  bool listed = false;
  for (const auto& e : ans.certificates) listed |= e.serial == serial;
  if (!listed)
    return reject(437, "Unsupported Credential",
                  "the signer's certificate " + serial + " is not a valid certificate of " +
                      caller + " by its home");
  const std::string serial_pem = "/" + serial + ".pem";
  if (pp.claims.x5u.size() < serial_pem.size() ||
      pp.claims.x5u.compare(pp.claims.x5u.size() - serial_pem.size(), serial_pem.size(),
                            serial_pem) != 0)
    return reject(438, "Invalid Identity Header", "x5u does not name the signer's certificate");
  pki::Key pub(X509_get_pubkey(o.signer.get()));
  if (const auto bad = pki::passport_verify(pp, pub.get(), clock_()))
    return reject(438, "Invalid Identity Header", bad->detail);
  if (pp.claims.orig_uri != from_uri)
    return reject(438, "Invalid Identity Header", "orig.uri is not the From URI");
  bool dest = false;
  for (const auto& d : pp.claims.dest_uris) dest |= d == to_uri;
  if (!dest) return reject(438, "Invalid Identity Header", "dest.uri does not name the To URI");
  if (!o.encrypted || !pki::media_type_is(o.type, "application/sdp"))
    return reject(403, "Forbidden", "bad S/MIME body: not an encrypted SDP");
  const auto key = sip::sdes_key(o.content, &why);
  if (!key) return reject(403, "Forbidden", "bad S/MIME body: " + why);
  caller_key_ = *key;
  caller_ = caller;
  caller_cert_ = std::move(o.signer);
  own_key_ = sip::new_srtp_key();
  const auto sdp = sip::sdp_with_key(media_host, media_port, std::to_string(clock_()), own_key_);
  state_ = CertState::offered;
  return pki::smime_seal("application/sdp", sdp, caller_cert_.get(), me_.signer());
}

bool CertCalleeAuth::on_ack(std::string_view content_type, std::string_view body,
                            const std::string& sipfrag) {
  if (state_ != CertState::offered) {
    state_ = CertState::failed;
    reason_ = "an ACK without an accepted INVITE";
    return false;
  }
  const auto fail = [&](std::string why) {
    state_ = CertState::failed;
    reason_ = std::move(why);
    return false;
  };
  if (content_type.empty()) return fail("the ACK carries no signed sipfrag");
  auto opened = pki::smime_open(content_type, body, nullptr, nullptr);
  if (auto* e = std::get_if<pki::PkiError>(&opened)) return fail("bad ACK body: " + e->detail);
  const auto& o = std::get<pki::SmimeOpened>(opened);
  if (!same(o.signer.get(), caller_cert_.get()))
    return fail("the ACK is not signed by the caller's certificate");
  if (!pki::media_type_is(o.type, "message/sipfrag") || o.content != sipfrag)
    return fail("the ACK's sipfrag does not name this dialog");
  fingerprint_ = sip::media_fingerprint(caller_key_, own_key_);
  state_ = CertState::authenticated;
  return true;
}

}  // namespace oag::client
