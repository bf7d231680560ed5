#pragma once
// The SQLite backend: one writer thread with group commit, a pool of reader connections.

#include <memory>

#include "storage/store.hpp"

namespace oag::storage::sqlite {

/// Opens (and, when allowed, creates or migrates) the SQLite database of `cfg`.
std::unique_ptr<Backend> open_sqlite_backend(const BackendConfig& cfg);

/// PRAGMA user_version of the file (0 when missing).
int read_sqlite_schema_version(const BackendConfig& cfg);

/// Highest migration number shipped.
int latest_sqlite_schema();

}  // namespace oag::storage::sqlite
