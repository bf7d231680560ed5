#include "client/soft_sim.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proto/aka/hex.hpp"

namespace oag::client {

namespace {

std::runtime_error bad(const std::filesystem::path& file, const std::string& what) {
  return std::runtime_error(file.string() + ": " + what);
}

// Writes `text` to `file` durably: temporary file, fsync, rename, fsync of the directory.
void write_durably(const std::filesystem::path& file, const std::string& text) {
  const auto tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw bad(tmp, "cannot write");
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) throw bad(file, "cannot write");
  auto dir = file.parent_path();
  if (dir.empty()) dir = ".";
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

SoftSim::SoftSim(aka::SubscriberKeys keys, std::string imsi, std::filesystem::path state_file,
                 unsigned ind_len)
    : keys_(std::move(keys)), imsi_(std::move(imsi)), state_file_(std::move(state_file)),
      sqn_(ind_len) {
  keys_.validate();
  std::ifstream in(state_file_);
  if (!in) return;
  try {
    const auto j = nlohmann::json::parse(in);
    const auto len = j.at("ind_len").get<unsigned>();
    if (len != ind_len) throw bad(state_file_, "ind_len differs from the SIM's");
    sqn_ = aka::UsimSqnState(len, j.at("seq_ms").get<std::vector<std::uint64_t>>());
    for (const auto& r : j.at("rands")) {
      const auto b = aka::from_hex_fixed<16>(r.get<std::string>());
      if (!b) throw bad(state_file_, "rands: not 16 bytes of hex");
      rands_.push_back(*b);
    }
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    throw bad(state_file_, std::string("malformed state: ") + e.what());
  }
}

SoftSim SoftSim::load(const std::filesystem::path& profile) {
  std::ifstream in(profile);
  if (!in) throw bad(profile, "cannot read");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw bad(profile, std::string("not JSON: ") + e.what());
  }
  const auto field = [&](const char* name) -> std::string {
    if (!j.contains(name) || !j[name].is_string()) throw bad(profile, std::string(name) + ": required string");
    return j[name].get<std::string>();
  };
  for (const auto& [k, v] : j.items())
    if (k != "imsi" && k != "k" && k != "opc" && k != "op" && k != "algorithm" && k != "ind_len" &&
        k != "state")
      throw bad(profile, k + ": unknown key");
  const auto algo = aka::parse_algorithm(j.value("algorithm", std::string("milenage")));
  if (!algo) throw bad(profile, "algorithm: milenage, xor or tuak");
  const auto k = aka::from_hex(field("k"));
  if (!k) throw bad(profile, "k: not hex");
  const bool has_opc = j.contains("opc");
  const auto o = aka::from_hex(field(has_opc ? "opc" : "op"));
  if (!o) throw bad(profile, std::string(has_opc ? "opc" : "op") + ": not hex");
  aka::SubscriberKeys keys;
  try {
    keys = has_opc ? aka::SubscriberKeys::from_opc(*algo, *k, *o)
                   : aka::SubscriberKeys::from_op(*algo, *k, *o);
  } catch (const std::exception& e) {
    throw bad(profile, e.what());
  }
  auto kv = *k, ov = *o;
  OPENSSL_cleanse(kv.data(), kv.size());
  OPENSSL_cleanse(ov.data(), ov.size());
  const unsigned ind_len = j.value("ind_len", aka::kDefaultIndLen);
  std::filesystem::path state = j.value("state", profile.string() + ".state");
  if (state.is_relative()) state = profile.parent_path() / state;
  return SoftSim(std::move(keys), field("imsi"), state, ind_len);
}

GsmAnswer SoftSim::run_gsm(const aka::Bytes<16>& rand) const {
  const auto t = aka::generate_triplet(keys_, rand);
  return {t.sres, t.kc};
}

aka::AkaOutcome SoftSim::run_aka(const aka::Bytes<16>& rand, const aka::Bytes<16>& autn) {
  auto out = aka::usim_run_aka(keys_, rand, autn, sqn_);
  if (std::holds_alternative<aka::AkaSuccess>(out)) save();
  return out;
}

bool SoftSim::seen(const aka::Bytes<16>& rand) const {
  return std::find(rands_.begin(), rands_.end(), rand) != rands_.end();
}

void SoftSim::remember(const aka::Bytes<16>& rand) {
  rands_.push_back(rand);
  while (rands_.size() > kRememberedRands) rands_.pop_front();
  save();
}

void SoftSim::save() const {
  nlohmann::json j{{"ind_len", sqn_.ind_len()}, {"seq_ms", sqn_.seq_ms()}};
  auto& r = j["rands"] = nlohmann::json::array();
  for (const auto& x : rands_) r.push_back(aka::to_hex(x));
  write_durably(state_file_, j.dump());
}

}  // namespace oag::client
