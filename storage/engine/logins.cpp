// The login store (DESIGN §7), written once over the backends' connections: passwords sealed
// like K, failures and the lockout, the nonce that makes a replayed M2 fail, the home agent's
// one transaction per login, and the foreign agent's visitor sessions.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <atomic>

#include "proto/aka/hex.hpp"
#include "storage/engine/core.hpp"

namespace oag::storage::engine {

namespace {

std::string aad_pwd(const std::string& nai) {
  return "oag1/pwd/" + nai;
}
std::string aad_ks2(const std::string& session) {
  return "oag1/ks2/" + session;
}
std::string aad_answer(const std::string& peer, const std::string& request_id) {
  return "oag1/login-answer/" + peer + "/" + request_id;
}

std::string n1_digest(const aka::Bytes<16>& n1) {
  aka::Bytes<32> h{};
  SHA256(n1.data(), n1.size(), h.data());
  return aka::to_hex(h);
}

aka::Secret<32> open32(const MasterKey& key, const std::vector<std::uint8_t>& sealed,
                       const std::string& aad, const char* what) {
  aka::SecretVec<64> out;
  if (!key.open(sealed, aad, out) || out.size() != 32)
    throw StoreError({Errc::unavailable, std::string(what) + " does not decrypt (wrong master key, "
                                                             "or a row moved)"});
  aka::Secret<32> s;
  std::copy_n(out.data(), 32, s.data());
  return s;
}

BillingRecord login_record(Role role, const std::string& nai, const std::string& visited_realm,
                           const std::string& agreement, std::int64_t price_micros,
                           const std::string& currency, const std::string& request_id,
                           const aka::Bytes<16>& n1, std::int64_t now) {
  BillingRecord b;
  b.time_ms = now;
  b.role = role;
  b.event = "issue";
  b.requester = nai;
  b.subject = nai;
  b.requester_realm = visited_realm;
  b.subject_realm = std::string(ident::realm_of(nai));
  b.agreement = agreement;
  b.kind = BillingKind::login;
  b.count = 1;
  b.unit_price_micros = price_micros;
  b.currency = currency;
  b.request_id = request_id;
  b.rand_sha256 = n1_digest(n1);  // correlates the two sides' records, as RANDs do for vectors
  b.outcome = "issued";
  return b;
}

class Logins final : public LoginStore {
 public:
  explicit Logins(Core& c) : c_(c) {}

  Result<Done> set_password(const std::string& nai, const aka::Secret<32>& pwd_key) override {
    const auto key = pwd_key;
    return c_.call<Done>([this, nai, key]() -> Result<Done> {
      auto& w = c_.w();
      const auto sub = w.subscriber(nai);
      if (!sub) return not_found("no subscriber " + nai, "nai");
      w.put_password(sub->id, c_.issuer().key().seal(key.expose(), aad_pwd(sub->nai)), c_.now());
      w.delete_login_failures(ident::lower(nai));
      return Done{};
    });
  }

  Result<Done> clear_password(const std::string& nai) override {
    return c_.call<Done>([this, nai]() -> Result<Done> {
      auto& w = c_.w();
      const auto sub = w.subscriber(nai);
      if (!sub) return not_found("no subscriber " + nai, "nai");
      if (!w.delete_password(sub->id)) return not_found(nai + " has no password", "nai");
      return Done{};
    });
  }

  Result<bool> has_password(const std::string& nai) override {
    return c_.read<bool>([&](ReadConnection& r) -> Result<bool> {
      const auto sub = r.subscriber(nai);
      if (!sub) return not_found("no subscriber " + nai, "nai");
      return r.password(sub->id).has_value();
    });
  }

  Result<LoginView> view(const std::string& nai, const aka::Bytes<16>& n1, const std::string& peer,
                         const std::string& request_id, const std::string& fingerprint) override {
    const auto key = c_.read_key();
    return c_.read<LoginView>([&](ReadConnection& r) -> Result<LoginView> {
      LoginView v;
      if (!peer.empty()) {
        if (const auto a = r.federation_answer(peer, request_id)) {
          if (a->fingerprint != fingerprint) {
            v.request_id_reused = true;
            return v;
          }
          v.answer = issuance::open_text(*key, a->sealed, aad_answer(peer, request_id));
          return v;
        }
      }
      const std::string lower = ident::lower(nai);
      v.subscriber = r.subscriber(nai);
      if (v.subscriber)
        if (const auto enc = r.password(v.subscriber->id))
          v.pwd_key = open32(*key, *enc, aad_pwd(v.subscriber->nai), "a stored pwd_key");
      v.failures = r.login_failures(lower).value_or(LoginFailures{});
      v.nonce_seen = r.login_nonce_seen(lower, n1);
      return v;
    });
  }

