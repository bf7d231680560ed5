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

}  // namespace oag::tools
