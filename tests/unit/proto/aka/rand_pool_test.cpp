#include <catch2/catch.hpp>

#include <set>

#include "proto/aka/rand_pool.hpp"

using namespace oag::aka;

TEST_CASE("RandPool hands out distinct RANDs across batch refills", "[rand]") {
  RandPool pool(7);  // small batch: many refills
  std::set<Bytes<16>> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(pool.next());
  CHECK(seen.size() == 5000);
  CHECK(seen.count(Bytes<16>{}) == 0);
}
