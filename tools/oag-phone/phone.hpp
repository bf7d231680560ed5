#pragma once
// oag-phone: a minimal SIP endpoint (REGISTER, INVITE/180/200/ACK, BYE) that runs the oag1
// mutual authentication (SIM) or the certificate-signed call (DESIGN §8) with liboag-client.
// Follows Record-Route, finds branch= by name, and keeps a proxy's own replies apart from the
// callee's carriers.

#include <string>

#include "client/gateway.hpp"
#include "tools/oag-phone/transport.hpp"

namespace oag::phone {

/// Everything the command line sets.
struct Options {
  std::string nai;                               ///< our NAI (user@realm)
  std::string proxy_host = "127.0.0.1";          ///< SIP proxy
  unsigned short proxy_port = 5060;              ///< SIP proxy port
  TransportKind transport = TransportKind::udp;  ///< transport
  TlsOptions tls;                                ///< TLS: the proxy's CA, our certificate
  std::string sim;                               ///< SIM profile JSON
  client::GatewayOptions gateway;                ///< our AG
  bool auth = true;                              ///< false: plain SIP, no carriers
  bool cert = false;                      ///< certificate-signed (else the SIM's oag1 carriers)
  std::string home_url;                   ///< cert: our home's visitor listener (the x5u base)
  std::string chain_file;                 ///< cert: our certificate's chain, if not in --cert
  std::string signing_cert, signing_key;  ///< cert: sign with these (default --cert, --key)
  long iat_offset_s = 0;                  ///< cert, test hook: shift the PASSporT's iat
  bool tamper_identity = false;           ///< cert, test hook: alter the Identity after signing
  bool header_carrier = false;            ///< ACK value in OAG-Auth instead of the Via branch
  std::string kind = "sim";               ///< call: sim or aka
  std::string target;                     ///< call: the callee's NAI
  unsigned count = 1;                     ///< call: calls one after another
  unsigned calls = 0;                     ///< answer: INVITEs to handle, 0 = until SIGTERM
  unsigned hold_ms = 200;                 ///< call: how long a call stays up before BYE
  unsigned timeout_ms = 8000;             ///< waiting for an answer
  bool replay = false;                    ///< call: replay the first INVITE's challenge afterwards
  bool no_ack = false;                    ///< call: never ACK (tests a callee's retransmission)
  bool json = false;                      ///< call: print a JSON summary line
  bool quiet = false;                     ///< call: no per-step lines (benchmarks)
};

/// `oag-phone answer`: exit status 0 when the last call was mutually authenticated.
int run_answer(const Options& o);
/// `oag-phone call NAI`: exit status 0 when every call was mutually authenticated.
int run_call(const Options& o);

}  // namespace oag::phone
