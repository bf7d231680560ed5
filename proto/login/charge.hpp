#pragma once
// A visitor's signed charge (DESIGN §7): what the foreign agent checks before it records one,
// and what anyone holding the home user CA checks again from the billing record alone.

#include <optional>
#include <string>
#include <string_view>

#include "proto/login/messages.hpp"

namespace oag::login {

/// Checks that `o`'s signature verifies under the leaf of `certificate_pem` (leaf first, then
/// its chain), that the leaf names `nai` (when not empty) and chains to `anchor_pem` at the
/// order's time. nullopt when it holds, else why not.
std::optional<std::string> verify_charge(const ChargeOrder& o, std::string_view certificate_pem,
                                         std::string_view anchor_pem, std::string_view nai);

/// A charge record's detail: canonical {"certificate","order":{...},"signature"}.
std::string charge_detail(const ChargeOrder& o, const std::string& certificate_pem);

/// What a detail holds.
struct ChargeDetail {
  ChargeOrder order;        ///< the order with its signature
  std::string certificate;  ///< the signer's certificate and chain, PEM
};
/// Parses a detail; nullopt when malformed.
std::optional<ChargeDetail> parse_charge_detail(std::string_view detail);

/// The amount in millionths of the currency unit (the order's amount is checked decimal).
std::int64_t amount_micros(const std::string& amount);

}  // namespace oag::login
