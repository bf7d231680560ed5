#include "gateway/daemon.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#include "config/config.hpp"
#include "gateway/fd_limit.hpp"
#include "gateway/log.hpp"
#include "gateway/metrics.hpp"
#include "gateway/notify.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

int daemon_main(int argc, char** argv, const Server::RouteHook& hook) {
  CLI::App app{"oagd: Operator Authentication Gateway"};
  app.set_version_flag("--version", "oagd " OAG_VERSION);
  std::string config_file;
  bool check_only = false;
  app.add_option("--config", config_file, "Configuration file (JSON)")->required();
  app.add_flag("--check-config", check_only,
               "Validate the configuration (files, keys, database) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  config::Config cfg;
  try {
    cfg = config::load_config(config_file);
    config::check_config(cfg);
    // Every connection the limits allow must get its descriptor: raised now, or refused here,
    // rather than EMFILE under load.
    if (const auto short_of = raise_fd_limit(cfg)) throw config::ConfigError(*short_of);
  } catch (const config::ConfigError& e) {
    std::cerr << "oagd: " << config_file << ": " << e.what() << '\n';
    return 2;
  }
  if (check_only) {
    std::cout << "oagd: " << config_file << ": configuration OK\n";
    return 0;
  }
  log::setup(cfg);

  std::unique_ptr<storage::Backend> store;
  std::shared_ptr<const storage::MasterKey> key;
  try {
    auto bc = config::backend_config(cfg);
    key = std::make_shared<const storage::MasterKey>(storage::MasterKey::load(cfg.master_key_file));
    bc.master_key = key;
    store = storage::open_backend(bc);
  } catch (const std::exception& e) {
    log::error(log::event::kConfigError, "cannot open the store", {{"error", e.what()}});
    return 1;
  }

  Metrics metrics;
  try {
    Server server(cfg, *store, key, metrics, hook);
    log::info(log::event::kStarted, "oagd started",
              {{"realm", cfg.realm},
               {"store", cfg.store_backend == "sqlite" ? cfg.store_path : "postgresql"},
               {"instance", cfg.store_instance},
               {"ind_slot", std::to_string(cfg.ind_slot)}});
    // One line per listener on stdout, so that supervisors and tests learn the bound ports.
    const std::pair<Listener, const std::string*> listeners[] = {
        {Listener::endpoint, &cfg.endpoint.address},
        {Listener::federation, &cfg.federation.address},
        {Listener::visitor, &cfg.visitor.address},
        {Listener::ops, &cfg.ops.address}};
    for (const auto& [l, address] : listeners)
      if (const auto port = server.port(l))
        std::cout << "listening " << to_string(l) << " " << *address << " " << port << "\n";
    std::cout << std::flush;
    notify::ready("serving " + cfg.realm);
    server.run();
  } catch (const std::exception& e) {
    log::error(log::event::kConfigError, "cannot serve", {{"error", e.what()}});
    return 1;
  }
  store.reset();  // the writer commits what is queued before this returns
  log::info(log::event::kStopped, "oagd stopped");
  return 0;
}

}  // namespace oag::gateway
