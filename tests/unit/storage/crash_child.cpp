// The process the crash test kills: issues vectors from several threads as fast as it can and
// prints one line per vector only after issue() returned, i.e. after the commit.
//   storage_crash_child DB MASTER_KEY THREADS NAI...   (DB: a file, or a PostgreSQL conninfo)
// Line: "V <vector id> <subject> <kind> <sqn> <rand hex> <billing seq>\n", written with one
// write(2) (atomic on a pipe), so a kill never leaves half a line.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "proto/aka/hex.hpp"
#include "storage/store.hpp"

using namespace oag;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s DB MASTER_KEY THREADS NAI...\n", argv[0]);
    return 2;
  }
  storage::BackendConfig cfg;
  cfg.path = argv[1];
  if (storage::is_postgresql_location(cfg.path)) cfg.backend = "postgresql";
  cfg.master_key = std::make_shared<storage::MasterKey>(storage::MasterKey::load(argv[2]));
  cfg.ind_slot = 1;
  auto backend = storage::open_backend(cfg);
  const int threads = std::stoi(argv[3]);
  std::vector<std::string> subjects(argv + 4, argv + argc);
  const std::string pid = std::to_string(getpid());

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (unsigned long i = 0;; ++i) {
        storage::IssueRequest req;
        req.subject = subjects[(t + i) % subjects.size()];
        req.kind = i % 5 == 4 ? storage::Kind::sim : storage::Kind::aka;
        req.count = 1 + static_cast<unsigned>(i % 3);
        req.requester = "crash@op-b.example";
        req.request_id = pid + "-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = backend->issuance().issue(req);
        if (!r.ok()) {
          std::fprintf(stderr, "issue failed: %s\n", r.error().detail.c_str());
          _exit(3);
        }
        std::string out;
        for (const auto& v : r.value().vectors)
          out += "V " + v.id + " " + req.subject + " " + storage::to_string(v.kind) + " " +
                 std::to_string(v.sqn.value) + " " + aka::to_hex(v.rand) + " " +
                 std::to_string(r.value().billing_seq) + "\n";
        if (::write(1, out.data(), out.size()) != static_cast<ssize_t>(out.size())) _exit(4);
      }
    });
  for (auto& th : pool) th.join();
}
