#pragma once
// oagd.json, read once for everyone: oagd (its listeners, limits, logging) and oagctl (its store
// and the operator's PKI files) use this one reader, so both refuse the same bad file with the
// same message: strict JSON, unknown keys and wrong types named by their JSON path, defaults an
// operator would expect, and the deeper checks of --check-config.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.hpp"

namespace oag::config {

/// A configuration error; what() starts with the JSON path ("listeners.endpoint.port: ...").
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// How log lines are written (logging.format).
enum class LogFormat { automatic, text, json, journal };

/// A TLS listener.
struct TlsListener {
  std::string address = "0.0.0.0";  ///< bind address
  std::uint16_t port = 8443;        ///< 0 = any free port (tests)
  std::string cert;                 ///< server certificate chain (PEM)
  std::string key;                  ///< its private key (PEM)
  std::string client_ca;            ///< endpoint only: CA client certificates must chain to
  bool enabled = true;              ///< visitor and federation: off = not bound
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
  /// Per listener; more are closed at once. oagd raises its descriptor limit to hold them all
  /// (4 listeners × 4,096 + 256 = 16,640 fits under a hard limit of 20,000; Debian's systemd
  /// gives services 524,288).
  unsigned max_connections = 4096;
  unsigned header_bytes = 8192;           ///< request line + headers
  unsigned body_bytes = 16384;            ///< larger bodies get 413 (a route may allow less)
  unsigned handshake_timeout_ms = 10000;  ///< TLS handshake
  unsigned header_timeout_ms = 10000;     ///< to receive a whole request once it started
  unsigned idle_timeout_ms = 60000;       ///< keep-alive wait for the next request
  /// From a whole request to its answer: past it the client gets 503 and the connection closes.
  unsigned handler_timeout_ms = 10000;
  /// How long a connection's authorisation (certificate not revoked, subscriber active) is
  /// reused before the store is asked again; 0 asks on every request.
  unsigned authorization_cache_ms = 1000;
};

/// Paths of the operator's PKI, as `oagctl init` writes them into the "pki" section.
struct PkiPaths {
  std::string endpoint_ca_cert, endpoint_ca_key;      ///< signs endpoint and server certificates
  std::string federation_ca_cert, federation_ca_key;  ///< signs the federation certificate
  std::string server_cert, server_key;          ///< the endpoint/visitor listeners' certificate
  std::string federation_cert, federation_key;  ///< the federation certificate
  /// The intermediate oagd signs endpoint certificates with (SIM enrollment, renewal).
  std::string issuing_ca_cert, issuing_ca_key;
  /// The home agent's X25519 login key (PKCS#8 PEM, 0600; DESIGN §7).
  std::string login_key;
};

/// SIM enrollment (DESIGN §9): POST /v1/enroll on the visitor listener.
struct Enroll {
  bool enabled = true;                          ///< off (or no issuing CA): the route answers 404
  std::int64_t cert_lifetime_s = 86400;         ///< validity of an enrolled certificate
  unsigned challenges_per_minute_per_nai = 10;  ///< each challenge costs a vector
  unsigned challenges_per_minute_per_address = 600;  ///< per client IP address
};

/// The roaming login (DESIGN §7): this gateway as home agent for its users and as foreign agent
/// for visitors.
struct Roaming {
  bool enabled = true;                   ///< off (or no login key / issuing CA): routes answer 404
  std::int64_t cert_lifetime_s = 86400;  ///< validity of a login's certificate (and its session)
  unsigned nonce_days = 7;               ///< how long n1 values are kept against replays
  std::string visitor_url;               ///< this operator's visitor URL as home profiles name it
  unsigned logins_per_minute_per_address = 60;  ///< M2s one client address may send (FA)
};

/// The whole configuration.
struct Config {
  std::string file;                      ///< where it was read from
  std::string realm;                     ///< this operator's realm
  std::string store_backend = "sqlite";  ///< store.backend
  std::string store_path;                ///< store.path (sqlite)
  std::string store_conninfo;            ///< store.conninfo (postgresql; may hold a password)
  std::string store_instance = "main";   ///< store.instance: this instance's billing chain
  std::string master_key_file;           ///< store.master_key_file
  unsigned ind_slot = 0;                 ///< store.ind_slot
  unsigned vector_ttl_s = 600;           ///< store.vector_ttl_s
  PkiPaths pki;                          ///< pki (oagctl's; defaults for the listeners)
  TlsListener endpoint;                  ///< listeners.endpoint
  TlsListener federation;                ///< listeners.federation (peer AGs; client_ca unused)
  TlsListener visitor;                   ///< listeners.visitor (server auth only)
  OpsListener ops;                       ///< listeners.ops
  bool federation_enabled = false;       ///< a federation certificate is configured
  FederationClient peers;                ///< federation: calls to peers
  unsigned federation_instances = 1;     ///< federation.instances: agreement rates are shared
  Limits limits;                         ///< limits
  Enroll enroll;                         ///< enroll
  Roaming roaming;                       ///< roaming
  unsigned io_threads = 1;               ///< threads.io
  unsigned store_threads = 2;            ///< threads.store (blocking lookups)
  std::string log_level = "info";        ///< logging.level
  /// logging.format: text, json, journal (systemd's native protocol), or not given: the journal
  /// when $JOURNAL_STREAM names our stderr (systemd connected it), else text.
  LogFormat log_format = LogFormat::automatic;
  /// logging.journal_socket: where journal lines go.
  std::string journal_socket = "/run/systemd/journal/socket";
  /// logging.access_sample: every Nth request's access line at info (0: none; every one is
  /// logged at debug). At info every line would exceed journald's default rate limit
  /// (10,000 per 30 s) at a few hundred requests per second.
  unsigned access_sample = 0;
};

/// One key that oagd.json accepts, as the reader walks it: what oagd.json(5) documents and its
/// test compares against, so that the manual cannot lose a key.
struct KeyDescription {
  std::string path;           ///< JSON path: "limits.max_connections"
  std::string type;           ///< "string", "integer", "boolean" or "object"
  std::int64_t min = 0;       ///< integers: the least value accepted
  std::int64_t max = 0;       ///< integers: the greatest value accepted
  std::string default_value;  ///< integers and booleans: the default, as JSON text
};

/// Every key parse_config accepts, in the order it reads them (each object entered once).
std::vector<KeyDescription> describe_keys();

/// The store's location: store.path for sqlite, store.conninfo for postgresql.
const std::string& store_location(const Config& c);

/// The JSON path of the store's location ("store.path" or "store.conninfo"), for messages.
const char* store_location_key(const Config& c);

/// How to open the store of `c` (the master key is loaded by the caller).
storage::BackendConfig backend_config(const Config& c);

/// Reads and validates `path`; throws ConfigError.
Config load_config(const std::string& path);
/// Validates the text of a configuration file named `path` (relative paths in it are taken
/// from that file's directory, as load_config does); throws ConfigError naming the JSON path.
Config parse_config(std::string_view text, const std::string& path);

/// What --check-config checks beyond the syntax: files readable, keys match certificates, the
/// master key file's mode, the database's schema. Throws ConfigError naming the JSON path.
void check_config(const Config& c);

/// Keeps in `next` the running values of what a SIGHUP cannot change (realm, store, listeners'
/// addresses, ports and enablement, threads) and names those that differed, comma-separated by
/// JSON path, for the warning that they take effect at the next start ("" when none did).
std::string hold_restart_only(const Config& running, Config& next);

}  // namespace oag::config
