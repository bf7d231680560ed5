#pragma once
// Argument parsing helpers shared by oagctl's commands: every error names its argument.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "proto/aka/bytes.hpp"
#include "proto/aka/sqn.hpp"

namespace oag::tools {

/// A bad command line: printed as "oagctl: <message>", exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A command that ran and failed: printed as "oagctl: <message>", exit status 1.
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Decodes the hex value of `arg`, which must be one of `lengths` bytes long.
std::vector<std::uint8_t> parse_hex_arg(const std::string& arg, const std::string& value,
                                        std::initializer_list<std::size_t> lengths);

/// Decodes exactly N bytes of hex for `arg`.
template <std::size_t N>
aka::Bytes<N> parse_hex_fixed(const std::string& arg, const std::string& value) {
  const auto v = parse_hex_arg(arg, value, {N});
  aka::Bytes<N> b{};
  std::copy(v.begin(), v.end(), b.begin());
  return b;
}

/// SQN as 12 hex digits, 0x-prefixed hex, or decimal; at most 48 bits.
aka::Sqn parse_sqn_arg(const std::string& arg, const std::string& value);

/// Parses an RFC 3339 time ("2026-11-22T10:00:00Z", offsets allowed) or a date ("2026-11-22",
/// midnight UTC) into Unix ms; throws UsageError naming `arg`.
std::int64_t parse_time_arg(const std::string& arg, const std::string& value);

/// Unix ms as RFC 3339 UTC with milliseconds: "2026-11-22T10:00:00.000Z".
std::string format_time(std::int64_t ms);

/// Parses a decimal price ("0.015") into millionths; throws UsageError naming `arg`.
std::int64_t parse_price_arg(const std::string& arg, const std::string& value);

/// Millionths as a decimal string without trailing zeros ("0.015", "2").
std::string format_price(std::int64_t micros);

/// Parses "sim", "aka", "sim,aka" into a storage::KindMask value; throws UsageError naming `arg`.
unsigned parse_kinds_arg(const std::string& arg, const std::string& value);

/// "sim", "aka" or "sim,aka".
std::string format_kinds(unsigned kinds);

}  // namespace oag::tools
