#pragma once
// The file descriptors the configured limits can hold open, and the process limit raised to fit
// them at start and on reload (Kea and nginx leave it to the operator to find out under load).

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace oag::gateway {

/// Descriptors beyond the listeners' connections: the store (database, WAL, shared memory per
/// connection), the pooled connections to peers, the log, epoll and the signal pipe.
inline constexpr std::uint64_t kFdReserve = 256;

/// `limits.max_connections` for each listener the configuration enables, plus kFdReserve.
std::uint64_t fds_needed(const config::Config& c);

/// Raises RLIMIT_NOFILE's soft limit to fds_needed(c) when it is lower (never lowers it). When
/// the hard limit is lower: the error, naming the numbers and what to change.
std::optional<std::string> raise_fd_limit(const config::Config& c);

}  // namespace oag::gateway
