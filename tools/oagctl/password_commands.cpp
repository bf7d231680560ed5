// oagctl subscriber set-password | clear-password | profile: the roaming login's credentials
// (DESIGN §7). The password is read from the terminal (echo off) or a file, never from argv;
// only pwd_key = scrypt(password, NAI) is stored, sealed like K.
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <openssl/crypto.h>
#include "client/terminal.hpp"
#include "proto/aka/hex.hpp"
#include "proto/ident/ident.hpp"
#include "proto/login/keys.hpp"
#include "tools/oagctl/commands.hpp"
#include "tools/oagctl/pki.hpp"

namespace oag::tools {

namespace {

constexpr std::size_t kMinPasswordChars = 10;

std::string slurp(const std::string& path, const std::string& arg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(arg + ": cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t utf8_chars(const std::string& s) {
  std::size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

struct PasswordArgs {
  std::string nai, password_file, deny_list;
};

std::string read_password(const PasswordArgs& a) {
  if (!a.password_file.empty())
    return client::first_line(slurp(a.password_file, "--password-file"));
  const auto one = client::read_hidden_line("password for " + a.nai + ": ");
  if (!one)
    throw UsageError("--password-file: required when there is no terminal (never an argument)");
  const auto two = client::read_hidden_line("again: ");
  if (!two || *two != *one) throw UsageError("password: the two entries differ");
  return *one;
}

void check_password(const std::string& pw, const PasswordArgs& a) {
  if (utf8_chars(pw) < kMinPasswordChars)
    throw UsageError("password: at least " + std::to_string(kMinPasswordChars) + " characters");
  if (a.deny_list.empty()) return;
  std::istringstream list(slurp(a.deny_list, "--deny-list"));
  const std::string lower = ident::lower(pw);
  for (std::string line; std::getline(list, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && ident::lower(line) == lower)
      throw UsageError("password: found in the deny list " + a.deny_list);
  }
}

void set_password(const PasswordArgs& a, Context& ctx) {
  if (!ident::valid_nai(a.nai)) throw UsageError("--nai: expected user@realm");
  std::string pw = read_password(a);
  try {
    check_password(pw, a);
  } catch (...) {
    OPENSSL_cleanse(pw.data(), pw.size());
    throw;
  }
  const auto key = login::pwd_key(pw, a.nai);
  OPENSSL_cleanse(pw.data(), pw.size());
  must(ctx.backend().logins().set_password(a.nai, key));
  ctx.print({{"nai", a.nai}, {"password", "set"}},
            "password set for " + a.nai + " (stored: scrypt pwd_key, sealed)\n");
}

void write_profile(const std::string& nai, const std::string& out, Context& ctx) {
  const auto& cfg = ctx.config();
  if (ident::realm_of(nai) != cfg.realm)
    throw UsageError("--nai: " + nai + " is not of this operator's realm " + cfg.realm);
  (void)must(ctx.backend().subscribers().get(nai));
  if (cfg.pki.login_key.empty())
    throw CommandFailed("pki.login_key: not set (oagctl pki add-login-key)");
  const auto priv = login::private_key_from_pem(slurp(cfg.pki.login_key, "pki.login_key"));
  if (!priv) throw CommandFailed("pki.login_key: " + cfg.pki.login_key + " is not an X25519 key");
  const auto user_ca = slurp(cfg.pki.endpoint_ca_cert, "pki.endpoint_ca_cert");
  nlohmann::ordered_json j{{"nai", nai},
                           {"home_realm", cfg.realm},
                           {"login_public_key", aka::to_hex(login::public_of(*priv))},
                           {"user_ca", user_ca},
                           {"visitor_url", cfg.roaming.visitor_url}};
  std::ofstream f(out);
  f << j.dump(2) << '\n';
  if (!f) throw CommandFailed(out + ": cannot write");
  ctx.print({{"nai", nai}, {"profile", out}},
            "home profile of " + nai + " written to " + out +
                " (hand it over with the password; it holds no secret)\n");
}

}  // namespace

void add_password_commands(CLI::App& subscriber, Context& ctx) {
  auto a = std::make_shared<PasswordArgs>();
  auto* set = subscriber.add_subcommand(
      "set-password", "Set the roaming-login password (read from the terminal or a file)");
  set->add_option("--nai", a->nai, "user@realm")->required();
  set->add_option("--password-file", a->password_file,
                  "Read the password from the first line of this file (never give it as an "
                  "argument)");
  set->add_option("--deny-list", a->deny_list,
                  "Refuse a password found in this file (one per line)");
  set->callback([a, &ctx] { set_password(*a, ctx); });

  auto nai = std::make_shared<std::string>();
  auto* clear = subscriber.add_subcommand("clear-password", "Remove a subscriber's password");
  clear->add_option("--nai", *nai, "user@realm")->required();
  clear->callback([nai, &ctx] {
    must(ctx.backend().logins().clear_password(*nai));
    ctx.print({{"nai", *nai}, {"password", "cleared"}}, "password cleared for " + *nai + "\n");
  });

  auto out = std::make_shared<std::string>();
  auto* profile = subscriber.add_subcommand(
      "profile", "Write a user's home profile: NAI, realm, login public key, user CA, visitor URL");
  profile->add_option("--nai", *nai, "user@realm")->required();
  profile->add_option("--out", *out, "Where to write it (JSON)")->required();
  profile->callback([nai, out, &ctx] { write_profile(*nai, *out, ctx); });
}

}  // namespace oag::tools
