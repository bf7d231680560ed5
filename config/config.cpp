#include "config/config.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "proto/ident/ident.hpp"
#include "storage/store.hpp"

namespace oag::config {

namespace {

using Json = nlohmann::json;

// While describe_keys() runs: every key a reader asks for, with its type and default.
thread_local std::vector<KeyDescription>* key_recorder = nullptr;

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
    record(key, "string");
    if (const Json* v = get(key, required)) {
      if (!v->is_string()) throw ConfigError(at(key) + ": expected string");
      out = v->get<std::string>();
    }
  }
  template <typename T>
  void integer(const char* key, T& out, std::int64_t lo, std::int64_t hi) {
    if (auto* d = record(key, "integer")) {
      d->min = lo;
      d->max = hi;
      d->default_value = std::to_string(out);
    }
    if (const Json* v = get(key, false)) {
      if (!v->is_number_integer()) throw ConfigError(at(key) + ": expected integer");
      const auto n = v->get<std::int64_t>();
      if (n < lo || n > hi)
        throw ConfigError(at(key) + ": must be " + std::to_string(lo) + ".." + std::to_string(hi));
      out = static_cast<T>(n);
    }
  }
  void boolean(const char* key, bool& out) {
    if (auto* d = record(key, "boolean")) d->default_value = out ? "true" : "false";
    if (const Json* v = get(key, false)) {
      if (!v->is_boolean()) throw ConfigError(at(key) + ": expected boolean");
      out = v->get<bool>();
    }
  }
  void object(const char* key, const std::function<void(Object&)>& fn, bool required = false) {
    record(key, "object");
    if (const Json* v = get(key, required)) {
      Object o(*v, at(key));
      fn(o);
    }
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  KeyDescription* record(const char* key, const char* type) {
    if (!key_recorder) return nullptr;
    for (auto& d : *key_recorder)
      if (d.path == at(key)) return nullptr;  // seen on an earlier pass
    key_recorder->push_back({at(key), type, 0, 0, {}});
    return &key_recorder->back();
  }
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
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

Config parse_config(std::string_view text, const std::string& path) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for 1e99999
    throw ConfigError("(top level): not valid JSON: " + std::string(e.what()));
  }
  Config c;
  c.file = path;
  {
    Object top(j, "");
    top.string("realm", c.realm, true);
    top.object(
        "store",
        [&](Object& s) {
          s.string("backend", c.store_backend);
          s.string("path", c.store_path);
          s.string("conninfo", c.store_conninfo);
          s.string("instance", c.store_instance);
          s.string("master_key_file", c.master_key_file, true);
          s.integer("ind_slot", c.ind_slot, 0, ident::kMaxIndSlot);
          s.integer("vector_ttl_s", c.vector_ttl_s, 10, 86400);
        },
        true);
    if (c.store_backend == "sqlite") {
      if (c.store_path.empty()) throw ConfigError("store.path: required for the sqlite backend");
      if (!c.store_conninfo.empty())
        throw ConfigError("store.conninfo: only for the postgresql backend");
    } else if (c.store_backend == "postgresql") {
      if (c.store_conninfo.empty())
        throw ConfigError("store.conninfo: required for the postgresql backend");
      if (!c.store_path.empty()) throw ConfigError("store.path: only for the sqlite backend");
    } else {
      throw ConfigError("store.backend: expected \"sqlite\" or \"postgresql\"");
    }
    if (c.store_instance.empty() || c.store_instance.size() > 32 ||
        c.store_instance.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") !=
            std::string::npos)
      throw ConfigError("store.instance: 1 to 32 of a-z, 0-9, '_' and '-'");
    top.object("pki", [&](Object& p) {
      p.string("endpoint_ca_cert", c.pki.endpoint_ca_cert);
      p.string("endpoint_ca_key", c.pki.endpoint_ca_key);
      p.string("federation_ca_cert", c.pki.federation_ca_cert);
      p.string("federation_ca_key", c.pki.federation_ca_key);
      p.string("server_cert", c.pki.server_cert);
      p.string("server_key", c.pki.server_key);
      p.string("federation_cert", c.pki.federation_cert);
      p.string("federation_key", c.pki.federation_key);
      p.string("issuing_ca_cert", c.pki.issuing_ca_cert);
      p.string("issuing_ca_key", c.pki.issuing_ca_key);
      p.string("login_key", c.pki.login_key);
    });
    // Listener defaults from what `oagctl init` wrote.
    c.endpoint.cert = c.visitor.cert = c.pki.server_cert;
    c.endpoint.key = c.visitor.key = c.pki.server_key;
    c.endpoint.client_ca = c.pki.endpoint_ca_cert;
    c.federation.port = 8444;
    c.federation.cert = c.pki.federation_cert;
    c.federation.key = c.pki.federation_key;
    c.visitor.port = 8445;
    top.object("listeners", [&](Object& l) {
      l.object("endpoint", [&](Object& e) { tls_listener(e, c.endpoint); });
      l.object("federation", [&](Object& f) {
        f.string("address", c.federation.address);
        f.integer("port", c.federation.port, 0, 65535);
        f.string("cert", c.federation.cert);
        f.string("key", c.federation.key);
        f.boolean("enabled", c.federation.enabled);
      });
      l.object("visitor", [&](Object& v) {
        v.string("address", c.visitor.address);
        v.integer("port", c.visitor.port, 0, 65535);
        v.string("cert", c.visitor.cert);
        v.string("key", c.visitor.key);
        v.boolean("enabled", c.visitor.enabled);
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
      l.integer("handler_timeout_ms", c.limits.handler_timeout_ms, 10, 600'000);
      l.integer("authorization_cache_ms", c.limits.authorization_cache_ms, 0, 60'000);
    });
    top.object("roaming", [&](Object& r) {
      r.boolean("enabled", c.roaming.enabled);
      r.integer("cert_lifetime_s", c.roaming.cert_lifetime_s, 300, 30LL * 86400);
      r.integer("nonce_days", c.roaming.nonce_days, 1, 3650);
      r.string("visitor_url", c.roaming.visitor_url);
      r.integer("logins_per_minute_per_address", c.roaming.logins_per_minute_per_address, 1,
                1'000'000);
    });
    top.object("enroll", [&](Object& e) {
      e.boolean("enabled", c.enroll.enabled);
      e.integer("cert_lifetime_s", c.enroll.cert_lifetime_s, 300, 400LL * 86400);
      e.integer("challenges_per_minute_per_nai", c.enroll.challenges_per_minute_per_nai, 1,
                1'000'000);
      e.integer("challenges_per_minute_per_address", c.enroll.challenges_per_minute_per_address, 1,
                10'000'000);
    });
    top.object("federation", [&](Object& f) {
      f.integer("connect_timeout_ms", c.peers.connect_timeout_ms, 10, 60'000);
      f.integer("total_timeout_ms", c.peers.total_timeout_ms, 10, 600'000);
      f.integer("breaker_failures", c.peers.breaker_failures, 1, 1000);
      f.integer("breaker_open_ms", c.peers.breaker_open_ms, 10, 3'600'000);
      f.integer("instances", c.federation_instances, 1, 1024);
    });
    top.object("threads", [&](Object& t) {
      t.integer("io", c.io_threads, 1, 64);
      t.integer("store", c.store_threads, 1, 64);
    });
    top.object("logging", [&](Object& l) {
      l.string("level", c.log_level);
      std::string format;
      l.string("format", format);
      if (format == "text")
        c.log_format = LogFormat::text;
      else if (format == "json")
        c.log_format = LogFormat::json;
      else if (format == "journal")
        c.log_format = LogFormat::journal;
      else if (!format.empty())
        throw ConfigError(l.at("format") + ": expected \"text\", \"json\" or \"journal\"");
      l.string("journal_socket", c.journal_socket);
      l.integer("access_sample", c.access_sample, 0, 1'000'000);
      if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" &&
          c.log_level != "warn" && c.log_level != "error")
        throw ConfigError(l.at("level") + ": expected trace, debug, info, warn or error");
    });
  }
  if (!ident::valid_realm(c.realm)) throw ConfigError("realm: expected a domain name");
  if (c.endpoint.cert.empty()) throw ConfigError("listeners.endpoint.cert: required");
  if (c.endpoint.key.empty()) throw ConfigError("listeners.endpoint.key: required");
  if (c.endpoint.client_ca.empty()) throw ConfigError("listeners.endpoint.client_ca: required");
  if (c.visitor.enabled && c.visitor.cert.empty())
    throw ConfigError("listeners.visitor.cert: required (or listeners.visitor.enabled: false)");
  if (c.visitor.enabled && c.visitor.key.empty())
    throw ConfigError("listeners.visitor.key: required (or listeners.visitor.enabled: false)");
  // A relative file name is taken from the configuration file's directory, not from the
  // daemon's working directory (which is / under systemd).
  const auto base = std::filesystem::path(path).parent_path();
  if (!base.empty())
    for (std::string* f : {&c.store_path,
                           &c.master_key_file,
                           &c.pki.endpoint_ca_cert,
                           &c.pki.endpoint_ca_key,
                           &c.pki.federation_ca_cert,
                           &c.pki.federation_ca_key,
                           &c.pki.server_cert,
                           &c.pki.server_key,
                           &c.pki.federation_cert,
                           &c.pki.federation_key,
                           &c.pki.issuing_ca_cert,
                           &c.pki.issuing_ca_key,
                           &c.pki.login_key,
                           &c.endpoint.cert,
                           &c.endpoint.key,
                           &c.endpoint.client_ca,
                           &c.federation.cert,
                           &c.federation.key,
                           &c.visitor.cert,
                           &c.visitor.key,
                           &c.journal_socket})
      if (!f->empty() && std::filesystem::path(*f).is_relative()) *f = (base / *f).string();
  c.federation_enabled =
      c.federation.enabled && (!c.federation.cert.empty() || !c.federation.key.empty());
  if (c.federation_enabled && (c.federation.cert.empty() || c.federation.key.empty()))
    throw ConfigError(std::string("listeners.federation.") +
                      (c.federation.cert.empty() ? "cert" : "key") + ": required");
  return c;
}

namespace {

// A listener's certificate chain and key: readable, PEM, and a pair.
void check_pair(const std::string& cert, const std::string& key, const std::string& cert_path,
                const std::string& key_path) {
  readable(cert, cert_path);
  readable(key, key_path);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1)
    throw ConfigError(cert_path + ": " + cert + " is not a PEM certificate chain");
  FILE* f = std::fopen(key.c_str(), "r");
  EVP_PKEY* k = f ? PEM_read_PrivateKey(f, nullptr, nullptr, nullptr) : nullptr;
  if (f) std::fclose(f);
  if (k == nullptr) throw ConfigError(key_path + ": " + key + " is not a PEM private key");
  const bool ok = SSL_CTX_use_PrivateKey(ctx.get(), k) == 1;
  EVP_PKEY_free(k);
  if (!ok || SSL_CTX_check_private_key(ctx.get()) != 1)
    throw ConfigError(key_path + ": does not match " + cert_path);
}

void check_pair(const TlsListener& l, const std::string& json_path) {
  check_pair(l.cert, l.key, json_path + ".cert", json_path + ".key");
}

}  // namespace

void check_config(const Config& c) {
  check_pair(c.endpoint, "listeners.endpoint");
  readable(c.endpoint.client_ca, "listeners.endpoint.client_ca");
  if (c.federation_enabled) check_pair(c.federation, "listeners.federation");
  if (c.visitor.enabled) check_pair(c.visitor, "listeners.visitor");
  if (!c.pki.login_key.empty()) readable(c.pki.login_key, "pki.login_key");
  if (!c.pki.issuing_ca_cert.empty() || !c.pki.issuing_ca_key.empty())
    check_pair(c.pki.issuing_ca_cert, c.pki.issuing_ca_key, "pki.issuing_ca_cert",
               "pki.issuing_ca_key");
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        &SSL_CTX_free);
  if (SSL_CTX_load_verify_locations(ctx.get(), c.endpoint.client_ca.c_str(), nullptr) != 1)
    throw ConfigError("listeners.endpoint.client_ca: " + c.endpoint.client_ca +
                      " holds no CA certificate");
  try {
    storage::MasterKey::load(c.master_key_file);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("store.master_key_file: ") + e.what());
  }
  const auto bc = backend_config(c);
  const std::string key = store_location_key(c);
  try {
    const int have = storage::read_schema_version(bc);
    const int want = storage::latest_schema_version(c.store_backend);
    if (have == 0)
      throw ConfigError(
          key + ": no OAG database " +
          (c.store_backend == "sqlite" ? "at " + c.store_path : std::string("there")) +
          " (run oagctl init)");
    if (have != want)
      throw ConfigError(key + ": schema version " + std::to_string(have) + ", this build needs " +
                        std::to_string(want) + (have < want ? " (run oagctl db upgrade)" : ""));
  } catch (const storage::StoreError& e) {
    throw ConfigError(key + ": " + e.what());
  }
}

std::vector<KeyDescription> describe_keys() {
  // The least configuration that parses; every object the reader asks for is added (empty) and
  // the walk repeated until no new one appears, so nested keys are reached however deep.
  Json j = {
      {"realm", "op-a.example"},
      {"store", {{"path", "oag.db"}, {"master_key_file", "master.key"}}},
      {"pki", {{"server_cert", "s.pem"}, {"server_key", "s.key"}, {"endpoint_ca_cert", "ca.pem"}}}};
  std::vector<KeyDescription> keys;
  struct Reset {
    ~Reset() { key_recorder = nullptr; }
  } reset;
  for (;;) {
    key_recorder = &keys;
    parse_config(j.dump(), "describe");
    bool added = false;
    for (const auto& d : keys) {
      if (d.type != "object") continue;
      std::string p = "/" + d.path;
      std::replace(p.begin(), p.end(), '.', '/');
      const Json::json_pointer ptr(p);
      if (!j.contains(ptr)) {
        j[ptr] = Json::object();
        added = true;
      }
    }
    if (!added) return keys;
  }
}

const std::string& store_location(const Config& c) {
  return c.store_backend == "postgresql" ? c.store_conninfo : c.store_path;
}

const char* store_location_key(const Config& c) {
  return c.store_backend == "postgresql" ? "store.conninfo" : "store.path";
}

storage::BackendConfig backend_config(const Config& c) {
  storage::BackendConfig bc;
  bc.backend = c.store_backend;
  bc.path = store_location(c);
  bc.instance = c.store_instance;
  bc.ind_slot = c.ind_slot;
  bc.vector_ttl_ms = static_cast<std::int64_t>(c.vector_ttl_s) * 1000;
  bc.login_nonce_ttl_ms = static_cast<std::int64_t>(c.roaming.nonce_days) * 86'400'000;
  return bc;
}

std::string hold_restart_only(const Config& run, Config& next) {
  std::string out;
  const auto hold = [&out](auto& field, const auto& running, const char* path) {
    if (field == running) return;
    field = running;
    if (out.find(path) == std::string::npos) out += (out.empty() ? "" : ", ") + std::string(path);
  };
  hold(next.realm, run.realm, "realm");
  hold(next.store_backend, run.store_backend, "store");
  hold(next.store_path, run.store_path, "store");
  hold(next.store_conninfo, run.store_conninfo, "store");
  hold(next.store_instance, run.store_instance, "store");
  hold(next.master_key_file, run.master_key_file, "store");
  hold(next.ind_slot, run.ind_slot, "store");
  hold(next.vector_ttl_s, run.vector_ttl_s, "store");
  // The store keeps nonces for the time it was opened with (found by oagd.json(5)'s test).
  hold(next.roaming.nonce_days, run.roaming.nonce_days, "roaming.nonce_days");
  const auto listener = [&](auto& n, const auto& r, const char* path) {
    hold(n.address, r.address, path);
    hold(n.port, r.port, path);
    hold(n.enabled, r.enabled, path);
  };
  listener(next.endpoint, run.endpoint, "listeners.endpoint");
  listener(next.federation, run.federation, "listeners.federation");
  hold(next.federation_enabled, run.federation_enabled, "listeners.federation");
  listener(next.visitor, run.visitor, "listeners.visitor");
  listener(next.ops, run.ops, "listeners.ops");
  hold(next.pki.issuing_ca_cert, run.pki.issuing_ca_cert, "pki.issuing_ca_cert");
  hold(next.pki.issuing_ca_key, run.pki.issuing_ca_key, "pki.issuing_ca_key");
  hold(next.pki.login_key, run.pki.login_key, "pki.login_key");
  hold(next.io_threads, run.io_threads, "threads");
  hold(next.store_threads, run.store_threads, "threads");
  return out;
}

}  // namespace oag::config
