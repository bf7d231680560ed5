#pragma once
// Chain verification against an explicit anchor set: no system roots, no files; the caller
// passes the time, so a test can check expiry without waiting.

#include <cstdint>
#include <optional>
#include <vector>

#include "proto/pki/csr.hpp"
#include "proto/pki/x509.hpp"

namespace oag::pki {

/// What the leaf must be good for.
enum class Purpose { any, tls_client, tls_server };

/// Verifies `leaf` (with `intermediates`) up to one of `anchors` at Unix time `at_s`: signatures,
/// validity, CA constraints and, unless Purpose::any, the TLS purpose. nullopt when it holds.
std::optional<PkiError> verify_chain(const X509* leaf,
                                     const std::vector<const X509*>& intermediates,
                                     const std::vector<const X509*>& anchors, Purpose purpose,
                                     std::int64_t at_s);

}  // namespace oag::pki
