#pragma once
// oagd's network side: the four listeners (endpoint, federation, visitor: TLS; ops: plain HTTP
// on loopback), the peer client, signals and reload. Everything that includes Asio/Beast is
// behind this interface (server.cpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "gateway/metrics.hpp"
#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

/// The listeners and their I/O threads.
class Server {
 public:
  /// Adds routes to oagd's table before the router checks it (test daemons use it to serve a
  /// handler that throws or never answers through the real server).
  /// It may also replace the services' clock (to test protocol deadlines without waiting).
  using RouteHook = std::function<void(std::vector<Route>&, Services&)>;

  /// Sets up TLS and binds the listeners (port 0 picks a free port); throws on bind/TLS errors.
  /// `master_key` (the store's) also seals what the gateway hands out and reads back at any
  /// instance (enrollment challenges).
  Server(const config::Config& cfg, storage::Backend& store,
         std::shared_ptr<const storage::MasterKey> master_key, Metrics& metrics,
         const RouteHook& hook = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Bound port of a listener (0 when it is disabled).
  std::uint16_t port(Listener l) const;
  /// Serves until SIGTERM/SIGINT (drain: stop accepting, finish in-flight requests); SIGHUP
  /// reloads the configuration file (limits, logging, certificates, breaker settings).
  void run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oag::gateway
