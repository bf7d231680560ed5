// oagctl pki add-issuing-ca | add-login-key: give an operator made before SIM enrollment (or
// before the roaming login) the intermediate CA oagd signs endpoint certificates with, or the
// home agent's login key, and name it in oagd.json.
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "proto/login/keys.hpp"
#include "tools/oagctl/args.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/pki.hpp"

namespace oag::tools {

namespace {

void add_login_key(Context& ctx, bool force) {
  namespace fs = std::filesystem;
  const auto& cfg = ctx.config();
  if (!cfg.pki.login_key.empty() && !force)
    throw CommandFailed("pki.login_key: already set to " + cfg.pki.login_key +
                        " (use --force to make a new one: every user then needs a new home "
                        "profile)");
  const fs::path dir = fs::path(ctx.config_file).parent_path();
  const std::string key_file = (dir / "login.key").string();
  try {
    pki::write_private_text(key_file, login::private_key_pem(login::generate_keypair().priv),
                            force);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  update_config(ctx, [&](nlohmann::ordered_json& conf) { conf["pki"]["login_key"] = key_file; });
  ctx.print({{"login_key", key_file}}, "login key " + key_file +
                                           " (0600); restart oagd to use it, then hand users their "
                                           "home profiles (oagctl subscriber profile)\n");
}

void add_issuing_ca(Context& ctx, bool force) {
  namespace fs = std::filesystem;
  const auto paths = ctx.pki();
  if (!paths.issuing_ca_cert.empty() && !force)
    throw CommandFailed("pki.issuing_ca_cert: already set to " + paths.issuing_ca_cert +
                        " (use --force to make a new one)");
  pki::Cert root;
  pki::Key root_key;
  try {
    root = pki::load_cert(paths.endpoint_ca_cert);
    root_key = pki::load_key(paths.endpoint_ca_key);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  if (pki::path_len(root.get()) == 0)
    throw CommandFailed("pki.endpoint_ca_cert: " + paths.endpoint_ca_cert +
                        " allows no intermediate CA (pathLenConstraint 0); an operator made "
                        "before this version needs a new endpoint CA (oagctl init)");
  const fs::path dir = fs::path(paths.endpoint_ca_cert).parent_path();
  const std::string cert_file = (dir / "issuing-ca.pem").string();
  const std::string key_file = (dir / "issuing-ca.key").string();
  pki::Key key;
  auto ca = pki::make_issuing_ca(root.get(), root_key.get(), ctx.realm(), key, std::time(nullptr));
  try {
    pki::write_key(key_file, key.get(), force);
    pki::write_cert(cert_file, ca.get(), force);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what());
  }
  update_config(ctx, [&](nlohmann::ordered_json& conf) {
    conf["pki"]["issuing_ca_cert"] = cert_file;
    conf["pki"]["issuing_ca_key"] = key_file;
  });
  ctx.print({{"issuing_ca_cert", cert_file},
             {"issuing_ca_key", key_file},
             {"serial", pki::serial_hex(ca.get())}},
            "issuing CA " + cert_file + " (key " + key_file +
                ", 0600) under the endpoint CA; restart oagd to use it\n");
}

}  // namespace

void add_pki_commands(CLI::App& app, Context& ctx) {
  auto* pki_cmd = app.add_subcommand("pki", "The operator's certificate authorities");
  pki_cmd->require_subcommand(1);
  auto force = std::make_shared<bool>(false);
  auto* add = pki_cmd->add_subcommand(
      "add-issuing-ca", "Create the intermediate CA oagd issues endpoint certificates with");
  add->add_flag("--force", *force, "Replace an existing issuing CA");
  add->callback([&ctx, force] { add_issuing_ca(ctx, *force); });
  auto* login = pki_cmd->add_subcommand(
      "add-login-key", "Create the home agent's X25519 login key (roaming login, DESIGN §7)");
  login->add_flag("--force", *force, "Replace an existing login key");
  login->callback([&ctx, force] { add_login_key(ctx, *force); });
}

}  // namespace oag::tools
