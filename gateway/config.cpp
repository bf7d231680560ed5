#include "gateway/config.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include <fstream>
#include <functional>
#include <map>
#include <memory>

#include "storage/store.hpp"

namespace oag::gateway {

namespace {

using Json = nlohmann::json;

// Walks one JSON object: every key must be consumed by a reader, or it is reported unknown.
class Object {
 public:
  Object(const Json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw ConfigError(where() + "expected object");
  }
  ~Object() noexcept(false) {
    if (std::uncaught_exceptions() == 0)
      for (const auto& [k, v] : j_.items())
        if (!seen_.count(k)) throw ConfigError(at(k) + ": unknown key");
  }
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  void string(const char* key, std::string& out, bool required = false) {
    if (const Json* v = get(key, required)) {
      if (!v->is_string()) throw ConfigError(at(key) + ": expected string");
      out = v->get<std::string>();
    }
  }
  template <typename T>
  void integer(const char* key, T& out, std::int64_t lo, std::int64_t hi) {
    if (const Json* v = get(key, false)) {
      if (!v->is_number_integer()) throw ConfigError(at(key) + ": expected integer");
      const auto n = v->get<std::int64_t>();
      if (n < lo || n > hi)
        throw ConfigError(at(key) + ": must be " + std::to_string(lo) + ".." + std::to_string(hi));
      out = static_cast<T>(n);
    }
  }
  void boolean(const char* key, bool& out) {
    if (const Json* v = get(key, false)) {
      if (!v->is_boolean()) throw ConfigError(at(key) + ": expected boolean");
      out = v->get<bool>();
    }
  }
  void object(const char* key, const std::function<void(Object&)>& fn, bool required = false) {
    if (const Json* v = get(key, required)) {
      Object o(*v, at(key));
      fn(o);
    }
  }
  // A section another program reads (oagctl's "pki"): accepted as an object, not interpreted.
  const Json* passthrough(const char* key) {
    const Json* v = get(key, false);
    if (v && !v->is_object()) throw ConfigError(at(key) + ": expected object");
    return v;
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  std::string where() const { return path_.empty() ? "(top level): " : path_ + ": "; }
  const Json* get(const char* key, bool required) {
    seen_.insert({key, true});
    const auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) throw ConfigError(at(key) + ": required");
      return nullptr;
    }
    return &*it;
  }
  const Json& j_;
  std::string path_;
  std::map<std::string, bool> seen_;
};

void tls_listener(Object& o, TlsListener& l) {
  o.string("address", l.address);
  o.integer("port", l.port, 0, 65535);
  o.string("cert", l.cert);
  o.string("key", l.key);
  o.string("client_ca", l.client_ca);
}

void readable(const std::string& path, const std::string& json_path) {
  std::ifstream in(path);
  if (path.empty()) throw ConfigError(json_path + ": required");
  if (!in) throw ConfigError(json_path + ": cannot read " + path);
}

}  // namespace

