#pragma once
// The PostgreSQL backend (libpq): one writer connection with group commit, reader connections.

#include <memory>

#include "storage/store.hpp"

namespace oag::storage::postgresql {

/// Opens (and, when allowed, creates the schema of or migrates) the database of `cfg.path`, a
/// libpq connection string or URI.
std::unique_ptr<Backend> open_postgresql_backend(const BackendConfig& cfg);

/// The schema version of the database (0 when it has no OAG schema).
int read_postgresql_schema_version(const BackendConfig& cfg);

/// Highest migration number shipped.
int latest_postgresql_schema();

}  // namespace oag::storage::postgresql
