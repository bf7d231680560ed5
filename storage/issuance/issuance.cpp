#include "storage/issuance/issuance.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "proto/aka/hex.hpp"
#include "storage/billing_chain.hpp"
#include "storage/writer/group_commit.hpp"

namespace oag::storage::issuance {

namespace {

Error bad(std::string field, const std::string& why) {
  auto detail = field + ": " + why;
  return {Errc::invalid, std::move(detail), std::move(field)};
}

Error unavailable(std::string what) {
  return {Errc::unavailable, std::move(what)};
}

// A UUIDv7 (RFC 9562): 48-bit Unix ms, then random bits. Time-ordered ids append to the
// index instead of touching a random page per insert.
std::string uuid_v7(std::int64_t now_ms, const aka::Bytes<16>& r) {
  auto b = r;
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(now_ms) >> (8 * (5 - i)));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const auto h = aka::to_hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::string request_fingerprint(const IssueRequest& r) {
  return r.subject + "|" + to_string(r.kind) + "|" + std::to_string(r.count) + "|" + r.requester;
}

std::string serialize(const IssueResult& res) {
  nlohmann::json j;
  j["subject"] = res.subject;
  j["billing_seq"] = res.billing_seq;
  auto& vs = j["vectors"] = nlohmann::json::array();
  for (const auto& v : res.vectors) {
    vs.push_back({{"id", v.id},
                  {"kind", to_string(v.kind)},
                  {"rand", aka::to_hex(v.rand)},
                  {"expires_ms", v.expires_ms},
                  {"sqn", v.sqn.value},
                  {"autn", aka::to_hex(v.autn)},
                  {"xres", aka::to_hex(v.xres.expose())},
                  {"ck", aka::to_hex(v.ck.expose())},
                  {"ik", aka::to_hex(v.ik.expose())},
                  {"kc", aka::to_hex(v.kc.expose())}});
  }
  return j.dump();
}

IssueResult deserialize(const std::string& s) {
  const auto j = nlohmann::json::parse(s);
  IssueResult res;
  res.subject = j.at("subject");
  res.billing_seq = j.at("billing_seq");
  res.replayed = true;
  for (const auto& e : j.at("vectors")) {
    IssuedVector v;
    v.id = e.at("id");
    v.kind = parse_kind(e.at("kind").get<std::string>()).value_or(Kind::aka);
    v.rand = *aka::from_hex_fixed<16>(e.at("rand").get<std::string>());
    v.expires_ms = e.at("expires_ms");
    v.sqn = aka::Sqn{e.at("sqn").get<std::uint64_t>()};
    v.autn = *aka::from_hex_fixed<16>(e.at("autn").get<std::string>());
    auto xres = aka::from_hex(e.at("xres").get<std::string>()).value();
    v.xres = aka::SecretVec<32>(xres);
    OPENSSL_cleanse(xres.data(), xres.size());
    v.ck = aka::Secret<16>(*aka::from_hex_fixed<16>(e.at("ck").get<std::string>()));
    v.ik = aka::Secret<16>(*aka::from_hex_fixed<16>(e.at("ik").get<std::string>()));
    v.kc = aka::Secret<8>(*aka::from_hex_fixed<8>(e.at("kc").get<std::string>()));
    res.vectors.push_back(std::move(v));
  }
  return res;
}

BillingRecord record(Role role, const char* event, const std::string& requester,
                     const std::string& subject, const std::string& agreement, BillingKind kind,
                     unsigned count, std::int64_t now) {
  BillingRecord b;
  b.time_ms = now;
  b.role = role;
  b.event = event;
  b.requester = requester;
  b.subject = subject;
  b.requester_realm = std::string(ident::realm_of(requester));
  b.subject_realm = std::string(ident::realm_of(subject));
  b.agreement = agreement;
  b.kind = kind;
  b.count = count;
  return b;
}

}  // namespace

std::string aad_k(const std::string& nai) {
  return "oag1/k/" + nai;
}
std::string aad_opc(const std::string& nai) {
  return "oag1/opc/" + nai;
}

std::optional<Error> check_subscriber(const SubscriberInput& in) {
  if (!ident::valid_nai(in.nai)) return bad("nai", "expected user@realm without spaces or quotes");
  // A password user without a SIM has no IMSI, no keys and no vector kinds.
  const bool sim = in.kinds != 0 || !in.imsi.empty();
  if (in.kinds > 3 || (sim && in.kinds == 0))
    return bad("kinds", "sim, aka or both (none only without a SIM: no IMSI, no keys)");
  if (sim && !ident::valid_imsi(in.imsi)) return bad("imsi", "expected 6 to 15 digits");
  if (sim) {
    try {
      in.keys.validate();
    } catch (const std::invalid_argument& e) {
      return bad("keys", e.what());
    }
  }
  if (in.ind_len > aka::kMaxIndLen)
    return bad("ind_len", "at most " + std::to_string(aka::kMaxIndLen));
  if (in.seq_he > (aka::Sqn::kMax >> in.ind_len))
    return bad("sqn", "SEQ does not fit 48 bits with this IND length");
  if (in.state == State::revoked) return bad("state", "a subscriber is active or suspended");
  return std::nullopt;
}

std::optional<Error> check_agreement(const Agreement& a) {
  if (a.id.empty() || a.id.find_first_of(" ,\t\r\n") != std::string::npos)
    return bad("id", "non-empty, no spaces");
  if (a.peer_realms.empty()) return bad("peer_realms", "at least one realm");
  for (const auto& r : a.peer_realms)
    if (r.empty() || r.find_first_of(" ,@\t\r\n") != std::string::npos)
      return bad("peer_realms", "bad realm \"" + r + "\"");
  if (a.peer_url.rfind("https://", 0) != 0) return bad("peer_url", "must start with https://");
  if (a.trust_ca_file.empty() && a.trust_spki_sha256.empty())
    return bad("trust", "a CA file or an SPKI pin");
  if (!a.trust_spki_sha256.empty() &&
      (a.trust_spki_sha256.size() != 64 || !aka::from_hex(a.trust_spki_sha256)))
    return bad("trust_spki_sha256", "64 hex digits");
  if (a.kinds < 1 || a.kinds > kAllServices)
    return bad("kinds", "one or more of sim, aka, login, certificates");
  if (!(a.rate_per_s > 0)) return bad("rate_per_s", "must be positive");
  if (a.burst < 1) return bad("burst", "at least 1");
  if (a.quota_period != "day" && a.quota_period != "month")
    return bad("quota_period", "day or month");
  if (a.price_micros < 0) return bad("price", "must not be negative");
  if (a.currency.size() != 3 ||
      a.currency.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return bad("currency", "three upper-case letters (ISO 4217)");
  if ((a.kinds & kCertificates) != 0 && a.user_ca_file.empty())
    return bad("user_ca_file", "required for kind certificates (the anchor of the peer's users)");
  if (a.valid_until_ms != 0 && a.valid_until_ms <= a.valid_from_ms)
    return bad("valid_until", "must follow valid_from");
  return std::nullopt;
}

std::optional<Error> check_cert(const EndpointCert& c) {
  if (c.serial.empty() || !aka::from_hex(c.serial)) return bad("serial", "hex expected");
  if (!ident::valid_nai(c.nai)) return bad("nai", "expected user@realm");
  return std::nullopt;
}

struct Issuer::Keyed {
  aka::SubscriberKeys keys;
  std::uint64_t seq = 0;  // last SEQ of this instance's slot
};

Issuer::Issuer(IssuerConfig cfg, std::shared_ptr<const MasterKey> key)
    : cfg_(std::move(cfg)), key_(std::move(key)) {}

Result<Issuer::Keyed> Issuer::open_keys(const KeyRow& row, const std::string& nai) const {
  const auto algo = aka::parse_algorithm(row.algorithm);
  if (!algo) return unavailable("subscriber " + nai + ": unknown algorithm in the database");
  aka::SecretVec<64> k, opc;
  if (!key_->open(row.k_enc, aad_k(nai), k) || !key_->open(row.opc_enc, aad_opc(nai), opc))
    return unavailable("subscriber " + nai +
                       ": keys do not decrypt (wrong master key, or a row moved)");
  aka::tuak::Params tp;
  tp.res_len = static_cast<std::size_t>(row.tuak_res_len);
  tp.iterations = static_cast<unsigned>(row.tuak_iterations);
  Keyed out;
  try {
    out.keys = aka::SubscriberKeys::from_opc(*algo, k.expose(), opc.expose(), tp);
  } catch (const std::invalid_argument& e) {
    return unavailable("subscriber " + nai + ": stored keys unusable: " + e.what());
  }
  out.seq = row.slot_seq.value_or(row.seq_base);
  return out;
}

// `b` as the next record of this instance's chain (the head moves only once it is written).
BillingRecord Issuer::next_record(IssueTxn& tx, BillingRecord b) {
  if (!head_) {
    head_ = tx.chain_head(cfg_.chain);
    if (head_->seq == 0) head_->hash = kGenesisHash;
  }
  b.chain = cfg_.chain;
  b.seq = head_->seq + 1;
  b.prev_hash = head_->hash;
  b.hash = chain_hash(b.prev_hash, b);
  return b;
}

std::uint64_t Issuer::append(IssueTxn& tx, BillingRecord b) {
  b = next_record(tx, std::move(b));
  tx.append_billing(b);
  head_ = ChainHead{b.seq, b.hash};
  return b.seq;
}

Result<IssueResult> Issuer::issue(IssueTxn& tx, const IssueRequest& req) {
  if (req.count < 1 || req.count > kMaxCount)
    return bad("count", "must be 1.." + std::to_string(kMaxCount));
  if (req.subject.empty()) return bad("nai", "required");
  if (req.requester.empty()) return bad("requester", "required");
  if (req.request_id.empty()) return bad("request_id", "required");

  const std::string fed_aad = "oag1/fed/" + req.peer + "/" + req.request_id;
  if (!req.peer.empty()) {
    if (auto stored = tx.federation_answer(req.peer, req.request_id)) {
      if (stored->fingerprint != request_fingerprint(req))
        return Error{Errc::conflict, "request_id: already used for a different request",
                     "request_id"};
      std::string plain = open_large(stored->sealed, fed_aad);
      auto res = deserialize(plain);
      OPENSSL_cleanse(plain.data(), plain.size());
      return res;
    }
  }

  const auto row = tx.subscriber_keys(req.subject, cfg_.ind_slot);
  if (!row) return Error{Errc::not_found, "no subscriber " + req.subject, "nai"};
  if (row->state != State::active)
    return Error{Errc::disabled, "subscriber " + req.subject + " is not active", "nai"};
  if ((row->kinds & mask_of(req.kind)) == 0)
    return Error{Errc::not_allowed,
                 std::string("kind: ") + to_string(req.kind) + " is not enabled for " + req.subject,
                 "kind"};
  if (req.kind == Kind::aka && cfg_.ind_slot >= (1u << row->ind_len))
    return unavailable("ind_slot " + std::to_string(cfg_.ind_slot) + " does not fit IND length " +
                       std::to_string(row->ind_len) + " of " + req.subject);
  auto keyed = open_keys(*row, req.subject);
  if (!keyed.ok()) return keyed.error();
  const auto& s = keyed.value();
  if (req.kind == Kind::aka && s.seq + req.count > (aka::Sqn::kMax >> row->ind_len))
    return Error{Errc::exhausted, "subscriber " + req.subject + ": SEQ exhausted", "nai"};
  if (req.quota > 0 &&
      (req.count > req.quota ||
       !tx.add_quota_use(req.agreement, req.quota_period_start_ms, req.count, req.quota)))
    return Error{Errc::quota_exhausted,
                 "agreement " + req.agreement + ": its quota of " + std::to_string(req.quota) +
                     " vectors for this period would be exceeded",
                 "agreement"};

  // From here on the request has written (the quota): failures are thrown.
  const std::int64_t now = cfg_.now_ms();
  IssueResult res;
  res.subject = req.subject;
  std::vector<aka::Bytes<16>> rands;
  std::vector<VectorRow> rows;
  std::uint64_t seq = s.seq;
  for (unsigned i = 0; i < req.count; ++i) {
    IssuedVector v;
    v.id = uuid_v7(now, pool_.next());
    v.kind = req.kind;
    v.rand = pool_.next();
    v.expires_ms = now + cfg_.vector_ttl_ms;
    if (req.kind == Kind::aka) {
      ++seq;
      v.sqn = aka::Sqn::from_seq_ind(seq, cfg_.ind_slot, row->ind_len);
      auto q = aka::generate_quintet(s.keys, v.rand, v.sqn, row->amf);
      v.autn = q.autn;
      v.xres = q.xres;
      v.ck = q.ck;
      v.ik = q.ik;
    } else {
      auto t = aka::generate_triplet(s.keys, v.rand);
      v.xres = aka::SecretVec<32>(t.sres.expose());
      v.kc = t.kc;
    }
    VectorRow r;
    r.id = v.id;
    r.subscriber_id = row->id;
    r.kind = v.kind;
    r.rand = v.rand;
    if (req.kind == Kind::aka) r.sqn = v.sqn.value;
    r.requester = req.requester;
    r.request_id = req.request_id;
    r.role = req.role;
    r.agreement = req.agreement;
    r.issued_ms = now;
    r.expires_ms = v.expires_ms;
    rows.push_back(std::move(r));
    rands.push_back(v.rand);
    res.vectors.push_back(std::move(v));
  }
  std::optional<SqnStep> step;
  if (req.kind == Kind::aka) step = SqnStep{row->id, cfg_.ind_slot, row->slot_seq, seq};
  auto b = record(req.role, "issue", req.requester, req.subject, req.agreement,
                  req.billed_as.value_or(billing_kind_of(req.kind)), req.count, now);
  b.unit_price_micros = req.price_micros;
  b.currency = req.currency;
  b.request_id = req.request_id;
  b.rand_sha256 = rand_digest(rands);
  b.outcome = "issued";
  b = next_record(tx, std::move(b));
  switch (tx.write_issue(rows, step, b)) {
    case IssueConflict::none:
      break;
    case IssueConflict::vector:
      throw StoreError(unavailable("refused a repeated RAND or SQN for " + req.subject));
    case IssueConflict::sqn:
      throw StoreError(unavailable("SEQ of " + req.subject +
                                   " changed underneath (is another instance using IND slot " +
                                   std::to_string(cfg_.ind_slot) + "?)"));
  }
  head_ = ChainHead{b.seq, b.hash};
  res.billing_seq = b.seq;

  if (!req.peer.empty()) {
    std::string plain = serialize(res);
    FedAnswer a{request_fingerprint(req), seal_large(plain, fed_aad)};
    OPENSSL_cleanse(plain.data(), plain.size());
    // Taken meanwhile: another instance answered the same retry; run the batch again so that
    // this one replays that answer.
    if (!tx.put_federation_answer(req.peer, req.request_id, a, now))
      throw writer::RetryBatch(unavailable("request_id " + req.request_id + " answered meanwhile"));
  }
  return res;
}

Result<std::uint64_t> Issuer::purchase(IssueTxn& tx, const PurchaseRecord& p) {
  if (p.count < 1 || p.count > kMaxCount)
    return bad("count", "must be 1.." + std::to_string(kMaxCount));
  if (p.request_id.empty()) return bad("request_id", "required");
  if (p.rands.size() != p.count) return bad("rands", "one per vector");
  if (p.ids.size() != p.count) return bad("ids", "one per vector");
  const std::int64_t now = cfg_.now_ms();
  for (std::size_t i = 0; i < p.count; ++i) {
    BoughtRow r{p.ids[i], p.agreement, p.subject,    p.requester,
                p.kind,   p.rands[i],  p.request_id, now};
    if (!tx.insert_bought(r)) {
      if (i == 0)
        return Error{Errc::conflict, "ids: vector " + p.ids[i] + " was bought already", "ids"};
      throw StoreError({Errc::conflict, "ids: vector " + p.ids[i] + " was bought already", "ids"});
    }
  }
  auto b = record(Role::bought, "issue", p.requester, p.subject, p.agreement,
                  billing_kind_of(p.kind), p.count, now);
  b.unit_price_micros = p.price_micros;
  b.currency = p.currency;
  b.request_id = p.request_id;
  b.rand_sha256 = rand_digest(p.rands);
  b.outcome = "issued";
  return append(tx, b);
}

Result<Done> Issuer::report_result(IssueTxn& tx, const std::string& vector_id,
                                   const std::string& requester, bool success) {
  const auto ref = tx.vector_ref(vector_id, requester);
  if (!ref) return Error{Errc::not_found, "no vector " + vector_id, "id"};
  if (ref->reported)
    return Error{Errc::conflict, "vector " + vector_id + ": result already reported", "id"};
  tx.set_outcome(vector_id, requester, ref->role, success);
  auto b = record(ref->role, "result", requester, ref->subject, ref->agreement,
                  billing_kind_of(ref->kind), 0, cfg_.now_ms());
  // The issue record carries the count; this one carries the outcome.
  b.request_id = ref->request_id;
  b.rand_sha256 = rand_digest({ref->rand});
  b.outcome = success ? "success" : "failure";
  append(tx, b);
  return Done{};
}

Result<aka::Sqn> Issuer::resync(IssueTxn& tx, const std::string& nai, const aka::Bytes<16>& rand,
                                const aka::Auts& auts) {
  const auto row = tx.subscriber_keys(nai, cfg_.ind_slot);
  if (!row) return Error{Errc::not_found, "no subscriber " + nai, "nai"};
  auto keyed = open_keys(*row, nai);
  if (!keyed.ok()) return keyed.error();
  if (!tx.rand_issued(row->id, rand)) return bad("rand", "not issued to " + nai);
  const auto sqn_ms = aka::verify_auts(keyed.value().keys, rand, auts);
  if (!sqn_ms) return Error{Errc::bad_auts, "auts: MAC-S does not verify", "auts"};
  // SQN_MS is the highest SEQ the USIM accepted in any slot: every slot moves past it, so that
  // no instance offers the USIM a SEQ it would refuse.
  tx.raise_sqn(row->id, sqn_ms->seq(row->ind_len));
  return *sqn_ms;
}

// A stored federation answer is longer than the 64-byte secret buffer MasterKey::open fills,
// so it is sealed in 64-byte chunks, each bound to its position.
std::vector<std::uint8_t> Issuer::seal_large(const std::string& plain,
                                             const std::string& aad) const {
  return seal_text(*key_, plain, aad);
}

std::string Issuer::open_large(const std::vector<std::uint8_t>& sealed,
                               const std::string& aad) const {
  return open_text(*key_, sealed, aad);
}

std::vector<std::uint8_t> seal_text(const MasterKey& key, const std::string& plain,
                                    const std::string& aad) {
  std::vector<std::uint8_t> out;
  for (std::size_t off = 0, i = 0; off < plain.size(); off += 64, ++i) {
    const auto n = std::min<std::size_t>(64, plain.size() - off);
    const auto part =
        key.seal(aka::ByteView(reinterpret_cast<const std::uint8_t*>(plain.data()) + off, n),
                 aad + "/" + std::to_string(i));
    out.push_back(static_cast<std::uint8_t>(part.size()));
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::string open_text(const MasterKey& key, const std::vector<std::uint8_t>& sealed,
                      const std::string& aad) {
  std::string plain;
  std::size_t off = 0;
  for (std::size_t i = 0; off < sealed.size(); ++i) {
    const std::size_t n = sealed[off++];
    if (off + n > sealed.size())
      throw StoreError(unavailable("stored federation answer is truncated"));
    aka::SecretVec<64> part;
    if (!key.open(aka::ByteView(sealed.data() + off, n), aad + "/" + std::to_string(i), part))
      throw StoreError(unavailable("stored federation answer does not decrypt"));
    plain.append(reinterpret_cast<const char*>(part.data()), part.size());
    off += n;
  }
  return plain;
}

}  // namespace oag::storage::issuance