Config load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("--config: cannot read " + path);
  Json j;
  try {
    j = Json::parse(in);
  } catch (const Json::parse_error& e) {
    throw ConfigError("(top level): not valid JSON: " + std::string(e.what()));
  }
  Config c;
  c.file = path;
  std::string server_cert, server_key, endpoint_ca, fed_cert, fed_key;
  {
    Object top(j, "");
    top.string("realm", c.realm, true);
    top.object(
        "store",
        [&](Object& s) {
          s.string("backend", c.store_backend);
          s.string("path", c.store_path, true);
          s.string("master_key_file", c.master_key_file, true);
          s.integer("ind_slot", c.ind_slot, 0, 1023);
          s.integer("vector_ttl_s", c.vector_ttl_s, 10, 86400);
        },
        true);
    if (const Json* pki = top.passthrough("pki")) {
      // Defaults for the endpoint listener from what `oagctl init` wrote.
      server_cert = pki->value("server_cert", "");
      server_key = pki->value("server_key", "");
      endpoint_ca = pki->value("endpoint_ca_cert", "");
      fed_cert = pki->value("federation_cert", "");
      fed_key = pki->value("federation_key", "");
    }
    c.federation.port = 8444;
    c.federation.cert = fed_cert;
    c.federation.key = fed_key;
    c.endpoint.cert = server_cert;
    c.endpoint.key = server_key;
    c.endpoint.client_ca = endpoint_ca;
    top.object("listeners", [&](Object& l) {
      l.object("endpoint", [&](Object& e) { tls_listener(e, c.endpoint); });
      l.object("federation", [&](Object& f) {
        f.string("address", c.federation.address);
        f.integer("port", c.federation.port, 0, 65535);
        f.string("cert", c.federation.cert);
        f.string("key", c.federation.key);
      });
      l.object("ops", [&](Object& o) {
        o.string("address", c.ops.address);
        o.integer("port", c.ops.port, 0, 65535);
        o.boolean("enabled", c.ops.enabled);
      });
    });
    top.object("limits", [&](Object& l) {
      l.integer("max_connections", c.limits.max_connections, 1, 1'000'000);
      l.integer("header_bytes", c.limits.header_bytes, 1024, 1 << 20);
      l.integer("body_bytes", c.limits.body_bytes, 256, 1 << 24);
      l.integer("handshake_timeout_ms", c.limits.handshake_timeout_ms, 100, 600'000);
      l.integer("header_timeout_ms", c.limits.header_timeout_ms, 100, 600'000);
      l.integer("idle_timeout_ms", c.limits.idle_timeout_ms, 100, 3'600'000);
      l.integer("authorization_cache_ms", c.limits.authorization_cache_ms, 0, 60'000);
    });
    top.object("federation", [&](Object& f) {
      f.integer("connect_timeout_ms", c.peers.connect_timeout_ms, 10, 60'000);
      f.integer("total_timeout_ms", c.peers.total_timeout_ms, 10, 600'000);
      f.integer("breaker_failures", c.peers.breaker_failures, 1, 1000);
      f.integer("breaker_open_ms", c.peers.breaker_open_ms, 10, 3'600'000);
    });
    top.object("threads", [&](Object& t) {
      t.integer("io", c.io_threads, 1, 64);
      t.integer("store", c.store_threads, 1, 64);
    });
    top.object("logging", [&](Object& l) {
      l.string("level", c.log_level);
      std::string format = "text";
      l.string("format", format);
      if (format != "text" && format != "json")
        throw ConfigError(l.at("format") + ": expected \"text\" or \"json\"");
      c.log_json = format == "json";
      if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" &&
          c.log_level != "warn" && c.log_level != "error")
        throw ConfigError(l.at("level") + ": expected trace, debug, info, warn or error");
    });
  }
  if (c.realm.empty() || c.realm.find_first_of(" @,/") != std::string::npos)
    throw ConfigError("realm: expected a domain name");
  if (c.endpoint.cert.empty()) throw ConfigError("listeners.endpoint.cert: required");
  if (c.endpoint.key.empty()) throw ConfigError("listeners.endpoint.key: required");
  if (c.endpoint.client_ca.empty()) throw ConfigError("listeners.endpoint.client_ca: required");
  c.federation_enabled = !c.federation.cert.empty() || !c.federation.key.empty();
  if (c.federation_enabled && (c.federation.cert.empty() || c.federation.key.empty()))
    throw ConfigError(std::string("listeners.federation.") +
                      (c.federation.cert.empty() ? "cert" : "key") + ": required");
  return c;
}

void check_config(const Config& c) {
  readable(c.endpoint.cert, "listeners.endpoint.cert");
  readable(c.endpoint.key, "listeners.endpoint.key");
  readable(c.endpoint.client_ca, "listeners.endpoint.client_ca");
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), c.endpoint.cert.c_str()) != 1)
    throw ConfigError("listeners.endpoint.cert: " + c.endpoint.cert +
                      " is not a PEM certificate chain");
  {
    FILE* f = std::fopen(c.endpoint.key.c_str(), "r");
    EVP_PKEY* k = f ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
    if (f) std::fclose(f);
    if (k == nullptr)
      throw ConfigError("listeners.endpoint.key: " + c.endpoint.key + " is not a PEM private key");
    const bool ok = SSL_CTX_use_PrivateKey(ctx.get(), k) == 1;
    EVP_PKEY_free(k);
    if (!ok) throw ConfigError("listeners.endpoint.key: does not match listeners.endpoint.cert");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    throw ConfigError("listeners.endpoint.key: does not match listeners.endpoint.cert");
  if (c.federation_enabled) {
    readable(c.federation.cert, "listeners.federation.cert");
    readable(c.federation.key, "listeners.federation.key");
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> fed(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
    if (SSL_CTX_use_certificate_chain_file(fed.get(), c.federation.cert.c_str()) != 1)
      throw ConfigError("listeners.federation.cert: " + c.federation.cert +
                        " is not a PEM certificate chain");
    if (SSL_CTX_use_PrivateKey_file(fed.get(), c.federation.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(fed.get()) != 1)
      throw ConfigError("listeners.federation.key: does not match listeners.federation.cert");
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), c.endpoint.client_ca.c_str(), nullptr) != 1)
    throw ConfigError("listeners.endpoint.client_ca: " + c.endpoint.client_ca +
                      " holds no CA certificate");
  try {
    storage::MasterKey::load(c.master_key_file);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("store.master_key_file: ") + e.what());
  }
  storage::BackendConfig bc;
  bc.backend = c.store_backend;
  bc.path = c.store_path;
  try {
    const int have = storage::read_schema_version(bc);
    const int want = storage::latest_schema_version(c.store_backend);
    if (have == 0)
      throw ConfigError("store.path: no OAG database at " + c.store_path + " (run oagctl init)");
    if (have != want)
      throw ConfigError("store.path: schema version " + std::to_string(have) +
                        ", this build needs " + std::to_string(want) +
                        (have < want ? " (run oagctl db upgrade)" : ""));
  } catch (const storage::StoreError& e) {
    throw ConfigError(std::string("store: ") + e.what());
  }
}

}  // namespace oag::gateway
