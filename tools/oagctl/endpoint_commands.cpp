// oagctl endpoint issue-cert | revoke | list
#include <ctime>
#include <filesystem>

#include "proto/ident/ident.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/pki.hpp"

namespace oag::tools {

namespace {

struct IssueArgs {
  std::string nai, out_dir = ".";
  int days = 365;
  bool force = false;
};

nlohmann::ordered_json to_json(const storage::EndpointCert& c) {
  return {{"serial", c.serial},
          {"nai", c.nai},
          {"not_after", format_time(c.not_after_ms)},
          {"issued", format_time(c.issued_ms)},
          {"revoked", c.revoked_ms ? nlohmann::ordered_json(format_time(*c.revoked_ms)) : nullptr}};
}

}  // namespace

void add_endpoint_commands(CLI::App& app, Context& ctx) {
  auto* ep = app.add_subcommand(
      "endpoint", "Endpoint certificates (the identity endpoints present to this AG)");
  ep->require_subcommand(1);

  auto a = std::make_shared<IssueArgs>();
  auto* issue = ep->add_subcommand(
      "issue-cert", "Write a key and a certificate (SAN URI sip:NAI) signed by the endpoint CA");
  issue->add_option("--nai", a->nai, "The subscriber's NAI")->required();
  issue->add_option("--out-dir", a->out_dir, "Where NAI.pem and NAI.key go")->capture_default_str();
  issue->add_option("--days", a->days, "Validity in days")
      ->check(CLI::Range(1, 3650))
      ->capture_default_str();
  issue->add_flag("--force", a->force, "Overwrite existing files");
  issue->callback([a, &ctx] {
    const auto pki_paths = ctx.pki();
    const std::string realm = ctx.realm();
    if (!realm.empty() && ident::realm_of(a->nai) != realm)
      throw UsageError("--nai: " + a->nai + " is not in this operator's realm " + realm);
    must(ctx.backend().subscribers().get(a->nai));  // only our own subscribers get an identity
    pki::Cert ca_cert;
    pki::Key ca_key;
    try {
      ca_cert = pki::load_cert(pki_paths.endpoint_ca_cert);
      ca_key = pki::load_key(pki_paths.endpoint_ca_key);
    } catch (const std::exception& e) {
      throw CommandFailed(e.what());
    }
    pki::Spec spec;
    spec.common_name = a->nai;
    spec.organization = realm;
    spec.lifetime_s = static_cast<std::int64_t>(a->days) * 86400;
    spec.uris = {"sip:" + a->nai};
    spec.client_auth = true;
    auto key = pki::generate_key();
    auto cert = pki::issue(spec, key.get(), ca_cert.get(), ca_key.get(), std::time(nullptr));
    const auto base = std::filesystem::path(a->out_dir) / a->nai;
    try {
      std::filesystem::create_directories(a->out_dir);
      pki::write_key(base.string() + ".key", key.get(), a->force);
      pki::write_cert(base.string() + ".pem", cert.get(), a->force);
    } catch (const std::exception& e) {
      throw CommandFailed(e.what());
    }
    storage::EndpointCert rec{
        pki::serial_hex(cert.get()), a->nai, pki::not_after_ms(cert.get()), 0, std::nullopt,
        oag::pki::to_pem(cert.get())};
    must(ctx.backend().endpoints().record(rec));
    ctx.print({{"nai", a->nai},
               {"serial", rec.serial},
               {"cert", base.string() + ".pem"},
               {"key", base.string() + ".key"},
               {"not_after", format_time(rec.not_after_ms)}},
              "issued " + base.string() + ".pem (serial " + rec.serial + ") and " + base.string() +
                  ".key\n");
  });

  auto rv = std::make_shared<std::pair<std::string, std::string>>();
  auto* revoke =
      ep->add_subcommand("revoke", "Revoke an endpoint's certificates (oagd refuses them)");
  auto* by_nai = revoke->add_option("--nai", rv->first, "Revoke every certificate of this NAI");
  auto* by_serial =
      revoke->add_option("--serial", rv->second, "Revoke one certificate by serial (hex)");
  by_nai->excludes(by_serial);
  revoke->callback([rv, &ctx] {
    if (rv->first.empty() && rv->second.empty())
      throw UsageError("--nai or --serial: one is required");
    std::string serial = rv->second;
    for (auto& c : serial) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto n = must(ctx.backend().endpoints().revoke(rv->first, serial));
    ctx.print({{"revoked", n}}, "revoked " + std::to_string(n) + " certificate(s)\n");
  });

  auto nai = std::make_shared<std::string>();
  auto* list = ep->add_subcommand("list", "List issued endpoint certificates");
  list->add_option("--nai", *nai, "Only this NAI");
  list->callback([nai, &ctx] {
    const auto v = must(ctx.backend().endpoints().list(*nai));
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    std::string text;
    for (const auto& c : v) {
      j.push_back(to_json(c));
      text += c.serial + "  " + c.nai + "  until " + format_time(c.not_after_ms) +
              (c.revoked_ms ? "  REVOKED " + format_time(*c.revoked_ms) : "") + "\n";
    }
    ctx.print(j, text.empty() ? "no certificates\n" : text);
  });
}

}  // namespace oag::tools
