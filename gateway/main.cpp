// oagd: the Operator Authentication Gateway daemon.
//   oagd --config FILE [--check-config]
#include <CLI/CLI.hpp>

#include <iostream>

#include "gateway/config.hpp"
#include "gateway/log.hpp"
#include "gateway/metrics.hpp"
#include "gateway/server.hpp"
#include "storage/store.hpp"

using namespace oag;

int main(int argc, char** argv) {
  CLI::App app{"oagd: Operator Authentication Gateway"};
  std::string config_file;
  bool check_only = false;
  app.add_option("--config", config_file, "Configuration file (JSON)")->required();
  app.add_flag("--check-config", check_only,
               "Validate the configuration (files, keys, database) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  gateway::Config cfg;
  try {
    cfg = gateway::load_config(config_file);
    gateway::check_config(cfg);
  } catch (const gateway::ConfigError& e) {
    std::cerr << "oagd: " << config_file << ": " << e.what() << '\n';
    return 2;
  }
  if (check_only) {
    std::cout << "oagd: " << config_file << ": configuration OK\n";
    return 0;
  }
  gateway::log::setup(cfg.log_level, cfg.log_json);

  std::unique_ptr<storage::Backend> store;
  try {
    storage::BackendConfig bc;
    bc.backend = cfg.store_backend;
    bc.path = cfg.store_path;
    bc.master_key =
        std::make_shared<storage::MasterKey>(storage::MasterKey::load(cfg.master_key_file));
    bc.ind_slot = cfg.ind_slot;
    bc.vector_ttl_ms = static_cast<std::int64_t>(cfg.vector_ttl_s) * 1000;
    store = storage::open_backend(bc);
  } catch (const std::exception& e) {
    gateway::log::error(gateway::log::event::kConfigError, "cannot open the store",
                        {{"error", e.what()}});
    return 1;
  }

  gateway::Metrics metrics;
  try {
    gateway::Server server(cfg, *store, metrics);
    gateway::log::info(gateway::log::event::kStarted, "oagd started",
                       {{"realm", cfg.realm},
                        {"store", cfg.store_path},
                        {"ind_slot", std::to_string(cfg.ind_slot)}});
    // One line per listener on stdout, so that supervisors and tests learn the bound ports.
    std::cout << "listening endpoint " << cfg.endpoint.address << " " << server.endpoint_port()
              << "\n";
    if (cfg.federation_enabled)
      std::cout << "listening federation " << cfg.federation.address << " "
                << server.federation_port() << "\n";
    if (cfg.ops.enabled)
      std::cout << "listening ops " << cfg.ops.address << " " << server.ops_port() << "\n";
    std::cout << std::flush;
    server.run();
  } catch (const std::exception& e) {
    gateway::log::error(gateway::log::event::kConfigError, "cannot serve", {{"error", e.what()}});
    return 1;
  }
  store.reset();  // the writer commits what is queued before this returns
  gateway::log::info(gateway::log::event::kStopped, "oagd stopped");
  return 0;
}
