// oagctl init: a new operator — database, master key, CAs and the gateway's certificates.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

#include "proto/ident/ident.hpp"
#include "proto/login/keys.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/pki.hpp"

namespace oag::tools {

namespace {

// The packaged layout (the Debian packages, oagd.service): configuration, keys and
// certificates in /etc/oag, the database in the unit's StateDirectory.
constexpr const char* kPackagedConfigDir = "/etc/oag";
constexpr const char* kPackagedDatabase = "/var/lib/oag/oag.db";

struct InitArgs {
  std::string realm, dir = kPackagedConfigDir, db, store, instance = "main", user;
  unsigned ind_slot = 0;
  bool force = false;
};

// The daemon's account: what --user names.
struct DaemonUser {
  uid_t uid;
  gid_t gid;
};

DaemonUser lookup_user(const std::string& name) {
  const passwd* pw = ::getpwnam(name.c_str());
  if (!pw) throw UsageError("--user: no such user: " + name);
  if (::geteuid() != 0) throw UsageError("--user: giving files to " + name + " needs root");
  return {pw->pw_uid, pw->pw_gid};
}

void set_owner(const std::string& path, uid_t uid, gid_t gid, mode_t mode) {
  if (::chown(path.c_str(), uid, gid) != 0 || ::chmod(path.c_str(), mode) != 0)
    throw CommandFailed(path + ": cannot set its owner and mode: " + std::strerror(errno));
}

// Gives the daemon's account what oagd reads (its configuration and the keys it signs with, as
// group-readable files it cannot change, and the master key, which must be its owner's alone) and
// what it writes (the database and its directory, where SQLite keeps its -wal and -shm files). The
// two root CA keys stay root's alone: the daemon never reads them (endpoint certificates are signed
// by the issuing CA), so a compromised daemon cannot mint a new issuing CA or federation
// certificate.
void give_to_daemon(const DaemonUser& u, const std::filesystem::path& dir, const std::string& db,
                    bool pg) {
  const auto f = [&](const char* name) { return (dir / name).string(); };
  set_owner(dir.string(), 0, u.gid, 0750);
  for (const char* name :
       {"oagd.json", "server.key", "federation.key", "issuing-ca.key", "login.key"})
    set_owner(f(name), 0, u.gid, 0640);
  // The store refuses a master key that anyone but its owner can read: the daemon's own.
  set_owner(f("master.key"), u.uid, u.gid, 0600);
  for (const char* name :
       {"endpoint-ca.pem", "federation-ca.pem", "server.pem", "federation.pem", "issuing-ca.pem"})
    set_owner(f(name), 0, 0, 0644);
  for (const char* name : {"endpoint-ca.key", "federation-ca.key"}) set_owner(f(name), 0, 0, 0600);
  if (pg) return;
  const auto db_dir = std::filesystem::path(db).parent_path();
  if (db_dir != dir)
    set_owner(db_dir.string(), u.uid, u.gid, 0750);
  else
    set_owner(dir.string(), u.uid, u.gid, 0750);  // the daemon writes beside its database
  set_owner(db, u.uid, u.gid, 0600);
}

void run_init(const InitArgs& a, Context& ctx) {
  namespace fs = std::filesystem;
  if (!ident::valid_realm(a.realm))
    throw UsageError("--realm: expected a domain name like op-a.example");
  std::optional<DaemonUser> daemon;
  if (!a.user.empty()) daemon = lookup_user(a.user);
  const fs::path dir = fs::absolute(a.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw CommandFailed("--dir: " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0750);

  const bool pg = !a.store.empty();
  if (pg && !a.db.empty()) throw UsageError("--store: give either --db (SQLite) or --store");
  if (pg && !storage::is_postgresql_location(a.store))
    throw UsageError("--store: expected a PostgreSQL URI (postgresql://...) or key=value conninfo");
  // A password on the command line is visible in /proc to every user: libpq reads it from
  // ~/.pgpass (PGPASSFILE) instead.
  if (pg && (a.store.find("password") != std::string::npos ||
             a.store.substr(0, a.store.find('@')).find(':', 13) != std::string::npos))
    throw UsageError("--store: holds a password; put it in the daemon user's ~/.pgpass instead");
  const std::string db = pg                          ? a.store
                         : !a.db.empty()             ? fs::absolute(a.db).string()
                         : dir == kPackagedConfigDir ? std::string(kPackagedDatabase)
                                                     : (dir / "oag.db").string();
  if (!pg) {
    fs::create_directories(fs::path(db).parent_path(), ec);
    if (ec)
      throw CommandFailed("--db: " + fs::path(db).parent_path().string() + ": " + ec.message());
  }
  const auto f = [&](const char* name) { return (dir / name).string(); };
  std::vector<std::string> files = {
      f("master.key"),        f("endpoint-ca.pem"), f("endpoint-ca.key"), f("federation-ca.pem"),
      f("federation-ca.key"), f("server.pem"),      f("server.key"),      f("federation.pem"),
      f("federation.key"),    f("issuing-ca.pem"),  f("issuing-ca.key"),  f("login.key"),
      f("oagd.json")};
  if (!pg) files.push_back(db);
  std::vector<std::string> existing;
  for (const auto& p : files)
    if (fs::exists(p)) existing.push_back(p);
  if (!existing.empty() && !a.force) {
    std::string list;
    for (const auto& p : existing) list += "\n  " + p;
    throw CommandFailed("refusing to overwrite (use --force):" + list);
  }
  for (const auto& p : existing) fs::remove(p);
  if (!pg) {
    fs::remove(db + "-wal", ec);
    fs::remove(db + "-shm", ec);
  }

  auto key = std::make_shared<storage::MasterKey>(storage::MasterKey::generate(f("master.key")));
  storage::BackendConfig cfg;
  cfg.backend = pg ? "postgresql" : "sqlite";
  cfg.path = db;
  cfg.instance = a.instance;
  cfg.master_key = key;
  cfg.create = true;
  cfg.ind_slot = a.ind_slot;
  try {
    storage::open_backend(cfg);
    if (!pg) ::chmod(db.c_str(), 0600);  // encrypted keys and billing: the daemon's user only
  } catch (const storage::StoreError& e) {
    throw CommandFailed(e.what());
  }

  const std::string host = "ag." + a.realm;
  auto ep_ca_key = pki::generate_key();
  pki::Spec ca;
  ca.ca = true;
  ca.lifetime_s = 3650LL * 86400;
  ca.path_len = 1;  // room for the issuing CA the daemon signs endpoint certificates with
  ca.organization = a.realm;
  ca.common_name = a.realm + " OAG endpoint CA";
  const std::int64_t now = std::time(nullptr);
  auto ep_ca = pki::issue(ca, ep_ca_key.get(), nullptr, nullptr, now);
  auto fed_ca_key = pki::generate_key();
  ca.common_name = a.realm + " OAG federation CA";
  ca.path_len = 0;
  auto fed_ca = pki::issue(ca, fed_ca_key.get(), nullptr, nullptr, now);

  pki::Spec leaf;
  leaf.organization = a.realm;
  leaf.common_name = host;
  leaf.lifetime_s = 730LL * 86400;
  leaf.dns = {host, "localhost"};
  leaf.ips = {"127.0.0.1", "::1"};
  leaf.server_auth = true;
  auto server_key = pki::generate_key();
  auto server = pki::issue(leaf, server_key.get(), ep_ca.get(), ep_ca_key.get(), now);
  leaf.client_auth = true;  // the federation certificate serves and also calls peers
  auto fed_key = pki::generate_key();
  auto fed = pki::issue(leaf, fed_key.get(), fed_ca.get(), fed_ca_key.get(), now);

  pki::Key issuing_key;
  auto issuing = pki::make_issuing_ca(ep_ca.get(), ep_ca_key.get(), a.realm, issuing_key, now);

  pki::write_cert(f("endpoint-ca.pem"), ep_ca.get(), false);
  pki::write_cert(f("issuing-ca.pem"), issuing.get(), false);
  pki::write_key(f("issuing-ca.key"), issuing_key.get(), false);
  pki::write_key(f("endpoint-ca.key"), ep_ca_key.get(), false);
  pki::write_cert(f("federation-ca.pem"), fed_ca.get(), false);
  pki::write_key(f("federation-ca.key"), fed_ca_key.get(), false);
  pki::write_cert(f("server.pem"), server.get(), false);
  pki::write_key(f("server.key"), server_key.get(), false);
  pki::write_cert(f("federation.pem"), fed.get(), false);
  pki::write_key(f("federation.key"), fed_key.get(), false);
  // The home agent's X25519 login key: its public half goes into every user's home profile.
  pki::write_private_text(f("login.key"), login::private_key_pem(login::generate_keypair().priv),
                          false);

  nlohmann::ordered_json conf;
  conf["realm"] = a.realm;
  conf["store"] = {{"backend", pg ? "postgresql" : "sqlite"},
                   {pg ? "conninfo" : "path", db},
                   {"master_key_file", f("master.key")},
                   {"instance", a.instance},
                   {"ind_slot", a.ind_slot}};
  conf["pki"] = {{"endpoint_ca_cert", f("endpoint-ca.pem")},
                 {"endpoint_ca_key", f("endpoint-ca.key")},
                 {"federation_ca_cert", f("federation-ca.pem")},
                 {"federation_ca_key", f("federation-ca.key")},
                 {"server_cert", f("server.pem")},
                 {"server_key", f("server.key")},
                 {"federation_cert", f("federation.pem")},
                 {"federation_key", f("federation.key")},
                 {"issuing_ca_cert", f("issuing-ca.pem")},
                 {"issuing_ca_key", f("issuing-ca.key")},
                 {"login_key", f("login.key")}};
  {
    std::ofstream out(f("oagd.json"));
    out << conf.dump(2) << '\n';
    if (!out) throw CommandFailed(f("oagd.json") + ": cannot write");
  }
  ::chmod(f("oagd.json").c_str(), 0640);
  if (daemon) give_to_daemon(*daemon, dir, db, pg);

  nlohmann::ordered_json j;
  j["realm"] = a.realm;
  j["config"] = f("oagd.json");
  j["database"] = db;
  j["master_key"] = f("master.key");
  j["master_key_fingerprint"] = key->fingerprint();
  j["endpoint_ca"] = f("endpoint-ca.pem");
  j["federation_ca"] = f("federation-ca.pem");
  ctx.print(j, "initialised " + a.realm + " in " + dir.string() + "\n  config   " + f("oagd.json") +
                   "\n  database " + db + "\n  CAs      " + f("endpoint-ca.pem") + ", " +
                   f("federation-ca.pem") + "\n  (give " + f("federation-ca.pem") +
                   " to peer operators for their agreements)\n");
}

}  // namespace

void add_init_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<InitArgs>();
  auto* cmd = app.add_subcommand(
      "init", "Create a new operator: database, master key (0600), CAs and certificates");
  cmd->add_option("--realm", a->realm, "Operator realm, e.g. op-a.example")->required();
  cmd->add_option("--dir", a->dir, "Directory for keys, certificates, config (and the database)")
      ->capture_default_str();
  cmd->add_option("--db", a->db,
                  "SQLite database file (default DIR/oag.db; /var/lib/oag/oag.db for /etc/oag)");
  cmd->add_option("--user", a->user,
                  "Give the daemon's files to this account (the packages' _oag): the "
                  "configuration and its keys readable, the database writable; the root CA "
                  "keys stay root's");
  cmd->add_option("--store", a->store,
                  "A PostgreSQL database instead: postgresql://user@host/db or a libpq conninfo "
                  "(no password: libpq reads ~/.pgpass)");
  cmd->add_option("--instance", a->instance,
                  "This instance's name (its billing chain; one per oagd on a shared database)")
      ->capture_default_str();
  cmd->add_option("--ind-slot", a->ind_slot, "IND slot of the first gateway instance")
      ->check(CLI::Range(0u, ident::kMaxIndSlot))
      ->capture_default_str();
  cmd->add_flag("--force", a->force,
                "Overwrite an existing set-up (destroys its database and keys)");
  cmd->callback([a, &ctx] { run_init(*a, ctx); });
}

}  // namespace oag::tools
