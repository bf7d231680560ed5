// The stores of storage/store.hpp, written once over a backend's connections
// (engine/connection.hpp): writes go through the group-commit writer, reads through a pool of
// reader connections, the rules of issuance through issuance::Issuer.
#include <chrono>
#include <mutex>

#include "storage/billing_chain.hpp"
#include "storage/engine/connection.hpp"
#include "storage/engine/core.hpp"
#include "storage/issuance/issuance.hpp"

namespace oag::storage::engine {

namespace {

class Subscribers final : public SubscriberStore {
 public:
  explicit Subscribers(Core& c) : c_(c) {}

  Result<Subscriber> add(const SubscriberInput& in) override {
    return c_.call<Subscriber>([this, &in]() -> Result<Subscriber> {
      if (auto e = issuance::check_subscriber(in)) return *e;
      if (auto e = insert(in)) return *e;
      return *c_.w().subscriber(in.nai);
    });
  }

  Result<std::size_t> import(const std::vector<SubscriberInput>& in) override {
    return c_.call<std::size_t>([this, &in]() -> Result<std::size_t> {
      for (std::size_t i = 0; i < in.size(); ++i)  // validate all before writing any
        if (auto e = issuance::check_subscriber(in[i])) return entry(i, *e);
      for (std::size_t i = 0; i < in.size(); ++i)
        if (auto e = insert(in[i])) {
          if (i == 0) return entry(i, *e);
          throw StoreError(entry(i, *e));  // thrown: the rows before it are undone
        }
      return in.size();
    });
  }

  Result<Subscriber> get(const std::string& nai) override {
    return c_.read<Subscriber>([&](ReadConnection& r) -> Result<Subscriber> {
      if (auto s = r.subscriber(nai)) return *s;
      return not_found("no subscriber " + nai, "nai");
    });
  }

  Result<std::vector<Subscriber>> list(std::size_t offset, std::size_t limit) override {
    return c_.read<std::vector<Subscriber>>(
        [&](ReadConnection& r) -> Result<std::vector<Subscriber>> {
          return r.subscribers(offset, limit);
        });
  }

  Result<Done> set_state(const std::string& nai, State s) override {
    if (s == State::revoked)
      return Error{Errc::invalid, "state: a subscriber is active or suspended", "state"};
    return c_.call<Done>([this, nai, s]() -> Result<Done> {
      if (!c_.w().set_subscriber_state(nai, s)) return not_found("no subscriber " + nai, "nai");
      return Done{};
    });
  }

  Result<Done> set_seq(const std::string& nai, std::uint64_t seq_he) override {
    if (seq_he > aka::Sqn::kMax) return Error{Errc::invalid, "sqn: above 48 bits", "sqn"};
    return c_.call<Done>([this, nai, seq_he]() -> Result<Done> {
      if (!c_.w().set_subscriber_seq(nai, seq_he)) return not_found("no subscriber " + nai, "nai");
      return Done{};
    });
  }

  Result<Done> remove(const std::string& nai) override {
    return c_.call<Done>([this, nai]() -> Result<Done> {
      if (!c_.w().delete_subscriber(nai)) return not_found("no subscriber " + nai, "nai");
      return Done{};
    });
  }

  Result<std::size_t> rotate_master_key(const MasterKey& next) override {
    auto next_key = std::make_shared<const MasterKey>(next);
    std::promise<Result<std::size_t>> p;
    auto f = p.get_future();
    c_.submit<std::size_t>(
        [this, next_key]() -> Result<std::size_t> {
          auto& w = c_.w();
          const auto& key = c_.issuer().key();
          std::size_t n = 0;
          for (const auto& row : w.all_sealed_keys()) {
            if (row.k_enc.empty()) continue;  // no SIM
            aka::SecretVec<64> k, opc;
            if (!key.open(row.k_enc, issuance::aad_k(row.nai), k) ||
                !key.open(row.opc_enc, issuance::aad_opc(row.nai), opc))
              throw StoreError(
                  {Errc::unavailable,
                   "subscriber " + row.nai + ": keys do not decrypt under the current master key"});
            w.set_sealed_keys(row.id, next_key->seal(k.expose(), issuance::aad_k(row.nai)),
                              next_key->seal(opc.expose(), issuance::aad_opc(row.nai)));
            ++n;
          }
          n += rotate_login_secrets(w, key, *next_key);
          w.set_meta(kMasterKeyMeta, next_key->fingerprint());
          return n;
        },
        [this, next_key, &p](Result<std::size_t> r) {
          if (r.ok()) {  // on the writer thread, after the commit
            c_.issuer().set_key(next_key);
            c_.set_read_key(next_key);
          }
          p.set_value(std::move(r));
        });
    return f.get();
  }

