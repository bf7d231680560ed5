#pragma once
// What every oagctl command shares: the global options, the store they name, and output.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "storage/store.hpp"

namespace oag::tools {

/// Paths of the operator's PKI (the "pki" section of oagd.json).
using PkiPaths = config::PkiPaths;

/// Global options and the lazily opened store.
class Context {
 public:
  std::string config_file;  ///< --config
  std::string db_path;      ///< --db
  std::string master_key;   ///< --master-key
  bool json = false;        ///< --json

  /// The store configuration from --config or --db/--master-key; throws UsageError naming them.
  storage::BackendConfig backend_config() const;
  /// Opens the store on first use (migrate: for `db upgrade`); throws CommandFailed.
  storage::Backend& backend(bool migrate = false);
  /// PKI paths from the config file; throws UsageError when there is no --config.
  PkiPaths pki() const;
  /// The operator realm from the config file (empty without one).
  std::string realm() const;
  /// Prints `j` as JSON with --json, else `text` (when not empty) or an indented JSON.
  void print(const nlohmann::ordered_json& j, const std::string& text = {}) const;
  /// oagd.json through oagd's own reader; throws UsageError with its JSON path.
  const config::Config& config() const;

 private:
  mutable std::shared_ptr<const config::Config> config_;
  std::unique_ptr<storage::Backend> backend_;
};

/// Rewrites oagd.json with `edit` applied (everything else in it kept as it was, its mode kept),
/// by a rename, so that a crash leaves the old file or the new one.
void update_config(Context& ctx, const std::function<void(nlohmann::ordered_json&)>& edit);

/// "not-found: no subscriber x" style message for a store error.
std::string describe(const storage::Error& e);

/// Throws CommandFailed with describe(e) unless r is ok; returns the value.
template <typename T>
T& must(storage::Result<T>& r);
template <typename T>
T must(storage::Result<T>&& r);

}  // namespace oag::tools

#include "tools/oagctl/args.hpp"

namespace oag::tools {

template <typename T>
T& must(storage::Result<T>& r) {
  if (!r.ok()) throw CommandFailed(describe(r.error()));
  return r.value();
}

template <typename T>
T must(storage::Result<T>&& r) {
  if (!r.ok()) throw CommandFailed(describe(r.error()));
  return std::move(r.value());
}

}  // namespace oag::tools
