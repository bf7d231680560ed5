#include "gateway/notify.hpp"

#include <systemd/sd-daemon.h>

namespace oag::gateway::notify {

void ready(const std::string& status) {
  sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void reloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
}

void stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
}

}  // namespace oag::gateway::notify
