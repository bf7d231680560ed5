// libFuzzer target for the Digest AKA grammar: Authorization headers come from anyone who reaches
// the visitor listener. Properties: no crash; a header that parses, formatted back from its own
// parameters (as a client would send them), parses to the same parameters; base64 round trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/digest/digest.hpp"

using namespace oag;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::string why;
  if (const auto p = digest::parse(in, why)) {
    const auto get = [&](const char* k) {
      const auto it = p->find(k);
      return it == p->end() ? std::string() : it->second;
    };
    const digest::Exchange x{get("username"), get("realm"), get("nonce"),
                             get("uri"),      get("nc"),    get("cnonce")};
    // Formatting quotes what it must; nc goes out as a token (8 hex digits), so only those.
    if (x.nc.empty() ||
        (x.nc.size() == 8 && x.nc.find_first_not_of("0123456789abcdef") == std::string::npos)) {
      const auto back =
          digest::parse(digest::authorization(x, get("response"), get("opaque"), get("auts")), why);
      if (!back) std::abort();
      for (const char* k : {"username", "realm", "nonce", "uri"})
        if (back->at(k) != get(k)) std::abort();
    }
  } else if (why.empty()) {
    std::abort();  // a refusal always says why
  }
  (void)digest::parse_info(in, why);
  const aka::ByteView raw(data, size);
  const auto decoded = digest::unbase64(digest::base64(raw));
  if (!decoded || std::string(decoded->begin(), decoded->end()) != in) std::abort();
  (void)digest::parse_aka_nonce(in);
  return 0;
}
