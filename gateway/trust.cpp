#include "gateway/trust.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include "proto/pki/x509.hpp"

namespace oag::gateway {

namespace {

// Parsed CA files, by path and modification time: a federation request must not re-read and
// re-parse a PEM file (it did, and that dominated the federation hop).
X509_STORE* store_for(const std::string& path) {
  struct StoreFree {
    void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  };
  struct Entry {
    std::unique_ptr<X509_STORE, StoreFree> store;  // freed when replaced, and at exit
    std::int64_t mtime = -1;
  };
  static std::mutex mu;
  static std::map<std::string, Entry> cache;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return nullptr;
  const std::int64_t mtime =
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  std::lock_guard lk(mu);
  Entry& e = cache[path];
  if (!e.store || e.mtime != mtime) {
    std::unique_ptr<X509_STORE, StoreFree> fresh(X509_STORE_new());
    if (X509_STORE_load_file(fresh.get(), path.c_str()) != 1) return nullptr;
    prime_ca_certificates(fresh.get());  // before the I/O and lookup threads share it
    e.store = std::move(fresh);
    e.mtime = mtime;
  }
  X509_STORE_up_ref(e.store.get());  // the caller's reference, released with X509_STORE_free
  return e.store.get();
}

}  // namespace

void prime_ca_certificates(X509_STORE* store) {
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
    if (X509* ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)))
      X509_check_purpose(ca, -1, 0);  // computes and caches the extensions
}

bool peer_trusted(const storage::Agreement& a, const CertChain& chain, bool as_server) {
  if (chain.empty()) return false;
  if (!a.trust_spki_sha256.empty() &&
      pki::spki_sha256(pki::cert_from_der(chain.front()).get()) == a.trust_spki_sha256)
    return true;
  if (a.trust_ca_file.empty()) return false;
  X509_STORE* store = store_for(a.trust_ca_file);
  if (store == nullptr) return false;
  X509* leaf = pki::cert_from_der(chain.front()).release();
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < chain.size(); ++i)
    if (X509* c = pki::cert_from_der(chain[i]).release()) sk_X509_push(untrusted, c);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool ok = leaf != nullptr && X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1;
  if (ok) {
    X509_STORE_CTX_set_purpose(ctx, as_server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
    ok = X509_verify_cert(ctx) == 1;
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_pop_free(untrusted, X509_free);
  X509_free(leaf);
  X509_STORE_free(store);
  return ok;
}

bool TrustCache::trusted(const storage::Agreement& a, const CertChain& chain, bool as_server) {
  std::string key =
      a.id + '\n' + a.trust_ca_file + '\n' + a.trust_spki_sha256 + '\n' + (as_server ? "s" : "c");
  struct stat st {};
  if (!a.trust_ca_file.empty() && ::stat(a.trust_ca_file.c_str(), &st) == 0)
    key += '\n' + std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec);
  {
    std::lock_guard lk(mu_);
    if (const auto it = verdicts_.find(key); it != verdicts_.end()) return it->second;
  }
  const bool ok = peer_trusted(a, chain, as_server);  // outside the lock: it verifies signatures
  std::lock_guard lk(mu_);
  verdicts_[key] = ok;
  return ok;
}

}  // namespace oag::gateway
