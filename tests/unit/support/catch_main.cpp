#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <csignal>

namespace {

// A server may answer and close while a test client is still writing (a 431 to an oversized
// header): the write must fail with EPIPE for the test to see, not kill the test process.
const bool kNoSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace
