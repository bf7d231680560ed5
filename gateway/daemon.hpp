#pragma once
// oagd's main: arguments, configuration, store, server, exit codes. A function so that a test
// daemon can run the very same start-up with extra routes.

#include "gateway/server.hpp"

namespace oag::gateway {

/// `oagd --config FILE [--check-config]`: 0 after a drain, 2 on a bad argument or configuration,
/// 1 when the store or a listener cannot be opened. `hook` adds routes (tests only).
int daemon_main(int argc, char** argv, const Server::RouteHook& hook = {});

}  // namespace oag::gateway
