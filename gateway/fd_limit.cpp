#include "gateway/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace oag::gateway {

namespace {

unsigned listeners_enabled(const config::Config& c) {
  return 1u + (c.federation_enabled ? 1u : 0u) + (c.visitor.enabled ? 1u : 0u) +
         (c.ops.enabled ? 1u : 0u);
}

}  // namespace

std::uint64_t fds_needed(const config::Config& c) {
  return std::uint64_t{c.limits.max_connections} * listeners_enabled(c) + kFdReserve;
}

std::optional<std::string> raise_fd_limit(const config::Config& c) {
  const std::uint64_t needed = fds_needed(c);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return std::string("cannot read the file-descriptor limit: ") + std::strerror(errno);
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= needed) return std::nullopt;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < needed)
    return "limits.max_connections: " + std::to_string(c.limits.max_connections) + " on each of " +
           std::to_string(listeners_enabled(c)) + " listeners needs " + std::to_string(needed) +
           " file descriptors (with " + std::to_string(kFdReserve) +
           " for the store, peers and logs), but the hard limit is " + std::to_string(rl.rlim_max) +
           "; raise it (systemd: LimitNOFILE=, shell: ulimit -Hn) or lower "
           "limits.max_connections to at most " +
           std::to_string((rl.rlim_max > kFdReserve ? rl.rlim_max - kFdReserve : 0) /
                          listeners_enabled(c));
  rl.rlim_cur = needed;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return std::string("cannot raise the file-descriptor limit to ") + std::to_string(needed) +
           ": " + std::strerror(errno);
  return std::nullopt;
}

}  // namespace oag::gateway
