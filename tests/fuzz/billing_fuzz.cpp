// libFuzzer target for reading a billing export back (what `oagctl billing reconcile` reads
// from the other operator: CSV or JSON lines). Properties: no crash; a malformed record is a
// std::runtime_error naming its line; what is read is written and read again to the same
// records (both formats).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "tools/oagctl/billing_io.hpp"

namespace {

bool same(const oag::storage::BillingRecord& a, const oag::storage::BillingRecord& b) {
  return a.seq == b.seq && a.time_ms == b.time_ms && a.role == b.role && a.event == b.event &&
         a.requester == b.requester && a.subject == b.subject && a.agreement == b.agreement &&
         a.kind == b.kind && a.count == b.count && a.unit_price_micros == b.unit_price_micros &&
         a.currency == b.currency && a.request_id == b.request_id && a.outcome == b.outcome &&
         a.hash == b.hash && a.detail == b.detail;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace oag::tools::billing;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<oag::storage::BillingRecord> recs;
  try {
    recs = read(in, "theirs.csv");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("theirs.csv") == std::string::npos) std::abort();
    return 0;
  }
  for (const auto f : {Format::csv, Format::jsonl}) {
    std::ostringstream out;
    Writer w(out, f);
    for (const auto& r : recs) w.write(r);
    w.finish();
    std::istringstream back(out.str());
    std::vector<oag::storage::BillingRecord> again;
    try {
      again = read(back, "ours");
    } catch (const std::runtime_error&) {
      std::abort();  // what we write we must read
    }
    if (again.size() != recs.size()) std::abort();
    for (std::size_t i = 0; i < recs.size(); ++i)
      if (!same(recs[i], again[i])) std::abort();
  }
  return 0;
}
