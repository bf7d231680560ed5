#include "tools/oagctl/context.hpp"

#include <fstream>
#include <iostream>

#include "tools/oagctl/args.hpp"

namespace oag::tools {

nlohmann::json Context::load_config() const {
  std::ifstream in(config_file);
  if (!in) throw UsageError("--config: cannot read " + config_file);
  try {
    auto j = nlohmann::json::parse(in);
    if (!j.is_object()) throw UsageError("--config: " + config_file + ": expected a JSON object");
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    throw UsageError("--config: " + config_file + ": " + e.what());
  }
}

namespace {
std::string str_at(const nlohmann::json& j, const char* section, const char* key,
                   const std::string& file) {
  const auto s = j.find(section);
  if (s == j.end() || !s->is_object())
    throw UsageError("--config: " + file + ": missing object \"" + section + "\"");
  const auto v = s->find(key);
  if (v == s->end() || !v->is_string())
    throw UsageError("--config: " + file + ": " + section + "." + key + ": expected a string");
  return v->get<std::string>();
}
}  // namespace

storage::BackendConfig Context::backend_config() const {
  storage::BackendConfig cfg;
  std::string key_file = master_key;
  if (!config_file.empty()) {
    if (!db_path.empty() || !master_key.empty())
      throw UsageError("--config: give either --config or --db/--master-key");
    const auto j = load_config();
    cfg.backend = j.at("store").value("backend", "sqlite");
    cfg.path = str_at(j, "store", "path", config_file);
    key_file = str_at(j, "store", "master_key_file", config_file);
    cfg.ind_slot = j.at("store").value("ind_slot", 0u);
  } else {
    if (db_path.empty()) throw UsageError("--db: required (or --config)");
    if (master_key.empty()) throw UsageError("--master-key: required (or --config)");
    cfg.path = db_path;
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

PkiPaths Context::pki() const {
  if (config_file.empty())
    throw UsageError("--config: needed to find the operator's CAs (written by oagctl init)");
  const auto j = load_config();
  PkiPaths p;
  p.endpoint_ca_cert = str_at(j, "pki", "endpoint_ca_cert", config_file);
  p.endpoint_ca_key = str_at(j, "pki", "endpoint_ca_key", config_file);
  p.federation_ca_cert = str_at(j, "pki", "federation_ca_cert", config_file);
  p.federation_ca_key = str_at(j, "pki", "federation_ca_key", config_file);
  p.server_cert = str_at(j, "pki", "server_cert", config_file);
  p.server_key = str_at(j, "pki", "server_key", config_file);
  p.federation_cert = str_at(j, "pki", "federation_cert", config_file);
  p.federation_key = str_at(j, "pki", "federation_key", config_file);
  return p;
}

std::string Context::realm() const {
  if (config_file.empty()) return {};
  const auto j = load_config();
  return j.value("realm", "");
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

}  // namespace oag::tools
