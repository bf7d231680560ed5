#include "client/soft_sim.hpp"

#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proto/aka/hex.hpp"

namespace oag::client {

namespace {

constexpr char kMagic[8] = {'O', 'A', 'G', 'S', 'Q', 'N', '1', '\n'};
constexpr std::size_t kHead = 24;  // magic, counter, ind_len, slot count

std::runtime_error bad(const std::filesystem::path& file, const std::string& what) {
  return std::runtime_error(file.string() + ": " + what);
}

std::size_t slot_size(unsigned ind_len) {
  return kHead + 8 * (std::size_t{1} << ind_len) + 32;
}

void put64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Replaces `file` by `text` atomically (temporary file, rename), without flushing.
void write_atomically(const std::filesystem::path& file, const std::string& text) {
  const auto tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw bad(tmp, "cannot write");
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) throw bad(file, "cannot write");
}

std::filesystem::path rands_file(const std::filesystem::path& state) {
  return state.string() + ".rands";
}

}  // namespace

SoftSim::SoftSim(aka::SubscriberKeys keys, std::string imsi, std::filesystem::path state_file,
                 unsigned ind_len)
    : keys_(std::move(keys)),
      imsi_(std::move(imsi)),
      state_file_(std::move(state_file)),
      sqn_(ind_len) {
  keys_.validate();
  if (std::ifstream in{state_file_, std::ios::binary}) {
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::size_t size = slot_size(ind_len);
    bool found = false;
    for (std::size_t off = 0; off + size <= data.size(); off += size) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(data.data() + off);
      std::uint8_t sum[32];
      SHA256(p, size - 32, sum);
      if (std::memcmp(p, kMagic, 8) != 0 || std::memcmp(sum, p + size - 32, 32) != 0) continue;
      if (get64(p + 16) != ind_len)
        throw bad(state_file_, "malformed state: ind_len differs from the SIM's");
      const std::uint64_t counter = get64(p + 8);
      if (found && counter <= counter_) continue;
      std::vector<std::uint64_t> seq(std::size_t{1} << ind_len);
      for (std::size_t i = 0; i < seq.size(); ++i) seq[i] = get64(p + kHead + 8 * i);
      sqn_ = aka::UsimSqnState(ind_len, std::move(seq));
      counter_ = counter;
      found = true;
    }
    if (!found) throw bad(state_file_, "malformed state: no valid slot");
  }
  if (std::ifstream in{rands_file(state_file_), std::ios::binary}) {
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    rands_on_disk_ = data.size() / 16;  // a torn last record is ignored
    const std::size_t first =
        rands_on_disk_ > kRememberedRands ? rands_on_disk_ - kRememberedRands : 0;
    for (std::size_t i = first; i < rands_on_disk_; ++i) {
      aka::Bytes<16> r{};
      std::memcpy(r.data(), data.data() + 16 * i, 16);
      rands_.push_back(r);
    }
  }
}

SoftSim::SoftSim(SoftSim&& o) noexcept
    : keys_(std::move(o.keys_)),
      imsi_(std::move(o.imsi_)),
      state_file_(std::move(o.state_file_)),
      sqn_(std::move(o.sqn_)),
      rands_(std::move(o.rands_)),
      fd_(o.fd_),
      rands_fd_(o.rands_fd_),
      rands_on_disk_(o.rands_on_disk_),
      counter_(o.counter_) {
  o.fd_ = o.rands_fd_ = -1;
}

