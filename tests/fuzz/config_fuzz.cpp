// libFuzzer target for the gateway's configuration loader (oagd.json, read at start and on
// every SIGHUP): any text either loads or is refused with a ConfigError that names where; never
// a crash or another exception. (check_config's file checks are not run: they read the disk.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = oag::config::parse_config(in, "/etc/oag/oagd.json");
    if (c.realm.empty()) std::abort();  // a loaded configuration always names its realm
  } catch (const oag::config::ConfigError& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  return 0;
}
