#include "tests/unit/support/vectors.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "proto/aka/hex.hpp"

namespace oag::test {

std::string vectors_dir() {
  if (const char* env = std::getenv("OAG_VECTORS_DIR"); env != nullptr && *env != '\0') return env;
  return OAG_VECTORS_DIR;
}

nlohmann::json load_vectors(const std::string& name) {
  const std::string path = vectors_dir() + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open test vectors " + path);
  return nlohmann::json::parse(in);
}

std::vector<std::uint8_t> unhex(const std::string& s) {
  auto v = aka::from_hex(s);
  if (!v) throw std::invalid_argument("bad hex: " + s);
  return *v;
}

}  // namespace oag::test
