// oagd with more routes on the visitor listener, to prove the request boundary through the real
// server, TLS and signals: a handler that throws, one whose store task throws, one that never
// answers; and a clock the test moves forward (POST /test/clock with the ms to add), so that
// protocol deadlines are tested without waiting. Everything else is oagd's own start-up.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "gateway/daemon.hpp"
#include "gateway/problems.hpp"

using namespace oag::gateway;

namespace {

std::atomic<std::int64_t> g_skew_ms{0};

void add_faults(std::vector<Route>& table, Services& svc) {
  table.push_back(
      {"test-throw", Listener::visitor, "GET", "/test/throw", {}, Auth::none, 0, [](Call, Reply) {
         throw std::runtime_error("boom: thrown by a handler");
       }});
  table.push_back({"test-throw-offloaded",
                   Listener::visitor,
                   "GET",
                   "/test/throw-offloaded",
                   {},
                   Auth::none,
                   0,
                   [&svc](Call c, Reply reply) {
                     svc.offload(Lane::lookup, reply, c.route, [] {
                       throw std::runtime_error("boom: thrown on a store thread");
                     });
                   }});
  table.push_back({"test-hang",
                   Listener::visitor,
                   "GET",
                   "/test/hang",
                   {},
                   Auth::none,
                   0,
                   [](Call, Reply) { /* never answers */ }});
  svc.clock = [] { return wall_ms() + g_skew_ms.load(); };
  // A crash between a commit and its answer, once, when the test armed it (created the file
  // named by OAG_TEST_KILL_FILE): the process dies as under SIGKILL, nothing flushed.
  svc.fault_point = [](const char* point) {
    const char* file = std::getenv("OAG_TEST_KILL_FILE");
    if (file != nullptr && std::strcmp(point, "login-committed") == 0 && ::unlink(file) == 0)
      ::raise(SIGKILL);
  };
  table.push_back({"test-clock",
                   Listener::visitor,
                   "POST",
                   "/test/clock",
                   {"text/plain"},
                   Auth::none,
                   64,
                   [](Call c, Reply reply) {
                     g_skew_ms += std::stoll(c.req.body);
                     reply(no_content(c.route));
                   }});
}

}  // namespace

int main(int argc, char** argv) {
  return daemon_main(argc, argv, add_faults);
}