  void commit_async(LoginRecord rec, std::function<void(Result<LoginCommitted>)> done) override {
    auto shared = std::make_shared<LoginRecord>(std::move(rec));
    c_.submit<LoginCommitted>([this, shared] { return commit(*shared); }, std::move(done));
  }

  void purchase_async(LoginPurchase purchase,
                      std::function<void(Result<std::uint64_t>)> done) override {
    auto shared = std::make_shared<LoginPurchase>(std::move(purchase));
    c_.submit<std::uint64_t>(
        [this, shared]() -> Result<std::uint64_t> {
          const auto& p = *shared;
          auto& w = c_.w();
          const std::int64_t now = c_.now();
          if (!w.insert_session(session_row(p.session, now)))
            return Error{Errc::conflict, "session: " + p.session.id + " exists", "session"};
          auto b = login_record(Role::bought, p.session.nai, p.visited_realm, p.session.agreement,
                                p.price_micros, p.currency, p.request_id, p.n1, now);
          b.subject_realm = p.home_realm;
          return c_.issuer().append(w, std::move(b));  // a throw undoes the session too
        },
        std::move(done));
  }

  void charge_async(ChargeRecord charge, std::function<void(Result<std::uint64_t>)> done) override {
    auto shared = std::make_shared<ChargeRecord>(std::move(charge));
    c_.submit<std::uint64_t>(
        [this, shared]() -> Result<std::uint64_t> {
          const auto& ch = *shared;
          auto& w = c_.w();
          const std::string peer = "charge/" + ch.session;
          if (const auto a = w.federation_answer(peer, ch.order_id)) {
            if (a->fingerprint != ch.order_sha256)
              return Error{Errc::conflict,
                           "order_id: " + ch.order_id + " was charged with another order",
                           "order_id"};
            return static_cast<std::uint64_t>(
                std::stoull(issuance::open_text(c_.issuer().key(), a->sealed, peer)));
          }
          BillingRecord b;
          b.time_ms = c_.now();
          b.role = Role::local;
          b.event = "charge";
          b.requester = ch.nai;
          b.subject = ch.nai;
          b.requester_realm = ch.visited_realm;
          b.subject_realm = ch.home_realm;
          b.agreement = ch.agreement;
          b.kind = BillingKind::charge;
          b.count = 1;
          b.unit_price_micros = ch.amount_micros;
          b.currency = ch.currency;
          b.request_id = ch.order_id;
          b.rand_sha256 = ch.order_sha256;
          b.outcome = "signed";
          b.detail = ch.detail;
          const auto seq = c_.issuer().append(w, std::move(b));
          if (!w.put_federation_answer(
                  peer, ch.order_id,
                  {ch.order_sha256,
                   issuance::seal_text(c_.issuer().key(), std::to_string(seq), peer)},
                  c_.now()))
            throw StoreError({Errc::conflict, "order_id: stored meanwhile", "order_id"});
          return seq;
        },
        std::move(done));
  }

  Result<VisitorSession> session(const std::string& id) override {
    const auto key = c_.read_key();
    return c_.read<VisitorSession>([&](ReadConnection& r) -> Result<VisitorSession> {
      const auto row = r.session(id);
      if (!row) return not_found("no session " + id, "session");
      VisitorSession s;
      s.id = row->id;
      s.nai = row->nai;
      s.ks2 = open32(*key, row->ks2_enc, aad_ks2(row->id), "a stored session key");
      s.agreement = row->agreement;
      s.created_ms = row->created_ms;
      s.expires_ms = row->expires_ms;
      s.certificate = row->certificate;
      return s;
    });
  }

 private:
  SessionRow session_row(const VisitorSession& v, std::int64_t now) {
    return {v.id,
            v.nai,
            c_.issuer().key().seal(v.ks2.expose(), aad_ks2(v.id)),
            v.agreement,
            v.created_ms ? v.created_ms : now,
            v.expires_ms,
            v.certificate};
  }

