#pragma once
// oagd's network side: the TLS endpoint listener, the ops listener, signals. Everything that
// includes Asio/Beast is behind this interface (server.cpp).

#include <cstdint>
#include <memory>

#include "gateway/config.hpp"
#include "gateway/metrics.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

/// The listeners and their I/O threads.
class Server {
 public:
  /// Sets up TLS and binds the listeners (port 0 picks a free port); throws on bind/TLS errors.
  Server(const Config& cfg, storage::Backend& store, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Bound port of the endpoint listener.
  std::uint16_t endpoint_port() const;
  /// Bound port of the federation listener (0 when disabled).
  std::uint16_t federation_port() const;
  /// Bound port of the ops listener (0 when disabled).
  std::uint16_t ops_port() const;
  /// Serves until SIGTERM/SIGINT (drain: stop accepting, finish in-flight requests); SIGHUP
  /// reloads the configuration file's certificates, limits and log level.
  void run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oag::gateway
