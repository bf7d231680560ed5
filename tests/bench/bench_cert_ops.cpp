// The CPU of a certificate-signed call's steps (DESIGN §8), one operation at a time (Google
// Benchmark): what each end and the proxy spend on PASSporTs, S/MIME and certificate checks,
// beside the network and the gateways' commits that bench_cert_call.sh measures end to end.
#include <benchmark/benchmark.h>

#include <ctime>

#include "proto/pki/passport.hpp"
#include "proto/pki/smime.hpp"
#include "proto/pki/verify.hpp"
#include "proto/pki/x509.hpp"
#include "proto/sip/sdp.hpp"

using namespace oag;

namespace {

struct Keys {
  std::int64_t now = std::time(nullptr);
  pki::Key ca_key = pki::generate_key(), a_key = pki::generate_key(), b_key = pki::generate_key();
  pki::Cert ca, a, b;
  std::string sdp = sip::sdp_with_key("127.0.0.1", 40000, "1", sip::new_srtp_key());
  Keys() {
    pki::Spec s;
    s.ca = true;
    s.common_name = "CA";
    ca = pki::issue(s, ca_key.get(), nullptr, nullptr, now);
    pki::Spec l;
    l.common_name = "a@x.example";
    l.uris = {"sip:a@x.example"};
    a = pki::issue(l, a_key.get(), ca.get(), ca_key.get(), now);
    l.common_name = "b@x.example";
    l.uris = {"sip:b@x.example"};
    b = pki::issue(l, b_key.get(), ca.get(), ca_key.get(), now);
  }
  pki::Signer signer() const { return {a.get(), a_key.get(), {}}; }
};

Keys& keys() {
  static Keys k;
  return k;
}

pki::PassportClaims claims() {
  pki::PassportClaims c;
  c.x5u = "https://127.0.0.1:1/v1/public/certificates/1.pem";
  c.iat = std::time(nullptr);
  c.orig_uri = "sip:a@x.example";
  c.dest_uris = {"sip:b@x.example"};
  return c;
}

void passport_sign(benchmark::State& st) {
  for (auto _ : st) benchmark::DoNotOptimize(pki::passport_sign(claims(), keys().a_key.get()));
}
void passport_verify(benchmark::State& st) {
  const auto p = std::get<pki::Passport>(
      pki::passport_decode(pki::passport_sign(claims(), keys().a_key.get())));
  pki::Key pub(X509_get_pubkey(keys().a.get()));
  for (auto _ : st)
    benchmark::DoNotOptimize(pki::passport_verify(p, pub.get(), std::time(nullptr)));
}
void smime_seal(benchmark::State& st) {
  for (auto _ : st)
    benchmark::DoNotOptimize(
        pki::smime_seal("application/sdp", keys().sdp, keys().b.get(), keys().signer()));
}
void smime_open(benchmark::State& st) {
  const auto b = pki::smime_seal("application/sdp", keys().sdp, keys().b.get(), keys().signer());
  for (auto _ : st)
    benchmark::DoNotOptimize(
        pki::smime_open(b.content_type, b.body, keys().b.get(), keys().b_key.get()));
}
void smime_sign_ack(benchmark::State& st) {
  for (auto _ : st)
    benchmark::DoNotOptimize(pki::smime_sign("message/sipfrag", "Call-ID: 1\r\n", keys().signer()));
}
void cert_from_pem(benchmark::State& st) {
  const auto pem = pki::to_pem(keys().a.get());
  for (auto _ : st) benchmark::DoNotOptimize(pki::cert_from_pem(pem));
}
void verify_chain(benchmark::State& st) {
  for (auto _ : st)
    benchmark::DoNotOptimize(pki::verify_chain(keys().a.get(), {}, {keys().ca.get()},
                                               pki::Purpose::any, std::time(nullptr)));
}

}  // namespace

BENCHMARK(passport_sign)->Unit(benchmark::kMicrosecond);
BENCHMARK(passport_verify)->Unit(benchmark::kMicrosecond);
BENCHMARK(smime_seal)->Unit(benchmark::kMicrosecond);
BENCHMARK(smime_open)->Unit(benchmark::kMicrosecond);
BENCHMARK(smime_sign_ack)->Unit(benchmark::kMicrosecond);
BENCHMARK(cert_from_pem)->Unit(benchmark::kMicrosecond);
BENCHMARK(verify_chain)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