 private:
  static Error entry(std::size_t i, const Error& e) {
    return {e.code, "entry " + std::to_string(i + 1) + ": " + e.detail, e.field, i};
  }

  // Writer thread only: a returned error wrote nothing.
  std::optional<Error> insert(const SubscriberInput& in) {
    const auto& key = c_.issuer().key();
    SubscriberRow r;
    r.nai = in.nai;
    r.imsi = in.imsi;
    r.algorithm = aka::to_string(in.keys.algorithm);
    if (in.kinds != 0) {  // else a password user without a SIM: no keys to seal
      r.k_enc = key.seal(in.keys.k.expose(), issuance::aad_k(in.nai));
      r.opc_enc = key.seal(in.keys.opc.expose(), issuance::aad_opc(in.nai));
    }
    r.tuak_res_len = static_cast<std::int64_t>(in.keys.tuak.res_len);
    r.tuak_iterations = static_cast<std::int64_t>(in.keys.tuak.iterations);
    r.amf = in.amf;
    r.seq_he = in.seq_he;
    r.ind_len = in.ind_len;
    r.kinds = in.kinds;
    r.state = in.state;
    r.created_ms = c_.now();
    switch (c_.w().insert_subscriber(r)) {
      case Taken::none:
        return std::nullopt;
      case Taken::imsi:
        return Error{Errc::conflict, "imsi: " + in.imsi + " exists", "imsi"};
      case Taken::nai:
        break;
    }
    return Error{Errc::conflict, "nai: " + in.nai + " exists", "nai"};
  }

  Core& c_;
};

class Agreements final : public AgreementStore {
 public:
  explicit Agreements(Core& c) : c_(c) {}
  Result<Agreement> add(const Agreement& a) override {
    return c_.call<Agreement>([this, &a]() -> Result<Agreement> {
      if (auto e = issuance::check_agreement(a)) return *e;
      if (!c_.w().insert_agreement(a))
        return Error{Errc::conflict, "id: agreement " + a.id + " exists", "id"};
      return a;
    });
  }
  Result<Agreement> get(const std::string& id) override {
    return c_.read<Agreement>([&](ReadConnection& r) -> Result<Agreement> {
      if (auto a = r.agreement(id)) return *a;
      return not_found("no agreement " + id, "id");
    });
  }
  Result<std::vector<Agreement>> list() override {
    return c_.read<std::vector<Agreement>>(
        [&](ReadConnection& r) -> Result<std::vector<Agreement>> { return r.agreements(); });
  }
  Result<std::vector<Agreement>> for_realm(const std::string& realm) override {
    return c_.read<std::vector<Agreement>>(
        [&](ReadConnection& r) -> Result<std::vector<Agreement>> {
          return r.agreements_for_realm(realm);
        });
  }
  Result<Done> set_state(const std::string& id, State s) override {
    return c_.call<Done>([this, id, s]() -> Result<Done> {
      if (!c_.w().set_agreement_state(id, s)) return not_found("no agreement " + id, "id");
      return Done{};
    });
  }

 private:
  Core& c_;
};

class Issuance final : public IssuanceStore {
 public:
  explicit Issuance(Core& c) : c_(c) {}
  void issue_async(IssueRequest req, IssueCallback done) override {
    auto shared = std::make_shared<IssueRequest>(std::move(req));
    c_.submit<IssueResult>([this, shared] { return c_.issuer().issue(c_.w(), *shared); },
                           std::move(done),
                           [this, shared] { c_.w().expect_subscriber(shared->subject); });
  }
  void record_purchase_async(PurchaseRecord p,
                             std::function<void(Result<std::uint64_t>)> done) override {
    auto shared = std::make_shared<PurchaseRecord>(std::move(p));
    c_.submit<std::uint64_t>([this, shared] { return c_.issuer().purchase(c_.w(), *shared); },
                             std::move(done));
  }
  Result<Done> report_result(const std::string& vector_id, const std::string& requester,
                             bool success) override {
    return c_.call<Done>(
        [&] { return c_.issuer().report_result(c_.w(), vector_id, requester, success); });
  }
  Result<aka::Sqn> resync(const std::string& nai, const aka::Bytes<16>& rand,
                          const aka::Auts& auts) override {
    return c_.call<aka::Sqn>([&] { return c_.issuer().resync(c_.w(), nai, rand, auts); });
  }

