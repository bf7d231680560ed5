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

namespace oag::phone {

namespace {

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || ::fchmod(fd, mode) != 0)
    throw std::runtime_error(path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || !synced) throw std::runtime_error(path + ": cannot write");
}

}  // namespace

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

}  // namespace oag::phone
