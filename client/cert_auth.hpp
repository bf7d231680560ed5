#pragma once
// The caller and callee machines of a certificate-signed call (DESIGN §8), independent of any
// SIP stack like the SIM ones: the caller signs a PASSporT for the Identity header and sends
// its SDP encrypted to the callee's certificate and signed with its own (S/MIME); the callee
// checks both against the certificates and anchor its own AG gives for the caller, and answers
// the same way; the ACK carries a signed message/sipfrag naming the dialog. Each side sends
// the SRTP key it will send media with; both end with both keys and the same fingerprint.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "client/gateway.hpp"
#include "proto/pki/smime.hpp"
#include "proto/pki/x509.hpp"
#include "proto/sip/sdp.hpp"

namespace oag::client {

/// Our signing credentials: the key, the certificate, its chain, and the URL our home gateway
/// serves the certificate under (the PASSporT's x5u).
struct CertIdentity {
  std::string nai;  ///< whose (from the certificate's SAN URI)
  pki::Key key;     ///< the private key
  pki::Cert cert;   ///< the certificate
  std::vector<pki::Cert>
      chain;        ///< intermediates (the rest of the certificate file, or chain file)
  std::string x5u;  ///< https://home/v1/public/certificates/<serial>.pem
  /// When set, signatures (PASSporT, S/MIME) are made with this certificate and key instead,
  /// while decryption still uses `key`: a device whose signing key is kept apart, or a test
  /// of a wrong signer. x5u then names this certificate.
  pki::Cert signing_cert;
  pki::Key signing_key;  ///< its key

  /// Loads `cert_file` (leaf first, then any chain), `key_file` and, when not empty,
  /// `chain_file`; x5u = `home_url` + "/v1/public/certificates/<serial>.pem". Throws
  /// std::runtime_error naming the file.
  static CertIdentity load(const std::string& cert_file, const std::string& key_file,
                           const std::string& chain_file, const std::string& home_url);
  /// Loads the signing certificate and key of the override above; x5u follows it.
  void sign_with(const std::string& cert_file, const std::string& key_file,
                 const std::string& home_url);
  /// The signer view for S/MIME.
  pki::Signer signer() const;
  /// The key PASSporTs are signed with.
  EVP_PKEY* passport_key() const { return signing_key ? signing_key.get() : key.get(); }
};

/// The SIP parts of a signed message body.
using SignedBody = pki::SmimeBody;

/// The message/sipfrag the ACK signs: Call-ID and both ends with their tags.
std::string ack_sipfrag(std::string_view call_id, std::string_view from_uri,
                        std::string_view from_tag, std::string_view to_uri,
                        std::string_view to_tag);

/// Where a certificate machine is.
enum class CertState { idle, offered, authenticated, failed };

/// The caller: fetches the callee's certificates, offers, checks the answer.
class CertCallerAuth {
 public:
  /// What the INVITE carries.
  struct Offer {
    std::string identity;  ///< the Identity header value
    SignedBody body;       ///< the S/MIME body (Content-Type and body)
  };
  /// `ag` is our own gateway; `clock` gives Unix seconds (iat).
  CertCallerAuth(CertDirectory& ag, const CertIdentity& me, std::string peer_nai,
                 std::function<std::int64_t()> clock);

  /// Looks up the callee's certificates through our AG (checked against the anchor it gives)
  /// and builds the INVITE's Identity and body for media at host:port; nullopt when failed.
  std::optional<Offer> start(const std::string& from_uri, const std::string& to_uri,
                             const std::string& media_host, unsigned short media_port);
  /// The 200 OK: its body must be signed by one of the callee's certificates and encrypted to
  /// us. Returns the ACK's signed sipfrag; nullopt when failed (send ACK, then BYE with
  /// reason()).
  std::optional<SignedBody> on_answer(std::string_view content_type, std::string_view body,
                                      const std::string& sipfrag);
  /// The callee refused the INVITE.
  void on_rejected(int status, std::string_view warning);

  /// Where it is.
  CertState state() const { return state_; }
  /// Why it failed.
  const std::string& reason() const { return reason_; }
  /// The media keys' fingerprint (authenticated only).
  const std::string& fingerprint() const { return fingerprint_; }
  /// The callee's certificate the offer was encrypted to.
  const X509* peer_certificate() const { return peer_.empty() ? nullptr : peer_.front().get(); }

 private:
  bool fail(std::string why);
  CertDirectory& ag_;
  const CertIdentity& me_;
  std::string peer_nai_;
  std::function<std::int64_t()> clock_;
  CertState state_ = CertState::idle;
  std::string reason_, fingerprint_;
  std::vector<pki::Cert> peer_;  // the callee's valid certificates, checked
  sip::SrtpKey own_key_;
};

/// The callee: checks the INVITE, answers, checks the ACK.
class CertCalleeAuth {
 public:
  /// A refusal of the INVITE (DESIGN §8): 428, 437, 438 or 403 with a Warning text.
  struct Reject {
    int status = 403;     ///< SIP status
    std::string phrase;   ///< reason phrase
    std::string warning;  ///< "oag1 ..." for the Warning header
  };
  /// `ag` is our own gateway; `clock` gives Unix seconds.
  CertCalleeAuth(CertDirectory& ag, const CertIdentity& me, std::function<std::int64_t()> clock);

  /// The INVITE: its Identity value (nullopt when absent), From and To URIs, and body. The 200
  /// OK's signed body for media at host:port, or a refusal.
  std::variant<SignedBody, Reject> on_invite(const std::optional<std::string>& identity,
                                             const std::string& from_uri, const std::string& to_uri,
                                             std::string_view content_type, std::string_view body,
                                             const std::string& media_host,
                                             unsigned short media_port);
  /// The ACK's body: signed by the caller's certificate over `sipfrag`. False → BYE giving
  /// reason().
  bool on_ack(std::string_view content_type, std::string_view body, const std::string& sipfrag);

  /// Where it is.
  CertState state() const { return state_; }
  /// Why it failed.
  const std::string& reason() const { return reason_; }
  /// The media keys' fingerprint (authenticated only).
  const std::string& fingerprint() const { return fingerprint_; }
  /// The caller's NAI (once the INVITE was accepted).
  const std::string& caller() const { return caller_; }

 private:
  Reject reject(int status, std::string phrase, std::string why);
  CertDirectory& ag_;
  const CertIdentity& me_;
  std::function<std::int64_t()> clock_;
  CertState state_ = CertState::idle;
  std::string reason_, fingerprint_, caller_;
  pki::Cert caller_cert_;
  sip::SrtpKey caller_key_, own_key_;
};

}  // namespace oag::client