  // Writer thread. A returned value or error before the nonce is written wrote nothing; a
  // failure after it throws, which undoes the nonce as well.
  Result<LoginCommitted> commit(const LoginRecord& rec) {
    auto& w = c_.w();
    const std::int64_t now = c_.now();
    LoginCommitted out;
    if (!rec.peer.empty()) {
      if (const auto a = w.federation_answer(rec.peer, rec.request_id)) {
        if (a->fingerprint != rec.fingerprint)
          return Error{Errc::conflict, "request_id: used for another login", "request_id"};
        out.instead = LoginCommitted::Instead::stored_answer;
        out.answer =
            issuance::open_text(c_.issuer().key(), a->sealed, aad_answer(rec.peer, rec.request_id));
        return out;
      }
    }
    const std::string nai = ident::lower(rec.nai);
    auto f = w.login_failures(nai).value_or(LoginFailures{});
    if (f.locked_until_ms > now) {  // another instance locked it since the view
      out.instead = LoginCommitted::Instead::locked;
      return out;
    }
    if (!w.insert_login_nonce(nai, rec.n1, now)) {  // a concurrent replay won
      out.instead = LoginCommitted::Instead::replay;
      return out;
    }
    // Old nonces go once a minute (they could only ever be refused as stale anyway).
    if (now - last_purge_ms_ > 60'000) {
      last_purge_ms_ = now;
      w.purge_login_nonces(now - c_.login_nonce_ttl_ms());
    }
    switch (rec.verdict) {
      case LoginVerdict::failure:
        if (f.failures == 0 || now - f.window_start_ms > kLockWindowMs) {
          f.failures = 1;
          f.window_start_ms = now;
        } else {
          ++f.failures;
        }
        if (f.failures >= kLockFailures) {
          f = LoginFailures{0, now, now + kLockWindowMs};
          out.now_locked = true;
        }
        w.put_login_failures(nai, f);
        break;
      case LoginVerdict::success: {
        if (f.failures != 0 || f.locked_until_ms != 0) w.delete_login_failures(nai);
        if (!rec.cert)
          throw StoreError({Errc::invalid, "cert: a successful login has one", "cert"});
        if (auto e = issuance::check_cert(*rec.cert)) throw StoreError(*e);
        auto cert = *rec.cert;
        if (cert.issued_ms == 0) cert.issued_ms = now;
        if (!w.insert_cert(cert))
          throw StoreError({Errc::conflict, "serial: " + cert.serial + " exists", "serial"});
        for (const auto& s : rec.sessions)
          if (!w.insert_session(session_row(s, now)))
            throw StoreError({Errc::conflict, "session: " + s.id + " exists", "session"});
        out.billing_seq = c_.issuer().append(
            w, login_record(rec.role, rec.nai, rec.visited_realm, rec.agreement, rec.price_micros,
                            rec.currency, rec.request_id, rec.n1, now));
        break;
      }
      case LoginVerdict::refused:
        break;
    }
    if (!rec.peer.empty()) {
      issuance::FedAnswer a{
          rec.fingerprint,
          issuance::seal_text(c_.issuer().key(), rec.answer, aad_answer(rec.peer, rec.request_id))};
      if (!w.put_federation_answer(rec.peer, rec.request_id, a, now))
        throw StoreError({Errc::conflict, "request_id: stored meanwhile", "request_id"});
    }
    return out;
  }

  Core& c_;
  std::int64_t last_purge_ms_ = 0;  // writer thread only
};

}  // namespace

std::unique_ptr<LoginStore> make_login_store(Core& core) {
  return std::make_unique<Logins>(core);
}

std::size_t rotate_login_secrets(WriteConnection& w, const MasterKey& from, const MasterKey& to) {
  std::size_t n = 0;
  for (const auto& row : w.all_sealed_passwords()) {
    const auto k = open32(from, row.blob, aad_pwd(row.aad), "a stored pwd_key");
    w.set_sealed_password(row.key, to.seal(k.expose(), aad_pwd(row.aad)));
    ++n;
  }
  for (const auto& row : w.all_sealed_sessions()) {
    const auto k = open32(from, row.blob, aad_ks2(row.aad), "a stored session key");
    w.set_sealed_session(row.key, to.seal(k.expose(), aad_ks2(row.aad)));
    ++n;
  }
  return n;
}

}  // namespace oag::storage::engine