 private:
  Core& c_;
};

class Billing final : public BillingStore {
 public:
  explicit Billing(Core& c) : c_(c) {}
  Result<Done> for_each(std::int64_t from_ms, std::int64_t to_ms,
                        const std::function<bool(const BillingRecord&)>& fn) override {
    return c_.read<Done>([&](ReadConnection& r) -> Result<Done> {
      r.billing_range(from_ms, to_ms, fn);
      return Done{};
    });
  }
  Result<BillingReport> verify() override {
    return c_.read<BillingReport>([&](ReadConnection& r) -> Result<BillingReport> {
      BillingReport out;
      for (const auto& chain : r.chains()) {
        ChainReport rep;
        rep.chain = chain;
        std::string prev = kGenesisHash;
        std::uint64_t expect = 1;
        r.billing_chain(chain, [&](const BillingRecord& b) {
          if (rep.first_bad) return;
          const auto bad = [&](std::string why) {
            rep.first_bad = b.seq;
            rep.reason = std::move(why);
          };
          if (b.seq != expect)
            bad("sequence gap: expected " + std::to_string(expect) + ", found " +
                std::to_string(b.seq));
          else if (b.prev_hash != prev)
            bad("prev_hash does not match the previous record's hash");
          else if (chain_hash(prev, b) != b.hash)
            bad("hash does not match the record's content");
          if (rep.first_bad) return;
          prev = b.hash;
          ++expect;
          ++rep.records;
        });
        rep.head_hash = prev;
        out.records += rep.records;
        if (rep.first_bad && !out.first_bad) {
          out.first_bad = rep.first_bad;
          out.bad_chain = chain;
          out.reason = "chain " + chain + ": " + rep.reason;
        }
        out.chains.push_back(std::move(rep));
      }
      return out;
    });
  }

 private:
  Core& c_;
};

class Endpoints final : public EndpointStore {
 public:
  explicit Endpoints(Core& c) : c_(c) {}
  Result<Done> record(const EndpointCert& c) override { return c_.call<Done>(insert_job(c)); }
  void record_async(EndpointCert c, std::function<void(Result<Done>)> done) override {
    c_.submit<Done>(insert_job(std::move(c)), std::move(done));
  }
  Result<std::size_t> revoke(const std::string& nai, const std::string& serial) override {
    return c_.call<std::size_t>([this, nai, serial]() -> Result<std::size_t> {
      const auto n = c_.w().revoke_certs(nai, serial, c_.now());
      if (n == 0)
        return serial.empty()
                   ? not_found("no unrevoked certificate for " + nai, "nai")
                   : not_found("no unrevoked certificate with serial " + serial, "serial");
      return n;
    });
  }
  Result<bool> is_revoked(const std::string& serial) override {
    return c_.read<bool>([&](ReadConnection& r) -> Result<bool> { return r.cert_revoked(serial); });
  }
  Result<std::vector<EndpointCert>> list(const std::string& nai) override {
    return c_.read<std::vector<EndpointCert>>(
        [&](ReadConnection& r) -> Result<std::vector<EndpointCert>> { return r.certs(nai); });
  }
  Result<EndpointCert> get(const std::string& serial) override {
    return c_.read<EndpointCert>([&](ReadConnection& r) -> Result<EndpointCert> {
      if (auto c = r.cert(serial)) return *c;
      return not_found("no certificate with serial " + serial, "serial");
    });
  }
  void bill_lookup_async(CertLookupRecord rec,
                         std::function<void(Result<std::uint64_t>)> done) override {
    auto shared = std::make_shared<CertLookupRecord>(std::move(rec));
    c_.submit<std::uint64_t>(
        [this, shared]() -> Result<std::uint64_t> {
          const auto& l = *shared;
          if (l.request_id.empty() || !ident::valid_request_id(l.request_id))
            return Error{Errc::invalid, "request_id: 1..64 hex digits and '-'", "request_id"};
          auto& w = c_.w();
          // A peer's retry of the same lookup (same request_id) is billed once.
          const std::string peer = "certificates/" + l.agreement;
          if (l.role == Role::sold) {
            if (const auto a = w.federation_answer(peer, l.request_id)) {
              if (a->fingerprint != l.subject)
                return Error{Errc::conflict,
                             "request_id: " + l.request_id + " was used for another subject",
                             "request_id"};
              return static_cast<std::uint64_t>(
                  std::stoull(issuance::open_text(c_.issuer().key(), a->sealed, peer)));
            }
          }
          BillingRecord b;
          b.time_ms = c_.now();
          b.role = l.role;
          b.event = "issue";  // reconciled like every issue between operators
          b.requester = l.requester;
          b.subject = l.subject;
          b.requester_realm = std::string(ident::realm_of(l.requester));
          b.subject_realm = std::string(ident::realm_of(l.subject));
          b.agreement = l.agreement;
          b.kind = BillingKind::certificates;
          b.count = l.count;
          b.unit_price_micros = l.unit_price_micros;
          b.currency = l.currency;
          b.request_id = l.request_id;
          b.rand_sha256 = l.serials_sha256;
          b.outcome = "issued";
          const auto seq = c_.issuer().append(w, std::move(b));
          if (l.role == Role::sold &&
              !w.put_federation_answer(
                  peer, l.request_id,
                  {l.subject, issuance::seal_text(c_.issuer().key(), std::to_string(seq), peer)},
                  c_.now()))
            throw StoreError({Errc::conflict, "request_id: stored meanwhile", "request_id"});
          return seq;
        },
        std::move(done));
  }

