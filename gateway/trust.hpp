#pragma once
// Which agreement a peer's certificate satisfies: chained to the agreement's CA file, or its
// SubjectPublicKeyInfo matching the agreement's SHA-256 pin.

#include <string>
#include <vector>

#include "storage/types.hpp"

namespace oag::gateway {

/// A peer certificate chain as DER (leaf first).
using CertChain = std::vector<std::string>;

/// True when `chain` satisfies the agreement's trust (CA file or SPKI pin); `as_server` checks
/// the certificate for TLS server use (the peer we call), else for client use (a peer calling).
bool peer_trusted(const storage::Agreement& a, const CertChain& chain, bool as_server);

/// Lower-case hex SHA-256 of the leaf's SubjectPublicKeyInfo (what an SPKI pin names).
std::string spki_sha256(const std::string& leaf_der);

}  // namespace oag::gateway