SoftSim::~SoftSim() {
  if (fd_ >= 0) ::close(fd_);
  if (rands_fd_ >= 0) ::close(rands_fd_);
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
    if (!j.contains(name) || !j[name].is_string())
      throw bad(profile, std::string(name) + ": required string");
    return j[name].get<std::string>();
  };
  for (const auto& [k, v] : j.items())
    if (k != "imsi" && k != "k" && k != "opc" && k != "op" && k != "algorithm" && k != "ind_len" &&
        k != "state")
      throw bad(profile, k + ": unknown key");
  const auto algo = aka::parse_algorithm(j.value("algorithm", std::string("milenage")));
  if (!algo) throw bad(profile, "algorithm: milenage, xor or tuak");
  auto k = aka::from_hex(field("k"));
  if (!k) throw bad(profile, "k: not hex");
  const bool has_opc = j.contains("opc");
  auto o = aka::from_hex(field(has_opc ? "opc" : "op"));
  if (!o) throw bad(profile, std::string(has_opc ? "opc" : "op") + ": not hex");
  aka::SubscriberKeys keys;
  try {
    keys = has_opc ? aka::SubscriberKeys::from_opc(*algo, *k, *o)
                   : aka::SubscriberKeys::from_op(*algo, *k, *o);
  } catch (const std::exception& e) {
    throw bad(profile, e.what());
  }
  OPENSSL_cleanse(k->data(), k->size());
  OPENSSL_cleanse(o->data(), o->size());
  const unsigned ind_len = j.value("ind_len", aka::kDefaultIndLen);
  if (ind_len < 1 || ind_len > aka::kMaxIndLen) throw bad(profile, "ind_len: 1..10");
  std::filesystem::path state = j.value("state", profile.string() + ".state");
  if (state.is_relative() && j.contains("state")) state = profile.parent_path() / state;
  return SoftSim(std::move(keys), field("imsi"), state, ind_len);
}

GsmAnswer SoftSim::run_gsm(const aka::Bytes<16>& rand) const {
  const auto t = aka::generate_triplet(keys_, rand);
  return {t.sres, t.kc};
}

aka::AkaOutcome SoftSim::run_aka(const aka::Bytes<16>& rand, const aka::Bytes<16>& autn) {
  auto out = aka::usim_run_aka(keys_, rand, autn, sqn_);
  if (std::holds_alternative<aka::AkaSuccess>(out)) {
    save_sqn();  // durable before the answer leaves
    remember(rand);
  }
  return out;
}

bool SoftSim::seen(const aka::Bytes<16>& rand) const {
  return std::find(rands_.begin(), rands_.end(), rand) != rands_.end();
}

void SoftSim::remember(const aka::Bytes<16>& rand) {
  rands_.push_back(rand);
  while (rands_.size() > kRememberedRands) rands_.pop_front();
  append_rand(rand);
}

void SoftSim::append_rand(const aka::Bytes<16>& rand) {
  const auto file = rands_file(state_file_);
  if (rands_on_disk_ >= 2 * kRememberedRands) {
    // Compact: the newest records only, replaced atomically.
    std::string all;
    for (const auto& r : rands_) all.append(reinterpret_cast<const char*>(r.data()), 16);
    write_atomically(file, all);
    if (rands_fd_ >= 0) ::close(rands_fd_);
    rands_fd_ = -1;
    rands_on_disk_ = rands_.size();
    return;
  }
  if (rands_fd_ < 0)
    rands_fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (rands_fd_ < 0 || ::write(rands_fd_, rand.data(), 16) != 16) throw bad(file, "cannot write");
  ++rands_on_disk_;
}

void SoftSim::save_sqn() {
  const unsigned ind_len = sqn_.ind_len();
  const std::size_t size = slot_size(ind_len);
  if (fd_ < 0) {
    const bool existed = std::filesystem::exists(state_file_);
    fd_ = ::open(state_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw bad(state_file_, "cannot write");
    if (!existed) {
      // Both slots exist from the start, so later writes never change the file's size.
      if (::ftruncate(fd_, static_cast<off_t>(2 * size)) != 0 || ::fsync(fd_) != 0)
        throw bad(state_file_, "cannot write");
      auto dir = state_file_.parent_path();
      if (dir.empty()) dir = ".";
      if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
  }
  std::vector<std::uint8_t> slot(size);
  std::memcpy(slot.data(), kMagic, 8);
  put64(slot.data() + 8, ++counter_);
  put64(slot.data() + 16, ind_len);
  const auto& seq = sqn_.seq_ms();
  for (std::size_t i = 0; i < seq.size(); ++i) put64(slot.data() + kHead + 8 * i, seq[i]);
  SHA256(slot.data(), size - 32, slot.data() + size - 32);
  const auto off = static_cast<off_t>((counter_ % 2) * size);
  if (::pwrite(fd_, slot.data(), size, off) != static_cast<ssize_t>(size) || ::fdatasync(fd_) != 0)
    throw bad(state_file_, "cannot write");
}

}  // namespace oag::client
