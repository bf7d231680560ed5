#include "gateway/log.hpp"

#include <openssl/sha.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>

#include "proto/aka/hex.hpp"

namespace oag::gateway::log {

namespace {

enum class Format { text, json, journal };
std::atomic<Format> g_format{Format::text};  // set on reload while other threads log
std::atomic<unsigned> g_sample{0};
std::atomic<std::uint64_t> g_requests{0};

// The journal's socket: one datagram per line (systemd's native protocol, as sd_journal_send
// writes it), to a path the configuration names so that tests can listen on their own.
struct Journal {
  std::mutex mu;
  int fd = -1;
  sockaddr_un addr{};
  socklen_t len = 0;
};
Journal& journal() {
  static Journal j;
  return j;
}

std::shared_ptr<spdlog::logger>& logger() {
  static auto l = [] {
    auto lg =
        std::make_shared<spdlog::logger>("oagd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    lg->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    lg->flush_on(spdlog::level::info);
    return lg;
  }();
  return l;
}

spdlog::level::level_enum spd(Level l) {
  switch (l) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      break;
  }
  return spdlog::level::err;
}

// syslog(3) priorities, as the journal files them.
int priority(Level l) {
  switch (l) {
    case Level::debug:
      return 7;
    case Level::info:
      return 6;
    case Level::warn:
      return 4;
    case Level::error:
      break;
  }
  return 3;
}

std::string text_line(const char* id, const std::string& msg, Fields fields) {
  std::string line = std::string(id) + " " + msg;
  for (const auto& [k, v] : fields) {
    const bool quote = v.empty() || v.find_first_of(" \"=") != std::string::npos;
    line += std::string(" ") + k + "=" + (quote ? nlohmann::json(v).dump() : v);
  }
  return line;
}

// One journal field: KEY=value, or (a value with a newline) KEY, newline, its length as 64-bit
// little endian, the bytes, newline.
void field(std::string& out, const std::string& key, const std::string& value) {
  if (value.find('\n') == std::string::npos) {
    out += key + "=" + value + "\n";
    return;
  }
  out += key + "\n";
  std::uint64_t n = value.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += value + "\n";
}

// MESSAGE_ID: 128 bits that stay the same for an event id across versions and hosts, so that
// `journalctl MESSAGE_ID=...` finds an event whatever its text.
std::string message_id(const char* id) {
  const std::string seed = std::string("oagd event ") + id;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), md);
  return aka::to_hex(aka::ByteView(md, 16));
}

// OAG_<FIELD>: upper case, anything but letters and digits as '_'.
std::string journal_key(const char* k) {
  std::string out = "OAG_";
  for (const char* p = k; *p; ++p)
    out += std::isalnum(static_cast<unsigned char>(*p))
               ? static_cast<char>(std::toupper(static_cast<unsigned char>(*p)))
               : '_';
  return out;
}

bool send_journal(Level lvl, const char* id, const std::string& msg, Fields fields) {
  std::string d;
  field(d, "MESSAGE", text_line(id, msg, fields));
  field(d, "PRIORITY", std::to_string(priority(lvl)));
  field(d, "SYSLOG_IDENTIFIER", "oagd");
  field(d, "OAG_EVENT", id);
  field(d, "MESSAGE_ID", message_id(id));
  for (const auto& [k, v] : fields) field(d, journal_key(k), v);
  auto& j = journal();
  std::lock_guard lk(j.mu);
  if (j.fd < 0) return false;
  return ::sendto(j.fd, d.data(), d.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&j.addr),
                  j.len) == static_cast<ssize_t>(d.size());
}

void write(Level lvl, const char* id, const std::string& msg, Fields fields) {
  auto& l = logger();
  if (!l->should_log(spd(lvl))) return;
  const Format f = g_format;
  if (f == Format::journal) {
    if (send_journal(lvl, id, msg, fields)) return;
    // The journal is not there: the line goes to stderr rather than nowhere.
  }
  if (f == Format::json) {
    nlohmann::ordered_json j;
    j["level"] = spdlog::level::to_string_view(spd(lvl)).data();
    j["event"] = id;
    j["msg"] = msg;
    for (const auto& [k, v] : fields) j[k] = v;
    l->log(spd(lvl), "{}", j.dump().substr(1));  // the pattern opens the object with "time"
  } else {
    l->log(spd(lvl), "{}", text_line(id, msg, fields));
  }
}

bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (js == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  return dev == static_cast<unsigned long long>(st.st_dev) &&
         ino == static_cast<unsigned long long>(st.st_ino);
}

}  // namespace

void setup(const config::Config& c) {
  Format f = Format::text;
  switch (c.log_format) {
    case config::LogFormat::automatic:
      f = stderr_is_journal() ? Format::journal : Format::text;
      break;
    case config::LogFormat::text:
      break;
    case config::LogFormat::json:
      f = Format::json;
      break;
    case config::LogFormat::journal:
      f = Format::journal;
      break;
  }
  if (f == Format::journal) {
    auto& j = journal();
    std::lock_guard lk(j.mu);
    if (j.fd < 0) j.fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    j.addr = {};
    j.addr.sun_family = AF_UNIX;
    std::snprintf(j.addr.sun_path, sizeof j.addr.sun_path, "%s", c.journal_socket.c_str());
    j.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + c.journal_socket.size() + 1);
  }
  g_format = f;
  g_sample = c.access_sample;
  auto& l = logger();
  l->set_level(spdlog::level::from_str(c.log_level));
  if (f == Format::json)
    l->set_pattern("{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",%v", spdlog::pattern_time_type::utc);
  else
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
}

bool enabled_info() {
  return logger()->should_log(spdlog::level::info);
}

std::optional<Level> access_level() {
  const unsigned n = g_sample;
  if (n > 0 && g_requests.fetch_add(1, std::memory_order_relaxed) % n == 0 && enabled_info())
    return Level::info;
  if (logger()->should_log(spdlog::level::debug)) return Level::debug;
  return std::nullopt;
}

void at(Level level, const char* id, const std::string& msg, Fields f) {
  write(level, id, msg, f);
}
void info(const char* id, const std::string& msg, Fields f) {
  write(Level::info, id, msg, f);
}
void warn(const char* id, const std::string& msg, Fields f) {
  write(Level::warn, id, msg, f);
}
void error(const char* id, const std::string& msg, Fields f) {
  write(Level::error, id, msg, f);
}
void debug(const char* id, const std::string& msg, Fields f) {
  write(Level::debug, id, msg, f);
}

}  // namespace oag::gateway::log
