// The integration tests' answers from client::HttpsClient (enrollment, roaming logins, the
// client library) go to the OpenAPI check as the test client's do.
#include "client/https.hpp"
#include "tests/unit/support/api_record.hpp"

namespace oag::test {

void record_https_clients() {
  client::set_exchange_observer(
      [](const std::string& method, const std::string& path, const client::HttpsReply& r) {
        const auto ct = r.headers.find("content-type");
        record_answer(method, path, r.status, ct == r.headers.end() ? "" : ct->second, r.body);
      });
}

namespace {
// Installed before main: every test of this binary is covered.
const bool installed = (record_https_clients(), true);
}  // namespace

}  // namespace oag::test
