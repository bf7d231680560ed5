#pragma once
// oagd's configuration: strict JSON (unknown keys and wrong types are refused with their JSON
// path), defaults an operator would expect, and the checks of --check-config.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace oag::gateway {

/// A configuration error; what() starts with the JSON path ("listeners.endpoint.port: ...").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A TLS listener.
struct TlsListener {
  std::string address = "0.0.0.0";  ///< bind address
  std::uint16_t port = 8443;        ///< 0 = any free port (tests)
  std::string cert;                 ///< server certificate chain (PEM)
  std::string key;                  ///< its private key (PEM)
  std::string client_ca;            ///< CA client certificates must chain to
};

/// The plain-HTTP monitoring listener.
struct OpsListener {
  std::string address = "127.0.0.1";  ///< loopback by default
  std::uint16_t port = 9100;          ///< 0 = any free port
  bool enabled = true;                ///< off: no ops listener
};

/// Calls to peer gateways.
struct FederationClient {
  unsigned connect_timeout_ms = 1000;  ///< TCP connect + TLS handshake
  unsigned total_timeout_ms = 5000;    ///< whole request, retry included
  unsigned breaker_failures = 5;       ///< consecutive failures that open the circuit
  unsigned breaker_open_ms = 10000;    ///< how long it stays open before one probe
};

/// Protection against slow or greedy clients.
struct Limits {
  unsigned max_connections = 10000;       ///< per listener; more are closed at once
  unsigned header_bytes = 8192;           ///< request line + headers
  unsigned body_bytes = 16384;            ///< larger bodies get 413
  unsigned handshake_timeout_ms = 10000;  ///< TLS handshake
  unsigned header_timeout_ms = 10000;     ///< to receive a whole request once it started
  unsigned idle_timeout_ms = 60000;       ///< keep-alive wait for the next request
  /// How long a connection's authorisation (certificate not revoked, subscriber active) is
  /// reused before the store is asked again; 0 asks on every request.
  unsigned authorization_cache_ms = 1000;
};

/// The whole configuration.
struct Config {
  std::string file;                      ///< where it was read from
  std::string realm;                     ///< this operator's realm
  std::string store_backend = "sqlite";  ///< store.backend
  std::string store_path;                ///< store.path
  std::string master_key_file;           ///< store.master_key_file
  unsigned ind_slot = 0;                 ///< store.ind_slot
  unsigned vector_ttl_s = 600;           ///< store.vector_ttl_s
  TlsListener endpoint;                  ///< listeners.endpoint
  OpsListener ops;                       ///< listeners.ops
  TlsListener federation;                ///< listeners.federation (peer AGs; client_ca unused)
  bool federation_enabled = false;       ///< a federation certificate is configured
  FederationClient peers;                ///< federation: calls to peers
  Limits limits;                         ///< limits
  unsigned io_threads = 1;               ///< threads.io
  unsigned store_threads = 2;            ///< threads.store (blocking reads)
  std::string log_level = "info";        ///< logging.level
  bool log_json = false;                 ///< logging.format == "json"
};

/// Reads and validates `path`; throws ConfigError.
Config load_config(const std::string& path);

/// What --check-config checks beyond the syntax: files readable, keys match certificates, the
/// master key file's mode, the database's schema. Throws ConfigError naming the JSON path.
void check_config(const Config& c);

}  // namespace oag::gateway
