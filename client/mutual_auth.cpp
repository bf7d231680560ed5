#include "client/mutual_auth.hpp"

#include <algorithm>

namespace oag::client {

namespace {

// The session key material of an AKA run: CK‖IK.
aka::SecretVec<32> key_of(const aka::Secret<16>& ck, const aka::Secret<16>& ik) {
  aka::SecretVec<32> k;
  k.resize(32);
  std::copy_n(ck.data(), 16, k.data());
  std::copy_n(ik.data(), 16, k.data() + 16);
  return k;
}

// What a vector contributes to the session key: Kc, or CK‖IK.
aka::SecretVec<32> key_of(const wire::WireVector& v) {
  return v.kind == ident::Kind::sim ? aka::SecretVec<32>(v.kc.expose()) : key_of(v.ck, v.ik);
}

// The SIM's answer to a challenge.
struct SimRun {
  enum class Failure { none, mac, sync };
  std::vector<std::uint8_t> res;
  aka::SecretVec<32> key;
  Failure failure = Failure::none;
  aka::Auts auts{};  // sync only
};

SimRun run_sim(SoftSim& sim, sip::Kind kind, const aka::Bytes<16>& rand,
               const std::optional<aka::Bytes<16>>& autn) {
  SimRun r;
  if (kind == sip::Kind::sim) {
    const auto g = sim.run_gsm(rand);
    r.res.assign(g.sres.data(), g.sres.data() + 4);
    r.key = aka::SecretVec<32>(g.kc.expose());
    return r;
  }
  auto out = sim.run_aka(rand, *autn);
  if (auto* ok = std::get_if<aka::AkaSuccess>(&out)) {
    const auto res = ok->res.expose();
    r.res.assign(res.begin(), res.end());
    r.key = key_of(ok->ck, ok->ik);
  } else if (auto* sync = std::get_if<aka::AkaSyncFailure>(&out)) {
    r.failure = SimRun::Failure::sync;
    r.auts = sync->auts;
  } else {
    r.failure = SimRun::Failure::mac;
  }
  return r;
}

session::SessionKeys derive(const std::string& call_id, const std::string& nai_a,
                            const std::string& nai_b, const aka::Bytes<16>& rand_b,
                            const aka::Bytes<16>& rand_a, const aka::SecretVec<32>& key_b,
                            const aka::SecretVec<32>& key_a) {
  session::SessionInput in;
  in.call_id = call_id;
  in.nai_a = nai_a;
  in.nai_b = nai_b;
  in.rand_b = rand_b;
  in.rand_a = rand_a;
  in.key_b = key_b.expose();
  in.key_a = key_a.expose();
  return session::derive(in);
}

}  // namespace

// --- both ---

bool MutualAuth::fail(std::string why) {
  state_ = AuthState::failed;
  reason_ = std::move(why);
  return false;
}

bool MutualAuth::has_result() const {
  return av_ && !reported_ && (state_ == AuthState::authenticated || state_ == AuthState::failed);
}

std::optional<Error> MutualAuth::report() {
  if (!has_result()) return std::nullopt;
  reported_ = true;
  return ag_.report_result(av_->id, verified_);
}

// --- caller ---

CallerAuth::CallerAuth(AuthGateway& ag, SoftSim& sim, std::string own_nai, std::string peer_nai,
                       sip::Kind kind)
    : MutualAuth(ag, sim, std::move(own_nai)), peer_nai_(std::move(peer_nai)), kind_(kind) {}

std::optional<std::string> CallerAuth::start() {
  auto got = ag_.fetch_vectors(peer_nai_, kind_, 1);
  if (auto* e = std::get_if<Error>(&got)) {
    fail("no vector for " + peer_nai_ + ": " + e->to_string());
    return std::nullopt;
  }
  av_ = std::move(std::get<VectorSet>(got).vectors.front());
  state_ = AuthState::challenged;
  verified_ = reported_ = false;
  keys_.reset();
  sip::InviteCarrier c{kind_, av_->rand, std::nullopt, sip::new_nonce()};
  if (kind_ == sip::Kind::aka) c.autn = av_->autn;
  return sip::encode(c);
}

std::optional<std::string> CallerAuth::on_answer(std::string_view to_tag,
                                                 const std::string& call_id) {
  if (state_ != AuthState::challenged) {
    fail("answer without a challenge");
    return std::nullopt;
  }
  std::string why;
  const auto c = sip::decode_answer(to_tag, &why);
  if (!c) {
    fail("the callee's answer carries no oag1 response: " + why);
    return std::nullopt;
  }
  if (c->kind != kind_) {
    fail("the callee answered with another kind");
    return std::nullopt;
  }
  // The callee proves its SIM: RES_B must equal XRES_B (constant time).
  verified_ = aka::equal_ct(c->res, av_->xres.expose());
  if (!verified_) {
    fail("the callee's response is wrong (not " + peer_nai_ + "'s SIM)");
    return std::nullopt;
  }
  auto run = run_sim(sim_, kind_, c->rand, c->autn);
  if (run.failure == SimRun::Failure::mac) {
    fail("the callee's challenge does not verify on our SIM (AUTN MAC failure)");
    return std::nullopt;
  }
  if (run.failure == SimRun::Failure::sync) {
    const auto e = ag_.resync(c->rand, run.auts);
    fail(std::string("our SIM is out of sync with our gateway; resync ") +
         (e ? "failed: " + e->to_string() : "done"));
    return std::nullopt;
  }
  keys_ = derive(call_id, own_nai_, peer_nai_, av_->rand, c->rand, key_of(*av_), run.key);
  state_ = AuthState::authenticated;
  return sip::encode(sip::AckCarrier{std::move(run.res), sip::new_nonce()});
}

bool CallerAuth::on_rejected(int status, std::string_view warning_text) {
  fail("the callee refused: " + std::to_string(status) +
       (warning_text.empty() ? "" : " " + std::string(warning_text)));
  // The vector was consumed without a verdict on the callee: not reported as a failure.
  reported_ = true;
  return status == 403 && warning_text.find(kSyncFailure) != std::string_view::npos;
}

// --- callee ---

CalleeAuth::CalleeAuth(AuthGateway& ag, SoftSim& sim, std::string own_nai)
    : MutualAuth(ag, sim, std::move(own_nai)) {}

CalleeAuth::Reject CalleeAuth::reject(int status, std::string warning) {
  fail(warning);
  return {status, std::move(warning)};
}

std::variant<std::string, CalleeAuth::Reject> CalleeAuth::on_invite(std::string_view from_tag,
                                                                    const std::string& caller_nai) {
  std::string why;
  const auto c = sip::decode_invite(from_tag, &why);
  if (!c)
    return reject(403, sip::is_oag1(from_tag) ? "oag1 malformed challenge: " + why
                                              : "oag1 authentication required");
  caller_nai_ = caller_nai;
  kind_ = c->kind;
  rand_b_ = c->rand;
  if (sim_.seen(c->rand)) return reject(403, "oag1 replayed challenge");
  auto run = run_sim(sim_, c->kind, c->rand, c->autn);  // an AKA success remembers RAND
  if (c->kind == sip::Kind::sim) sim_.remember(c->rand);
  if (run.failure == SimRun::Failure::sync) {
    // Our SIM is ahead of our gateway: move the gateway past it, then the caller retries.
    if (const auto e = ag_.resync(c->rand, run.auts))
      return reject(403, "oag1 resync failed: " + e->code);
    return reject(403, std::string(kSyncFailure));
  }
  if (run.failure == SimRun::Failure::mac)
    return reject(403, "oag1 challenge not from our operator (AUTN)");
  auto got = ag_.fetch_vectors(caller_nai, c->kind, 1);
  if (auto* e = std::get_if<Error>(&got))
    return reject(e->status == 0 || e->status >= 500 ? 503 : 403,
                  "oag1 cannot challenge " + caller_nai + ": " + e->code);
  av_ = std::move(std::get<VectorSet>(got).vectors.front());
  own_key_ = std::move(run.key);
  state_ = AuthState::challenged;
  sip::AnswerCarrier a{c->kind, std::move(run.res), av_->rand, std::nullopt, sip::new_nonce()};
  if (c->kind == sip::Kind::aka) a.autn = av_->autn;
  return sip::encode(a);
}

bool CalleeAuth::on_ack(std::string_view carrier, const std::string& call_id) {
  if (state_ != AuthState::challenged) return fail("ACK without a challenge");
  verified_ = false;
  if (carrier == sip::kRefused) {
    gave_up_ = true;
    return fail("the caller refused our response");
  }
  std::string why;
  const auto c = sip::decode_ack(carrier, &why);
  if (!c) return fail("the ACK carries no response to our challenge (" + why + ")");
  verified_ = aka::equal_ct(c->res, av_->xres.expose());
  if (!verified_) return fail("the caller's response is wrong (not " + caller_nai_ + "'s SIM)");
  keys_ = derive(call_id, caller_nai_, own_nai_, rand_b_, av_->rand, own_key_, key_of(*av_));
  state_ = AuthState::authenticated;
  return true;
}

void CalleeAuth::abandon(std::string why) {
  if (state_ != AuthState::challenged) return;
  verified_ = false;
  fail(std::move(why));
}

}  // namespace oag::client
