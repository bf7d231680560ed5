#pragma once
// Runs a command line through /bin/sh and captures its exit status, stdout and stderr.

#include <string>

namespace oag::test {

/// What a finished command left.
struct RunResult {
  int status = -1;  ///< exit status (-1 when killed by a signal)
  std::string out;  ///< standard output
  std::string err;  ///< standard error
};

/// Runs `command` (a shell command line) and waits for it.
RunResult run_command(const std::string& command);

/// Single-quotes `s` for the shell.
std::string shell_quote(const std::string& s);

}  // namespace oag::test
