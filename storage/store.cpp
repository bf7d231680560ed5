#include "storage/store.hpp"

#include <future>
#include <map>

#include "storage/postgresql/postgresql_backend.hpp"
#include "storage/sqlite/sqlite_backend.hpp"

namespace oag::storage {

Result<IssueResult> IssuanceStore::issue(IssueRequest req) {
  std::promise<Result<IssueResult>> p;
  auto f = p.get_future();
  issue_async(std::move(req), [&p](Result<IssueResult> r) { p.set_value(std::move(r)); });
  return f.get();
}

namespace {

struct Factory {
  std::unique_ptr<Backend> (*open)(const BackendConfig&);
  int (*latest)();
  int (*version)(const BackendConfig&);
};

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> r = {
      {"postgresql",
       {&postgresql::open_postgresql_backend, &postgresql::latest_postgresql_schema,
        &postgresql::read_postgresql_schema_version}},
      {"sqlite",
       {&sqlite::open_sqlite_backend, &sqlite::latest_sqlite_schema,
        &sqlite::read_sqlite_schema_version}},
  };
  return r;
}

}  // namespace

std::unique_ptr<Backend> open_backend(const BackendConfig& cfg) {
  const auto it = registry().find(cfg.backend);
  if (it == registry().end())
    throw StoreError({Errc::invalid, "store.backend: unknown backend \"" + cfg.backend +
                                         "\" (known: postgresql, sqlite)"});
  if (!cfg.master_key)
    throw StoreError({Errc::invalid, "store.master_key_file: a master key is required"});
  return it->second.open(cfg);
}

int read_schema_version(const BackendConfig& cfg) {
  const auto it = registry().find(cfg.backend);
  if (it == registry().end())
    throw StoreError({Errc::invalid, "store.backend: unknown backend \"" + cfg.backend +
                                         "\" (known: postgresql, sqlite)"});
  return it->second.version(cfg);
}

int latest_schema_version(const std::string& backend) {
  const auto it = registry().find(backend);
  return it == registry().end() ? 0 : it->second.latest();
}

bool is_postgresql_location(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0 ||
         location.find('=') != std::string::npos;
}

std::vector<std::string> backend_names() {
  std::vector<std::string> v;
  for (const auto& [name, f] : registry()) v.push_back(name);
  return v;
}

}  // namespace oag::storage
