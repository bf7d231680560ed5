// libFuzzer target for the CSV subscriber import (`oagctl subscriber import FILE`), the parser
// alone (no database). Properties: no crash and no exception; every line is accounted for (a
// row or one error); no NAI or IMSI twice among the rows; every row, written back as a CSV line
// of its checked values, reads again to the same subscriber.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include "proto/aka/hex.hpp"
#include "tools/oagctl/args.hpp"
#include "tools/oagctl/subscriber_csv.hpp"

namespace {

using oag::storage::SubscriberInput;

std::string line_of(const SubscriberInput& s) {
  return s.nai + "," + s.imsi + "," + std::string(oag::aka::to_string(s.keys.algorithm)) + "," +
         oag::aka::to_hex(s.keys.k.expose()) + "," + oag::aka::to_hex(s.keys.opc.expose()) + "," +
         oag::aka::to_hex(s.amf) + "," + std::to_string(s.seq_he) + "," +
         std::to_string(s.ind_len) + ",\"" + oag::tools::format_kinds(s.kinds) + "\"\n";
}

bool same(const SubscriberInput& a, const SubscriberInput& b) {
  return a.nai == b.nai && a.imsi == b.imsi && a.keys.algorithm == b.keys.algorithm &&
         a.keys.k.expose().size() == b.keys.k.expose().size() &&
         oag::aka::to_hex(a.keys.k.expose()) == oag::aka::to_hex(b.keys.k.expose()) &&
         oag::aka::to_hex(a.keys.opc.expose()) == oag::aka::to_hex(b.keys.opc.expose()) &&
         a.amf == b.amf && a.seq_he == b.seq_he && a.ind_len == b.ind_len && a.kinds == b.kinds;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::istringstream in(text);
  oag::tools::SubscriberCsv csv;
  try {
    csv = oag::tools::parse_subscriber_csv(in);
  } catch (...) {
    std::abort();  // bad content is reported, never thrown
  }
  if (!csv.header_error.empty()) {
    if (!csv.rows.empty() || !csv.errors.empty()) std::abort();
    return 0;
  }
  if (csv.rows.size() != csv.row_lines.size()) std::abort();
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  if (csv.rows.size() + csv.errors.size() > lines + 1) std::abort();
  std::set<std::string> nais, imsis;
  for (const auto& r : csv.rows) {
    if (!nais.insert(r.nai).second || !imsis.insert(r.imsi).second) std::abort();
    std::istringstream again("nai,imsi,algo,k,opc,amf,sqn,ind_len,kinds\n" + line_of(r));
    const auto back = oag::tools::parse_subscriber_csv(again);
    if (back.rows.size() != 1 || !back.errors.empty() || !same(back.rows[0], r)) std::abort();
  }
  return 0;
}
