// oag-phone answer | call NAI — see phone.hpp and the README.
#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "proto/ident/ident.hpp"
#include "tools/oag-phone/enroll.hpp"
#include "tools/oag-phone/login.hpp"
#include "tools/oag-phone/phone.hpp"

namespace {

bool split_host_port(const std::string& s, std::string& host, unsigned short& port) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  const auto p = std::string_view(s).substr(colon + 1);
  const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
  return r.ec == std::errc() && r.ptr == p.data() + p.size() && port != 0 && !host.empty();
}

}  // namespace

int main(int argc, char** argv) {
  oag::phone::Options o;
  std::string proxy = "127.0.0.1:5060", ag, transport = "udp", carrier = "via", auth = "sim";
  CLI::App app{"oag-phone: a SIP endpoint with oag1 mutual authentication"};
  app.set_version_flag("--version", "oag-phone " OAG_VERSION);
  app.require_subcommand(1);
  bool no_auth = false;
  const auto common = [&](CLI::App* c) {
    c->add_option("--nai", o.nai, "our NAI, user@realm")->required();
    c->add_option("--proxy", proxy, "SIP proxy HOST:PORT (IPv4)");
    c->add_option("--transport", transport,
                  "udp, tcp or tls (tls: --cert is the client certificate)")
        ->check(CLI::IsMember({"udp", "tcp", "tls"}));
    c->add_option("--proxy-ca", o.tls.ca_file, "tls: the CA of the proxy's certificate");
    c->add_option("--auth", auth,
                  "sim (the oag1 carriers, with --sim), cert (a certificate-signed call: "
                  "Identity and S/MIME) or none")
        ->check(CLI::IsMember({"sim", "cert", "none"}));
    c->add_option("--chain", o.chain_file, "cert: our certificate's chain, if not in --cert");
    c->add_option("--home-url", o.home_url,
                  "cert: our home gateway's visitor listener, https://HOST:PORT, which serves our "
                  "certificate (the PASSporT's x5u)");
    c->add_option("--signing-cert", o.signing_cert,
                  "cert: sign calls with this certificate (default: --cert, which still "
                  "decrypts)");
    c->add_option("--signing-key", o.signing_key, "cert: its key");
    c->add_option("--sim", o.sim, "SIM profile JSON (imsi, k, opc|op)");
    c->add_option("--ag", ag, "our gateway's endpoint listener HOST:PORT");
    c->add_option("--ca", o.gateway.ca_file, "the operator's endpoint CA");
    c->add_option("--cert", o.gateway.cert_file, "our certificate");
    c->add_option("--key", o.gateway.key_file, "our private key");
    c->add_option("--ag-name", o.gateway.server_name, "name in the gateway's certificate");
    c->add_option("--carrier", carrier, "ACK carrier: via (branch) or header (OAG-Auth)")
        ->check(CLI::IsMember({"via", "header"}));
    c->add_flag("--no-auth", no_auth, "plain SIP: no oag1 carriers");
    c->add_option("--timeout-ms", o.timeout_ms,
                  "how long to wait for an answer (the callee: for the ACK of its 200 OK)");
  };
  auto* answer = app.add_subcommand("answer", "register and answer calls");
  common(answer);
  answer->add_option("--calls", o.calls, "INVITEs to handle, then exit (0: until SIGTERM)");
  auto* call = app.add_subcommand("call", "register and call NAI");
  common(call);
  call->add_option("target", o.target, "the callee's NAI")->required();
  call->add_option("--kind", o.kind, "sim or aka")->check(CLI::IsMember({"sim", "aka"}));
  call->add_option("--count", o.count, "calls one after another")->check(CLI::Range(1u, 1000000u));
  call->add_option("--hold-ms", o.hold_ms, "how long each call stays up");
  call->add_flag("--replay", o.replay, "afterwards, replay the first INVITE's challenge");
  call->add_flag("--no-ack", o.no_ack,
                 "never send the ACK (tests a callee's 200 OK retransmission)");
  call->add_flag("--json", o.json, "print a JSON summary line");
  call->add_flag("--quiet", o.quiet, "no per-step lines");
  call->add_option("--iat-offset-s", o.iat_offset_s,
                   "cert, test hook: shift the PASSporT's iat by this many seconds");
  call->add_flag("--tamper-identity", o.tamper_identity,
                 "cert, test hook: alter the Identity header after signing it");
  oag::phone::EnrollOptions eo;
  std::string enroll_ag;
  auto* enroll = app.add_subcommand("enroll", "get a certificate with the SIM (Digest AKA)");
  enroll->add_option("--nai", eo.nai, "our NAI, user@realm")->required();
  enroll->add_option("--sim", eo.sim, "SIM profile JSON (imsi, k, opc|op)")->required();
  enroll->add_option("--ag", enroll_ag, "our gateway's visitor listener HOST:PORT")->required();
  enroll->add_option("--ca", eo.https.ca_file, "CA of the gateway's server certificate")
      ->required();
  enroll->add_option("--ag-name", eo.https.server_name, "name in the gateway's certificate");
  enroll->add_option("--out", eo.out_dir, "directory for <NAI>.key, <NAI>.pem, chain.pem")
      ->required();
  oag::phone::RenewOptions ro;
  std::string renew_ag;
  auto* renew =
      app.add_subcommand("renew", "a new certificate for a new key, with the current one");
  renew->add_option("--nai", ro.nai, "our NAI, user@realm")->required();
  renew->add_option("--ag", renew_ag, "our gateway's endpoint listener HOST:PORT")->required();
  renew->add_option("--ca", ro.https.ca_file, "the operator's endpoint CA")->required();
  renew->add_option("--cert", ro.https.cert_file, "our current certificate")->required();
  renew->add_option("--key", ro.https.key_file, "its private key")->required();
  renew->add_option("--ag-name", ro.https.server_name, "name in the gateway's certificate");
  renew->add_option("--out", ro.out_dir, "directory for <NAI>.key, <NAI>.pem, chain.pem")
      ->required();
  renew->add_flag("--revoke-old", ro.revoke_old, "revoke the current certificate");
  oag::phone::LoginOptions lo;
  auto* login = app.add_subcommand(
      "login",
      "roaming login with a password: a certificate from the home gateway, via the "
      "gateway of the network visited");
  login->add_option("--profile", lo.profile, "home profile JSON (oagctl subscriber profile)")
      ->required();
  login->add_option("--via", lo.via, "the visited gateway's visitor listener, https://HOST:PORT")
      ->required();
  login->add_option("--password-file", lo.password_file,
                    "read the password from this file's first line (else from the terminal)");
  login->add_option("--ca", lo.ca_file,
                    "check the visited gateway's certificate with this CA (the login does not "
                    "depend on it)");
  login->add_option("--device-profile", lo.device_profile, "device profile, a JSON object");
  login
      ->add_option("--out", lo.out_dir,
                   "directory for <NAI>.key, <NAI>.pem, chain.pem, session.json, session.keys")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message naming the argument (or the help)
    return e.get_exit_code() == 0 ? 0 : 2;
  }

  if (app.got_subcommand(login)) {
    try {
      return oag::phone::run_login(lo);
    } catch (const std::exception& e) {
      std::cerr << "oag-phone: " << e.what() << "\n";
      return 2;
    }
  }
  if (app.got_subcommand(enroll)) {
    if (!oag::ident::valid_nai(eo.nai)) {
      std::cerr << "oag-phone: --nai: user@realm expected, got " << eo.nai << "\n";
      return 2;
    }
    if (!split_host_port(enroll_ag, eo.https.host, eo.https.port)) {
      std::cerr << "oag-phone: --ag: HOST:PORT expected, got " << enroll_ag << "\n";
      return 2;
    }
    try {
      return oag::phone::run_enroll(eo);
    } catch (const std::exception& e) {
      std::cerr << "oag-phone: " << e.what() << "\n";
      return 2;
    }
  }
  if (app.got_subcommand(renew)) {
    if (!oag::ident::valid_nai(ro.nai) ||
        !split_host_port(renew_ag, ro.https.host, ro.https.port)) {
      std::cerr << "oag-phone: "
                << (oag::ident::valid_nai(ro.nai) ? "--ag: HOST:PORT" : "--nai: user@realm")
                << " expected\n";
      return 2;
    }
    try {
      return oag::phone::run_renew(ro);
    } catch (const std::exception& e) {
      std::cerr << "oag-phone: " << e.what() << "\n";
      return 2;
    }
  }
  auto* sub = app.got_subcommand(answer) ? answer : call;
  o.auth = !no_auth && auth != "none";
  o.cert = auth == "cert";
  o.transport = transport == "tls"   ? oag::phone::TransportKind::tls
                : transport == "tcp" ? oag::phone::TransportKind::tcp
                                     : oag::phone::TransportKind::udp;
  if (o.signing_cert.empty() != o.signing_key.empty()) {
    std::cerr << "oag-phone: --signing-key: needed with --signing-cert, and only with it\n";
    return 2;
  }
  if (o.transport == oag::phone::TransportKind::tls) {
    o.tls.cert_file = o.gateway.cert_file;
    o.tls.key_file = o.gateway.key_file;
    o.tls.chain_file = o.chain_file;
    for (auto [name, value] : {std::pair{"--proxy-ca", &o.tls.ca_file},
                               {"--cert", &o.tls.cert_file},
                               {"--key", &o.tls.key_file}})
      if (value->empty()) {
        std::cerr << "oag-phone: " << name << ": required with --transport tls\n";
        return 2;
      }
  }
  o.header_carrier = carrier == "header";
  if (!split_host_port(proxy, o.proxy_host, o.proxy_port)) {
    std::cerr << "oag-phone: --proxy: HOST:PORT expected, got " << proxy << "\n";
    return 2;
  }
  if (!oag::ident::valid_nai(o.nai)) {
    std::cerr << "oag-phone: --nai: user@realm expected, got " << o.nai << "\n";
    return 2;
  }
  if (o.auth) {
    if (o.cert && sub == call && o.home_url.rfind("https://", 0) != 0) {
      std::cerr << "oag-phone: --home-url: https://HOST:PORT required with --auth cert\n";
      return 2;
    }
    std::string not_needed = "-";
    for (auto [name, value] : {std::pair{"--sim", o.cert ? &not_needed : &o.sim},
                               {"--ag", &ag},
                               {"--ca", &o.gateway.ca_file},
                               {"--cert", &o.gateway.cert_file},
                               {"--key", &o.gateway.key_file}})
      if (value->empty()) {
        std::cerr << "oag-phone: " << name << ": required unless --auth none\n";
        return 2;
      }
    if (!split_host_port(ag, o.gateway.host, o.gateway.port)) {
      std::cerr << "oag-phone: --ag: HOST:PORT expected, got " << ag << "\n";
      return 2;
    }
  }
  try {
    return sub == answer ? oag::phone::run_answer(o) : oag::phone::run_call(o);
  } catch (const std::exception& e) {
    std::cerr << "oag-phone: " << e.what() << "\n";
    return 2;
  }
}
