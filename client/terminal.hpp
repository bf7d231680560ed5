#pragma once
// Secrets typed by a person: a line from the controlling terminal with echo off (passwords for
// `oagctl subscriber set-password` and `oag-phone login`), never from argv.

#include <optional>
#include <string>

namespace oag::client {

/// Prints `prompt` on /dev/tty and reads one line with echo off; nullopt when there is no
/// terminal (then the caller asks for a file instead).
std::optional<std::string> read_hidden_line(const std::string& prompt);

/// The first line of `text` (a password file: its newline is not part of the password).
std::string first_line(std::string text);

}  // namespace oag::client
