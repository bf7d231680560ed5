#pragma once
// oag-phone enroll: a certificate for our key, obtained with our SIM (DESIGN §9).

#include <sys/types.h>

#include <string>

#include "client/https.hpp"

namespace oag::phone {

/// What `oag-phone enroll` needs.
struct EnrollOptions {
  std::string nai;             ///< our NAI
  std::string sim;             ///< SIM profile JSON
  client::HttpsOptions https;  ///< the gateway's visitor listener and the CA for its certificate
  std::string out_dir;         ///< where <NAI>.key (0600), <NAI>.pem and chain.pem go
};

/// Writes `text` to `path` with `mode` (applied even to an existing file) and fsyncs it; throws
/// std::runtime_error naming the file. What the phone's commands leave: keys, certificates.
void write_file(const std::string& path, const std::string& text, mode_t mode);

/// Enrolls; prints each step; 0 on success, 1 when refused, 2 on a local error.
int run_enroll(const EnrollOptions& o);

/// What `oag-phone renew` needs: the endpoint listener and our current certificate.
struct RenewOptions {
  std::string nai;             ///< our NAI
  client::HttpsOptions https;  ///< the endpoint listener, our CA, certificate and key
  std::string out_dir;         ///< where the new <NAI>.key (0600), <NAI>.pem and chain.pem go
  bool revoke_old = false;     ///< revoke the certificate we renew with
};

/// Renews with a new key; 0 on success, 1 when refused, 2 on a local error.
int run_renew(const RenewOptions& o);

}  // namespace oag::phone
