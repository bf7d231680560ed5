#include "proto/pki/smime.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <strings.h>

#include <memory>
#include <stdexcept>

#include "proto/aka/base64.hpp"
#include "proto/pki/bio.hpp"

namespace oag::pki {

namespace {

struct CmsFree {
  void operator()(CMS_ContentInfo* c) const { CMS_ContentInfo_free(c); }
};
using Cms = std::unique_ptr<CMS_ContentInfo, CmsFree>;

[[noreturn]] void fail(const char* what) {
  ERR_clear_error();
  throw std::runtime_error(std::string("S/MIME: ") + what);
}

PkiError refuse(PkiErrc code, std::string why) {
  ERR_clear_error();
  return {code, "S/MIME: " + std::move(why)};
}

// A MIME entity with CRLF line ends: headers, an empty line, the content.
std::string entity(std::string_view headers, std::string_view content) {
  return std::string(headers) + "\r\n" + std::string(content);
}

// DER as base64 lines of 64 characters, each ending in CRLF.
std::string base64_lines(const std::string& der) {
  const auto b64 =
      aka::base64(aka::ByteView(reinterpret_cast<const std::uint8_t*>(der.data()), der.size()));
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\r\n";
  return out;
}

// Signs the CRLF entity `signed_entity` (detached) and writes multipart/signed.
SmimeBody sign_entity(const std::string& signed_entity, const Signer& s) {
  if (s.cert == nullptr || s.key == nullptr) fail("no signer");
  STACK_OF(X509)* extra = sk_X509_new_null();
  for (const X509* c : s.chain) sk_X509_push(extra, const_cast<X509*>(c));
  auto in = read_bio(signed_entity);
  // Streaming: SMIME_write_CMS digests the entity while it writes it as the first part.
  const int flags = CMS_DETACHED | CMS_BINARY | CMS_STREAM;
  Cms cms(CMS_sign(const_cast<X509*>(s.cert), s.key, extra, in.get(), flags));
  sk_X509_free(extra);
  if (!cms) fail("cannot sign");
  Bio out(BIO_new(BIO_s_mem()));
  if (SMIME_write_CMS(out.get(), cms.get(), in.get(), flags | SMIME_CRLFEOL) != 1)
    fail("cannot write multipart/signed");
  const std::string all = drain(out.get());
  // Split off the entity headers: SIP carries Content-Type as a header of its own.
  const auto end = all.find("\r\n\r\n");
  if (end == std::string::npos) fail("no header end");
  SmimeBody b;
  b.body = all.substr(end + 4);
  std::size_t pos = 0;
  while (pos < end) {
    const auto eol = all.find("\r\n", pos);
    const auto line = all.substr(pos, (eol == std::string::npos ? end : eol) - pos);
    if (line.rfind("Content-Type:", 0) == 0) {
      b.content_type = line.substr(13);
      while (!b.content_type.empty() && b.content_type.front() == ' ') b.content_type.erase(0, 1);
    }
    if (eol == std::string::npos) break;
    pos = eol + 2;
  }
  if (b.content_type.empty()) fail("no Content-Type written");
  return b;
}

// Splits an entity into its Content-Type (parameters kept) and content; CRLF or LF line ends.
bool split_entity(const std::string& e, std::string& type, std::string& content) {
  std::size_t end = e.find("\r\n\r\n"), skip = 4;
  if (end == std::string::npos) {
    end = e.find("\n\n");
    skip = 2;
  }
  if (end == std::string::npos) return false;
  content = e.substr(end + skip);
  type.clear();
  std::size_t pos = 0;
  while (pos < end) {
    auto eol = e.find('\n', pos);
    if (eol == std::string::npos || eol > end) eol = end;
    std::string line = e.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > 13 && strncasecmp(line.c_str(), "Content-Type:", 13) == 0) {
      type = line.substr(13);
      while (!type.empty() && type.front() == ' ') type.erase(0, 1);
    }
    pos = eol + 1;
  }
  return !type.empty();
}

}  // namespace

