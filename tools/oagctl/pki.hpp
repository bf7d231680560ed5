#pragma once
// The operator's key and certificate files: X.509 itself is proto/pki's; this writes and reads
// the files oagctl keeps (private keys 0600, certificates 0644).

#include <string>

#include "proto/pki/x509.hpp"

namespace oag::tools::pki {

using oag::pki::Cert;
using oag::pki::generate_key;
using oag::pki::issue;
using oag::pki::Key;
using oag::pki::not_after_ms;
using oag::pki::serial_hex;
using oag::pki::Spec;

/// The issuing CA oagd signs endpoint certificates with: an intermediate (path length 0) under
/// the endpoint CA `root`, valid for five years from `now_s`; its key is returned in `key`.
Cert make_issuing_ca(X509* root, EVP_PKEY* root_key, const std::string& realm, Key& key,
                     std::int64_t now_s);
/// The path length the CA certificate allows below it (-1: unlimited, -2: not a CA).
long path_len(X509* ca);

/// Writes a key as PKCS#8 PEM with mode 0600; refuses an existing file unless `overwrite`.
void write_key(const std::string& path, EVP_PKEY* key, bool overwrite);
/// Writes a certificate as PEM with mode 0644; refuses an existing file unless `overwrite`.
void write_cert(const std::string& path, X509* cert, bool overwrite);
/// Writes `text` (a key in PEM) to `path` with mode 0600; refuses to overwrite unless asked.
void write_private_text(const std::string& path, const std::string& text, bool overwrite);
/// Reads a PEM key; throws std::runtime_error naming the file.
Key load_key(const std::string& path);
/// Reads a PEM certificate; throws std::runtime_error naming the file.
Cert load_cert(const std::string& path);

}  // namespace oag::tools::pki
