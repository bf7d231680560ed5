#include "tools/oagctl/context.hpp"

#include <filesystem>

#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include "tools/oagctl/args.hpp"

namespace oag::tools {

const config::Config& Context::config() const {
  if (!config_) {
    try {
      config_ = std::make_shared<config::Config>(config::load_config(config_file));
    } catch (const config::ConfigError& e) {
      // oagd's reader, oagd's message: the JSON path of what is wrong.
      const std::string what = e.what();
      throw UsageError(what.rfind("--config:", 0) == 0 ? what
                                                       : "--config: " + config_file + ": " + what);
    }
  }
  return *config_;
}

storage::BackendConfig Context::backend_config() const {
  storage::BackendConfig cfg;
  std::string key_file = master_key;
  if (!config_file.empty()) {
    if (!db_path.empty() || !master_key.empty())
      throw UsageError("--config: give either --config or --db/--master-key");
    const auto& c = config();
    cfg = config::backend_config(c);
    key_file = c.master_key_file;
  } else {
    if (db_path.empty()) throw UsageError("--db: required (or --config)");
    if (master_key.empty()) throw UsageError("--master-key: required (or --config)");
    cfg.path = db_path;
    // --db postgresql://... (or a key=value conninfo) names a PostgreSQL database.
    if (storage::is_postgresql_location(db_path)) cfg.backend = "postgresql";
  }
  try {
    cfg.master_key = std::make_shared<storage::MasterKey>(storage::MasterKey::load(key_file));
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  return cfg;
}

storage::Backend& Context::backend(bool migrate) {
  if (!backend_) {
    auto cfg = backend_config();
    cfg.migrate = migrate;
    try {
      backend_ = storage::open_backend(cfg);
    } catch (const storage::StoreError& e) {
      throw CommandFailed(e.what());
    }
  }
  return *backend_;
}

config::PkiPaths Context::pki() const {
  if (config_file.empty())
    throw UsageError("--config: needed to find the operator's CAs (written by oagctl init)");
  const auto& p = config().pki;
  const std::pair<const std::string*, const char*> need[] = {
      {&p.endpoint_ca_cert, "endpoint_ca_cert"},
      {&p.endpoint_ca_key, "endpoint_ca_key"},
      {&p.federation_ca_cert, "federation_ca_cert"},
      {&p.federation_ca_key, "federation_ca_key"},
      {&p.server_cert, "server_cert"},
      {&p.server_key, "server_key"},
      {&p.federation_cert, "federation_cert"},
      {&p.federation_key, "federation_key"}};
  for (const auto& [value, name] : need)
    if (value->empty())
      throw UsageError("--config: " + config_file + ": pki." + name + ": required");
  return p;
}

std::string Context::realm() const {
  return config_file.empty() ? std::string() : config().realm;
}

void Context::print(const nlohmann::ordered_json& j, const std::string& text) const {
  if (json || text.empty())
    std::cout << j.dump(json ? -1 : 2) << '\n';
  else
    std::cout << text;
}

std::string describe(const storage::Error& e) {
  return std::string(storage::to_string(e.code)) + ": " + e.detail;
}

void update_config(Context& ctx, const std::function<void(nlohmann::ordered_json&)>& edit) {
  namespace fs = std::filesystem;
  nlohmann::ordered_json conf;
  {
    std::ifstream in(ctx.config_file);
    conf = nlohmann::ordered_json::parse(in);
  }
  edit(conf);
  const std::string tmp = ctx.config_file + ".tmp";
  {
    std::ofstream out(tmp);
    out << conf.dump(2) << '\n';
    if (!out) throw CommandFailed(tmp + ": cannot write");
  }
  struct stat st {};
  if (::stat(ctx.config_file.c_str(), &st) == 0) ::chmod(tmp.c_str(), st.st_mode & 07777);
  fs::rename(tmp, ctx.config_file);
}

}  // namespace oag::tools
