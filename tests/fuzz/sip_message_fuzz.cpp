// libFuzzer target for the SIP codec (proto/sip/message): any bytes may arrive on a SIP port.
// Properties: no crash or sanitizer report; a message that parses serialises to a message that
// parses again to the same start line, headers and body; the helpers never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/sip/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)oag::sip::frame_length(in);
  const auto m = oag::sip::parse(in);
  if (!m) return 0;
  for (const auto& h : m->headers) {
    (void)oag::sip::param(h.value, "tag");
    (void)oag::sip::param(h.value, "branch");
    (void)oag::sip::with_param(h.value, "tag", "x");
    (void)oag::sip::aor_of(oag::sip::uri_of(h.value));
    std::string host;
    unsigned short port = 0;
    (void)oag::sip::host_port_of(oag::sip::uri_of(h.value), host, port);
  }
  (void)m->all("Via");
  const auto wire = m->serialize();
  if (oag::sip::frame_length(wire) != static_cast<std::ptrdiff_t>(wire.size())) std::abort();
  const auto again = oag::sip::parse(wire);
  if (!again || again->request != m->request || again->method != m->method ||
      again->uri != m->uri || again->status != m->status || again->body != m->body ||
      again->serialize() != wire)
    std::abort();
  return 0;
}
