#pragma once
// The systemd notify protocol (sd_notify(3)): what oagd tells its supervisor. Without
// $NOTIFY_SOCKET (not started by systemd with Type=notify) every call does nothing.

#include <string>

namespace oag::gateway::notify {

/// Every listener is bound (connections queue from now on): READY=1, with a STATUS line.
void ready(const std::string& status);
/// A SIGHUP reload begins: RELOADING=1 (READY=1 follows, whatever its outcome).
void reloading();
/// Draining for exit: STOPPING=1.
void stopping();

}  // namespace oag::gateway::notify