 private:
  // One certificate row, in the writer's transaction (group-committed with what else is queued).
  std::function<Result<Done>()> insert_job(EndpointCert cert) {
    return [this, cert = std::move(cert)]() -> Result<Done> {
      if (auto e = issuance::check_cert(cert)) return *e;
      auto row = cert;
      if (row.issued_ms == 0) row.issued_ms = c_.now();
      if (!c_.w().insert_cert(row))
        return Error{Errc::conflict, "serial: " + cert.serial + " exists", "serial"};
      return Done{};
    };
  }
  Core& c_;
};

class EngineBackend final : public Backend {
 public:
  EngineBackend(std::unique_ptr<Database> db, const BackendConfig& cfg)
      : core_(std::move(db), cfg) {
    check_master_key();
  }
  SubscriberStore& subscribers() override { return subscribers_; }
  AgreementStore& agreements() override { return agreements_; }
  IssuanceStore& issuance() override { return issuance_; }
  LoginStore& logins() override { return *logins_; }
  BillingStore& billing() override { return billing_; }
  EndpointStore& endpoints() override { return endpoints_; }
  int schema_version() override {
    auto r = core_.read<int>([](ReadConnection& c) -> Result<int> { return c.schema_version(); });
    return r.ok() ? r.value() : 0;
  }
  bool healthy() override {
    auto r = core_.read<bool>([](ReadConnection& c) -> Result<bool> { return c.ping(); });
    return r.ok() && r.value();
  }
  StoreStats stats() override { return core_.stats(); }

 private:
  // The fingerprint of the key the database was written with; the first open records it.
  void check_master_key() {
    auto r = core_.call<Done>([this]() -> Result<Done> {
      const std::string have = core_.issuer().key().fingerprint();
      const auto stored = core_.w().meta(kMasterKeyMeta);
      if (!stored) {
        core_.w().set_meta(kMasterKeyMeta, have);
        return Done{};
      }
      if (*stored != have)
        return Error{Errc::unavailable, "the master key (fingerprint " + have +
                                            ") is not the one this database was written with (" +
                                            *stored + ")"};
      return Done{};
    });
    if (!r.ok()) throw StoreError(r.error());
  }

  Core core_;
  Subscribers subscribers_{core_};
  Agreements agreements_{core_};
  Issuance issuance_{core_};
  Billing billing_{core_};
  Endpoints endpoints_{core_};
  std::unique_ptr<LoginStore> logins_ = make_login_store(core_);
};

}  // namespace

std::unique_ptr<Backend> make_backend(std::unique_ptr<Database> db, const BackendConfig& cfg) {
  return std::make_unique<EngineBackend>(std::move(db), cfg);
}

}  // namespace oag::storage::engine
