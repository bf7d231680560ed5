#include "gateway/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <atomic>
#include <nlohmann/json.hpp>

namespace oag::gateway::log {

namespace {

std::atomic<bool> g_json{false};  // set on reload while other threads log

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

void write(spdlog::level::level_enum lvl, const char* id, const std::string& msg, Fields fields) {
  auto& l = logger();
  if (!l->should_log(lvl)) return;
  if (g_json) {
    nlohmann::ordered_json j;
    j["level"] = spdlog::level::to_string_view(lvl).data();
    j["event"] = id;
    j["msg"] = msg;
    for (const auto& [k, v] : fields) j[k] = v;
    l->log(lvl, "{}", j.dump().substr(1));  // the pattern opens the object with "time"
  } else {
    std::string line = std::string(id) + " " + msg;
    for (const auto& [k, v] : fields) {
      const bool quote = v.empty() || v.find_first_of(" \"=") != std::string::npos;
      line += std::string(" ") + k + "=" + (quote ? nlohmann::json(v).dump() : v);
    }
    l->log(lvl, "{}", line);
  }
}

}  // namespace

void setup(const std::string& level, bool json) {
  g_json = json;
  auto& l = logger();
  l->set_level(spdlog::level::from_str(level));
  if (json)
    l->set_pattern("{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",%v", spdlog::pattern_time_type::utc);
  else
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
}

bool enabled_info() {
  return logger()->should_log(spdlog::level::info);
}

void info(const char* id, const std::string& msg, Fields f) {
  write(spdlog::level::info, id, msg, f);
}
void warn(const char* id, const std::string& msg, Fields f) {
  write(spdlog::level::warn, id, msg, f);
}
void error(const char* id, const std::string& msg, Fields f) {
  write(spdlog::level::err, id, msg, f);
}
void debug(const char* id, const std::string& msg, Fields f) {
  write(spdlog::level::debug, id, msg, f);
}

}  // namespace oag::gateway::log
