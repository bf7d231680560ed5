// oagctl pki add-issuing-ca: gives an operator made before SIM enrollment the intermediate CA
// oagd signs endpoint certificates with, and names it in oagd.json.
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tools/oagctl/args.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/pki.hpp"

namespace oag::tools {

namespace {

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
  // oagd.json names it; everything else in the file stays as it was.
  nlohmann::ordered_json conf;
  {
    std::ifstream in(ctx.config_file);
    conf = nlohmann::ordered_json::parse(in);
  }
  conf["pki"]["issuing_ca_cert"] = cert_file;
  conf["pki"]["issuing_ca_key"] = key_file;
  const std::string tmp = ctx.config_file + ".tmp";
  {
    std::ofstream out(tmp);
    out << conf.dump(2) << '\n';
    if (!out) throw CommandFailed(tmp + ": cannot write");
  }
  struct stat st {};
  if (::stat(ctx.config_file.c_str(), &st) == 0) ::chmod(tmp.c_str(), st.st_mode & 07777);
  fs::rename(tmp, ctx.config_file);
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
}

}  // namespace oag::tools
