// Milenage / TUAK vector throughput on one core. "Fresh K" cycles through 4096 subscribers'
// keys, as a gateway serving many subscribers does; "fixed K" reuses one.
// Run: build/tests/bench/bench_aka  (items_per_second = vectors/s)
#include <benchmark/benchmark.h>
#include <openssl/rand.h>

#include <vector>

#include "proto/aka/keccak.hpp"
#include "proto/aka/rand_pool.hpp"
#include "proto/aka/vector.hpp"

using namespace oag::aka;

namespace {

std::vector<SubscriberKeys> make_keys(Algorithm a, std::size_t n) {
  std::vector<SubscriberKeys> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t k[16], opc[32];
    RAND_bytes(k, sizeof k);
    RAND_bytes(opc, sizeof opc);
    v.push_back(SubscriberKeys::from_opc(a, ByteView(k, 16),
                                         ByteView(opc, a == Algorithm::tuak ? 32 : 16)));
  }
  return v;
}

const Bytes<2> kAmf{0x80, 0x00};

void quintets(benchmark::State& state, Algorithm a, std::size_t subscribers) {
  const auto keys = make_keys(a, subscribers);
  RandPool pool;
  std::size_t i = 0;
  std::uint64_t seq = 1;
  for (auto _ : state) {
    auto q = generate_quintet(keys[i], pool.next(), Sqn::from_seq_ind(seq++, 0, 5), kAmf);
    benchmark::DoNotOptimize(q);
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void triplets(benchmark::State& state, Algorithm a, std::size_t subscribers) {
  const auto keys = make_keys(a, subscribers);
  RandPool pool;
  std::size_t i = 0;
  for (auto _ : state) {
    auto t = generate_triplet(keys[i], pool.next());
    benchmark::DoNotOptimize(t);
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_MilenageQuintetFreshK(benchmark::State& s) {
  quintets(s, Algorithm::milenage, 4096);
}
void BM_MilenageQuintetFixedK(benchmark::State& s) {
  quintets(s, Algorithm::milenage, 1);
}
void BM_MilenageTripletFreshK(benchmark::State& s) {
  triplets(s, Algorithm::milenage, 4096);
}
void BM_MilenageTripletFixedK(benchmark::State& s) {
  triplets(s, Algorithm::milenage, 1);
}
void BM_TuakQuintetFreshK(benchmark::State& s) {
  quintets(s, Algorithm::tuak, 4096);
}

void BM_KeccakF1600(benchmark::State& state) {
  std::array<std::uint64_t, 25> s{};
  for (auto _ : state) {
    keccak_f1600(s);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RandPoolNext(benchmark::State& state) {
  RandPool pool;
  for (auto _ : state) benchmark::DoNotOptimize(pool.next());
  state.SetItemsProcessed(state.iterations());
}

void BM_RandBytes16(benchmark::State& state) {
  std::uint8_t r[16];
  for (auto _ : state) {
    RAND_bytes(r, sizeof r);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_MilenageQuintetFreshK);
BENCHMARK(BM_MilenageQuintetFixedK);
BENCHMARK(BM_MilenageTripletFreshK);
BENCHMARK(BM_MilenageTripletFixedK);
BENCHMARK(BM_TuakQuintetFreshK);
BENCHMARK(BM_KeccakF1600);
BENCHMARK(BM_RandPoolNext);
BENCHMARK(BM_RandBytes16);
BENCHMARK_MAIN();
