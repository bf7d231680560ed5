#include "tools/oag-phone/phone.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "client/cert_auth.hpp"
#include "client/mutual_auth.hpp"
#include "client/soft_sim.hpp"
#include "proto/aka/hex.hpp"
#include "proto/sip/carrier.hpp"
#include "tools/oag-phone/transport.hpp"

namespace oag::phone {

namespace {

using Clock = std::chrono::steady_clock;
using sip::Message;

std::atomic<bool> g_stop{false};

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> b(bytes);
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  return aka::to_hex(b);
}

std::string new_branch() {
  return std::string(sip::kMagicCookie) + random_hex(8);
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The quoted text of a Warning header (`399 host "text"`).
std::string warning_text(const Message& m) {
  const auto w = m.get("Warning");
  if (!w) return "";
  const auto q1 = w->find('"'), q2 = w->rfind('"');
  return q1 == std::string::npos || q2 <= q1 ? *w : w->substr(q1 + 1, q2 - q1 - 1);
}

// The text of a Reason header (`SIP;cause=403;text="..."`).
std::string reason_text(const Message& m) {
  const auto r = m.get("Reason");
  if (!r) return "";
  auto t = sip::param(*r, "text").value_or(*r);
  if (t.size() >= 2 && t.front() == '"') t = t.substr(1, t.size() - 2);
  return t;
}

// A Reason header (RFC 3326) with a SIP cause and a text.
std::string reason_header(int cause, const std::string& text) {
  return "SIP;cause=" + std::to_string(cause) + ";text=\"" + text + "\"";
}

// A response to `req`, copying what RFC 3261 §8.2.6.2 says to copy.
Message response_to(const Message& req, int status, const std::string& reason) {
  Message r;
  r.request = false;
  r.status = status;
  r.reason = reason;
  for (const auto& h : req.headers)
    for (auto n : {"Via", "v", "From", "f", "To", "t", "Call-ID", "i", "CSeq"})
      if (h.name == n) r.headers.push_back(h);
  if (status >= 180 && status < 300 && req.method == "INVITE")
    for (const auto& v : req.all("Record-Route")) r.add("Record-Route", v);
  return r;
}

// One endpoint: transport, SIM, gateway, and the output of steps.
struct Phone {
  explicit Phone(const Options& o)
      : opts(o), transport(o.transport, o.proxy_host, o.proxy_port, o.tls) {
    if (opts.auth) {
      if (opts.cert) {
        identity.emplace(client::CertIdentity::load(opts.gateway.cert_file, opts.gateway.key_file,
                                                    opts.chain_file, opts.home_url));
        if (!opts.signing_cert.empty())
          identity->sign_with(opts.signing_cert, opts.signing_key, opts.home_url);
      } else
        sim.emplace(client::SoftSim::load(opts.sim));
      gateway.emplace(opts.gateway);
    }
    user = opts.nai.substr(0, opts.nai.find('@'));
  }

  void step(Clock::time_point t0, const std::string& what) const {
    if (opts.quiet) return;
    std::printf("%9.3f ms  %s\n", ms_since(t0), what.c_str());
    std::fflush(stdout);
  }

  std::string via(const std::string& branch) const {
    return std::string("SIP/2.0/") + transport.name() + " " + transport.host() + ":" +
           std::to_string(transport.port()) + ";branch=" + branch + ";rport";
  }
  std::string contact() const {
    return "<sip:" + user + "@" + transport.host() + ":" + std::to_string(transport.port()) +
           transport.uri_param() + ">";
  }
  Message request(const std::string& method, const std::string& uri, const std::string& branch,
                  const std::string& from, const std::string& to, const std::string& call_id,
                  unsigned long cseq) const {
    Message m;
    m.method = method;
    m.uri = uri;
    m.add("Via", via(branch));
    m.add("Max-Forwards", "70");
    m.add("From", from);
    m.add("To", to);
    m.add("Call-ID", call_id);
    m.add("CSeq", std::to_string(cseq) + " " + method);
    return m;
  }

  // Answers requests that are not what we wait for: BYE of a dialog gets 200 (and is noted),
  // anything else a plain error; a retransmitted 200 OK of INVITE is answered with `ack`.
  void handle_other(const Incoming& in) {
    const auto& m = in.msg;
    if (!m.request) {
      const auto cs = m.cseq();
      const auto id = m.get("Call-ID").value_or("");
      if (cs && cs->second == "INVITE" && m.status / 100 == 2 && acks.count(id))
        transport.send_to_proxy(acks[id]);
      return;
    }
    if (m.method == "ACK") return;
    if (m.method == "BYE") {
      byes[m.get("Call-ID").value_or("")] = reason_text(m);
      transport.reply(in.origin, response_to(m, 200, "OK").serialize());
      return;
    }
    transport.reply(in.origin,
                    response_to(m, m.method == "OPTIONS" ? 200 : 481,
                                m.method == "OPTIONS" ? "OK" : "Call/Transaction Does Not Exist")
                        .serialize());
  }

  // Sends `req` to the proxy and waits for its final response (1xx are shown); UDP requests
  // are retransmitted (T1 = 500 ms, doubling) until a provisional or final answer.
  std::optional<Message> transact(const Message& req, Clock::time_point t0) {
    const auto wire = req.serialize();
    const auto id = req.get("Call-ID").value_or("");
    const auto cs = req.cseq();
    transport.send_to_proxy(wire);
    const auto deadline = Clock::now() + std::chrono::milliseconds(opts.timeout_ms);
    auto interval = std::chrono::milliseconds(500);
    auto next = Clock::now() + interval;
    bool provisional = false;
    while (Clock::now() < deadline) {
      auto in = transport.receive(
          std::min(deadline, transport.reliable() || provisional ? deadline : next));
      if (!in) {
        if (!transport.reliable() && !provisional && Clock::now() >= next) {
          transport.send_to_proxy(wire);
          interval *= 2;
          next = Clock::now() + interval;
        }
        continue;
      }
      const auto& m = in->msg;
      const auto mcs = m.cseq();
      if (m.request || m.get("Call-ID") != id || !mcs || mcs->first != cs->first ||
          mcs->second != cs->second) {
        handle_other(*in);
        continue;
      }
      if (m.status < 200) {
        provisional = true;
        if (m.status > 100) step(t0, "got " + std::to_string(m.status) + " " + m.reason);
        continue;
      }
      return m;
    }
    return std::nullopt;
  }

  // REGISTER our contact (expires 300 s), or remove it again (expires 0) when we leave, so
  // that the proxy does not fork later calls to an endpoint that is gone.
  bool do_register(bool leave = false) {
    const auto t0 = Clock::now();
    const auto realm = opts.nai.substr(opts.nai.find('@') + 1);
    if (reg_call_id.empty()) reg_call_id = random_hex(8) + "@" + transport.host();
    auto m = request("REGISTER", "sip:" + realm, new_branch(),
                     "<sip:" + opts.nai + ">;tag=" + random_hex(4), "<sip:" + opts.nai + ">",
                     reg_call_id, ++reg_cseq);
    m.add("Contact", contact());
    m.add("Expires", leave ? "0" : "300");
    const auto r = transact(m, t0);
    if (leave) return r && r->status == 200;
    if (!r || r->status != 200) {
      std::printf("register failed: %s\n", r ? (std::to_string(r->status) + " " + r->reason).c_str()
                                             : "no answer from the proxy");
      return false;
    }
    std::printf("registered %s at %s:%u over %s (contact %s:%u)\n", opts.nai.c_str(),
                opts.proxy_host.c_str(), opts.proxy_port, transport.name(),
                transport.host().c_str(), transport.port());
    std::fflush(stdout);
    return true;
  }

  const Options& opts;
  Transport transport;
  std::optional<client::SoftSim> sim;
  std::optional<client::CertIdentity> identity;  // --auth cert
  std::optional<client::GatewayClient> gateway;
  /// Unix s for PASSporTs (shifted by the --iat-offset-s test hook).
  std::int64_t now_s() const {
    return static_cast<std::int64_t>(std::time(nullptr)) + opts.iat_offset_s;
  }
  /// The port our SDP names for media (no media flows: the call proves who is at each end).
  unsigned short media_port() const { return static_cast<unsigned short>(transport.port() + 2); }
  std::string user;
  std::string reg_call_id;
  unsigned long reg_cseq = 0;
  std::map<std::string, std::string> byes;  // Call-ID → Reason of a BYE we received
  std::map<std::string, std::string> acks;  // Call-ID → our ACK, for 200 OK retransmissions
};

// ---------------------------------------------------------------- caller

struct CallResult {
  bool ok = false;
  bool retry = false;  // the callee resynchronised: one more try with a fresh vector
  std::string reason;
  std::string fingerprint;
  double setup_ms = 0;
  std::string from_tag;
};

CallResult call_once(Phone& p, const Options& o, const std::string& forced_tag = "") {
  CallResult res;
  const auto t0 = Clock::now();
  const auto kind = *ident::parse_kind(o.kind);  // main checked it
  std::optional<client::CallerAuth> auth;
  std::optional<client::CertCallerAuth> cauth;
  std::optional<client::CertCallerAuth::Offer> offer;
  std::string from_tag = forced_tag;
  if (o.auth && o.cert) {
    cauth.emplace(*p.gateway, *p.identity, o.target, [&p] { return p.now_s(); });
    offer = cauth->start("sip:" + o.nai, "sip:" + o.target, p.transport.host(), p.media_port());
    if (!offer) return res.reason = cauth->reason(), res;
    p.step(t0, "got " + o.target +
                   "'s certificate from our gateway; INVITE signed (PASSporT) "
                   "and its SDP encrypted to it (S/MIME)");
    if (o.tamper_identity) {
      // Test hook: a claim changed on the way, as a proxy that rewrites the header would.
      const auto dot = offer->identity.find('.');
      offer->identity[dot + 3] = static_cast<char>(offer->identity[dot + 3] ^ 0x01);
    }
    if (from_tag.empty()) from_tag = random_hex(6);
  }
  if (from_tag.empty()) {
    if (o.auth) {
      auth.emplace(*p.gateway, *p.sim, o.nai, o.target, kind);
      const auto tag = auth->start();
      if (!tag) return res.reason = auth->reason(), res;
      from_tag = *tag;
      p.step(t0, "got a " + o.kind + " vector of " + o.target + " from our gateway");
    } else {
      from_tag = random_hex(6);
    }
  }
  res.from_tag = from_tag;
  const std::string call_id = random_hex(12) + "@" + p.transport.host();
  const std::string from = "<sip:" + o.nai + ">;tag=" + from_tag;
  auto invite = p.request("INVITE", "sip:" + o.target, new_branch(), from, "<sip:" + o.target + ">",
                          call_id, 1);
  invite.add("Contact", p.contact());
  if (offer) {
    invite.add("Identity", offer->identity);
    invite.add("Content-Type", offer->body.content_type);
    invite.body = offer->body.body;
  } else {
    invite.add("Supported", "oag1");
  }
  p.step(t0, "INVITE " + o.target + " over " + p.transport.name() + ", sent From-tag " + from_tag);
  const auto r = p.transact(invite, t0);
  if (!r) return res.reason = "no final answer to the INVITE (timeout)", res;
  if (r->status >= 300) {
    // Hop-by-hop ACK of a failure (RFC 3261 §17.1.1.3): same branch, the response's To.
    auto ack = p.request("ACK", invite.uri, *sip::param(*invite.get("Via"), "branch"), from,
                         r->get("To").value_or(""), call_id, 1);
    p.transport.send_to_proxy(ack.serialize());
    const auto w = warning_text(*r);
    p.step(t0, "got " + std::to_string(r->status) + " " + r->reason +
                   (w.empty() ? "" : " (" + w + ")"));
    res.reason = "the call was refused: " + std::to_string(r->status) + " " + r->reason +
                 (w.empty() ? "" : " (" + w + ")");
    if (auth) res.retry = auth->on_rejected(r->status, w);
    if (cauth) cauth->on_rejected(r->status, w);
    return res;
  }
  // 2xx: the dialog. Route set = Record-Route reversed; remote target = Contact.
  const auto to = r->get("To").value_or("");
  const auto to_tag = sip::param(to, "tag").value_or("");
  p.step(t0, "got " + std::to_string(r->status) + " " + r->reason + ", To-tag " + to_tag);
  auto routes = r->all("Record-Route");
  std::reverse(routes.begin(), routes.end());
  const auto target = sip::uri_of(r->get("Contact").value_or("<sip:" + o.target + ">"));
  std::optional<std::string> carrier;
  if (auth) carrier = auth->on_answer(to_tag, call_id);
  std::optional<client::SignedBody> ack_body;
  if (cauth)
    ack_body = cauth->on_answer(
        r->get("Content-Type").value_or(""), r->body,
        client::ack_sipfrag(call_id, "sip:" + o.nai, from_tag, "sip:" + o.target, to_tag));
  const bool authed = cauth ? ack_body.has_value() : (!auth || carrier.has_value());
  const std::string branch =
      carrier && !o.header_carrier ? std::string(sip::kMagicCookie) + *carrier : new_branch();
  auto ack = p.request("ACK", target, branch, from, to, call_id, 1);
  for (const auto& rt : routes) ack.add("Route", rt);
  if (carrier && o.header_carrier) ack.add("OAG-Auth", *carrier);
  if (!authed) ack.add("OAG-Auth", std::string(sip::kRefused));  // our BYE follows
  if (ack_body) {
    ack.add("Content-Type", ack_body->content_type);
    ack.body = ack_body->body;
  }
  if (o.no_ack) {
    // Testing a callee: no ACK at all; it retransmits its 200 OK, then gives up with a BYE.
    p.step(t0, "ACK withheld (--no-ack)");
    const auto until = Clock::now() + std::chrono::milliseconds(o.timeout_ms);
    while (Clock::now() < until && !p.byes.count(call_id))
      if (auto in = p.transport.receive(until)) {
        if (!in->msg.request && in->msg.status == 200) p.step(t0, "got 200 OK again");
        p.handle_other(*in);
      }
    res.reason = p.byes.count(call_id) ? "the callee hung up: " + p.byes[call_id]
                                       : "the callee never hung up";
    p.byes.erase(call_id);
    return res;
  }
  p.acks[call_id] = ack.serialize();
  p.transport.send_to_proxy(p.acks[call_id]);
  res.setup_ms = ms_since(t0);
  if (ack_body)
    p.step(t0, "200 OK checked (signed by " + o.target +
                   "'s certificate, SDP decrypted); ACK sent with a signed sipfrag");
  else if (carrier)
    p.step(t0, "ACK sent, " +
                   std::string(o.header_carrier ? "OAG-Auth " + *carrier : "branch " + branch));
  else
    p.step(t0, authed ? "ACK sent" : "ACK sent, OAG-Auth " + std::string(sip::kRefused));
  unsigned long cseq = 2;
  const auto bye = [&](const std::string& reason) {
    auto m = p.request("BYE", target, new_branch(), from, to, call_id, cseq++);
    for (const auto& rt : routes) m.add("Route", rt);
    if (!reason.empty()) m.add("Reason", reason_header(403, reason));
    p.step(t0, "BYE sent" + (reason.empty() ? "" : " (" + reason + ")"));
    const auto br = p.transact(m, t0);
    if (br) p.step(t0, "got " + std::to_string(br->status) + " " + br->reason + " to BYE");
  };
  if (!authed) {
    const auto why = cauth ? cauth->reason() : auth->reason();
    bye("oag1 " + why);
    res.reason = why;
  } else {
    // The callee checks our response when the ACK arrives; a BYE from it means it failed.
    const auto until = Clock::now() + std::chrono::milliseconds(o.hold_ms);
    while (Clock::now() < until && !p.byes.count(call_id))
      if (auto in = p.transport.receive(until)) p.handle_other(*in);
    if (p.byes.count(call_id)) {
      p.step(t0, "got BYE from the callee (" + p.byes[call_id] + ")");
      res.reason = "the callee hung up: " + p.byes[call_id];
    } else {
      bye("");
      res.ok = true;
      if (auth) res.fingerprint = auth->keys().fingerprint();
      if (cauth) res.fingerprint = cauth->fingerprint();
    }
  }
  if (auth && auth->has_result()) {
    if (const auto e = auth->report())
      p.step(t0, "result report failed: " + e->to_string());
    else
      p.step(t0, "result reported to our gateway");
  }
  p.acks.erase(call_id);
  p.byes.erase(call_id);
  return res;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

// ---------------------------------------------------------------- callee

struct Dialog {
  Origin origin;
  Message invite;
  std::string to;  // with our tag
  std::string last_response;
  std::unique_ptr<client::CalleeAuth> auth;
  std::unique_ptr<client::CertCalleeAuth> cauth;
  Clock::time_point t0;
  bool answered = false, acked = false, done = false, closed = false;
  unsigned long local_cseq = 0;  // of the requests we send in this dialog
  // RFC 3261 §13.3.1.4: the 200 OK goes out again (T1 doubling up to T2) until the ACK comes.
  Clock::time_point retransmit_at, give_up_at;
  std::chrono::milliseconds interval{500};
  std::vector<std::string> routes;
  std::string remote_target;
};

// A BYE from the callee's side of dialog `d`: the route set as received, our To as From; with a
// Reason header when `text` is given.
void send_bye(Phone& p, Dialog& d, const std::string& call_id, int cause, const std::string& text) {
  auto bye = p.request("BYE", d.remote_target, new_branch(), d.to,
                       d.invite.get("From").value_or(""), call_id, ++d.local_cseq);
  for (const auto& rt : d.routes) bye.add("Route", rt);
  if (!text.empty()) bye.add("Reason", reason_header(cause, text));
  p.transport.send_to_proxy(bye.serialize());
}

}  // namespace

int run_call(const Options& o) {
  Phone p(o);
  if (!p.do_register()) return 1;
  std::vector<double> setup;
  unsigned ok = 0;
  std::string first_tag;
  const auto start = Clock::now();
  for (unsigned i = 0; i < o.count; ++i) {
    auto r = call_once(p, o);
    if (!r.ok && r.retry) {
      p.step(start, "the callee resynchronised its SIM: once more with a fresh vector");
      r = call_once(p, o);
    }
    if (first_tag.empty()) first_tag = r.from_tag;
    if (r.ok) {
      ++ok;
      setup.push_back(r.setup_ms);
    }
    if (!o.quiet || !r.ok) {
      if (!o.auth)
        std::printf(r.ok ? "call established (no authentication)\n" : "call failed: %s\n",
                    r.reason.c_str());
      else if (r.ok && o.cert)
        std::printf("mutually authenticated (certificates): media keys %s\n",
                    r.fingerprint.c_str());
      else if (r.ok)
        std::printf("mutually authenticated: session key %s\n", r.fingerprint.c_str());
      else
        std::printf("authentication failed: %s\n", r.reason.c_str());
      std::fflush(stdout);
    }
  }
  const double secs = ms_since(start) / 1000.0;
  int status = ok == o.count ? 0 : 1;
  if (o.replay && !first_tag.empty()) {
    // The same challenge again, in a new dialog: a replay the callee must refuse.
    auto r = call_once(p, o, first_tag);
    std::printf(r.ok ? "replayed INVITE accepted\n" : "replayed INVITE refused: %s\n",
                r.reason.c_str());
    if (r.ok) status = 1;
  }
  p.do_register(true);
  if (o.json)
    std::printf("{\"calls\":%u,\"ok\":%u,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"calls_per_s\":%.1f}\n",
                o.count, ok, percentile(setup, 0.5), percentile(setup, 0.99),
                static_cast<double>(o.count) / secs);
  return status;
}

int run_answer(const Options& o) {
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  Phone p(o);
  if (!p.do_register()) return 1;
  std::map<std::string, Dialog> dialogs;
  unsigned handled = 0;
  bool last_ok = false;
  const auto finish = [&](Dialog& d, bool ok, const std::string& line) {
    if (d.done) return;
    d.done = true;
    last_ok = ok;
    ++handled;
    std::printf("%s\n", line.c_str());
    if (d.auth && d.auth->has_result()) {
      if (const auto e = d.auth->report())
        p.step(d.t0, "result report failed: " + e->to_string());
      else
        p.step(d.t0, "result reported to our gateway");
    }
    std::fflush(stdout);
  };
  // A dialog is open from its 200 OK until a BYE ends it (ours answered, or the caller's).
  const auto open_dialogs = [&] {
    return std::count_if(dialogs.begin(), dialogs.end(),
                         [](const auto& d) { return d.second.answered && !d.second.closed; });
  };
  auto linger_until = Clock::time_point::max();
  while (!g_stop) {
    if (o.calls != 0 && handled >= o.calls) {
      if (open_dialogs() == 0) break;
      // Wait a little for the BYE of the last call, not for ever.
      if (linger_until == Clock::time_point::max())
        linger_until = Clock::now() + std::chrono::milliseconds(o.timeout_ms);
      if (Clock::now() >= linger_until) break;
    }
    auto wake = Clock::now() + std::chrono::milliseconds(200);
    for (auto& [id, d] : dialogs) {
      if (!d.answered || d.acked || d.closed) continue;
      const auto now = Clock::now();
      if (now >= d.give_up_at) {
        // No ACK: the caller is gone or its ACK cannot reach us; end the call.
        send_bye(p, d, id, 408, "oag1 no ACK for our 200 OK");
        p.step(d.t0, "no ACK: BYE sent");
        if (d.auth) d.auth->abandon("no ACK for our 200 OK");
        finish(d, false, "authentication failed: no ACK for our 200 OK");
        d.acked = true;  // nothing more to wait for but the BYE's answer
        continue;
      }
      if (now >= d.retransmit_at) {
        p.transport.reply(d.origin, d.last_response);
        d.interval = std::min(d.interval * 2, std::chrono::milliseconds(4000));
        d.retransmit_at = now + d.interval;
        p.step(d.t0, "200 OK retransmitted (no ACK yet)");
      }
      wake = std::min(wake, std::min(d.retransmit_at, d.give_up_at));
    }
    auto in = p.transport.receive(wake);
    if (!in) continue;
    const auto& m = in->msg;
    const auto id = m.get("Call-ID").value_or("");
    if (!m.request) {  // the answer to a BYE of ours closes its dialog
      const auto cs = m.cseq();
      if (auto it = dialogs.find(id);
          it != dialogs.end() && cs && cs->second == "BYE" && m.status >= 200)
        it->second.closed = true;
      continue;
    }
    if (m.method == "INVITE" && !sip::param(m.get("To").value_or(""), "tag")) {
      if (auto it = dialogs.find(id); it != dialogs.end()) {  // retransmission
        if (!it->second.last_response.empty())
          p.transport.reply(in->origin, it->second.last_response);
        continue;
      }
      Dialog& d = dialogs[id];
      d.t0 = Clock::now();
      d.origin = in->origin;
      d.invite = m;
      p.transport.reply(in->origin, response_to(m, 100, "Trying").serialize());
      const auto from = m.get("From").value_or("");
      const auto caller = sip::aor_of(sip::uri_of(from));
      const auto from_tag = sip::param(from, "tag").value_or("");
      p.step(d.t0, "INVITE from " + caller + " over " + p.transport.name() + ", got From-tag " +
                       from_tag);
      std::string to_tag = random_hex(6);
      std::optional<client::SignedBody> answer_body;
      if (o.auth && o.cert) {
        d.cauth = std::make_unique<client::CertCalleeAuth>(*p.gateway, *p.identity,
                                                           [&p] { return p.now_s(); });
        auto r = d.cauth->on_invite(
            m.get("Identity"), sip::uri_of(from), sip::uri_of(m.get("To").value_or("")),
            m.get("Content-Type").value_or(""), m.body, p.transport.host(), p.media_port());
        if (auto* rej = std::get_if<client::CertCalleeAuth::Reject>(&r)) {
          auto resp = response_to(m, rej->status, rej->phrase);
          resp.set("To", sip::with_param(m.get("To").value_or(""), "tag", random_hex(6)));
          resp.add("Warning", "399 " + p.transport.host() + " \"" + rej->warning + "\"");
          d.last_response = resp.serialize();
          p.transport.reply(in->origin, d.last_response);
          p.step(d.t0, "refused " + std::to_string(rej->status) + ": " + rej->warning);
          finish(d, false,
                 "authentication failed: refused the INVITE: " + std::to_string(rej->status) + " " +
                     rej->warning);
          continue;
        }
        answer_body = std::get<client::SignedBody>(std::move(r));
        p.step(d.t0, "Identity and S/MIME body of " + caller +
                         " verified against the certificates our gateway gave; answer "
                         "encrypted to the caller");
      } else if (o.auth) {
        d.auth = std::make_unique<client::CalleeAuth>(*p.gateway, *p.sim, o.nai);
        auto r = d.auth->on_invite(from_tag, caller);
        if (auto* rej = std::get_if<client::CalleeAuth::Reject>(&r)) {
          auto resp =
              response_to(m, rej->status, rej->status == 403 ? "Forbidden" : "Service Unavailable");
          resp.set("To", sip::with_param(m.get("To").value_or(""), "tag", random_hex(6)));
          resp.add("Warning", "399 " + p.transport.host() + " \"" + rej->warning + "\"");
          d.last_response = resp.serialize();
          p.transport.reply(in->origin, d.last_response);
          p.step(d.t0, "refused: " + rej->warning);
          finish(d, false, "authentication failed: refused the INVITE: " + rej->warning);
          continue;
        }
        to_tag = std::get<std::string>(r);
        p.step(d.t0, "answered the challenge; got a vector of " + caller + " from our gateway");
      }
      d.to = sip::with_param(m.get("To").value_or(""), "tag", to_tag);
      d.routes = m.all("Record-Route");
      d.remote_target = sip::uri_of(m.get("Contact").value_or(""));
      auto ringing = response_to(m, 180, "Ringing");
      ringing.set("To", d.to);
      ringing.add("Contact", p.contact());
      p.transport.reply(in->origin, ringing.serialize());
      auto ok = response_to(m, 200, "OK");
      ok.set("To", d.to);
      ok.add("Contact", p.contact());
      if (answer_body) {
        ok.add("Content-Type", answer_body->content_type);
        ok.body = answer_body->body;
      }
      d.last_response = ok.serialize();
      p.transport.reply(in->origin, d.last_response);
      d.answered = true;
      d.retransmit_at = Clock::now() + d.interval;
      d.give_up_at = Clock::now() + std::chrono::milliseconds(o.timeout_ms);
      p.step(d.t0, "180 and 200 OK sent, To-tag " + to_tag);
      continue;
    }
    auto it = dialogs.find(id);
    if (m.method == "ACK") {
      if (it == dialogs.end() || !it->second.answered || it->second.acked || it->second.done)
        continue;
      Dialog& d = it->second;
      d.acked = true;
      const auto vias = m.all("Via");
      // The caller's Via is the last one: proxies put theirs on top (branch= found by name).
      const auto branch = vias.empty() ? "" : sip::param(vias.back(), "branch").value_or("");
      const auto header = m.get("OAG-Auth").value_or("");
      p.step(d.t0, o.cert             ? std::string("got ACK")
                   : o.header_carrier ? "got ACK, OAG-Auth " + header
                                      : "got ACK, branch " + branch);
      if (!o.auth) {
        finish(d, true, "call established (no authentication)");
        continue;
      }
      if (d.cauth) {
        if (header == sip::kRefused) {  // the caller found our answer bad; its BYE follows
          d.cauth->on_ack("", "", "");
          finish(d, false, "authentication failed: the caller refused our answer");
          continue;
        }
        const auto from = d.invite.get("From").value_or("");
        const auto frag =
            client::ack_sipfrag(id, sip::uri_of(from), sip::param(from, "tag").value_or(""),
                                sip::uri_of(d.to), sip::param(d.to, "tag").value_or(""));
        if (d.cauth->on_ack(m.get("Content-Type").value_or(""), m.body, frag)) {
          finish(d, true,
                 "mutually authenticated (certificates): media keys " + d.cauth->fingerprint());
        } else {
          send_bye(p, d, id, 403, "oag1 " + d.cauth->reason());
          p.step(d.t0, "BYE sent (" + d.cauth->reason() + ")");
          finish(d, false, "authentication failed: " + d.cauth->reason());
        }
        continue;
      }
      if (d.auth->on_ack(o.header_carrier || header == sip::kRefused ? header : branch, id)) {
        finish(d, true, "mutually authenticated: session key " + d.auth->keys().fingerprint());
        continue;
      }
      if (d.auth->caller_gave_up()) {
        // The caller found our response wrong and ends the call with its own BYE.
        finish(d, false, "authentication failed: " + d.auth->reason());
        continue;
      }
      // The caller's response is wrong: end the call.
      send_bye(p, d, id, 403, "oag1 " + d.auth->reason());
      p.step(d.t0, "BYE sent (" + d.auth->reason() + ")");
      finish(d, false, "authentication failed: " + d.auth->reason());
      continue;
    }
    if (m.method == "BYE") {
      p.transport.reply(in->origin, response_to(m, 200, "OK").serialize());
      if (it != dialogs.end()) {
        const auto why = reason_text(m);
        p.step(it->second.t0, "got BYE" + (why.empty() ? "" : " (" + why + ")"));
        if (!it->second.done) {
          // Before its ACK (a proxy may reorder them): the caller did not answer our challenge.
          if (it->second.auth) it->second.auth->abandon("the caller hung up: " + why);
          finish(it->second, false, "authentication failed: the caller hung up: " + why);
        }
        it->second.closed = true;
      }
      continue;
    }
    p.handle_other(*in);
  }
  // Dialogs the caller never closed: end them before leaving.
  for (auto& [id, d] : dialogs)
    if (d.answered && !d.closed && !d.remote_target.empty()) send_bye(p, d, id, 0, "");
  p.do_register(true);
  return last_ok ? 0 : 1;
}

}  // namespace oag::phone
