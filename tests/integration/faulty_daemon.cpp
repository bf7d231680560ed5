// oagd with three more routes on the visitor listener, to prove the request boundary through the
// real server, TLS and signals: a handler that throws, one whose store task throws, and one that
// never answers. Everything else is oagd's own start-up (daemon_main).
#include <stdexcept>

#include "gateway/daemon.hpp"
#include "gateway/problems.hpp"

using namespace oag::gateway;

namespace {

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
}

}  // namespace

int main(int argc, char** argv) {
  return daemon_main(argc, argv, add_faults);
}
