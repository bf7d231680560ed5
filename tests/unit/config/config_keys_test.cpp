// oagd.json(5) against the reader: every key the daemon accepts is documented there with its
// type, its range and its default, and the manual names no key the daemon would refuse.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config.hpp"

using namespace oag;

namespace {

// The manual's entries: a line "``a.b.c``" at the start, then an indented line
// "type[, lo..hi], default X, reloaded by SIGHUP|read at start only" (what rst2man renders as
// a definition list).
struct Entry {
  std::string summary;
};

std::map<std::string, Entry> manual_entries() {
  std::ifstream in(std::string(OAG_SOURCE_DIR) + "/docs/man/oagd.json.5.rst");
  REQUIRE(in);
  std::map<std::string, Entry> out;
  std::string line, key;
  const std::regex term("^``([a-z_.]+)``$");
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, term)) {
      key = m[1];
      continue;
    }
    if (!key.empty()) {
      out[key] = {line.substr(
          line.find_first_not_of(' ') == std::string::npos ? 0 : line.find_first_not_of(' '))};
      key.clear();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("oagd.json(5) documents every key the daemon accepts with its type, range and default",
          "[config][man]") {
  const auto keys = config::describe_keys();
  REQUIRE(keys.size() > 60);  // the walk reached the nested objects
  const auto manual = manual_entries();
  for (const auto& k : keys) {
    INFO(k.path << " (" << k.type << ")");
    const auto it = manual.find(k.path);
    REQUIRE(it != manual.end());
    const auto& s = it->second.summary;
    INFO("manual: " << s);
    CHECK(s.rfind(k.type, 0) == 0);
    if (k.type == "integer") {
      CHECK(s.find(std::to_string(k.min) + ".." + std::to_string(k.max)) != std::string::npos);
      CHECK(s.find("default " + k.default_value + ",") != std::string::npos);
    }
    if (k.type == "boolean") CHECK(s.find("default " + k.default_value + ",") != std::string::npos);
    if (k.type != "object")
      CHECK((s.ends_with("reloaded by SIGHUP") || s.ends_with("read at start only")));
  }
  for (const auto& [path, entry] : manual) {
    INFO(path << " is in the manual");
    CHECK(std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.path == path; }));
  }
}

TEST_CASE("what the manual says SIGHUP reloads is what a reload takes", "[config][man]") {
  // For every integer and boolean key: a configuration that differs in that key alone, handed to
  // the reload's rule (hold_restart_only), is held back exactly when the manual says "read at
  // start only".
  const auto manual = manual_entries();
  const std::string base =
      R"({"realm":"op-a.example","store":{"path":"oag.db","master_key_file":"m.key"},)"
      R"("pki":{"server_cert":"s.pem","server_key":"s.key","endpoint_ca_cert":"ca.pem",)"
      R"("federation_cert":"f.pem","federation_key":"f.key"}})";
  const auto running = config::parse_config(base, "a.json");
  unsigned compared = 0;
  for (const auto& k : config::describe_keys()) {
    if (k.type != "integer" && k.type != "boolean") continue;
    auto j = nlohmann::json::parse(base);
    std::string p = k.path;
    std::replace(p.begin(), p.end(), '.', '/');
    if (k.type == "boolean")
      j[nlohmann::json::json_pointer("/" + p)] = k.default_value != "true";
    else
      j[nlohmann::json::json_pointer("/" + p)] =
          std::to_string(k.min) == k.default_value ? k.max : k.min;
    INFO(k.path << " = " << j.dump());
    auto next = config::parse_config(j.dump(), "a.json");
    const bool held = !config::hold_restart_only(running, next).empty();
    const auto& s = manual.at(k.path).summary;
    CHECK(held == s.ends_with("read at start only"));
    ++compared;
  }
  CHECK(compared > 30);
}

TEST_CASE("relative file names are taken from the configuration file's directory", "[config]") {
  const auto c = config::parse_config(
      R"({"realm":"op-a.example","store":{"path":"oag.db","master_key_file":"/abs/m.key"},)"
      R"("pki":{"server_cert":"s.pem","server_key":"keys/s.key","endpoint_ca_cert":"ca.pem"}})",
      "/etc/oag/oagd.json");
  CHECK(c.store_path == "/etc/oag/oag.db");
  CHECK(c.master_key_file == "/abs/m.key");
  CHECK(c.endpoint.cert == "/etc/oag/s.pem");
  CHECK(c.visitor.key == "/etc/oag/keys/s.key");
  CHECK(c.endpoint.client_ca == "/etc/oag/ca.pem");
  CHECK(c.journal_socket == "/run/systemd/journal/socket");
}

TEST_CASE("the packages' example configuration shows every key at its default", "[config][man]") {
  const std::string file = std::string(OAG_SOURCE_DIR) + "/deploy/oagd.example.json";
  std::ifstream in(file);
  REQUIRE(in);
  const auto j = nlohmann::json::parse(in);
  CHECK_NOTHROW(config::parse_config(j.dump(), file));
  for (const auto& k : config::describe_keys()) {
    if (k.type == "object") continue;
    if (k.path == "store.conninfo") continue;  // the example is SQLite: store.path instead
    std::string p = k.path;
    std::replace(p.begin(), p.end(), '.', '/');
    const nlohmann::json::json_pointer ptr("/" + p);
    INFO(k.path);
    REQUIRE(j.contains(ptr));
    if (k.type == "integer" || k.type == "boolean") CHECK(j.at(ptr).dump() == k.default_value);
  }
}
