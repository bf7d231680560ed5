#pragma once
// oag-phone login: the roaming login of a password user (DESIGN §7) through the gateway of the
// network visited (or the home gateway), and the files it leaves for `oag-phone call --cert`.

#include <string>

#include "client/https.hpp"

namespace oag::phone {

/// What `oag-phone login` needs.
struct LoginOptions {
  std::string profile;        ///< home profile JSON (oagctl subscriber profile)
  std::string via;            ///< https://HOST:PORT of the visited gateway's visitor listener
  std::string password_file;  ///< first line is the password (else read from the terminal)
  std::string ca_file;        ///< optional: check the gateway's server certificate with it
  std::string out_dir;        ///< where <NAI>.key (0600), <NAI>.pem, chain.pem, session.json go
  std::string
      device_profile;  ///< JSON object sent as the device profile (default {"app":"oag-phone"})
};

/// Logs in; prints each step with its time; 0 when logged in, 1 when refused, 2 on a local
/// error.
int run_login(const LoginOptions& o);

}  // namespace oag::phone
