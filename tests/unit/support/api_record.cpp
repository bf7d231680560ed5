#include "tests/unit/support/api_record.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

namespace oag::test {

namespace {

constexpr unsigned kMaxRecords = 20000;

struct Recorder {
  std::mutex mu;
  std::ofstream out;
  unsigned written = 0;
  bool enabled = false;
  Recorder() {
    const char* dir = std::getenv("OAG_API_RECORD");
    if (dir == nullptr || *dir == '\0') return;
    out.open(std::string(dir) + "/" + std::to_string(::getpid()) + ".jsonl", std::ios::app);
    enabled = static_cast<bool>(out);
  }
};

Recorder& recorder() {
  static Recorder r;
  return r;
}

}  // namespace

void record_answer(const std::string& method, const std::string& path, int status,
                   const std::string& content_type, const std::string& body) {
  auto& r = recorder();
  if (!r.enabled || status == 0) return;
  std::lock_guard lk(r.mu);
  if (r.written >= kMaxRecords) return;
  ++r.written;
  // Bodies that are not UTF-8 (none should be) are kept as replacement characters.
  const nlohmann::json j{{"method", method},
                         {"path", path},
                         {"status", status},
                         {"content_type", content_type},
                         {"body", body}};
  r.out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  r.out.flush();
}

}  // namespace oag::test