SmimeBody smime_seal(std::string_view type, std::string_view content, const X509* recipient,
                     const Signer& signer) {
  if (recipient == nullptr) fail("no recipient");
  const std::string inner = entity("Content-Type: " + std::string(type) + "\r\n", content);
  STACK_OF(X509)* recips = sk_X509_new_null();
  sk_X509_push(recips, const_cast<X509*>(recipient));
  auto in = read_bio(inner);
  Cms env(CMS_encrypt(recips, in.get(), EVP_aes_256_cbc(), CMS_BINARY));
  sk_X509_free(recips);
  if (!env) fail("cannot encrypt to the recipient");
  unsigned char* der = nullptr;
  const int n = i2d_CMS_ContentInfo(env.get(), &der);
  if (n <= 0) fail("cannot encode EnvelopedData");
  const std::string der_s(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  const std::string enveloped = entity(
      "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
      "Content-Disposition: attachment; filename=smime.p7m; handling=required\r\n"
      "Content-Transfer-Encoding: base64\r\n",
      base64_lines(der_s));
  return sign_entity(enveloped, signer);
}

SmimeBody smime_sign(std::string_view type, std::string_view content, const Signer& signer) {
  return sign_entity(entity("Content-Type: " + std::string(type) + "\r\n", content), signer);
}

std::variant<SmimeOpened, PkiError> smime_open(std::string_view content_type, std::string_view body,
                                               const X509* recipient_cert,
                                               EVP_PKEY* recipient_key) {
  if (body.size() > 65536) return refuse(PkiErrc::malformed, "body longer than 64 KiB");
  if (!media_type_is(content_type, "multipart/signed"))
    return refuse(PkiErrc::malformed,
                  "multipart/signed expected, got " + std::string(content_type));
  const std::string whole = "MIME-Version: 1.0\r\nContent-Type: " + std::string(content_type) +
                            "\r\n\r\n" + std::string(body);
  auto in = read_bio(whole);
  BIO* bcont_raw = nullptr;
  Cms cms(SMIME_read_CMS(in.get(), &bcont_raw));
  Bio bcont(bcont_raw);
  if (!cms || !bcont) return refuse(PkiErrc::malformed, "not a multipart/signed CMS body");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed)
    return refuse(PkiErrc::malformed, "not SignedData");
  // OpenSSL 3.0's CMS_verify copies a memory BIO's content into a read-only one and leaks that
  // copy when the SignedData's digest cannot be set up (the cert_call fuzzer's find): content
  // read through a buffering filter is not a memory BIO, so no copy is made.
  BIO* filter = BIO_new(BIO_f_buffer());
  if (filter == nullptr) return refuse(PkiErrc::malformed, "out of memory");
  Bio signed_content(BIO_push(filter, bcont.release()));
  Bio out(BIO_new(BIO_s_mem()));
  if (CMS_verify(cms.get(), nullptr, nullptr, signed_content.get(), out.get(),
                 CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1)
    return refuse(PkiErrc::bad_signature, "the signature does not verify");
  SmimeOpened o;
  STACK_OF(X509)* signers = CMS_get0_signers(cms.get());
  if (signers == nullptr || sk_X509_num(signers) != 1) {
    sk_X509_free(signers);
    return refuse(PkiErrc::malformed, "exactly one signer expected");
  }
  X509* s = sk_X509_value(signers, 0);
  X509_up_ref(s);
  o.signer.reset(s);
  sk_X509_free(signers);
  if (STACK_OF(X509)* all = CMS_get1_certs(cms.get())) {
    for (int i = 0; i < sk_X509_num(all); ++i) {
      X509* c = sk_X509_value(all, i);
      X509_up_ref(c);
      o.certs.emplace_back(c);
    }
    sk_X509_pop_free(all, X509_free);
  }
  std::string type, content;
  if (!split_entity(drain(out.get()), type, content))
    return refuse(PkiErrc::malformed, "the signed entity has no Content-Type");
  if (media_type_is(type, "application/pkcs7-mime") ||
      media_type_is(type, "application/x-pkcs7-mime")) {
    if (recipient_key == nullptr)
      return refuse(PkiErrc::malformed, "encrypted, and no key to decrypt it");
    // SMIME_read_CMS needs the entity's own headers (its transfer encoding): read it whole.
    const std::string signed_entity = drain(out.get());
    auto env_in = read_bio(signed_entity);
    Cms env(SMIME_read_CMS(env_in.get(), nullptr));
    if (!env || OBJ_obj2nid(CMS_get0_type(env.get())) != NID_pkcs7_enveloped)
      return refuse(PkiErrc::malformed, "the signed entity is not EnvelopedData");
    Bio plain(BIO_new(BIO_s_mem()));
    if (CMS_decrypt(env.get(), recipient_key, const_cast<X509*>(recipient_cert), nullptr,
                    plain.get(), CMS_BINARY) != 1)
      return refuse(PkiErrc::bad_signature, "cannot decrypt (not encrypted to us, or altered)");
    if (!split_entity(drain(plain.get()), type, content))
      return refuse(PkiErrc::malformed, "the encrypted entity has no Content-Type");
    o.encrypted = true;
  }
  o.type = type;
  o.content = content;
  ERR_clear_error();
  return o;
}

bool media_type_is(std::string_view type, std::string_view want) {
  if (type.size() < want.size() || strncasecmp(type.data(), want.data(), want.size()) != 0)
    return false;
  return type.size() == want.size() || type[want.size()] == ';' || type[want.size()] == ' ';
}

}  // namespace oag::pki
