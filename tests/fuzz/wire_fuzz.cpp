// libFuzzer target for every proto/wire request parser (bodies from endpoints and peers) and
// the vectors answer a broker or a client reads from a peer, and the path escapes. The first
// byte picks the parser.
// Properties: no crash, no leak; a refusal names a field (or the body); an answer that parses
// serialises to one that parses to the same vectors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/wire/certificates.hpp"
#include "proto/wire/messages.hpp"

namespace {

void named(const oag::wire::Problem& p) {
  if (p.detail.empty() || p.status != 400) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace oag::wire;
  switch (data[0] % 6) {
    case 0:
    case 1: {
      auto r = parse_vector_request(in, data[0] % 6 == 1);
      if (auto* p = std::get_if<Problem>(&r))
        named(*p);
      else if (const auto& v = std::get<VectorRequest>(r); v.count < 1 || v.count > kMaxCount)
        std::abort();
      break;
    }
    case 2:
      if (auto r = parse_result_report(in); std::holds_alternative<Problem>(r))
        named(std::get<Problem>(r));
      break;
    case 3:
      if (auto r = parse_resync_request(in); std::holds_alternative<Problem>(r))
        named(std::get<Problem>(r));
      break;
    case 4: {
      auto r = parse_vectors_response(in);
      if (auto* p = std::get_if<Problem>(&r)) {
        if (p->detail.empty()) std::abort();
        break;
      }
      const auto& a = std::get<VectorsAnswer>(r);
      auto again = parse_vectors_response(vectors_response(a.subject, a.issuer, a.vectors));
      auto* b = std::get_if<VectorsAnswer>(&again);
      if (b == nullptr || b->vectors.size() != a.vectors.size()) std::abort();
      for (std::size_t i = 0; i < a.vectors.size(); ++i)
        if (b->vectors[i].id != a.vectors[i].id || b->vectors[i].rand != a.vectors[i].rand ||
            b->vectors[i].kind != a.vectors[i].kind || !(b->vectors[i].xres == a.vectors[i].xres))
          std::abort();
      break;
    }
    case 5: {
      std::string out;
      if (percent_decode(in, out) && out.size() > in.size()) std::abort();
      // Every byte string survives an encode and decode.
      if (!percent_decode(percent_encode(in), out) || out != in) std::abort();
      break;
    }
  }
  return 0;
}
