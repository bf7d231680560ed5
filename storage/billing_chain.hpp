#pragma once
// The billing hash chain: hash = SHA-256(prev_hash ‖ canonical record). Backend-independent, so
// every backend (and `oagctl billing verify` on an export) computes the same hashes.

#include <string>

#include "storage/types.hpp"

namespace oag::storage {

/// prev_hash of the first record: 64 zeros.
inline const std::string kGenesisHash(64, '0');

/// Canonical form of a record: compact JSON, keys in byte order, every field but chain,
/// prev_hash and hash, integers as decimal, strings JSON-escaped. The chain name is left out so
/// that records written before chains had names (schema 4) keep their hashes; a chain's records
/// are bound to each other by prev_hash.
std::string canonical(const BillingRecord& r);

/// Hex SHA-256(bytes of prev_hash_hex ‖ canonical(r)).
std::string chain_hash(const std::string& prev_hash_hex, const BillingRecord& r);

/// Hex SHA-256 of the RANDs concatenated in order.
std::string rand_digest(const std::vector<aka::Bytes<16>>& rands);

}  // namespace oag::storage
