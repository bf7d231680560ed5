#include "tools/oag-phone/login.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "client/roaming_login.hpp"
#include "client/terminal.hpp"
#include "proto/aka/hex.hpp"
#include "tools/oag-phone/enroll.hpp"

namespace oag::phone {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_password(const LoginOptions& o) {
  if (!o.password_file.empty()) return client::first_line(slurp(o.password_file));
  auto line = client::read_hidden_line("password: ");
  if (!line) throw std::runtime_error("--password-file: required when there is no terminal");
  return *line;
}

bool split_url(const std::string& url, std::string& host, unsigned short& port) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return false;
  const auto rest = url.substr(kScheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = rest.substr(0, colon);
  auto p = rest.substr(colon + 1);
  if (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5)
    return false;
  const unsigned long v = std::stoul(p);
  if (v == 0 || v > 65535) return false;
  port = static_cast<unsigned short>(v);
  return true;
}

}  // namespace

int run_login(const LoginOptions& o) {
  const auto profile = client::parse_profile(slurp(o.profile));
  if (const auto* e = std::get_if<client::Error>(&profile)) {
    std::cerr << "oag-phone: --profile: " << e->detail << "\n";
    return 2;
  }
  const auto& home = std::get<client::HomeProfile>(profile);
  client::HttpsOptions https;
  if (!split_url(o.via, https.host, https.port)) {
    std::cerr << "oag-phone: --via: expected https://HOST:PORT, got " << o.via << "\n";
    return 2;
  }
  https.ca_file = o.ca_file;
  https.verify_server = !o.ca_file.empty();
  std::string password = read_password(o);
  client::HttpsClient client(https);
  client::HttpsTransport transport(client);
  client::RoamingLogin login(transport, home, password);
  OPENSSL_cleanse(password.data(), password.size());
  login.set_device_profile(o.device_profile.empty() ? R"({"app":"oag-phone"})" : o.device_profile);
  const auto got = login.run();
  if (const auto* e = std::get_if<client::Error>(&got)) {
    std::cout << "login failed: " << e->to_string() << "\n";
    return 1;
  }
  const auto& r = std::get<client::LoginOutcome>(got);
  for (const auto& s : r.steps)
    std::cout << "  " << s.name << ": " << s.detail << " ("
              << static_cast<long>(s.ms * 1000) / 1000.0 << " ms)\n";
  if (!r.accepted) {
    std::cout << "login refused: " << r.reason
              << (r.proven ? " (proven by the home agent" +
                                 std::string(r.password_right ? "; the password was right)" : ")")
                           : " (not provable)")
              << "\n";
    return 1;
  }
  std::filesystem::create_directories(o.out_dir);
  const auto dir = std::filesystem::path(o.out_dir);
  const auto base = (dir / home.nai).string();
  write_file(base + ".key", r.key_pem, 0600);
  write_file(base + ".pem", r.cert_pem, 0644);
  write_file((dir / "chain.pem").string(), r.chain_pem, 0644);
  const nlohmann::ordered_json session{{"nai", home.nai},
                                       {"visited_realm", r.visited_realm},
                                       {"via", o.via},
                                       {"session", r.session},
                                       {"expires", r.expires}};
  write_file((dir / "session.json").string(), session.dump(2) + "\n", 0644);
  const nlohmann::ordered_json keys{{"session", r.session},
                                    {"ks2", aka::to_hex(r.ks2.expose())},
                                    {"ks3", aka::to_hex(r.ks3.expose())}};
  write_file((dir / "session.keys").string(), keys.dump(2) + "\n", 0600);
  std::cout << "logged in as " << home.nai << " via " << r.visited_realm << ": certificate "
            << r.serial << " valid until " << r.expires << "\n";
  return 0;
}

}  // namespace oag::phone
