#include "tools/oag-phone/enroll.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "client/enroll.hpp"
#include "client/gateway.hpp"
#include "proto/pki/csr.hpp"
#include "proto/pki/x509.hpp"

namespace oag::phone {

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || ::fchmod(fd, mode) != 0)
    throw std::runtime_error(path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || !synced) throw std::runtime_error(path + ": cannot write");
}

int run_enroll(const EnrollOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto sim = client::SoftSim::load(o.sim);
  client::HttpsClient https(o.https);
  client::HttpsTransport transport(https);
  client::Enroll enroll(transport, sim, o.nai);
  const auto got = enroll.run();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (const auto* e = std::get_if<client::Error>(&got)) {
    std::cout << "enrollment failed: " << e->to_string() << "\n";
    return 1;
  }
  const auto& ok = std::get<client::Enrolled>(got);
  std::filesystem::create_directories(o.out_dir);
  const auto base = (std::filesystem::path(o.out_dir) / o.nai).string();
  write_file(base + ".key", ok.key_pem, 0600);
  write_file(base + ".pem", ok.cert_pem, 0644);
  write_file((std::filesystem::path(o.out_dir) / "chain.pem").string(), ok.chain_pem, 0644);
  std::cout << "enrolled " << o.nai << " with its SIM in " << static_cast<long>(ms)
            << " ms: certificate " << base << ".pem (serial " << ok.serial << "), key " << base
            << ".key, chain " << o.out_dir << "/chain.pem\n";
  return 0;
}

int run_renew(const RenewOptions& o) {
  client::GatewayClient ag(o.https);
  const auto key = pki::generate_key();
  const auto got = ag.renew(pki::make_csr(key.get(), o.nai), o.revoke_old);
  if (const auto* e = std::get_if<client::Error>(&got)) {
    std::cout << "renewal failed: " << e->to_string() << "\n";
    return 1;
  }
  auto certs = pki::certs_from_pem(std::get<std::string>(got));
  if (certs.empty() || pki::spki_sha256(certs[0].get()) != pki::spki_sha256(key.get()) ||
      pki::subject_nai(certs[0].get()) != o.nai) {
    std::cout << "renewal failed: the answer is not a certificate for our key and NAI\n";
    return 1;
  }
  std::string chain;
  for (std::size_t i = 1; i < certs.size(); ++i) chain += pki::to_pem(certs[i].get());
  std::filesystem::create_directories(o.out_dir);
  const auto base = (std::filesystem::path(o.out_dir) / o.nai).string();
  write_file(base + ".key", pki::private_key_pem(key.get()), 0600);
  write_file(base + ".pem", pki::to_pem(certs[0].get()), 0644);
  write_file((std::filesystem::path(o.out_dir) / "chain.pem").string(), chain, 0644);
  std::cout << "renewed " << o.nai << ": certificate " << base << ".pem (serial "
            << pki::serial_hex(certs[0].get()) << ")"
            << (o.revoke_old ? ", the old one revoked" : ", the old one valid until it expires")
            << "\n";
  return 0;
}

}  // namespace oag::phone
