// The caller's side of an oag1 call with liboag-client, without the SIP around it: fetch the
// peer's vector from our own gateway and put the challenge in the INVITE's From-tag.
#include <client/mutual_auth.hpp>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 8) {
    std::cerr << "usage: oag-client-example AG_HOST AG_PORT CA CERT KEY SIM_PROFILE PEER_NAI\n";
    return 2;
  }
  oag::client::GatewayOptions options;  // mutual TLS to our own gateway
  options.host = argv[1];
  options.port = static_cast<unsigned short>(std::stoi(argv[2]));
  options.ca_file = argv[3];
  options.cert_file = argv[4];
  options.key_file = argv[5];
  oag::client::GatewayClient gateway(options);
  auto sim = oag::client::SoftSim::load(argv[6]);  // K, OPc, IMSI; SQN_MS kept beside it

  oag::client::CallerAuth caller(gateway, sim, "me@my-operator.example", argv[7],
                                 oag::sip::Kind::aka);
  const auto from_tag = caller.start();  // AV of the peer, brokered by our gateway
  if (!from_tag) {
    std::cerr << "no vector: " << caller.reason() << "\n";
    return 1;
  }
  std::cout << "INVITE From-tag: " << *from_tag << "\n";
  // When the 200 OK arrives:
  //   if (auto ack = caller.on_answer(to_tag, call_id))   // verifies the callee's SIM
  //     ACK Via branch = "z9hG4bK" + *ack;                // answers the callee's challenge
  //     caller.keys().a_to_b.master_key / master_salt     // SRTP keys for our media
  //   else: ACK with OAG-Auth: oag1.refused, then BYE giving caller.reason()
  //   caller.report();                                    // the outcome, to our gateway
  return 0;
}
